"""Metastability of the RNW: onset times T*, their censored statistics and T*(L) (Fig. 7(a, b)).

After a quench from the vacuum each trajectory stays chaotic for a random time and then locks
into the RNW; the paper defines the onset time T* by a convergence criterion on n_L(t) relative
to its RNW value, applied to the runs that converged by the final time t_f, and finds T* ∝ e^{cL}
up to a critical length L* beyond which the chain stays chaotic (notes §4 Fig. 7, §5). Tolerance,
t_f and the criterion's exact form are not given; these are our operational definitions:

* :func:`onset_times` — the onset of a trajectory is the first time t at which its n_L (optionally
  smoothed by a centred running mean over ``smooth``) stays inside the band
  |n_L − n_RNW| ≤ ε·n_RNW for the whole interval [t, t + w]. This is the paper's criterion (stay
  within tolerance for all later times) with "all later times up to t_f" replaced by a duration w,
  so that an onset late in the run is not judged on a shorter stretch than an early one. An onset
  can then be seen only up to t_c = t_end − w: every trajectory not converged by t_c is censored
  at t_c (type-I censoring, one censoring time for all trajectories).
* :func:`converged_fraction` — the fraction of converged trajectories with its Wilson score
  interval (68.3 %, z = 1); never a zero-width interval, also at 0 or N events.
* :func:`onset_summary` — censoring-aware statistics of T*: the Kaplan–Meier median (with a
  common censoring time the KM estimator is the empirical distribution up to t_c, so the median is
  the ⌈N/2⌉-th order statistic, with the distribution-free binomial order-statistic interval), the
  exponential-survival MLE (rate = events / total exposure Σ_i min(T_i, t_c), mean T* = 1/rate,
  relative error 1/√events), and the paper's mean over converged runs only (biased low when many
  runs are censored; reported for comparison).
* :func:`growth_mle` — T*(L) = A e^{cL} as a joint survival MLE over chain lengths: with
  exponential waiting times the events d_L given the exposures E_L are Poisson with mean
  E_L e^{−cL}/A, a log-linear model fitted by Newton's method, Fisher errors, and the deviance as
  the goodness of fit (χ² with n_L − 2 dof). Lengths where no run converged still constrain c.
  :func:`growth_wls` fits ln T* = ln A + cL by weighted least squares on per-L estimates instead.
* :func:`critical_length` — L*, the length at which the fitted model's converged fraction by t_c,
  1 − exp(−t_c/T*(L)), falls to ½ (error by the delta method from the fit covariance).

The exponential-survival model ignores a minimum transient (n_L must first build up from the
driven site); its deviance p-value tests it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..validate import finite_array, positive
from .fits import log_line

__all__ = ["Fraction", "Growth", "Onset", "OnsetSummary", "censor_time", "converged_fraction", "critical_length",
           "growth_mle", "growth_wls", "onset_summary", "onset_times"]

_Z1 = 1.0  # one standard deviation: 68.3 % intervals


@dataclass(frozen=True)
class Onset:
    """Onset times ``T`` (traj,) of :func:`onset_times`: NaN where censored at ``censor_time``."""

    T: np.ndarray
    censor_time: float
    plateau: float
    tolerance: float
    window: float

    @property
    def converged(self) -> np.ndarray:
        return np.isfinite(self.T)


def _smooth(times: np.ndarray, n: np.ndarray, smooth: float) -> tuple[np.ndarray, np.ndarray]:
    """Centred running mean of ``n`` (time, traj) over ``smooth`` on a uniform grid; the grid
    points whose full averaging interval fits inside the series."""
    dt = np.diff(times)
    if np.ptp(dt) > 1e-6 * dt.mean():
        raise ValueError("times must be uniformly spaced to smooth")
    half = round(0.5 * smooth / dt.mean())
    if 2 * half + 1 > times.size:
        raise ValueError(f"smooth={smooth!r} is longer than the series")
    if half == 0:
        return times, n
    c = np.concatenate([np.zeros((1,) + n.shape[1:]), np.cumsum(n, axis=0)])
    m = (c[2 * half + 1:] - c[:-2 * half - 1]) / (2 * half + 1)
    return times[half:times.size - half], m


def onset_times(times, n, *, plateau: float, window: float, tolerance: float = 0.1,
                smooth: float = 0.0) -> Onset:
    """Onset time T* of every trajectory by the criterion of the module docstring.

    Parameters
    ----------
    times : (time,) increasing sample times (uniform if ``smooth`` > 0).
    n : (time, traj) per-trajectory photon number n_L(t) = |α_L|² − ½ (``alpha_abs2 − 0.5``).
    plateau : the RNW value n_RNW (e.g. n_L of the classical run, which always converges, over a
        final window).
    window : duration w the trajectory must stay in the band (must fit in the series).
    tolerance : relative half-width ε of the band (0.1 by default: a single Wigner trajectory
        fluctuates by ~1/√n_L, so the paper's guessed 10⁻² needs smoothing).
    smooth : duration of the centred running mean applied first (0: none).

    T* is a grid time (resolution: the sampling interval, plus up to ``smooth``/2 of shift).
    """
    times = finite_array("times", times)
    n = finite_array("n", n)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be a 1-d increasing array of at least 2 times")
    if n.ndim != 2 or n.shape[0] != times.size or n.shape[1] == 0:
        raise ValueError(f"n must be (time, traj) with {times.size} times, got shape {n.shape}")
    plateau = positive("plateau", plateau)
    tolerance = positive("tolerance", tolerance)
    window = positive("window", window)
    smooth = positive("smooth", smooth, allow_zero=True)
    t, x = _smooth(times, n, smooth) if smooth > 0 else (times, n)
    if window > t[-1] - t[0]:
        raise ValueError(f"window={window!r} is longer than the series ({t[-1] - t[0]:g})")
    inband = np.abs(x - plateau) <= tolerance * plateau
    idx = np.arange(t.size)[:, None]
    next_out = np.minimum.accumulate(np.where(inband, t.size, idx)[::-1], axis=0)[::-1]
    run_end = t[np.maximum(next_out - 1, 0)]                 # last in-band time of the run from t_i
    ok = inband & (run_end - t[:, None] >= window * (1 - 1e-12))
    first = np.argmax(ok, axis=0)
    T = np.where(ok.any(0), t[first], np.nan)
    return Onset(T, float(t[-1] - window), plateau, tolerance, window)


def censor_time(times, *, window: float, smooth: float = 0.0) -> float:
    """The censoring time t_c of :func:`onset_times` on the grid ``times``: the last smoothed
    time minus ``window``."""
    times = finite_array("times", times)
    t, _ = _smooth(times, np.zeros((times.size, 1)), smooth) if smooth > 0 else (times, None)
    return float(t[-1] - window)


@dataclass(frozen=True)
class Fraction:
    """A binomial fraction k/N with its 68.3 % Wilson interval [low, high]; ``error`` is the
    interval's half-width."""

    value: float
    error: float
    low: float
    high: float
    k: int
    n: int

    @property
    def pair(self) -> tuple[float, float]:
        """(value, error), the form ``Ledger.check`` takes for a measurement or its control."""
        return self.value, self.error


def converged_fraction(converged) -> Fraction:
    """Fraction of True entries of ``converged`` (e.g. ``Onset.converged``) with the Wilson score
    interval: centre (p̂ + z²/2N)/(1 + z²/N), half-width z/(1 + z²/N)·√(p̂(1 − p̂)/N + z²/4N²), z = 1."""
    c = np.asarray(converged)
    if c.size == 0 or c.dtype != bool:
        raise ValueError("converged must be a non-empty boolean array")
    k, n = int(c.sum()), int(c.size)
    p, z2 = k / n, _Z1 * _Z1
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z1 / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Fraction(p, float(half), float(centre - half), float(centre + half), k, n)


@dataclass(frozen=True)
class OnsetSummary:
    """Censoring-aware statistics of onset times (module docstring). ``median`` is ∞ when fewer
    than half converged (it is then > t_c); ``median_low``/``median_high`` bound its 68 %
    interval (∞ when that order statistic is censored). With no event, ``rate`` is 0, its error
    the one-sided 68.3 % upper limit −ln(0.317)/exposure, and the means are ∞ with NaN errors."""

    n: int
    events: int
    exposure: float
    censor_time: float
    rate: float
    rate_err: float
    mean: float
    mean_err: float
    median: float
    median_low: float
    median_high: float
    mean_converged: float
    mean_converged_err: float

    @property
    def median_err(self) -> float:
        return 0.5 * (self.median_high - self.median_low)


def onset_summary(onset: Onset) -> OnsetSummary:
    """Kaplan–Meier median, exponential MLE and mean over converged runs of ``onset``.

    Onset times count from the quench (t = 0 is the start of every trajectory's exposure)."""
    T, tc = np.asarray(onset.T, float), float(onset.censor_time)
    n, d = T.size, int(np.isfinite(T).sum())
    if n == 0 or T.ndim != 1:
        raise ValueError("onset must hold a 1-d array of at least one onset time")
    exposure = float(np.where(np.isfinite(T), T, tc).sum())
    if exposure <= 0:
        raise ValueError("onset has no exposure (every onset at t = 0): start the series earlier")
    if d:
        rate, rate_err = d / exposure, d / exposure / np.sqrt(d)
        mean, mean_err = exposure / d, exposure / d / np.sqrt(d)
        conv = T[np.isfinite(T)]
        mean_c = float(conv.mean())
        mean_c_err = float(conv.std(ddof=1) / np.sqrt(d)) if d > 1 else float("nan")
    else:
        rate, rate_err = 0.0, -np.log(sps.norm.sf(_Z1) * 2) / exposure
        mean, mean_err, mean_c, mean_c_err = np.inf, np.nan, np.nan, np.nan
    order = np.sort(np.where(np.isfinite(T), T, np.inf))
    j = max(1, int(sps.binom.ppf(sps.norm.sf(_Z1), n, 0.5)))    # ranks j and n + 1 − j (1-based)
    median = float(order[(n + 1) // 2 - 1])                   # KM: smallest t with F(t) ≥ ½
    return OnsetSummary(n, d, exposure, tc, float(rate), float(rate_err), float(mean), float(mean_err),
                        median, float(order[j - 1]), float(order[n - j]), mean_c, mean_c_err)


@dataclass(frozen=True)
class Growth:
    """Fit T*(L) = A e^{cL}: ``c`` (per site) and ``lnA`` with errors and their covariance
    ``cov`` (order lnA, c); ``statistic`` (deviance or χ²) with ``dof`` and its ``p_value``."""

    c: float
    c_err: float
    lnA: float
    lnA_err: float
    cov: np.ndarray
    statistic: float
    dof: int
    p_value: float
    method: str

    def T(self, L) -> np.ndarray:
        """The fitted onset time A e^{cL}."""
        return np.exp(self.lnA + self.c * np.asarray(L, dtype=float))


def _lengths(L, *others) -> tuple[np.ndarray, ...]:
    L = finite_array("L", L)
    if L.ndim != 1 or np.unique(L).size < 2:
        raise ValueError("L must be a 1-d array with at least two distinct lengths")
    out = [L]
    for name, v in others:
        v = finite_array(name, v, nonnegative=True)
        if v.shape != L.shape:
            raise ValueError(f"{name} must have one entry per length ({L.size}), got shape {v.shape}")
        out.append(v)
    return tuple(out)


def _growth(lnA_at_mean: float, var_at_mean: float, c: float, var_c: float, L_mean: float,
            statistic: float, dof: int, method: str) -> Growth:
    """A Growth from a fit centred at L_mean (where ln A + c L̄ and c are uncorrelated)."""
    lnA = lnA_at_mean - c * L_mean
    cov = np.array([[var_at_mean + L_mean**2 * var_c, -L_mean * var_c], [-L_mean * var_c, var_c]])
    p = float(sps.chi2.sf(statistic, dof)) if dof > 0 else float("nan")
    return Growth(float(c), float(np.sqrt(var_c)), float(lnA), float(np.sqrt(cov[0, 0])), cov,
                  float(statistic), int(dof), p, method)


def growth_mle(L, events, exposure) -> Growth:
    """Joint exponential-survival MLE of T*(L) = A e^{cL} from per-length ``events`` d_L and
    ``exposure`` E_L (e.g. ``OnsetSummary.events``/``.exposure``): maximises
    Σ_L [d_L ln r_L − r_L E_L] with r_L = e^{−lnA − cL}; Fisher errors; deviance
    2 Σ [d ln(d/μ) − (d − μ)], μ = r_L E_L. Needs events at two or more distinct lengths."""
    L, d, E = _lengths(L, ("events", events), ("exposure", exposure))
    if np.any(E <= 0):
        raise ValueError("exposure must be > 0 at every length")
    if np.unique(L[d > 0]).size < 2:
        raise ValueError("events must be > 0 at two or more distinct lengths for a finite fit")
    centre = np.average(L, weights=d)
    X = np.stack([np.ones_like(L), L - centre], axis=1)     # ln r_L = a + b (L − centre)
    theta = np.array([np.log(d.sum() / E.sum()), 0.0])
    for _ in range(100):
        mu = E * np.exp(X @ theta)
        step = np.linalg.solve(X.T @ (X * mu[:, None]), X.T @ (d - mu))
        theta = theta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = E * np.exp(X @ theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 2 * np.sum(np.where(d > 0, d * np.log(d / mu), 0.0) - (d - mu))
    # at the μ-weighted mean length the Fisher matrix is diagonal: var(a) = 1/Σμ, var(b) = 1/Σμ x²
    L_mean = float(np.sum(mu * L) / mu.sum())
    a = theta[0] + theta[1] * (L_mean - centre)
    var_a, var_b = 1.0 / mu.sum(), 1.0 / np.sum(mu * (L - L_mean) ** 2)
    # T* = 1/r: ln T*(L̄) = −a, c = −b (signs do not change the variances)
    return _growth(-a, var_a, -theta[1], var_b, L_mean, dev, L.size - 2, "survival MLE")


def growth_wls(L, T, T_err) -> Growth:
    """Weighted least squares of ln T* = ln A + cL with σ_ln T = σ_T/T (:func:`fits.log_line`),
    for per-length estimates ``T ± T_err`` (e.g. Kaplan–Meier medians); χ² with n_L − 2 dof."""
    L, T, T_err = _lengths(L, ("T", T), ("T_err", T_err))
    if np.any(T <= 0) or np.any(T_err <= 0):
        raise ValueError("T and T_err must be > 0 and finite")
    w = (T / T_err) ** 2
    L_mean = float(np.sum(w * L) / np.sum(w))
    fit = log_line(L - L_mean, T, T_err)
    return _growth(fit.intercept, fit.intercept_err**2, fit.slope, fit.slope_err**2, L_mean,
                   fit.chi2_dof * (L.size - 2), L.size - 2, "weighted least squares")


def critical_length(fit: Growth, censor_time: float, fraction: float = 0.5) -> tuple[float, float]:
    """(L*, error): the length where the model's converged fraction 1 − exp(−t_c/T*(L)) equals
    ``fraction``, i.e. T*(L*) = t_c / ln(1/(1 − fraction)): L* = (ln that − ln A)/c, error by the
    delta method with ``fit.cov``. Returns (∞, NaN) if the fit has c ≤ 0 (no growth, no L*)."""
    tc = positive("censor_time", censor_time)
    fraction = positive("fraction", fraction)
    if fraction >= 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    if fit.c <= 0:
        return float("inf"), float("nan")
    target = np.log(tc / -np.log1p(-fraction))
    Ls = (target - fit.lnA) / fit.c
    g = np.array([-1.0 / fit.c, -Ls / fit.c])
    return float(Ls), float(np.sqrt(g @ fit.cov @ g))
