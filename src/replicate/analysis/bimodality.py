"""Bimodality of histograms over trajectories (Ferrari et al. 2025, Fig. 7(c)).

The time-averaged n̄_L of each trajectory (notes §5) is histogrammed over trajectories: unimodal
when every run reached the RNW, bimodal when RNW and chaotic runs coexist, unimodal again when
all stay chaotic. "Bimodal" is judged by eye in the paper; these are our operational tests:

* :func:`sarle_coefficient` — Sarle's bimodality coefficient
  b = (g² + 1) / (κ + 3(n − 1)²/((n − 2)(n − 3))), with g the sample skewness and κ the sample
  excess kurtosis (both bias-corrected, as in SAS); b > 5/9 (the value of a uniform distribution)
  suggests bimodality. Its error is the standard deviation over a bootstrap of the trajectories.
  Caveat: a strongly skewed unimodal law also exceeds 5/9 (an exponential sits at 5/9).
* :func:`mixture_test` — a two-Gaussian mixture against one Gaussian: the likelihood ratio
  Λ = 2(ln L₂ − ln L₁) of the penalised maximum-likelihood fits (:func:`fit_two_gaussians`:
  EM from five starts, accelerated by SQUAREM, at most 100 cycles), with a parametric-bootstrap
  p-value under the fitted single Gaussian (Λ has no χ² law here, the mixture's null is on a
  boundary). Λ is affine invariant, so its null law depends on the sample size only: it is
  simulated once per (n, n_boot, seed) and cached; data and null samples go through the same
  fit, so the p-value is calibrated whatever the EM's stopping rule. A histogram is called **bimodal** when p < α *and* the
  fitted mixture density has two modes: the first says two components are needed, the second
  that they form two peaks (a skewed or heavy-tailed unimodal law can pass the first, and a
  50/50 mixture of equal Gaussians is unimodal unless |μ₁ − μ₂| > 2σ). The mixture parameters
  and Ashman's separation D = √2 |μ₁ − μ₂| / √(σ₁² + σ₂²) get errors from a nonparametric
  bootstrap (components ordered by their mean).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from ..validate import count, finite_array, positive

__all__ = ["SARLE_THRESHOLD", "Bimodality", "Mixture", "Sarle", "fit_two_gaussians", "mixture_test",
           "sarle_coefficient"]

SARLE_THRESHOLD = 5.0 / 9.0
_STARTS = (0.1, 0.25, 0.5, 0.75, 0.9)   # EM starts: split the sample at these quantiles
_PENALTY = 1.0                          # a: −a(S/σ² + ln σ²/S) per component (Chen, Tan & Zhang 2008)


def _sample(x, minimum: int) -> np.ndarray:
    x = finite_array("x", x)
    if x.ndim != 1 or x.size < minimum:
        raise ValueError(f"x must be a 1-d sample of at least {minimum} values, got shape {x.shape}")
    if not np.ptp(x) > 0:
        raise ValueError("x must not be constant")
    return x


@dataclass(frozen=True)
class Sarle:
    """Sarle's coefficient ``value`` ± ``error`` (bootstrap) over ``n`` values."""

    value: float
    error: float
    n: int
    threshold: float = SARLE_THRESHOLD

    @property
    def pair(self) -> tuple[float, float]:
        """(value, error), the form ``Ledger.check`` takes for a measurement or its control."""
        return self.value, self.error


def _sarle(x: np.ndarray) -> np.ndarray:
    n = x.shape[-1]
    g = sps.skew(x, axis=-1, bias=False)
    kappa = sps.kurtosis(x, axis=-1, fisher=True, bias=False)
    return (g * g + 1) / (kappa + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def sarle_coefficient(x, *, n_boot: int = 200, seed: int = 0) -> Sarle:
    """Sarle's bimodality coefficient of the sample ``x`` (module docstring), with the standard
    deviation of ``n_boot`` bootstrap resamples (seeded by ``seed``) as its error."""
    x = _sample(x, 4)
    n_boot = count("n_boot", n_boot, minimum=2)
    rng = np.random.default_rng(seed)
    boot = _sarle(x[rng.integers(0, x.size, (n_boot, x.size))])
    return Sarle(float(_sarle(x)), float(boot.std(ddof=1)), int(x.size))


@dataclass(frozen=True)
class Mixture:
    """Two-Gaussian fit: ``weights``, ``means``, ``sigmas`` (components ordered by mean) and the
    log-likelihood ``loglik`` of the sample."""

    weights: np.ndarray
    means: np.ndarray
    sigmas: np.ndarray
    loglik: float

    def density(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)[..., None]
        return np.sum(self.weights * sps.norm.pdf(x, self.means, self.sigmas), axis=-1)

    def n_modes(self) -> int:
        """Number of local maxima of the mixture density (1 or 2). They lie between the two means
        (outside, both components fall off the same way), so a uniform grid of 4001 points on
        [μ₁ − σ₁, μ₂ + σ₂] resolves them (the fit's penalty keeps σ_k ≳ σ_sample·√(2/n))."""
        lo, hi = self.means[0] - self.sigmas[0], self.means[1] + self.sigmas[1]
        grid = np.linspace(lo, hi, 4001)
        f = self.density(grid)
        return max(1, int(np.sum((f[1:-1] > f[:-2]) & (f[1:-1] > f[2:]))))

    @property
    def separation(self) -> float:
        """Ashman's D = √2 |μ₁ − μ₂| / √(σ₁² + σ₂²) (D > 2: clean separation)."""
        return float(np.sqrt(2) * abs(self.means[1] - self.means[0]) / np.hypot(*self.sigmas))


def _mstep(x: np.ndarray, r1: np.ndarray) -> np.ndarray:
    """Penalised M-step from the responsibilities ``r1`` of component 1: parameters
    θ = (logit w₁, μ₀, μ₁, ln σ₀², ln σ₁²) per row, σ_k² = (2a + Σ r(x − μ_k)²)/(2a + N_k)."""
    theta = np.empty((x.shape[0], 5))
    w1 = np.clip(r1.mean(1), 1e-12, 1 - 1e-12)
    theta[:, 0] = np.log(w1 / (1 - w1))
    for k, rk in enumerate((1.0 - r1, r1)):
        nk = rk.sum(1)
        mk = (rk * x).sum(1) / np.maximum(nk, 1e-300)
        theta[:, 1 + k] = mk
        theta[:, 3 + k] = np.log((2 * _PENALTY + (rk * (x - mk[:, None]) ** 2).sum(1)) / (2 * _PENALTY + nk))
    return theta


def _estep(x: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responsibilities of component 1 and the penalised log-likelihood at ``theta``.

    A SQUAREM extrapolation can propose a vanishing variance (ln σ² ≪ 0): exp(−ln σ²) then
    overflows, the likelihood is −inf or NaN, and :func:`_em` rejects that step for the plain EM
    step (``~(ll_acc >= ll0)``); the overflow is expected there and not reported."""
    lw1 = -np.logaddexp(0.0, -theta[:, :1])
    lw0 = -np.logaddexp(0.0, theta[:, :1])
    with np.errstate(over="ignore", invalid="ignore"):
        lp = [lw - 0.5 * (np.log(2 * np.pi) + theta[:, 3 + k, None])
              - 0.5 * (x - theta[:, 1 + k, None]) ** 2 * np.exp(-theta[:, 3 + k, None])
              for k, lw in enumerate((lw0, lw1))]
        lse = np.logaddexp(lp[0], lp[1])
        pll = lse.sum(1) - _PENALTY * np.sum(np.exp(-theta[:, 3:]) + theta[:, 3:], axis=1)
        return np.exp(lp[1] - lse), pll


def _em_map(x: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r1, pll = _estep(x, theta)
    return _mstep(x, r1), pll


def _em(x: np.ndarray, theta0: np.ndarray | None = None, max_cycles: int = 100,
        tol: float = 1e-6) -> tuple[np.ndarray, ...]:
    """Penalised EM for two Gaussians on standardised samples ``x`` (R, n), from ``theta0`` (R, 5)
    or else the best of the quantile starts, accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3, with a fall-back to the
    plain EM step whenever the extrapolation lowers the likelihood); a row stops when a cycle
    gains less than ``tol`` per point.

    Returns (w, m, s2, penalised loglik) with shapes (R, 2), (R, 2), (R, 2), (R,), by mean."""
    R, n = x.shape
    if theta0 is None:
        S = len(_STARTS)
        xs = np.repeat(x, S, axis=0)                              # (R·S, n), row r·S + s
        theta = _mstep(xs, (xs > np.quantile(x, _STARTS, axis=1).T.reshape(-1, 1)).astype(float))
    else:
        S, xs, theta = 1, x, np.array(theta0, dtype=float)
    ll = np.full(R * S, -np.inf)
    act = np.arange(R * S)
    for _ in range(max_cycles):
        xa, t0 = xs[act], theta[act]
        t1, ll0 = _em_map(xa, t0)
        t2, _ = _em_map(xa, t1)
        r, v = t1 - t0, t2 - 2 * t1 + t0
        alpha = -np.sqrt(np.sum(r * r, 1) / np.maximum(np.sum(v * v, 1), 1e-300))
        alpha = np.minimum(alpha, -1.0)[:, None]
        t_acc = t0 - 2 * alpha * r + alpha**2 * v
        t3, ll_acc = _em_map(xa, t_acc)
        bad = ~(ll_acc >= ll0)
        t3[bad] = t2[bad]
        theta[act] = t3
        done = ll0 - ll[act] < tol * n
        ll[act] = ll0
        act = act[~done]
        if act.size == 0:
            break
    _, ll = _estep(xs, theta)
    best = np.argmax(ll.reshape(R, S), axis=1) + S * np.arange(R)
    theta, ll = theta[best], ll[best]
    w1 = 1 / (1 + np.exp(-theta[:, 0]))
    w, m, s2 = np.stack([1 - w1, w1], 1), theta[:, 1:3], np.exp(theta[:, 3:])
    order = np.argsort(m, axis=1)
    return tuple(np.take_along_axis(a, order, axis=1) for a in (w, m, s2)) + (ll,)


def _gauss_loglik(x: np.ndarray) -> np.ndarray:
    """Log-likelihood of the ML single Gaussian fit, per row of ``x`` (R, n)."""
    n = x.shape[-1]
    return -0.5 * n * (np.log(2 * np.pi * x.var(axis=-1)) + 1)


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)


def _fit(x: np.ndarray) -> tuple[Mixture, np.ndarray, float]:
    """(mixture, θ of the standardised fit (1, 5), Λ) for a validated sample."""
    mu, sd = x.mean(), x.std()
    z = _standardise(x[None, :])
    w, m, s2, pll = _em(z)
    sig = sd * np.sqrt(s2[0])
    loglik = float(np.sum(np.log(np.sum(w[0] * sps.norm.pdf(x[:, None], mu + sd * m[0], sig), axis=1))))
    theta = np.concatenate([np.log(w[:, 1:] / w[:, :1]), m, np.log(s2)], axis=1)
    lam = max(0.0, float(2 * (pll[0] - _penalised_gauss(z)[0])))
    return Mixture(w[0], mu + sd * m[0], sig, loglik), theta, lam


def fit_two_gaussians(x) -> Mixture:
    """Penalised maximum-likelihood two-Gaussian mixture of the sample ``x``: EM from five starts
    that split the sample at its 10, 25, 50, 75, 90 % quantiles, the best kept. The penalty
    −a Σ_k (S/σ_k² + ln σ_k²/S), a = 1, S the sample variance (Chen, Tan & Zhang 2008), keeps the
    likelihood bounded (no component collapses onto a few points); it widens a component of N_k
    points narrower than about σ_sample·√(2/N_k). ``loglik`` is the unpenalised log-likelihood."""
    return _fit(_sample(x, 5))[0]


@lru_cache(maxsize=16)
def _null_statistics(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Λ of ``n_boot`` standard Gaussian samples of size ``n`` (the test is affine invariant, so
    this null distribution depends on n only; cached)."""
    null = _standardise(np.random.default_rng([seed, n]).standard_normal((n_boot, n)))
    lam = np.maximum(0.0, 2 * (_em(null)[3] - _penalised_gauss(null)))
    lam.setflags(write=False)
    return lam


def _penalised_gauss(x: np.ndarray) -> np.ndarray:
    """Penalised log-likelihood of one Gaussian for standardised rows (σ² = S = 1: penalty −a)."""
    return _gauss_loglik(x) - _PENALTY


@dataclass(frozen=True)
class Bimodality:
    """Result of :func:`mixture_test`. ``statistic`` is Λ; ``p_value`` ± ``p_value_err`` (Monte
    Carlo error of the bootstrap); ``bimodal`` = p < ``alpha`` and two modes; the ``*_err`` are
    nonparametric-bootstrap standard deviations."""

    statistic: float
    p_value: float
    p_value_err: float
    n_modes: int
    bimodal: bool
    mixture: Mixture
    weights_err: np.ndarray
    means_err: np.ndarray
    sigmas_err: np.ndarray
    separation: float
    separation_err: float
    alpha: float
    n_boot: int


def mixture_test(x, *, n_boot: int = 200, alpha: float = 0.05, seed: int = 0) -> Bimodality:
    """Two Gaussians against one for the sample ``x`` (module docstring): Λ, its parametric-
    bootstrap p-value (1 + #{Λ_b ≥ Λ})/(n_boot + 1) from ``n_boot`` Gaussian samples of the same
    size, the fitted mixture with nonparametric-bootstrap errors, and the verdict."""
    x = _sample(x, 5)
    n_boot = count("n_boot", n_boot, minimum=2)
    alpha = positive("alpha", alpha)
    if alpha >= 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    seed = count("seed", seed, minimum=0)
    mix, theta, lam = _fit(x)
    p = (1 + np.sum(_null_statistics(x.size, n_boot, seed) >= lam)) / (n_boot + 1)
    resampled = x[np.random.default_rng([seed, x.size, 1]).integers(0, x.size, (n_boot, x.size))]
    resampled = resampled[np.ptp(resampled, axis=1) > 0]
    mu, sd = resampled.mean(1, keepdims=True), resampled.std(1, keepdims=True)
    w, m, s2, _ = _em(_standardise(resampled), np.repeat(theta, len(resampled), axis=0))
    wb, mb, sb = w, mu + sd * m, sd * np.sqrt(s2)
    db = np.sqrt(2) * np.abs(mb[:, 1] - mb[:, 0]) / np.hypot(sb[:, 0], sb[:, 1])
    modes = mix.n_modes()
    return Bimodality(float(lam), float(p), float(np.sqrt(p * (1 - p) / n_boot)), modes,
                      bool(p < alpha and modes >= 2), mix, wb.std(0, ddof=1), mb.std(0, ddof=1),
                      sb.std(0, ddof=1), mix.separation, float(db.std(ddof=1)), alpha, n_boot)
