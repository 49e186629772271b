"""Analysis of phase-OTOC curves D_{1,ℓ}(τ) (Ferrari et al. 2025, Eq. 6/15, Methods Fig. 8).

Every estimator acts on the Dataset returned by :func:`replicate.twa.otoc` (``D_batch(tau, site,
batch)`` and ``batch_count(batch)``), or on an ε scan from :func:`replicate.twa.otoc_eps_scan`
(``D_batch(eps, tau, site, batch)``), with a jackknife error over the trajectory batches:

* :func:`tau_grid`: the τ grid of a run, fine steps at short delays and coarse ones later;
* :func:`saturation`: D_sat, the mean of D over the last Δτ of the grid (the paper: Δτ = 25);
* the light cone (:func:`arrival_times`, :func:`light_cone`): the arrival time t_ℓ at which
  D_{1,ℓ}(τ) first reaches a threshold θ, the ballistic fit t_ℓ = t_0 + (ℓ − 1)/v_B (v_B the
  butterfly velocity) and the correlation of t_ℓ with the distance (with a site-shuffled
  control);
* :func:`growth`: the growth of one curve, from the kick level 1 − cos ε to saturation. Its
  window runs from the first τ with D ≥ k·(1 − cos ε) to the first with D ≥ f·D_sat; in it
  the Lyapunov fit D ∝ e^{λτ} (:func:`exponential_rate`; the replica separation itself grows at
  λ/2), the curvature λ(second half)/λ(first half) (:func:`rate_ratio`: 1 for an exponential,
  < 1 for a growth slower than exponential) and the longest stall (:func:`stall`: the longest
  time D stays below an earlier maximum; ≈ 0 for a monotonic growth, long when D oscillates);
* :func:`kick_exponent`: D_sat ∝ (1 − cos ε)^κ over the kicks of a scan (κ = 1: linear
  response, the replicas stay together; κ = 0: an ε-independent saturation).
* :func:`kick_scan` runs an ε scan on the τ grid of :func:`tau_grid` (optionally keeping the
  curves of a few sites only, and D at τ = 0 at every site: small enough for the results store);
  :func:`initial_condition` checks D at τ = 0 against the kick (D_11(0) = 1 − cos ε, D_1ℓ(0) = 0
  elsewhere).

The jackknife recomputes the statistic on the leave-one-batch-out means of D (the estimator of
:func:`replicate.stats.jackknife`), so thresholds and windows act on every resample alike.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import xarray as xr

from .. import stats
from .fits import ols
from ..validate import count, positive

__all__ = ["tau_grid", "first_crossing", "jackknife", "saturation", "arrival_times", "light_cone",
           "growth_window", "exponential_rate", "rate_ratio", "stall", "growth",
           "kick_exponent", "kick_scan", "initial_condition"]


def tau_grid(tau_max: float, step: float, fine: float, coarse: float) -> np.ndarray:
    """τ grid 0, step, 2·step, … up to min(fine, tau_max), then every ``coarse`` up to ``tau_max``."""
    tau_max, step, coarse = (positive(n, v) for n, v in (("tau_max", tau_max), ("step", step),
                                                         ("coarse", coarse)))
    fine = positive("fine", fine)
    head = np.arange(0.0, min(fine, tau_max) + 1e-9, step)
    return np.concatenate([head, np.arange(head[-1] + coarse, tau_max + 1e-9, coarse)])


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

    ``stat`` maps a mean curve (numpy array with the dims of ``D_batch`` but the batch: (tau,
    site), or (eps, tau, site) for an ε scan) to a number or an array; the resampling is
    :func:`replicate.stats.jackknife` over the leave-one-batch-out means of ``D_batch`` (NaN
    where a resample gives NaN, or with fewer than 2 batches).
    """
    counts = np.asarray(ds["batch_count"].values, dtype=float)
    sums = np.asarray(ds["D_batch"].values, dtype=float) * counts  # (..., batch)
    value, err = stats.jackknife(lambda m: {"x": np.asarray(stat(m["D"]), dtype=float)}, {"D": sums},
                                 counts, vectorized=False)
    return value["x"], err["x"]


def _site_index(ds: xr.Dataset, site: int) -> int:
    j = int(np.searchsorted(ds["site"].values, site))
    if j >= ds["site"].size or ds["site"].values[j] != site:
        raise ValueError(f"site {site!r} is not a site of ds")
    return j


def _last(tau: np.ndarray, window: float) -> np.ndarray:
    return tau >= tau[-1] - positive("window", window)


def saturation(ds: xr.Dataset, site: int, window: float) -> tuple[float, float]:
    """(D_sat, jackknife error): the mean of D_{1,site} over the last ``window`` of τ
    (as :func:`replicate.twa.otoc_saturation`)."""
    sel, j = _last(ds["tau"].values, window), _site_index(ds, site)
    value, err = jackknife(ds, lambda D: D[sel, j].mean())
    return float(value), float(err)


def arrival_times(ds: xr.Dataset, threshold: float) -> xr.Dataset:
    """Arrival time t_ℓ of the OTOC front at every site: first τ with D_{1,ℓ}(τ) ≥ ``threshold``.

    Returns ``arrival(site)`` and ``arrival_err(site)`` (jackknife; NaN where some resample
    never reaches the threshold).
    """
    tau = ds["tau"].values
    value, err = jackknife(ds, lambda D: first_crossing(tau, D, threshold))
    return xr.Dataset({"arrival": ("site", value), "arrival_err": ("site", err)},
                      coords={"site": ds["site"].values}, attrs={"threshold": float(threshold)})


def _cone_sites(ds: xr.Dataset, sites) -> tuple[np.ndarray, np.ndarray]:
    all_sites = ds["site"].values
    sites = all_sites[all_sites != 1] if sites is None else np.asarray(sites)
    if sites.size < 3:
        raise ValueError(f"sites must hold at least 3 sites for a line fit, got {sites.tolist()}")
    idx = np.searchsorted(all_sites, sites)
    if np.any(idx >= all_sites.size) or np.any(all_sites[np.minimum(idx, all_sites.size - 1)] != sites):
        raise ValueError(f"sites must be sites of ds ({all_sites[0]}..{all_sites[-1]}), got {sites.tolist()}")
    return sites, idx


def _cone(tau, D, idx, x, threshold) -> np.ndarray:
    """(v_B, t0, correlation of t_ℓ with x) of the arrival times of the columns ``idx`` of D."""
    t = first_crossing(tau, D[:, idx], threshold)
    slope, t0 = ols(x, t)
    return np.array([1.0 / slope, t0, np.corrcoef(x, t)[0, 1]])


def light_cone(ds: xr.Dataset, threshold: float, sites=None, shuffle: int | None = None) -> dict:
    """Butterfly velocity from the arrival times: fit t_ℓ = t_0 + (ℓ − 1)/v_B over ``sites``.

    Parameters
    ----------
    ds : OTOC Dataset from :func:`replicate.twa.otoc` (kick at site 1).
    threshold : level θ that defines the arrival of the front, D_{1,ℓ}(t_ℓ) = θ.
    sites : sites ℓ used in the fit (default: all but the kicked site 1; at least 3).
    shuffle : if given, the seed of a random permutation of the distances ℓ − 1 among the
        sites: a control without spatial order (no light cone), on the same curves.

    Returns
    -------
    dict with ``v_B``, ``t0`` and ``r`` (Pearson correlation of t_ℓ with ℓ − 1: 1 for a straight
    front, ≈ 0 without spatial order), each a (value, jackknife error) pair, and ``sites``.
    """
    tau = ds["tau"].values
    sites, idx = _cone_sites(ds, sites)
    x = sites.astype(float) - 1.0
    if shuffle is not None:
        x = np.random.default_rng(shuffle).permutation(x)
    value, err = jackknife(ds, lambda D: _cone(tau, D, idx, x, threshold))
    out = {k: (float(v), float(e)) for k, v, e in zip(("v_B", "t0", "r"), value, err)}
    return out | {"sites": sites}


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
    return np.array(ols(tau, y))


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


def _longest_stall(t: np.ndarray, d: np.ndarray) -> float:
    """Longest time a curve d(t) > 0 stays below an earlier maximum (censored at t[-1])."""
    best, k, n = 0.0, 0, d.size
    while k < n - 1:  # d[k] is a running maximum; find where the curve first gets back to it
        j = k + 1
        while j < n and d[j] < d[k]:
            j += 1
        if j == n:
            return max(best, t[-1] - t[k])
        f = np.log(d[k] / d[j - 1]) / np.log(d[j] / d[j - 1]) if d[j] > d[j - 1] else 0.0
        best = max(best, t[j - 1] + f * (t[j] - t[j - 1]) - t[k])
        k = j
    return best


def stall(ds: xr.Dataset, site: int, tau_max: float, floor: float = 0.0) -> tuple[float, float]:
    """(value, jackknife error) of the longest time D_{1,site} stays below an earlier maximum
    for τ ≤ ``tau_max``: 0 for a non-decreasing curve, the length of the longest dip of an
    oscillating one (its end interpolated in ln D, a dip still open at ``tau_max`` counted up to
    there). Points with D ≤ ``floor`` (before the signal of the kick arrives) are skipped.
    """
    tau = ds["tau"].values
    sel = tau <= float(tau_max)
    if sel.sum() < 2:
        raise ValueError(f"tau_max={tau_max!r} leaves fewer than 2 grid points")
    j = _site_index(ds, site)

    def stat(D):
        d = D[sel, j]
        keep = d > floor
        return np.array(_longest_stall(tau[sel][keep], d[keep]) if keep.sum() >= 2 else 0.0)

    value, err = jackknife(ds, stat)
    return float(value), float(err)


def _kick(ds: xr.Dataset) -> float:
    eps = float(ds["eps"]) if "eps" in ds.coords and ds["eps"].ndim == 0 else float(ds.attrs["eps"])
    return 1.0 - np.cos(eps)


def growth(ds: xr.Dataset, site: int, *, window: float, kick_factor: float = 100.0,
           sat_fraction: float = 0.1) -> dict:
    """The growth of D_{1,site}(τ) from the kick to saturation (Methods Fig. 8 b, c).

    Saturation ``D_sat`` over the last ``window`` of τ (:func:`saturation`); growth ``window``
    from the first τ with D ≥ ``kick_factor``·(1 − cos ε) to the first with D ≥
    ``sat_fraction``·D_sat; in it the rate ``lam`` and ``lnA`` of D = A e^{λτ}
    (:func:`exponential_rate`), the ``shape`` λ(second half)/λ(first half) (:func:`rate_ratio`)
    and the longest ``stall`` (:func:`stall`) up to the end of the window. Every entry but the
    window is a (value, jackknife error) pair.
    """
    d_sat = saturation(ds, site, window)
    low = positive("kick_factor", kick_factor) * _kick(ds)
    win = growth_window(ds["tau"].values, ds["D"].sel(site=site).values, low,
                        positive("sat_fraction", sat_fraction) * d_sat[0])
    fit = exponential_rate(ds, site, win)
    return {"window": win, "D_sat": d_sat, "lam": (fit["lam"], fit["lam_err"]),
            "lnA": (fit["lnA"], fit["lnA_err"]), "shape": rate_ratio(ds, site, win),
            "stall": stall(ds, site, win[1])}


def kick_exponent(scan: xr.Dataset, site: int, window: float,
                  eps_max: float | None = None) -> dict[str, float]:
    """Fit D_sat(ε) ∝ (1 − cos ε)^κ over the kicks of ``scan`` (≤ ``eps_max``).

    D_sat is the mean of D_{1,site} over the last ``window`` of τ (:func:`saturation`). κ = 1
    when the replicas stay within linear response of each other (D_sat = c·(1 − cos ε), regular
    contracting dynamics), κ = 0 when the saturation forgets the kick. Returns ``kappa`` as a
    (value, jackknife error) pair (over the batches the kicks share), ``c`` = D_sat/(1 − cos ε)
    at the smallest kick, and ``D_sat``/``D_sat_err`` per kick (``eps``).
    """
    scan = scan.sortby("eps")
    eps = scan["eps"].values
    use = np.ones(eps.size, bool) if eps_max is None else eps <= eps_max
    if use.sum() < 2:
        raise ValueError("kick_exponent needs at least two kicks (eps ≤ eps_max)")
    sel, j = _last(scan["tau"].values, window), _site_index(scan, site)
    x = np.log(1.0 - np.cos(eps[use]))

    def stat(D):
        d_sat = D[use][:, sel, j].mean(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(d_sat > 0, np.log(np.where(d_sat > 0, d_sat, 1.0)), np.nan)
        return np.concatenate([ols(x, y)[:1], d_sat])

    value, err = jackknife(scan, stat)
    return {"kappa": (float(value[0]), float(err[0])),
            "c": float(value[1] / (1.0 - np.cos(eps[use][0]))),
            "D_sat": value[1:], "D_sat_err": err[1:], "eps": eps[use]}


def kick_scan(params, kicks, *, n_traj: int, t_relax: float, tau_max: float, grid: tuple,
              seed: int = 0, keep_sites: Sequence[int] | None = None, **kw) -> xr.Dataset:
    """:func:`replicate.twa.otoc_eps_scan` of the chain ``params`` for the kicks ``kicks``, relaxed
    for ``t_relax`` and sampled on ``tau_grid(tau_max, *grid)`` (``grid`` = (step, fine, coarse)
    of :func:`tau_grid`); ``kw`` go to the engine (dt, max_halvings).

    With ``keep_sites`` every variable over ``site`` is kept at those sites only (the per-batch
    curves of all sites are ~5 MB per kick at L = 40 and the paper's τ range), and ``D_tau0(eps,
    all_site)`` keeps D at τ = 0 at every site for :func:`initial_condition`."""
    from .. import twa

    ds = twa.otoc_eps_scan(params, kicks, n_traj=n_traj, t_relax=t_relax,
                           times=tau_grid(tau_max, *grid), seed=seed, **kw)
    if keep_sites is None:
        return ds
    sites = [count("keep_sites", s) for s in keep_sites]
    if not sites or max(sites) > int(params.L):
        raise ValueError(f"keep_sites must be sites of the chain (1..{int(params.L)}), got {list(keep_sites)!r}")
    out = ds.sel(site=sites)
    out["D_tau0"] = ds["D"].isel(tau=0, drop=True).rename(site="all_site")
    return out


def initial_condition(scans) -> tuple[float, float]:
    """How well the replicas start as the kick says, over every ε of every scan in ``scans``:
    (max |D_11(0)/(1 − cos ε) − 1|, max |D_1ℓ(0)| over ℓ > 1). Both are 0 up to rounding when
    the second replica is the first with α_1 → α_1 e^{iε}."""
    kicked, others = 0.0, 0.0
    for ds in scans:
        d = ds["D_tau0"].rename(all_site="site") if "D_tau0" in ds else ds["D"].isel(tau=0)
        kicked = max(kicked, float(np.abs(d.sel(site=1) / (1 - np.cos(d["eps"])) - 1).max()))
        others = max(others, float(np.abs(d.sel(site=slice(2, None))).max()))
    return kicked, others
