"""Local thermodynamics along the chain: fitted T_ℓ, μ_ℓ, s_ℓ profiles, their peaks, the domain
sizes (:mod:`.domains`), and the autocorrelation rates (Ferrari et al. 2025, Fig. 4, SI Figs. 15–17).

* :func:`local_profile` — at each site, the local models of :mod:`replicate.thermometry` fitted to
  the radial Wigner histogram (Gibbs, Eqs. 8–9; its U = 0 Gaussian limit; the 2-photon and
  Scully–Lamb impurity models, Eqs. 10, 41, 42), the model-free entropy density (notes §2.6)
  and the equipartition temperature T^eq = ε⟨p̂²⟩ (SI Eq. 40), in one Dataset over
  (model, site) and site.
* :func:`norm_error`, :func:`polar_norm` — the fit norm (our Eq. 45, notes §3.5) with a
  leave-one-batch-out jackknife error at fixed fitted model, and its 2-d version on a polar grid
  of (|α|², arg α) cells, which also sees the anisotropy a rotation-invariant model cannot fit.
* :func:`peak_site` — the site of a profile's maximum with a parametric-bootstrap error.
* :func:`heating_statistics` — every scalar of the Fig. 4 claims, with bootstrap errors.
* the sizes of the nonthermal, prethermal and thermal domains and their scaling with L
  (Fig. 4(e)) are in :mod:`replicate.analysis.domains`.
* :func:`norm_ratio`, :func:`symmetric_median`, :func:`norm_extreme` — the fit norm over its
  noise floor, its median over the symmetric sites and its extremes over models and sites
  (SI Figs. 15, 17); :func:`histogram_mismatch` checks the engine's radial histograms against
  the raw samples.
* :func:`site_histograms`, :func:`sample_histograms` — the raw samples of a few sites reduced
  to what those figures read (polar and radial counts per batch, 2-d histograms), small enough
  for the results store.

The Eq. (47) fit of the autocorrelation C_ℓ(τ) lives in :mod:`replicate.analysis.autocorr`.

**μ/T of the equipartition thermometer.** A harmonic site ε â†â in equilibrium at T^eq has, in the
Gibbs ansatz's convention (the quadratic term absorbed into μ, notes §3.1), μ = −ε, hence
μ/T = −ε/T^eq = −1/⟨p̂²⟩: independent of the (unknown) energy scale ε, and equal to the thermal
value −ln(1 + 1/n̄) up to O(1/n̄²).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from .. import stats, thermometry as th, twa
from . import annuli
from ..twa.kernels.sample import radial_edges
from ..twa.ness import N_BATCHES as ENGINE_BATCHES
from ..validate import count, positive
from .compare import bootstrap, quantized
from .fits import ols

MODELS = ("gibbs", "gaussian", "two_photon", "scully_lamb")
"""Local models fitted at every site (:data:`replicate.thermometry.MODELS`)."""
IMPURITY = ("two_photon", "scully_lamb")
_PARAMETERS = {  # Dataset variable -> (model, FitResult parameter)
    "T": ("gibbs", "T"), "mu": ("gibbs", "mu"),
    "kappa_p": (IMPURITY, "kappa_p_over_kappa_d"),
    "kappa_2": (("two_photon",), "kappa_2_over_kappa_d"),
    "s_sat": (("scully_lamb",), "s_over_kappa_d"),
}


def _site_data(data, site: int):
    if isinstance(data, xr.Dataset):
        return annuli.histogram(data, site)
    return data.sel(site=site) if hasattr(data, "dims") else data[site]


def norm_error(h: th.RadialHistogram, p_hat: np.ndarray) -> float:
    """Jackknife error of the L1 norm Σ_k |O_k/N − p̂_k| over the batches of ``h`` at fixed
    model probabilities ``p̂`` (normalised in range): the sampling error of the data's side of
    the norm (refitting on each resample would add a second-order correction)."""
    c = np.asarray(h.counts, float)
    p_hat = np.asarray(p_hat, float) / np.sum(p_hat)
    nb = c.shape[0]
    if nb < 2:
        raise ValueError("norm_error needs a histogram with >= 2 batches")
    loo = c.sum(0)[None, :] - c
    theta = np.abs(loo / loo.sum(1, keepdims=True) - p_hat[None, :]).sum(1)
    return float(np.sqrt((nb - 1) / nb * np.sum((theta - theta.mean()) ** 2)))


def polar_counts(samples, u_edges, *, n_angles: int = 8,
                 n_batches: int = th.histogram.DEFAULT_BATCHES) -> np.ndarray:
    """Counts (batch, cell) of complex samples (axis 0 = trajectories, batched as
    :func:`replicate.thermometry.from_samples`) on the cells of :func:`polar_norm`: cell
    k·``n_angles`` + j is annulus k of ``u_edges`` (in u = |α|²) and sector j of 2π/``n_angles``."""
    a = np.asarray(samples)
    n_a = count("n_angles", n_angles)
    edges = np.asarray(u_edges, dtype=float)
    u = (np.abs(a) ** 2).reshape(a.shape[0], -1)
    phi = np.angle(a).reshape(a.shape[0], -1)
    k = np.searchsorted(edges, u, side="right") - 1
    j = np.minimum(((phi + np.pi) / (2 * np.pi) * n_a).astype(int), n_a - 1)
    nb = min(count("n_batches", n_batches), a.shape[0])
    batch = np.broadcast_to(stats.batch_index(a.shape[0], nb)[:, None], u.shape)
    inside = (k >= 0) & (k < edges.size - 1)
    cells = (edges.size - 1) * n_a
    flat = (batch * cells + k * n_a + j)[inside]
    return np.bincount(flat, minlength=nb * cells).reshape(nb, cells)


def polar_norm(samples, result: th.FitResult, *, n_angles: int = 8,
               n_batches: int = th.histogram.DEFAULT_BATCHES, counts=None) -> tuple[float, float, float]:
    """‖W − W_fit‖₁ on cells (annulus k of ``result``, sector j of 2π/``n_angles``), with its
    jackknife error and its noise floor.

    The fitted W is rotation invariant, so cell (k, j) expects q_kj = p̂_k/n_angles of the
    samples; the norm Σ_kj |O_kj/N − q_kj| adds the anisotropy of the data to the radial misfit
    (``n_angles = 1`` is the radial norm of :func:`replicate.thermometry.fit`). Noise floor:
    √(2/π) Σ_kj σ_kj / N, σ²_kj from the scatter of the batches (correlated samples included),
    i.e. the mean norm of pure sampling noise around the model. ``samples``: complex, axis 0 =
    trajectories (batched as :func:`replicate.thermometry.from_samples`); or ``samples=None``
    and their ``counts`` of :func:`polar_counts` on ``result.u_edges``.
    """
    n_a = count("n_angles", n_angles)
    if counts is None:
        counts = polar_counts(samples, result.u_edges, n_angles=n_a, n_batches=n_batches)
    c = np.asarray(counts, dtype=float)
    cells = (result.u_edges.size - 1) * n_a
    if c.ndim != 2 or c.shape[1] != cells:
        raise ValueError(f"counts must be (batch, {cells}) for {result.u_edges.size - 1} annuli × {n_a} "
                         f"sectors, got shape {c.shape}")
    nb = c.shape[0]
    q = np.repeat(result.expected / result.expected.sum(), n_a) / n_a
    N = c.sum()
    norm = float(np.abs(c.sum(0) / N - q).sum())
    d = c - c.sum(1, keepdims=True) * q[None, :]
    var = nb / (nb - 1) * np.sum((d - d.mean(0)) ** 2, axis=0)
    noise = float(np.sqrt(2 / np.pi) * np.sqrt(var).sum() / N)
    return norm, norm_error(th.RadialHistogram(np.arange(cells + 1.0), c), q), noise


def site_histograms(samples: xr.DataArray, *, u_edges: Sequence, u_grid: tuple[float, int],
                    wigner_sites: Sequence[int], wigner_bins: int = 40, n_angles: int = 8,
                    n_batches: int = th.histogram.DEFAULT_BATCHES,
                    radial_batches: int = ENGINE_BATCHES) -> xr.Dataset:
    """What SI Figs. 15 and 17 read from the raw samples ``samples`` (site, traj, time), in a
    few hundred kB instead of the samples (~0.5 GB per chain at paper statistics):

    - ``polar_counts(site, batch, cell)`` (int32): :func:`polar_counts` on ``u_edges[i]``, the
      annuli of the fits at the i-th site (``fits[model, site].u_edges`` of
      :func:`local_profile`), zero-padded to the most cells; ``n_annuli(site)`` says how many;
    - ``radial_counts(site, radial_batch, u)`` (int32): the radial histogram on the engine's
      ``u_grid`` = (u_max, bins) and batches (``radial_batches``, capped at the trajectories, as
      :func:`replicate.twa.ness`), for :func:`histogram_mismatch`;
    - ``wigner(wigner_site, re, im)``: the 2-d histogram (counts, ``wigner_bins`` per axis) of
      the samples at ``wigner_sites`` on the square ±``wigner_extent(wigner_site)`` that just
      holds them.

    Attribute ``n_angles``."""
    sites = [int(x) for x in samples["site"].values]
    if len(u_edges) != len(sites):
        raise ValueError(f"u_edges needs one array of annulus edges per site: {len(u_edges)} for {len(sites)} sites")
    n_a = count("n_angles", n_angles)
    u_edges_engine = radial_edges("u_grid", u_grid)   # the engine's radial grid (twa.ness)
    polar = [polar_counts(samples.sel(site=s).values, e, n_angles=n_a, n_batches=n_batches)
             for s, e in zip(sites, u_edges)]
    width = max(c.shape[1] for c in polar)
    padded = np.stack([np.pad(c, ((0, 0), (0, width - c.shape[1]))) for c in polar]).astype(np.int32)
    radial = np.stack([th.from_samples(samples.sel(site=s).values, bins=u_edges_engine,
                                       n_batches=radial_batches).counts for s in sites]).astype(np.int32)
    w_sites = [int(x) for x in wigner_sites]
    if not set(w_sites) <= set(sites):
        raise ValueError(f"wigner_sites must be sampled sites {sites}, got {w_sites}")
    bins = count("wigner_bins", wigner_bins)
    W, extent = [], []
    for s in w_sites:
        a = samples.sel(site=s).values.ravel()
        e = float(max(np.abs(a.real).max(), np.abs(a.imag).max())) * (1 + 1e-9)
        h, _, _ = np.histogram2d(a.real, a.imag, bins=bins, range=((-e, e), (-e, e)))
        W.append(h)
        extent.append(e)
    return xr.Dataset(
        {"polar_counts": (("site", "batch", "cell"), padded),
         "n_annuli": ("site", np.array([np.size(e) - 1 for e in u_edges])),
         "radial_counts": (("site", "radial_batch", "u"), radial),
         "wigner": (("wigner_site", "re", "im"), np.stack(W)),
         "wigner_extent": ("wigner_site", np.array(extent))},
        coords={"site": sites, "wigner_site": w_sites,
                "u": 0.5 * (u_edges_engine[1:] + u_edges_engine[:-1])}, attrs={"n_angles": n_a})


def sample_histograms(params, sites: Sequence[int], *, u_edges: Sequence, u_grid: tuple[float, int],
                      wigner_sites: Sequence[int], wigner_bins: int = 40, n_angles: int = 8,
                      **run) -> xr.Dataset:
    """:func:`site_histograms` of :func:`replicate.twa.site_samples` ``(params, sites, **run)``:
    the samples are made and reduced in one call, so that the results store keeps the reduction."""
    raw = twa.site_samples(params, sites, **run)
    out = site_histograms(raw, u_edges=u_edges, u_grid=u_grid, wigner_sites=wigner_sites,
                          wigner_bins=wigner_bins, n_angles=n_angles)
    out.attrs.update(raw.attrs)
    return out


def local_profile(ness: xr.Dataset, data=None, *, U: float, energy_scale: float, sites=None,
                  models: Sequence[str] = MODELS, bins: int = th.histogram.DEFAULT_BINS,
                  n_batches: int = th.histogram.DEFAULT_BATCHES) -> tuple[xr.Dataset, dict]:
    """Fits, entropy and equipartition temperature of every site in ``sites`` (default: all).

    Parameters
    ----------
    ness : Dataset of :func:`replicate.twa.ness` (``n``, ``p2``, ``circular_variance`` with errors)
    data : radial counts (site, batch, u) or complex samples (site, traj, time) of the same run;
        default: the histograms of ``ness`` itself, a full run or its
        :func:`replicate.analysis.annuli.reduce` (then made with the same ``bins``)
    U : Kerr U of the Gibbs ansatz (the simulation's, notes §3.1)
    energy_scale : ε of T^eq = ε⟨p̂²⟩ (a guess, notes §2.9)

    Returns
    -------
    (Dataset, fits): over (``model``, ``site``) ``mu_over_T``, ``T``, ``mu`` (Gibbs; NaN where
    1/T runs to its bound 0, flagged ``at_bound``), ``kappa_p``, ``kappa_2``, ``s_sat`` (impurity
    rates over κ_d), ``norm``, ``norm_noise``, ``p_value``, ``converged``, each value with
    ``*_err``; over ``site`` ``s`` (projection entropy), ``T_eq``, ``mu_over_T_eq``, ``n``,
    ``circular_variance``, with errors. ``fits[(model, site)]`` is the
    :class:`replicate.thermometry.FitResult`.
    """
    sites = [int(s) for s in (ness["site"].values if sites is None else sites)]
    eps = positive("energy_scale", energy_scale)
    names = ("mu_over_T",) + tuple(_PARAMETERS)
    shape = (len(models), len(sites))
    out = {k: np.full(shape, np.nan) for k in names + tuple(n + "_err" for n in names)}
    for k in ("norm", "norm_err", "norm_noise", "p_value"):
        out[k] = np.full(shape, np.nan)
    flags = {k: np.zeros(shape, bool) for k in ("converged", "at_bound")}
    data = ness if data is None else data
    if isinstance(data, xr.Dataset) and data.attrs.get("annuli_bins", bins) != bins:
        raise ValueError(f"the histograms were reduced to {data.attrs['annuli_bins']} annuli per site; "
                         f"fit them with bins={data.attrs['annuli_bins']}, not {bins}")
    fits, s, s_err = {}, np.empty(len(sites)), np.empty(len(sites))
    for i, site in enumerate(sites):
        h = annuli.fit_histogram(th.as_histogram(_site_data(data, site), bins=bins, n_batches=n_batches), bins)
        s[i], s_err[i] = th.local_entropy(h)
        for m, model in enumerate(models):
            r = fits[model, site] = th.fit(h, model, U=U)
            out["norm"][m, i], out["norm_noise"][m, i], out["p_value"][m, i] = r.norm, r.norm_noise, r.p_value
            out["norm_err"][m, i] = norm_error(h, r.expected)
            flags["converged"][m, i], flags["at_bound"][m, i] = r.converged, bool(r.at_bound)
            for var, (owner, par) in (("mu_over_T", (model, "mu_over_T")),) + tuple(_PARAMETERS.items()):
                if model in np.atleast_1d(owner) and par in r.params and math.isfinite(r.params[par]):
                    out[var][m, i], out[var + "_err"][m, i] = r.params[par], r.errors[par]
    sel = ness.sel(site=sites)
    p2, p2_err = sel["p2"].values, sel["p2_err"].values
    data_vars = {k: (("model", "site"), v) for k, v in {**out, **flags}.items()}
    data_vars.update(s=("site", s), s_err=("site", s_err), T_eq=("site", eps * p2), T_eq_err=("site", eps * p2_err),
                     mu_over_T_eq=("site", -1.0 / p2), mu_over_T_eq_err=("site", p2_err / p2 ** 2))
    for k in ("n", "circular_variance"):
        data_vars[k], data_vars[k + "_err"] = ("site", sel[k].values), ("site", sel[k + "_err"].values)
    attrs = dict(ness.attrs, U_fit=U, energy_scale=eps, bins=bins)
    return xr.Dataset(data_vars, coords={"model": list(models), "site": sites}, attrs=attrs), fits


def peak_site(values, errors, sites, *, n_resamples: int = 400, seed: int = 0) -> tuple[float, float]:
    """Site of the maximum of a profile and its error: the spread of the argmax over parametric
    bootstrap redraws of the points (:func:`replicate.analysis.compare.bootstrap`), combined with
    the quantization error of the site grid (spacing h: h/√12)."""
    sites = np.asarray(sites, float)
    v, e = bootstrap(lambda d: {"peak": sites[int(np.nanargmax(d["x"]))]}, {"x": (values, errors)},
                     n_resamples=n_resamples, seed=seed)
    spacing = float(np.min(np.diff(sites))) if sites.size > 1 else 1.0
    return v["peak"], quantized(e["peak"], spacing)


def _mean_near(x: np.ndarray, sites: np.ndarray, at: float, half_width: float) -> float:
    near = np.abs(sites - at) <= half_width
    if not near.any():
        raise ValueError(f"no site within {half_width} of {at}")
    return float(np.nanmean(x[near]))


def _rms_over_span(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)) / (np.max(b) - np.min(b)))


def heating_statistics(weak: Mapping[str, np.ndarray], inter: Mapping[str, np.ndarray],
                       sites_w: np.ndarray, sites_i: np.ndarray, L: int, *,
                       half_width: float = 2.0) -> dict[str, float]:
    """The Fig. 4 statistics of the weak and the intermediate drive (one resample).

    ``weak``/``inter`` map ``mu_over_T_<model>``, ``mu_over_T_eq``, ``T``, ``mu``, ``T_eq``,
    ``s``, ``n`` to profiles on the U(1)-symmetric sites ``sites_w``/``sites_i`` (V ≥ V_sym:
    where the fits mean something). μ/T and μ from the Gibbs fit ("gibbs"; at the bound 1/T = 0
    it equals the Gaussian fit); T and μ are NaN where the Gibbs fit sits at 1/T = 0 (the T
    statistics use the finite values). Keys of the result:

    - ``weak_max_mu_over_T``, ``inter_max_mu_over_T``: largest μ/T;
    - ``weak_mu_over_T_slope``: OLS slope of μ/T against ℓ; ``inter_tail_mu_over_T_slope``: the
      same over the last quarter of the chain;
    - ``inter_median_mu_over_T``, ``weak_median_mu_over_T``: median μ/T;
    - ``inter_mu_drop_share``: share of the fall of μ (first symmetric site → ℓ = L) that happens
      over the last quarter, [μ̄(3L/4) − μ̄(L)]/[μ̄(ℓ₀) − μ̄(L)], μ̄ = mean within ``half_width``
      sites; ``weak_mu_over_T_drop_share``: the same for the weak drive's μ/T;
    - ``inter_end_mu_over_T``, ``inter_start_mu_over_T``: μ/T at the last / first symmetric site;
    - ``heating``: max T / max(T at the first symmetric site, T at ℓ = L); ``heating_eq``: the
      same for T^eq (equipartition, which ignores the Kerr term);
    - ``T_peak``, ``s_peak``, ``n_peak``: sites of the maxima (intermediate drive);
      ``T_minus_s_peak``, ``T_minus_n_peak``;
    - ``agree_impurity``: largest over both drives and both impurity models of
      rms(μ/T_model − μ/T_Gibbs)/span(μ/T_Gibbs); ``agree_gaussian``: the same for the U = 0
      fit at the intermediate drive; ``agree_eq_weak``, ``agree_eq_inter``: the same for the
      equipartition μ/T.
    """
    out = {}
    g_w, g_i = weak["mu_over_T_gibbs"], inter["mu_over_T_gibbs"]
    tail = sites_i >= 0.75 * L
    out["weak_max_mu_over_T"], out["inter_max_mu_over_T"] = float(np.max(g_w)), float(np.max(g_i))
    out["weak_mu_over_T_slope"] = float(ols(sites_w, g_w)[0])
    out["inter_tail_mu_over_T_slope"] = float(ols(sites_i[tail], g_i[tail])[0])
    out["inter_median_mu_over_T"], out["weak_median_mu_over_T"] = float(np.median(g_i)), float(np.median(g_w))

    def share(x, s):
        start, mid, end = (_mean_near(x, s, a, half_width) for a in (s[0], 0.75 * L, L))
        return (mid - end) / (start - end)

    out["inter_mu_drop_share"] = share(inter["mu"], sites_i)
    out["weak_mu_over_T_drop_share"] = share(g_w, sites_w)
    out["inter_end_mu_over_T"], out["inter_start_mu_over_T"] = float(g_i[-1]), float(g_i[0])
    for key, T in (("heating", inter["T"]), ("heating_eq", inter["T_eq"])):
        finite = T[np.isfinite(T)]
        out[key] = float(np.max(finite) / max(finite[0], finite[-1]))
    for key in ("T", "s", "n"):
        out[key + "_peak"] = float(sites_i[int(np.nanargmax(inter[key]))])
    out["T_minus_s_peak"] = out["T_peak"] - out["s_peak"]
    out["T_minus_n_peak"] = out["T_peak"] - out["n_peak"]
    out["agree_impurity"] = max(_rms_over_span(p[f"mu_over_T_{m}"], p["mu_over_T_gibbs"])
                                for p in (weak, inter) for m in IMPURITY)
    out["agree_gaussian"] = _rms_over_span(inter["mu_over_T_gaussian"], g_i)
    out["agree_eq_weak"] = _rms_over_span(weak["mu_over_T_eq"], g_w)
    out["agree_eq_inter"] = _rms_over_span(inter["mu_over_T_eq"], g_i)
    return out


HEATING_VARIABLES = ("mu_over_T", "T", "mu", "T_eq", "mu_over_T_eq", "s", "n")


def _profile_arrays(p: xr.Dataset, symmetric: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    arrays = {}
    for var in HEATING_VARIABLES:
        if "model" in p[var].dims:
            for m in p["model"].values:
                arrays[f"{var}_{m}"] = (p[var].sel(model=m).values[symmetric],
                                        p[var + "_err"].sel(model=m).values[symmetric])
        else:
            arrays[var] = (p[var].values[symmetric], p[var + "_err"].values[symmetric])
    arrays["T"], arrays["mu"] = arrays.pop("T_gibbs"), arrays.pop("mu_gibbs")
    return arrays


def heating_summary(weak: xr.Dataset, inter: xr.Dataset, *, V_sym: float, L: int,
                    half_width: float = 2.0, n_resamples: int = 400,
                    seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Values and parametric-bootstrap errors of :func:`heating_statistics` for two
    :func:`local_profile` Datasets, on their sites with V_ℓ ≥ ``V_sym``. Every fitted value is
    redrawn within its error independently (sites share trajectories, so neighbours are in
    fact positively correlated: the error of a difference of neighbours is then conservative);
    the peak sites get the quantization error of the site grid."""
    sym = {k: p["circular_variance"].values >= V_sym for k, p in (("w", weak), ("i", inter))}
    sites_w, sites_i = weak["site"].values[sym["w"]], inter["site"].values[sym["i"]]
    data = {f"w_{k}": v for k, v in _profile_arrays(weak, sym["w"]).items()}
    data.update({f"i_{k}": v for k, v in _profile_arrays(inter, sym["i"]).items()})
    if np.isfinite(data["i_T"][0]).sum() < 3:
        raise ValueError("the intermediate drive has fewer than 3 symmetric sites with a finite Gibbs T")
    data.pop("w_T"), data.pop("w_mu")

    def stat(d):
        split = {k: {n[2:]: v for n, v in d.items() if n.startswith(k + "_")} for k in ("w", "i")}
        return heating_statistics(split["w"], split["i"], sites_w, sites_i, L, half_width=half_width)

    value, error = bootstrap(stat, data, n_resamples=n_resamples, seed=seed)
    spacing = float(np.min(np.diff(sites_i)))
    for k in ("T_peak", "s_peak", "n_peak"):
        error[k] = quantized(error[k], spacing)
    for k in ("T_minus_s_peak", "T_minus_n_peak"):
        error[k] = quantized(error[k], spacing, positions=2)
    return value, error


def norm_ratio(profile: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Fit norm over its noise floor, ‖W − W_fit‖₁ / noise (≈ 1 for a model the data cannot tell
    apart from the truth, ≫ 1 for a failing one), and its error, over (model, site) of a
    :func:`local_profile` Dataset."""
    return profile["norm"] / profile["norm_noise"], profile["norm_err"] / profile["norm_noise"]


def symmetric_median(profile: xr.Dataset, *, V_sym: float, models: Sequence[str]) -> dict:
    """``{model: (median, error)}`` of the fit norm over its noise (:func:`norm_ratio`) over the
    U(1)-symmetric sites of a :func:`local_profile` Dataset (circular variance V_ℓ ≥ ``V_sym``),
    by :func:`replicate.stats.median_with_error`."""
    ratio, ratio_err = norm_ratio(profile)
    symmetric = profile["circular_variance"].values >= V_sym
    if not symmetric.any():
        raise ValueError(f"no site has V ≥ {V_sym!r}")
    return {m: stats.median_with_error(ratio.sel(model=m).values[symmetric],
                                       ratio_err.sel(model=m).values[symmetric]) for m in models}


def norm_extreme(ratio: xr.DataArray, ratio_err: xr.DataArray, which: str, *, model, sites,
                 n_resamples: int = 400, seed: int = 0) -> tuple[float, float]:
    """:func:`extreme` (``which`` = "max", "min" or "median") of a norm-over-noise array
    (:func:`norm_ratio`, or the ``ratio`` of :func:`polar_profile`) over ``model`` (one name or a
    list) and ``sites``, with its parametric-bootstrap error."""
    sel = dict(model=model, site=list(sites))
    return extreme(ratio.sel(**sel).values, ratio_err.sel(**sel).values, which,
                   n_resamples=n_resamples, seed=seed)


def histogram_mismatch(data, ness: xr.Dataset, sites, u_grid) -> int:
    """Sum over ``sites`` of |engine radial counts − histogram of the raw samples| (the engine's
    ``radial_counts`` of ``ness`` against :func:`replicate.thermometry.from_samples` on the same
    ``u_grid`` = (u_max, bins) and batches): 0 when the engine histograms the very samples it
    returns. ``data``: the samples (site, traj, time), or their :func:`site_histograms`;
    ``ness``: a full run, or its :func:`replicate.analysis.annuli.reduce` with fine counts at
    ``sites``."""
    total, edges = 0, radial_edges("u_grid", u_grid)
    for s in sites:
        if isinstance(data, xr.Dataset):
            counts = data["radial_counts"].sel(site=s).values.astype(np.int64)
        else:
            counts = th.from_samples(data.sel(site=s).values, bins=edges, n_batches=ness.sizes["batch"]).counts
        total += int(np.abs(counts - annuli.engine_counts(ness, s).astype(np.int64)).sum())
    return total


def polar_profile(data, fitted: Mapping, *, models: Sequence[str] = MODELS,
                  n_angles: int = 8, n_batches: int = th.histogram.DEFAULT_BATCHES) -> xr.Dataset:
    """:func:`polar_norm` at every site of ``data`` for the fits ``fitted[(model, site)]`` of
    :func:`local_profile` (same trajectories): ``ratio`` = norm / noise floor and ``ratio_err``
    over (model, site), with ``norm``, ``norm_err``, ``noise``. ``data``: the samples (site,
    traj, time), or their :func:`site_histograms` made on the annuli of these fits (whose
    ``n_angles`` is then used)."""
    reduced = isinstance(data, xr.Dataset)
    if reduced:
        n_angles = int(data.attrs["n_angles"])
    sites = [int(s) for s in data["site"].values]
    out = {k: np.empty((len(models), len(sites))) for k in ("norm", "norm_err", "noise")}
    for i, site in enumerate(sites):
        for m, model in enumerate(models):
            r = fitted[model, site]
            if reduced:
                annuli = int(data["n_annuli"].sel(site=site))
                if annuli != r.u_edges.size - 1:
                    raise ValueError(f"site {site}: the histograms have {annuli} annuli, the {model} fit "
                                     f"{r.u_edges.size - 1}; make them on the fits' u_edges")
                x, kw = None, dict(counts=data["polar_counts"].sel(site=site).values[:, :annuli * n_angles])
            else:
                x, kw = data.sel(site=site).values, dict(n_batches=n_batches)
            out["norm"][m, i], out["norm_err"][m, i], out["noise"][m, i] = polar_norm(
                x, r, n_angles=n_angles, **kw)
    ds = xr.Dataset({k: (("model", "site"), v) for k, v in out.items()},
                    coords={"model": list(models), "site": sites}, attrs={"n_angles": n_angles})
    ds["ratio"], ds["ratio_err"] = ds["norm"] / ds["noise"], ds["norm_err"] / ds["noise"]
    return ds


def extreme(values, errors, which: str = "max", *, n_resamples: int = 400, seed: int = 0) -> tuple[float, float]:
    """Largest (``"max"``), smallest (``"min"``) or median (``"median"``) of independent
    estimates and its parametric-bootstrap error (:func:`replicate.analysis.compare.bootstrap`)."""
    ops = {"max": np.max, "min": np.min, "median": np.median}
    if which not in ops:
        raise ValueError(f"which must be one of {tuple(ops)}, got {which!r}")
    op = ops[which]
    v, e = bootstrap(lambda d: {"x": float(op(d["x"]))},
                     {"x": (np.ravel(values), np.ravel(errors))}, n_resamples=n_resamples, seed=seed)
    return v["x"], e["x"]
