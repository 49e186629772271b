"""Spatial-relaxation estimators for the chaotic NESS (Ferrari et al. 2025, Fig. 3).

The paper describes a two-stage relaxation along the chain: the amplitude (photon number n_ℓ)
relaxes over a long length ξ_n, the phase over a microscopic length ξ_φ, seen in the circular
variance V_ℓ (§2.3 of the notes), in g^(1) (Eq. 7) and in the local Wigner functions W_ℓ
(SI Eq. 33). None of these lengths is defined by a formula in the text we have; the estimators
below are our operational definitions:

* :func:`half_decay_distance` — ξ_n, the distance from the driven site at which n_ℓ first falls
  below a fraction of its maximum (linear interpolation between sites);
* :func:`right_half_drop` — f₂, how much of the fall of n_ℓ happens in the right half of the
  chain (decay "just past the drive" vs "only near the right end");
* :func:`phase_decay_rate` — the phase decay rate 1/ξ_φ, from the distance at which g^(1)_{c,c±r}
  falls to 1/e;
* :func:`profile_statistics` — every scalar of the figure (ξ_n, f₂, V beyond a few sites and in the
  right half, 1/ξ_φ, the floor, ξ_n/ξ_φ, the coherent fraction A_ℓ) with **one joint jackknife
  over batches of whole trajectories**, which keeps the correlations between sites and between
  the statistics;
* :func:`chain_samples`, :func:`sample_dataset` — Wigner samples of every site and the NESS
  profile Dataset built from them (the same batch means as ``twa.ness(..., keep_batches=True)``),
  so that one run gives both the profiles and the Wigner functions; :func:`chain_summary` keeps
  only what the figure needs of them (small enough for the results store);
* the local Wigner functions of those samples (rotation average, ring/bell contrast, 2-d
  histogram, the sampling floor of V) are in :mod:`replicate.analysis.wigner_samples`;
* :func:`smallest_increase`, :func:`worst` — the least favourable of several independent
  estimates, for tests of the form "grows with L" or "at every drive".
"""
from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import xarray as xr

from .. import stats
from ..chain import ChainParams
from ..twa import observables as obs
from ..twa.engine import DEFAULT_INTEGRATOR, with_dt_halving
from ..twa.ness import N_BATCHES
from ..twa.samples import site_samples
from ..validate import count

Estimate = tuple[float, float]


def _profile(n) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if n.ndim != 1 or n.size < 2 or not np.all(np.isfinite(n)):
        raise ValueError("n must be a finite 1-d profile of length >= 2")
    return n


def half_decay_distance(n, fraction: float = 0.5) -> float:
    """Distance (sites) from the driven site ℓ = 1 at which the profile ``n`` first drops below
    ``fraction`` · max n after its maximum, linearly interpolated between sites: with a the last
    site (0-based) above h = f·n_max and b = a + 1, a + (n_a − h)/(n_a − n_b).

    If n stays above h to the last site (a chain shorter than the plateau), the line through the
    last two sites is extrapolated beyond the chain (a distance > L − 1, so that a jackknife over
    resamples on both sides of L − 1 stays continuous); ``inf`` if n does not fall at the end.
    """
    n = _profile(n)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    i_max = int(np.argmax(n))
    h = fraction * n[i_max]
    below = np.flatnonzero(n[i_max:] < h)
    if below.size:
        b = i_max + int(below[0])
    elif i_max < n.size - 1 and n[-1] < n[-2]:
        b = n.size - 1
    else:
        return float("inf")
    a = b - 1
    return float(a + (n[a] - h) / (n[a] - n[b]))


def right_half_drop(n) -> float:
    """Share of the fall of ``n`` (from its maximum to the last site) that lies in the right half:
    f₂ = (n_mid − n_L)/(n_max − n_L), n_mid at ℓ = (L + 1)/2 (mean of the two central sites for
    even L). f₂ < ½: most of the decay is on the drive side; f₂ > ½: the profile stays high and
    falls near the right end."""
    n = _profile(n)
    L = n.size
    if int(np.argmax(n)) == L - 1:
        raise ValueError("n must not peak at the last site")
    n_mid = n[L // 2] if L % 2 else 0.5 * (n[L // 2 - 1] + n[L // 2])
    return float((n_mid - n[-1]) / (n.max() - n[-1]))


def fold_by_distance(values, errors, centre: int) -> dict[str, np.ndarray]:
    """Site profile (sites 1..L) → points at distance r = |m − centre| ≥ 1 on both sides.

    Returns ``r``, ``value``, ``error`` and ``side`` (−1: towards the drive, +1: away from it).
    """
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    L = v.size
    centre = count("centre", centre)
    if centre > L or e.shape != v.shape:
        raise ValueError(f"centre must be a site in 1..{L} and errors match values")
    m = np.arange(1, L + 1)
    keep = m != centre
    return {"r": np.abs(m - centre)[keep], "value": v[keep], "error": e[keep],
            "side": np.sign(m - centre)[keep]}


def g1_profile(means: Mapping[str, np.ndarray], centre: int, classical: bool = False) -> np.ndarray:
    """g^(1)_{c,m} (Eq. 7) over the sites m (first axis) from Wigner means ``m2`` = ⟨|α|²⟩ and
    ``cre + i cim`` = ⟨α*_c α_m⟩ (:func:`replicate.twa.observables.g1`)."""
    m2 = np.asarray(means["m2"])
    L = m2.shape[0]
    same = (np.arange(1, L + 1) == centre).reshape((L,) + (1,) * (m2.ndim - 1))
    return obs.g1(means["cre"], means["cim"], m2[centre - 1], m2, same, classical)


def phase_decay_rate(g1, centre: int) -> float:
    """1/ξ_φ from a g^(1)_{c,m} profile over the sites m (first axis).

    ḡ(r) is g^(1)_{c,c±r} averaged over both sides, for r = 0..R with R the shorter arm
    (ḡ(0) = 1); ξ_φ is the distance at which ḡ first falls to 1/e, by linear interpolation of
    ln ḡ between neighbouring distances — exactly ξ for ḡ = e^{−r/ξ}. Where ḡ stays above 1/e up
    to R, the chord −ln ḡ(R)/R (a rate below 1/R, continuous with the crossing at ξ_φ = R).
    No fit window: the 1/e crossing lies far above the sampling floor of g^(1) (~1/√N), so the
    estimate does not jump when noise moves a point across a window threshold (a windowed fit of
    ln g^(1) did, between 0.7 and 1.6 over four seeds at L = 40, |F| = 5).
    """
    g = np.asarray(g1, dtype=float)
    L = g.shape[0]
    R = min(centre - 1, L - centre)
    if R < 1:
        raise ValueError(f"centre={centre} leaves no distance on both sides of a chain of {L} sites")
    r = np.arange(1, R + 1)
    gbar = np.concatenate([[1.0], 0.5 * (g[centre - 1 + r] + g[centre - 1 - r])])
    with np.errstate(divide="ignore"):
        lg = np.log(np.maximum(gbar, 0.0))
    below = np.flatnonzero(lg <= -1.0)
    if below.size == 0:
        return float(-lg[R] / R)
    k = int(below[0])
    xi = (k - 1) + (-1.0 - lg[k - 1]) / (lg[k] - lg[k - 1])
    return float(1.0 / xi)


def _batch_sums(ds: xr.Dataset) -> tuple[dict, np.ndarray]:
    if "batch_means" not in ds:
        raise ValueError("ds needs batch means (twa.ness(..., keep_batches=True) or sample_dataset)")
    counts = ds["batch_count"].values
    return {str(m): ds["batch_means"].sel(moment=m).values * counts for m in ds["moment"].values}, counts


def profile_statistics(ds: xr.Dataset, *, centre: int, floor_from: int,
                       few_sites: int, fraction: float = 0.5) -> tuple[dict, dict]:
    """The scalars of Fig. 3 for one chain, with one joint jackknife over trajectory batches.

    ``ds`` carries batch means with the moments m2, cos, sin, re, im, cre, cim
    (``twa.ness(..., keep_batches=True, g1_centre=centre)`` or :func:`sample_dataset`).

    Returns (value, error) dicts with
    ``xi_n`` (:func:`half_decay_distance` of n_ℓ), ``f2`` (:func:`right_half_drop`), ``n_max``;
    ``V_beyond`` = min V_ℓ over ℓ − 1 ≥ ``few_sites``; ``V_right`` = min V_ℓ over the right half;
    ``phase_rate`` = 1/ξ_φ (:func:`phase_decay_rate`); ``g1_floor`` = median g^(1) at
    r ≥ ``floor_from``;
    ``two_stage`` = ξ_n/ξ_φ; and the array ``A`` = |⟨α_ℓ⟩|/sqrt(⟨|α_ℓ|²⟩_W) (coherent fraction,
    0 for a rotation-invariant W_ℓ; biased up by ~ the sampling error of ⟨α⟩ where it vanishes).
    """
    classical = bool(ds.attrs.get("classical", 0))
    L = ds.sizes["site"]
    site = np.arange(1, L + 1)
    r = np.abs(site - count("centre", centre))
    far = r >= count("floor_from", floor_from)
    beyond, right = site - 1 >= count("few_sites", few_sites), site > L // 2

    def stat(m):
        n = obs.n_photons(m["m2"], classical)
        V = obs.circular_variance(m["cos"], m["sin"])
        g = g1_profile(m, centre, classical)
        rate = phase_decay_rate(g, centre)
        xi = half_decay_distance(n, fraction)
        return {"xi_n": xi, "f2": right_half_drop(n), "n_max": n.max(), "V_beyond": V[beyond].min(),
                "V_right": V[right].min(), "phase_rate": rate,
                "g1_floor": np.median(g[far]), "two_stage": rate * xi,
                "A": np.hypot(m["re"], m["im"]) / np.sqrt(m["m2"])}

    sums, counts = _batch_sums(ds)
    value, err = stats.jackknife(stat, sums, counts, vectorized=False)
    scalars = {k: float(v) for k, v in value.items() if k != "A"}
    return ({**scalars, "A": value["A"]},
            {**{k: float(err[k]) for k in scalars}, "A": err["A"]})


def chain_samples(params: ChainParams, *, n_traj: int, t_relax: float, t_avg: float,
                  sample_every: float, dt: float | None = None, seed: int = 0,
                  integrator: str = DEFAULT_INTEGRATOR, max_halvings: int = 0) -> xr.DataArray:
    """Complex64 Wigner samples of every site of ``params`` (:func:`replicate.twa.site_samples`:
    the trajectories of ``twa.ness`` with the same seed), rerun with half the time step when a
    trajectory diverges, at most ``max_halvings`` times; the step used is ``attrs["dt"]``."""
    def run(step: float) -> xr.DataArray:
        return site_samples(params, np.arange(1, params.L + 1), n_traj=n_traj, t_relax=t_relax,
                            t_avg=t_avg, sample_every=sample_every, dt=step, seed=seed,
                            integrator=integrator, dtype=np.complex64)
    return with_dt_halving(run, dt, max_halvings)


def chain_summary(params: ChainParams, *, centre: int, wigner_sites: tuple[int, ...], wigner_extent: float,
                  wigner_bins: int, n_traj: int, t_relax: float, t_avg: float, sample_every: float,
                  dt: float | None = None, seed: int = 0, integrator: str = DEFAULT_INTEGRATOR,
                  max_halvings: int = 0) -> xr.Dataset:
    """What Fig. 3 keeps of :func:`chain_samples` (arguments as there): the profile Dataset of
    :func:`sample_dataset` (centre ``centre``), the ring contrast of
    :func:`~replicate.analysis.wigner_samples.radial_contrast` at every site (``contrast``,
    ``contrast_err``) and ``wigner(wigner_site, re, im)``, the histograms
    :func:`~replicate.analysis.wigner_samples.wigner_histogram` at ``wigner_sites``.

    Kilobytes where the samples are ~0.5 GB (L = 120, 10³ trajectories, 500 samples each), so
    that it can go to the results store (``sweep.cached``)."""
    from . import wigner_samples

    smp = chain_samples(params, n_traj=n_traj, t_relax=t_relax, t_avg=t_avg, sample_every=sample_every,
                        dt=dt, seed=seed, integrator=integrator, max_halvings=max_halvings)
    sites = [count("wigner_sites", s) for s in wigner_sites]
    hist = np.stack([wigner_samples.wigner_histogram(smp.sel(site=s), wigner_extent, wigner_bins) for s in sites])
    out = xr.merge([sample_dataset(smp, centre), wigner_samples.radial_contrast(smp)], combine_attrs="override")
    out["wigner"] = (("wigner_site", "re", "im"), hist)
    out = out.assign_coords(wigner_site=sites)
    out.attrs.update(smp.attrs, wigner_extent=float(wigner_extent))
    return out


def sample_dataset(samples: xr.DataArray, centre: int, n_batches: int = N_BATCHES) -> xr.Dataset:
    """NESS profile Dataset from Wigner samples of every site (``samples(site, traj, time)``,
    sites 1..L, e.g. :func:`chain_samples`).

    Each trajectory's time samples are averaged first; the Dataset holds the observables of
    :func:`replicate.twa.observables.standard` and ``g1`` (Eq. 7, centre site ``centre``) with
    jackknife errors over ``n_batches`` batches of whole trajectories, and ``batch_means(moment,
    site, batch)`` with ``batch_count`` — what ``twa.ness(..., keep_batches=True,
    g1_centre=centre)`` returns, on the sampling grid of ``samples``.
    """
    a = np.asarray(samples)
    if a.ndim != 3 or not np.array_equal(samples["site"].values, np.arange(1, a.shape[0] + 1)):
        raise ValueError("samples must be (site, traj, time) over every site 1..L")
    L = a.shape[0]
    centre = count("centre", centre)
    if centre > L:
        raise ValueError(f"centre must be a site in 1..{L}, got {centre}")
    per = obs.sample_means(a, axis=-1)
    corr = (np.conj(a[centre - 1])[None] * a).mean(-1)
    per["cre"], per["cim"] = corr.real, corr.imag
    names = list(per)
    sums, counts = stats.batch_sums(np.stack([np.asarray(per[k], dtype=float) for k in names]), n_batches)
    batch = dict(zip(names, sums))

    def stat(m):
        return {**obs.standard(m), "g1": g1_profile(m, centre)}

    value, err = stats.jackknife(stat, batch, counts)
    data = {k: ("site", v) for k, v in value.items()}
    data.update({k + "_err": ("site", e) for k, e in err.items()})
    data["batch_means"] = (("moment", "site", "batch"), sums / counts)
    attrs = dict(samples.attrs, g1_centre=centre, n_batches=int(counts.size), classical=0)
    return xr.Dataset(data, coords={"site": np.arange(1, L + 1), "moment": names,
                                    "batch_count": ("batch", counts)}, attrs=attrs)


def worst(estimates, *, lowest: bool = True) -> Estimate:
    """The least favourable of several independent (value, error) estimates for a lower bound
    (``lowest``: the smallest value − 2σ) or an upper bound (the largest value + 2σ)."""
    est = [(float(v), float(e)) for v, e in estimates]
    if not est:
        raise ValueError("worst needs at least one estimate")
    edge = [v - 2 * e if lowest else -(v + 2 * e) for v, e in est]
    return est[int(np.argmin(edge))]


def smallest_increase(values: Mapping[tuple, Estimate], along: str) -> Estimate:
    """The least significant increase of a quantity tabulated over (L, F) between consecutive L
    (``along="L"``, at each F) or consecutive F (``along="F"``, at each L): the difference with
    the smallest value − 2σ (:func:`worst`). Entries are independent runs, so each difference
    has the error of :func:`replicate.stats.difference`."""
    if along not in ("L", "F"):
        raise ValueError(f"along must be 'L' or 'F', got {along!r}")
    axis = 0 if along == "L" else 1
    diffs = []
    for other in sorted({k[1 - axis] for k in values}):
        keys = sorted((k for k in values if k[1 - axis] == other), key=lambda k: k[axis])
        diffs += [stats.difference(*values[b], *values[a]) for a, b in pairwise(keys)]
    if not diffs:
        raise ValueError(f"no two entries differ only in {along}")
    return worst(diffs)


def chain_statistics(runs: Mapping[tuple, xr.Dataset], *, few_sites: int) -> dict[tuple, tuple[dict, dict]]:
    """:func:`profile_statistics` of every chain of ``runs`` (keyed by (L, F)), with centre
    c = L // 2 and the g^(1) floor taken from r ≥ L // 4: {key: (value, error)}."""
    return {key: profile_statistics(ds, centre=int(key[0]) // 2, floor_from=int(key[0]) // 4, few_sites=few_sites)
            for key, ds in runs.items()}


def relaxation_tests(res: Mapping[tuple, tuple[dict, dict]], linear: Mapping[tuple, tuple[dict, dict]],
                     contrast: Mapping[float, xr.Dataset], *, F_weak: float, F_intermediate: float,
                     sites: tuple[int, int, int]) -> dict[str, Estimate]:
    """The measured values of the Fig. 3 tests and of their controls, as (value, error).

    ``res`` and ``linear`` are :func:`chain_statistics` results of the chains (keyed by (L, F))
    and of the U = 0 control chains; ``contrast`` the :func:`radial_contrast` at the largest L
    for ``F_weak`` and ``F_intermediate``; ``sites`` the driven, bulk and last sites (d, e, f).
    Key ``k`` holds a test's value and ``k + "_control"`` its control's (see the chapter):
    growth of ξ_n along F and L (:func:`smallest_increase`; control: U = 0), the profile shape f₂
    and ξ_n at the two drives (controls: the other drive), the phase statistics at the worst drive
    (:func:`worst`; control: U = 0 at ``F_intermediate``), the coherent fraction at the driven and
    the bulk site (controls: each other) and the ring contrast in the bulk and at the end
    (controls: the weak drive, the bulk).
    """
    L_max = max(int(k[0]) for k in res)
    Fw, Fi = F_weak, F_intermediate
    s_d, s_e, s_f = sites

    def at(r, q, site=None):
        v, e = r
        return (v[q], e[q]) if site is None else (float(v[q][site - 1]), float(e[q][site - 1]))

    def xi(table):
        return {k: at(r, "xi_n") for k, r in table.items()}

    def C(F, s):
        return (float(contrast[F]["contrast"].sel(site=s)), float(contrast[F]["contrast_err"].sel(site=s)))

    main = {k: r for k, r in res.items() if int(k[0]) == L_max}
    out = {"xi-grows-F": smallest_increase(xi(res), "F"), "xi-grows-F_control": smallest_increase(xi(linear), "F"),
           "xi-grows-L": smallest_increase(xi(res), "L"), "xi-grows-L_control": smallest_increase(xi(linear), "L"),
           "weak-decays-early": at(res[L_max, Fw], "f2"), "weak-decays-early_control": at(res[L_max, Fi], "f2"),
           "weak-just-past-drive": at(res[L_max, Fw], "xi_n"), "weak-just-past-drive_control": at(res[L_max, Fi], "xi_n"),
           "intermediate-plateau": at(res[L_max, Fi], "f2"), "intermediate-plateau_control": at(res[L_max, Fw], "f2"),
           "W-anisotropic-drive": at(res[L_max, Fi], "A", s_d), "W-anisotropic-drive_control": at(res[L_max, Fi], "A", s_e),
           "W-isotropic-bulk": at(res[L_max, Fi], "A", s_e), "W-isotropic-bulk_control": at(res[L_max, Fi], "A", s_d),
           "W-ring-bulk": C(Fi, s_e), "W-ring-bulk_control": C(Fw, s_e),
           "W-bell-end": C(Fi, s_f), "W-bell-end_control": C(Fi, s_e)}
    for key, q, lowest in (("V-few-sites", "V_beyond", True), ("V-uniform", "V_right", True),
                           ("xi-phi-few-sites", "phase_rate", True), ("g1-floor", "g1_floor", False),
                           ("two-stage", "two_stage", True)):
        out[key] = worst([at(r, q) for r in main.values()], lowest=lowest)
        out[key + "_control"] = at(linear[L_max, Fi], q)
    return out


def relaxation_values(res: Mapping[tuple, tuple[dict, dict]], contrast: Mapping[float, xr.Dataset],
                      sites: tuple[int, ...]) -> dict[str, tuple[str, float, float]]:
    """The numbers Fig. 3 shows, for the regression check: {key: (what, value, error)} with
    n_max, ξ_n, f₂ and 1/ξ_φ of every chain of ``res`` ((L, F) → :func:`profile_statistics`) and
    the ring contrast of ``contrast`` (F → :func:`radial_contrast`) at ``sites``."""
    out = {}
    for (L, F), (v, e) in res.items():
        for q in ("n_max", "xi_n", "f2", "phase_rate"):
            out[f"{q}-L{L}-F{F:g}"] = (f"{q} at L = {L}, |F| = {F:g}", v[q], e[q])
    for F, c in contrast.items():
        for s in sites:
            out[f"contrast-F{F:g}-site{s}"] = (f"ring contrast C at ℓ = {s}, |F| = {F:g}",
                                               float(c["contrast"].sel(site=s)), float(c["contrast_err"].sel(site=s)))
    return out
