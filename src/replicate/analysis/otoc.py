"""Analysis of phase-OTOC curves D_{1,ℓ}(τ) (Ferrari et al. 2025, Eq. 6/15, Methods Fig. 8).

Three estimators act on the Dataset returned by :func:`replicate.twa.otoc` (``D_batch(tau, site,
batch)`` and ``batch_count(batch)``), each with a jackknife error over the trajectory batches:

* the light cone: the arrival time t_ℓ at which D_{1,ℓ}(τ) first reaches a threshold θ, and the
  ballistic fit t_ℓ = t_0 + (ℓ − 1)/v_B, which defines the butterfly velocity v_B;
* the Lyapunov fit D_{1,m}(τ) ∝ e^{λτ} (the paper's form; the replica separation itself grows
  at λ/2) by least squares on ln D over a τ window;
* the drawdown of a curve: the largest ratio max_{τ'≤τ} D(τ') / D(τ), which is 1 for a monotonic
  growth and ≫ 1 when D oscillates (the regular regime, Fig. 8(c));
* the curvature of the growth, λ(second half of a window)/λ(first half): 1 for an exponential,
  < 1 for a growth slower than exponential (e.g. a power law);
* the kick-size dependence: :func:`otoc_eps_scan` forks replica pairs with several ε from one
  NESS, and :func:`kick_exponent` fits D_sat ∝ (1 − cos ε)^κ (κ = 1: linear response, the replicas
  stay together; κ = 0: an ε-independent saturation).

The jackknife recomputes the statistic on the leave-one-batch-out means of D (the same estimator
as :func:`replicate.twa.observables.jackknife`), so thresholds and windows act on every resample in
the same way.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import xarray as xr

from .. import stats
from ..validate import positive


__all__ = ["first_crossing", "jackknife", "arrival_times", "light_cone", "growth_window",
           "exponential_rate", "rate_ratio", "drawdown", "kick_exponent"]


def first_crossing(tau, D, threshold: float) -> np.ndarray:
    """First τ at which ``D`` reaches ``threshold``, along axis 0 (τ) of ``D``.

    Between the last grid point below and the first at or above the threshold the curve is
    interpolated linearly in ln D (exact for an exponential), or linearly in D when the point
    below is ≤ 0. A curve already at the threshold at τ[0] gives τ[0]; a curve that never reaches
    it gives NaN.
    """
    threshold = positive("threshold", threshold)
    tau = np.asarray(tau, dtype=float)
    D = np.asarray(D, dtype=float)
    if tau.ndim != 1 or D.shape[0] != tau.size:
        raise ValueError(f"D must have the τ axis first with {tau.size} points, got shape {D.shape}")
    above = D >= threshold
    hit = above.any(0)
    i = np.argmax(above, axis=0)
    out = np.full(D.shape[1:], np.nan)
    flat_i, flat_hit, flat_out = i.reshape(-1), hit.reshape(-1), out.reshape(-1)
    cols = D.reshape(D.shape[0], -1)
    for k in np.flatnonzero(flat_hit):
        j = flat_i[k]
        if j == 0:
            flat_out[k] = tau[0]
            continue
        d0, d1 = cols[j - 1, k], cols[j, k]
        if d0 > 0:
            f = np.log(threshold / d0) / np.log(d1 / d0)
        else:
            f = (threshold - d0) / (d1 - d0)
        flat_out[k] = tau[j - 1] + f * (tau[j] - tau[j - 1])
    return flat_out.reshape(D.shape[1:])


def jackknife(ds: xr.Dataset, stat: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Value and jackknife error of ``stat(D)`` over the OTOC's trajectory batches.

    ``stat`` maps a mean curve D(tau, site) (numpy array) to a number or an array; the resampling
    is :func:`replicate.stats.jackknife` over the leave-one-batch-out means of ``D_batch``
    (NaN where a resample gives NaN, or with fewer than 2 batches).
    """
    counts = np.asarray(ds["batch_count"].values, dtype=float)
    sums = np.asarray(ds["D_batch"].values, dtype=float) * counts  # (tau, site, batch)
    value, err = stats.jackknife(lambda m: {"x": np.asarray(stat(m["D"]), dtype=float)}, {"D": sums},
                                 counts, vectorized=False)
    return value["x"], err["x"]


def arrival_times(ds: xr.Dataset, threshold: float) -> xr.Dataset:
    """Arrival time t_ℓ of the OTOC front at every site: first τ with D_{1,ℓ}(τ) ≥ ``threshold``.

    Returns ``arrival(site)`` and ``arrival_err(site)`` (jackknife; NaN where some resample
    never reaches the threshold).
    """
    tau = ds["tau"].values
    value, err = jackknife(ds, lambda D: first_crossing(tau, D, threshold))
    return xr.Dataset({"arrival": ("site", value), "arrival_err": ("site", err)},
                      coords={"site": ds["site"].values}, attrs={"threshold": float(threshold)})


def _line(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares (slope, intercept) of y(x); NaN if a y is NaN."""
    if np.any(~np.isfinite(y)):
        return np.array([np.nan, np.nan])
    return np.polyfit(x, y, 1)


def light_cone(ds: xr.Dataset, threshold: float, sites=None) -> dict[str, float]:
    """Butterfly velocity from the arrival times: fit t_ℓ = t_0 + (ℓ − 1)/v_B over ``sites``.

    Parameters
    ----------
    ds : OTOC Dataset from :func:`replicate.twa.otoc` (kick at site 1).
    threshold : level θ that defines the arrival of the front, D_{1,ℓ}(t_ℓ) = θ.
    sites : sites ℓ used in the fit (default: all but the kicked site 1).

    Returns
    -------
    dict with ``v_B``, ``v_B_err``, ``t0``, ``t0_err`` (jackknife over batches), ``sites``.
    """
    tau = ds["tau"].values
    all_sites = ds["site"].values
    sites = all_sites[all_sites != 1] if sites is None else np.asarray(sites)
    if sites.size < 2:
        raise ValueError(f"sites must hold at least 2 sites for a line fit, got {sites.tolist()}")
    idx = np.searchsorted(all_sites, sites)
    if np.any(idx >= all_sites.size) or np.any(all_sites[np.minimum(idx, all_sites.size - 1)] != sites):
        raise ValueError(f"sites must be sites of ds ({all_sites[0]}..{all_sites[-1]}), got {sites.tolist()}")
    x = sites.astype(float) - 1.0

    def stat(D):
        slope, t0 = _line(x, first_crossing(tau, D[:, idx], threshold))
        return np.array([1.0 / slope, t0])

    value, err = jackknife(ds, stat)
    return {"v_B": float(value[0]), "v_B_err": float(err[0]), "t0": float(value[1]),
            "t0_err": float(err[1]), "sites": sites}


def growth_window(tau, D, low: float, high: float) -> tuple[float, float]:
    """The τ window of the growth phase: from the first τ with D ≥ ``low`` to the first with
    D ≥ ``high`` (1D curve). Raises ValueError if the curve does not reach ``high`` after ``low``.
    """
    low, high = positive("low", low), positive("high", high)
    if high <= low:
        raise ValueError(f"high must exceed low, got low={low!r}, high={high!r}")
    D = np.asarray(D, dtype=float)[:, None]
    t_lo, t_hi = first_crossing(tau, D, low)[0], first_crossing(tau, D, high)[0]
    if not (np.isfinite(t_lo) and np.isfinite(t_hi)) or t_hi <= t_lo:
        raise ValueError(f"the curve does not grow from {low:g} to {high:g} on this τ grid")
    return float(t_lo), float(t_hi)


def _site_index(ds: xr.Dataset, site: int) -> int:
    j = int(np.searchsorted(ds["site"].values, site))
    if j >= ds["site"].size or ds["site"].values[j] != site:
        raise ValueError(f"site {site!r} is not a site of ds")
    return j


def _window_mask(tau: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    t_lo, t_hi = (float(w) for w in window)
    if not t_hi > t_lo:
        raise ValueError(f"window must be (t_lo, t_hi) with t_hi > t_lo, got {window!r}")
    sel = (tau >= t_lo) & (tau <= t_hi)
    if sel.sum() < 3:
        raise ValueError(f"window {window!r} holds {int(sel.sum())} grid points, need at least 3")
    return sel


def _log_slope(tau: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(slope, intercept) of ln d(τ); NaN if some d ≤ 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(d > 0, np.log(np.where(d > 0, d, 1.0)), np.nan)
    return _line(tau, y)


def exponential_rate(ds: xr.Dataset, site: int, window: tuple[float, float]) -> dict[str, float]:
    """Lyapunov fit D_{1,site}(τ) = A e^{λτ}: least squares of ln D on the grid points in ``window``.

    Returns ``lam``, ``lam_err``, ``lnA``, ``lnA_err`` (jackknife over batches) and ``n_points``.
    """
    tau = ds["tau"].values
    sel = _window_mask(tau, window)
    j = _site_index(ds, site)
    value, err = jackknife(ds, lambda D: _log_slope(tau[sel], D[sel, j]))
    return {"lam": float(value[0]), "lam_err": float(err[0]), "lnA": float(value[1]),
            "lnA_err": float(err[1]), "n_points": int(sel.sum())}


def rate_ratio(ds: xr.Dataset, site: int, window: tuple[float, float]) -> tuple[float, float]:
    """Curvature of the growth: λ fitted on the second half of ``window`` over λ on the first half.

    Returns (value, jackknife error): 1 for an exponential, < 1 for a growth slower than
    exponential, > 1 for a faster one; for a power law D ∝ τ^p it is < 1 and independent of p.
    """
    tau = ds["tau"].values
    sel = _window_mask(tau, window)
    mid = 0.5 * (float(window[0]) + float(window[1]))
    first, second = sel & (tau <= mid), sel & (tau >= mid)
    if first.sum() < 2 or second.sum() < 2:
        raise ValueError(f"window {window!r} is too short to split in two halves")
    j = _site_index(ds, site)

    def stat(D):
        return np.array(_log_slope(tau[second], D[second, j])[0] / _log_slope(tau[first], D[first, j])[0])

    value, err = jackknife(ds, stat)
    return float(value), float(err)


def drawdown(ds: xr.Dataset, site: int, tau_max: float, tau_min: float = 0.0,
             floor: float = 0.0) -> tuple[float, float]:
    """Largest drop of D_{1,site}(τ) below its running maximum for tau_min ≤ τ ≤ tau_max.

    Returns (value, jackknife error) of max_τ [max_{τ'≤τ} D(τ') / D(τ)] ≥ 1: exactly 1 for a
    non-decreasing curve, the depth of the deepest dip for an oscillating one. Points with
    D ≤ ``floor`` are skipped (D = 1 − cos Δφ is computed in double precision, so values below
    ~1e-15 are rounding noise: pass a floor well above that).
    """
    tau = ds["tau"].values
    sel = (tau >= tau_min) & (tau <= tau_max)
    if sel.sum() < 2:
        raise ValueError(f"[tau_min, tau_max] = [{tau_min!r}, {tau_max!r}] holds fewer than 2 grid points")
    j = _site_index(ds, site)

    def stat(D):
        d = D[sel, j]
        d = d[d > floor]
        if d.size < 2:
            return np.array(1.0)
        return np.array(np.max(np.maximum.accumulate(d) / d))

    value, err = jackknife(ds, stat)
    return float(value), float(err)


def kick_exponent(scan: xr.Dataset, site: int, window: float,
                  eps_max: float | None = None) -> dict[str, float]:
    """Fit D_sat(ε) ∝ (1 − cos ε)^κ over the kicks of ``scan`` (≤ ``eps_max``).

    D_sat is the mean of D_{1,site} over the last ``window`` of τ (as
    :func:`replicate.twa.otoc_saturation`). κ = 1 when the replicas stay within linear response
    of each other (D_sat = c·(1 − cos ε), regular contracting dynamics), κ = 0 when the saturation
    forgets the kick. Returns ``kappa``, ``kappa_err`` (jackknife over the shared batches),
    ``c`` = D_sat/(1 − cos ε) at the smallest kick, and ``D_sat``/``D_sat_err`` per kick.
    """
    scan = scan.sortby("eps")
    eps = scan["eps"].values
    use = np.ones(eps.size, bool) if eps_max is None else eps <= eps_max
    if use.sum() < 2:
        raise ValueError("kick_exponent needs at least two kicks (eps ≤ eps_max)")
    tau = scan["tau"].values
    sel = tau >= tau[-1] - float(window)
    j = _site_index(scan, site)
    x = np.log(1.0 - np.cos(eps[use]))
    # jackknife() wants (tau, site, batch): put the kicks on the "site" axis of a view
    view = xr.Dataset({"D_batch": (("tau", "site", "batch"),
                                   scan["D_batch"].values[use][:, :, j, :].transpose(1, 0, 2))},
                      coords={"tau": tau, "site": np.arange(int(use.sum()))})
    view["batch_count"] = scan["batch_count"]

    def stat(D):
        d_sat = D[sel].mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(d_sat > 0, np.log(np.where(d_sat > 0, d_sat, 1.0)), np.nan)
        return np.concatenate([_line(x, y)[:1], d_sat])

    value, err = jackknife(view, stat)
    return {"kappa": float(value[0]), "kappa_err": float(err[0]),
            "c": float(value[1] / (1.0 - np.cos(eps[use][0]))),
            "D_sat": value[1:], "D_sat_err": err[1:], "eps": eps[use]}
