"""Fit a local model to a single-site radial Wigner histogram (notes §3.5, SI Eq. 45).

TWA samples are Wigner samples, so the histogram of u = |α|² is compared with the model's
*Wigner* annulus probabilities p_k(θ) (:func:`.wigner.annulus_probabilities`, exact bin
integrals; they can be negative for non-classical P(n)). Samples outside the histogram are not
counted, so the fit conditions on the in-range total N: expected counts
E_k = N p_k / Σ_j p_j.

Fit (``scipy.optimize.least_squares``, trust-region reflective with bounds; the paper used
Levenberg–Marquardt, which has no bounds): Poisson weights, σ_k² = E_k, the variance of a count
at its *expected* value. The residuals are the signed Poisson deviance residuals

.. math:: r_k=\\operatorname{sign}(O_k-E_k)\\sqrt{2\\,[E_k-O_k+O_k\\ln(O_k/E_k)]}
          \\simeq\\frac{O_k-E_k}{\\sqrt{E_k}},

so the least-squares minimum is the Poisson maximum-likelihood fit and χ² = Σ r_k² is the
likelihood-ratio (G) statistic. Why not the alternatives: observed-count weights (Neyman) are
undefined for empty bins and pull the fit towards low counts; the Pearson form Σ(O−E)²/E with
θ-dependent weights biased T of a Gibbs fit by +0.25σ at 4000 samples (measured, 150 seeds),
the deviance by < 0.1σ. A model bin with E_k ≤ 0 (a non-classical Wigner function) is floored
at 10⁻⁹ counts, i.e. heavily penalised where samples exist. In the covariance σ_k² = max(E_k, 1):
bins with under one expected count carry almost no information and are not allowed to carry more.
The reported χ² (:attr:`FitResult.chi2`) is the deviance after pooling all bins with
E_k < 5 into one (Cochran's rule, so that χ² follows χ²_dof), with dof = (number of bins with
E_k ≥ 5, plus the pooled one) − parameters − 1 (the fixed total).

Errors (``errors=``):

- ``"batches"`` (default): sandwich covariance A⁻¹ Jᵀ W C W J A⁻¹ (A = JᵀWJ, J = ∂E/∂θ,
  W = diag 1/σ²) with C the covariance of the pooled counts estimated from the scatter of the
  batches of whole trajectories. This is right when samples within a trajectory are
  correlated in time, as TWA samples are.
- ``"poisson"``: A⁻¹, correct only for independent samples (too small for correlated ones by
  the square root of :attr:`FitResult.dispersion`).

:attr:`FitResult.dispersion` = Σ_k C_kk / Σ_k N p_k(1 − p_k) is the variance inflation of the
counts over multinomial sampling (≈ 1 for independent samples); :attr:`FitResult.p_value` uses
χ²/dispersion.

Norm (Eq. 45; the paper's norm is not recovered, notes §3.5, this is our guess): the L1 distance of
the rotation-averaged Wigner functions over the histogram's annuli,
‖W − W_fit‖₁ = ∫ d²β |W̄ − W̄_fit| = Σ_k |O_k/N − p_k/Σ_j p_j| ∈ [0, 2]. Sampling noise alone
gives about :attr:`FitResult.norm_noise`.

Not converging is not an error: :attr:`FitResult.converged` is False and
:attr:`FitResult.message` says why; parameters on their bounds are listed in ``at_bound``
(their errors then describe a one-sided interval). A fitted state whose Fock tail is still above
``tail_tol`` at ``n_max`` raises ``ValueError`` (cutoff too small for the data).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import chi2 as chi2_dist

from ..validate import count, positive
from . import models as m
from .histogram import DEFAULT_BATCHES, DEFAULT_BINS, RadialHistogram, as_histogram
from .wigner import cdf_weights, laguerre_h

MIN_BATCHES = 10
"""Fewest batches for ``errors="batches"``."""
_AT_BOUND = 1e-10  # a fitted parameter this close to a bound is reported in ``at_bound``
MIN_EXPECTED = 5.0
"""Bins expecting fewer counts are pooled into one for the reported χ² (Cochran's rule)."""


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted local model (module docstring).

    ``params``/``errors`` are keyed by :data:`.models.PARAMETERS` plus ``mu_over_T`` (Gibbs and
    Gaussian: fitted; impurity models: ln(κ_p/κ_d) by Eq. 11). ``observed``/``expected`` are the
    pooled and fitted counts on ``u_edges`` (``observed_err``: √σ², times √dispersion for
    ``error_method="batches"``); ``P`` is the fitted P(n), n = 0..n_cut; ``internal`` and
    ``covariance`` are the fitted parameters in the fit's own variables (Gibbs: μ/T and β = 1/T)
    and their covariance. A Gibbs fit of a thermal-looking W runs to β = 0: then
    ``at_bound == ("beta",)``, T = ∞ and μ = ±∞ with NaN errors, and μ/T is the result.
    """

    model: str
    params: dict
    errors: dict
    norm: float
    norm_noise: float
    chi2: float
    dof: int
    dispersion: float
    n_cut: int
    truncation: float
    P: np.ndarray
    u_edges: np.ndarray
    observed: np.ndarray
    observed_err: np.ndarray
    expected: np.ndarray
    converged: bool
    message: str
    at_bound: tuple
    U: float
    error_method: str
    internal: np.ndarray
    covariance: np.ndarray
    lower: tuple
    tail_tol: float
    n_max: int

    @property
    def p_value(self) -> float:
        """P(χ²_dof ≥ χ²/max(dispersion, 1)): small when the model is rejected (correlated
        samples only inflate the count variance, so an estimate below 1 is noise)."""
        d = max(self.dispersion, 1.0) if math.isfinite(self.dispersion) else 1.0
        return float(chi2_dist.sf(self.chi2 / d, self.dof))

    @property
    def n_mean(self) -> float:
        """⟨n̂⟩ of the fitted state."""
        return float(np.arange(self.P.size) @ self.P)

    @property
    def u_centres(self) -> np.ndarray:
        return 0.5 * (self.u_edges[1:] + self.u_edges[:-1])

    def wigner(self) -> dict[str, np.ndarray]:
        """Annulus-averaged W of the data (``data``, ``data_err``) and of the fit (``fit``) on
        :attr:`u_centres`, both normalised to unit probability inside the histogram's range
        (W itself when no sample falls outside)."""
        area = np.pi * np.diff(self.u_edges) * self.observed.sum()
        return {"data": self.observed / area, "data_err": self.observed_err / area,
                "fit": self.expected / area}


_BASIS_CACHE: dict[bytes, np.ndarray] = {}
_BASIS_CACHE_SIZE = 8  # edge arrays kept (one per site histogram of a profile, a few models each)


def basis_rows(x: np.ndarray, n_rows: int) -> np.ndarray:
    """The first ``n_rows`` rows h_m(x) of :func:`.wigner.laguerre_h` (at least), cached per ``x``.

    The recursion's rows do not depend on how many are computed, so the cache is exact: fits of
    several models to the same histogram (the same edges) share one evaluation, grown on demand.
    """
    key = np.ascontiguousarray(x, dtype=float).tobytes()
    h = _BASIS_CACHE.get(key)
    if h is None or h.shape[0] < n_rows:
        h = laguerre_h(max(n_rows, 64, 0 if h is None else 2 * h.shape[0]) - 1, x)
        _BASIS_CACHE.pop(key, None)
        while len(_BASIS_CACHE) >= _BASIS_CACHE_SIZE:
            _BASIS_CACHE.pop(next(iter(_BASIS_CACHE)))
        _BASIS_CACHE[key] = h
    return h


class _Basis:
    """h_m(4u) at the bin edges (:func:`basis_rows`); E_k for a P(n)."""

    def __init__(self, edges: np.ndarray):
        self.x = 4.0 * edges
        self.h = basis_rows(self.x, 64)

    def probabilities(self, P: np.ndarray) -> np.ndarray:
        if P.size > self.h.shape[0]:
            self.h = basis_rows(self.x, P.size)
        return -np.diff(cdf_weights(P) @ self.h[: P.size])


def _populations(model: str, theta: np.ndarray, U: float, tail_tol: float, n_max: int):
    opts = {"tail_tol": tail_tol, "n_max": n_max}
    if model == "gibbs":
        return m.gibbs_populations_beta(theta[0], theta[1], U=U, **opts)
    if model == "gaussian":
        return m.gaussian_populations(theta[0], **opts)
    if model == "two_photon":
        return m.two_photon_populations(theta[0], theta[1], **opts)
    return m.scully_lamb_populations(theta[0], theta[1], **opts)


_BOUNDS = {"gibbs": ([-np.inf, 0.0], [np.inf, np.inf]),
           "gaussian": ([-np.inf], [-1e-12]),
           "two_photon": ([0.0, 0.0], [np.inf, np.inf]),
           "scully_lamb": ([0.0, 0.0], [np.inf, np.inf])}
_INTERNAL = {"gibbs": ("mu_over_T", "beta"), "gaussian": ("mu_over_T",),
             "two_photon": m.PARAMETERS["two_photon"], "scully_lamb": m.PARAMETERS["scully_lamb"]}


def _moments(h: RadialHistogram) -> tuple[float, float]:
    """Rough n̄ and Var(n) of the data (bin centres, Wigner shifts ½ and ¼) for starting points."""
    w = h.pooled / h.pooled.sum()
    c = h.u_centres
    mean = float(w @ c)
    var = float(w @ (c - mean) ** 2)
    return max(mean - 0.5, 1e-3), max(var - 0.25, 1e-6)


def _starts(model: str, n: float, v: float, U: float) -> list[np.ndarray]:
    """Starting points: the thermal state of the data's n̄, and a saturated (laser-like) one."""
    q = n / (n + 1.0)
    thermal_a = m.thermal_mu_over_T(n)
    if model == "gaussian":
        return [np.array([thermal_a])]
    if model == "gibbs":
        out = [np.array([thermal_a, 1e-3])]
        if v < n * (n + 1.0) and U > 0:  # narrower than thermal: Gaussian P(n) of mean n, var v
            out.append(np.array([(n - 0.5) / v, 1.0 / (U * v)]))
        return out
    if model == "two_photon":  # mean balance κ_p(n+1) − n − 2κ_2⟨n(n−1)⟩ = 0 at κ_p = 2
        return [np.array([q, 1e-6]), np.array([2.0, (n + 2.0) / (2.0 * (v + n * n - n) + 1e-9)])]
    return [np.array([q, 1e-6]), np.array([2.0, 2.0 * (2.0 * (n + 1.0) / n - 1.0) / (n + 1.0)])]


def _derived(model: str, theta: np.ndarray, cov: np.ndarray) -> tuple[dict, dict]:
    """Public parameters and their linearly propagated errors from the internal θ and cov(θ)."""
    if model == "gibbs":
        a, beta = theta
        T = 1.0 / beta if beta > _AT_BOUND else math.inf  # T = ∞: thermal limit, errors NaN
        values = {"T": T, "mu": a * T, "mu_over_T": a}
        grads = {"T": [0.0, -T * T], "mu": [T, -a * T * T], "mu_over_T": [1.0, 0.0]}
    elif model == "gaussian":
        values, grads = {"mu_over_T": theta[0]}, {"mu_over_T": [1.0]}
    else:
        names = m.PARAMETERS[model]
        values = dict(zip(names, theta))
        grads = {k: np.eye(2)[i] for i, k in enumerate(names)}
        a = theta[0]
        values["mu_over_T"] = math.log(a) if a > 0 else -math.inf
        grads["mu_over_T"] = [1.0 / a if a > 0 else math.nan, 0.0]
    errors = {}
    for k, g in grads.items():
        g = np.asarray(g, dtype=float)
        errors[k] = float(np.sqrt(g @ cov @ g)) if np.all(np.isfinite(g)) else math.nan
    return {k: float(v) for k, v in values.items()}, errors


def fit(data, model: str, *, U: float = m.U_SIMULATION,
        errors: Literal["batches", "poisson"] = "batches", bins: int | np.ndarray = DEFAULT_BINS,
        u_max: float | None = None, n_batches: int = DEFAULT_BATCHES,
        tail_tol: float = m.TAIL_TOL, n_max: int = m.N_MAX,
        max_nfev: int | None = None) -> FitResult:
    """Fit ``model`` to the radial Wigner histogram of one site (SI Eq. 45; module docstring).

    Parameters
    ----------
    data : complex samples, RadialHistogram, (u_edges, counts) or xarray DataArray (batch, u)
        See :func:`.histogram.as_histogram`; ``bins``, ``u_max``, ``n_batches`` apply to samples.
    model : {"gibbs", "gaussian", "two_photon", "scully_lamb"}
    U : float
        Kerr U of the Gibbs ansatz (fixed, not fitted; notes §3.1).
    errors : {"batches", "poisson"}
        Covariance estimate (module docstring); "batches" needs ≥ :data:`MIN_BATCHES` batches.
    tail_tol, n_max : float, int
        Fock cutoff: tail mass allowed beyond n_cut, and the largest n_cut allowed.
    max_nfev : int, optional
        Evaluation budget of each least-squares start (scipy's default if None); running out
        gives ``converged=False``, not an error.

    Returns
    -------
    FitResult
    """
    m.check_model(model)
    U = positive("U", U, allow_zero=True)
    if model == "gibbs" and U == 0:
        raise ValueError("U = 0 leaves T unidentifiable in the gibbs model: use model='gaussian'")
    tail_tol, n_max = positive("tail_tol", tail_tol), count("n_max", n_max, minimum=2)
    if errors not in ("batches", "poisson"):
        raise ValueError(f"errors must be 'batches' or 'poisson', got {errors!r}")
    h = as_histogram(data, bins=bins, u_max=u_max, n_batches=n_batches)
    if errors == "batches" and h.n_batches < MIN_BATCHES:
        raise ValueError(f"errors='batches' needs >= {MIN_BATCHES} batches, got {h.n_batches}; "
                         "use errors='poisson' for independent samples")
    O = h.pooled
    N = O.sum()
    basis = _Basis(h.u_edges)

    def expected(theta):
        p = basis.probabilities(_populations(model, theta, U, tail_tol, n_max).P)
        inside = p.sum()
        return N * p / inside if inside > 0 else np.full(p.shape, np.nan)

    def residuals(theta):
        E = expected(theta)
        if not np.all(np.isfinite(E)):
            return np.full(O.shape, 1e6)
        return _deviance_residuals(O, E)

    lo, hi = _BOUNDS[model]
    best = None
    for x0 in _starts(model, *_moments(h), U):
        x0 = np.clip(x0, np.asarray(lo) + 1e-12 * (np.asarray(lo) > -np.inf), hi)
        res = least_squares(residuals, x0, bounds=(lo, hi), x_scale="jac", method="trf",
                            max_nfev=max_nfev)
        if best is None or res.cost < best.cost:
            best = res
    theta = best.x
    pops = _populations(model, theta, U, tail_tol, n_max)
    if not pops.truncation <= tail_tol:
        raise ValueError(f"n_max = {n_max} is too small for the data: the fitted {model} state "
                         f"still has tail mass {pops.truncation:.2g} beyond n = {pops.n_cut}")
    E = expected(theta)
    sigma2 = np.maximum(E, 1.0)
    J = _jacobian(expected, theta, lo)
    A = J.T @ (J / sigma2[:, None])
    A_inv = np.linalg.pinv(A)
    p_hat = E / N
    C = _count_covariance(h, p_hat)
    if errors == "batches":
        G = A_inv @ (J.T / sigma2)
        cov = G @ C @ G.T
    else:
        cov = A_inv
    dispersion = float(np.trace(C) / np.sum(N * p_hat * (1 - p_hat))) if h.n_batches > 1 else math.nan
    params, errs = _derived(model, theta, cov)
    chi2, dof = _goodness_of_fit(O, E, theta.size)
    at_bound = tuple(k for k, x, a, b in zip(_INTERNAL[model], theta, lo, hi)
                     if np.isclose(x, a, atol=_AT_BOUND) or np.isclose(x, b, atol=_AT_BOUND))
    phi = dispersion if math.isfinite(dispersion) else 1.0
    obs_err = np.sqrt((phi if errors == "batches" else 1.0) * sigma2)
    norm_noise = float(np.sum(np.sqrt(2 * phi * N * np.clip(p_hat * (1 - p_hat), 0, None) / np.pi)) / N)
    return FitResult(model=model, params=params, errors=errs,
                     norm=float(np.abs(O / N - p_hat).sum()), norm_noise=norm_noise,
                     chi2=chi2, dof=dof,
                     dispersion=dispersion, n_cut=pops.n_cut, truncation=pops.truncation,
                     P=pops.P, u_edges=h.u_edges, observed=O, observed_err=obs_err, expected=E,
                     converged=bool(best.success), message=str(best.message), at_bound=at_bound,
                     U=U, error_method=errors, internal=theta, covariance=cov, lower=tuple(lo),
                     tail_tol=tail_tol, n_max=n_max)


def populations_at(result: FitResult, theta) -> m.Populations:
    """P(n) of ``result``'s model at internal parameters ``theta`` (:attr:`FitResult.internal`:
    Gibbs (μ/T, 1/T), Gaussian (μ/T), impurity models their two rate ratios)."""
    return _populations(result.model, np.asarray(theta, dtype=float), result.U, result.tail_tol,
                        result.n_max)


def _deviance_residuals(O: np.ndarray, E: np.ndarray) -> np.ndarray:
    """sign(O − E) √(2[E − O + O ln(O/E)]) (module docstring), E floored at 1e-9."""
    E = np.maximum(E, 1e-9)
    log_term = np.where(O > 0, O * np.log(np.where(O > 0, O, 1.0) / E), 0.0)
    return np.sign(O - E) * np.sqrt(np.maximum(2.0 * (E - O + log_term), 0.0))


def _goodness_of_fit(O: np.ndarray, E: np.ndarray, n_params: int) -> tuple[float, int]:
    """Deviance χ² with the bins of E < 5 pooled into one, and its degrees of freedom."""
    low = E < MIN_EXPECTED
    O_bins, E_bins = O[~low], E[~low]
    if low.any():
        O_bins, E_bins = np.append(O_bins, O[low].sum()), np.append(E_bins, E[low].sum())
    return float(np.sum(_deviance_residuals(O_bins, E_bins) ** 2)), int(O_bins.size - n_params - 1)


def _jacobian(expected, theta: np.ndarray, lower) -> np.ndarray:
    """∂E/∂θ by central differences (forward at a lower bound)."""
    cols = []
    for j in range(theta.size):
        step = 1e-5 * (abs(theta[j]) + 1e-3)
        up, down = theta.copy(), theta.copy()
        up[j] += step
        if theta[j] - step >= lower[j]:
            down[j] -= step
            cols.append((expected(up) - expected(down)) / (2 * step))
        else:
            cols.append((expected(up) - expected(theta)) / step)
    return np.stack(cols, axis=1)


def _count_covariance(h: RadialHistogram, p_hat: np.ndarray) -> np.ndarray:
    """Covariance of the pooled counts at fixed in-range total, from the batch scatter of
    d_b = c_b − n_b p̂: C = nb/(nb−1) Σ_b (d_b − d̄)(d_b − d̄)ᵀ (zero for a single batch)."""
    nb = h.n_batches
    if nb < 2:
        return np.zeros((p_hat.size, p_hat.size))
    d = h.counts - h.counts.sum(axis=1, keepdims=True) * p_hat[None, :]
    d = d - d.mean(axis=0)
    return nb / (nb - 1) * d.T @ d
