"""Quantum signatures of the RNW steady state, TWA against classical (Ferrari et al. 2025, Fig. 6,
SI Fig. 18).

In the RNW steady state the classical field (SI Eq. 35) is a finite-momentum condensate with a
fixed phase at every site; in the TWA the boundary noise and the vacuum fluctuations make the phase
diffuse along the chain while the amplitude stays locked: the local Wigner function W_ℓ is an arc
(radially narrow, angularly spread), the circular variance V_ℓ grows along the chain, g^(1)
decays slowly with distance and |⟨a_ℓ⟩| decays although n_ℓ and the mean phase agree with the
classical solution. The paper defines none of these numbers by a formula; ours are:

* every observable is a function of **per-trajectory time means** over a window of a quench run
  (:data:`WINDOW_MOMENTS`: ⟨|α|²⟩, ⟨|α|⁴⟩, ⟨α⟩, ⟨e^{iφ}⟩, ⟨|α|⟩, ⟨α*_c α_ℓ⟩ with a centre site c),
  so that a jackknife over batches of whole trajectories gives every error, with the correlations
  between sites and between statistics kept (:func:`jackknife_windows`; several runs or windows
  are resampled jointly, batch i of each left out together: exact for windows of the same run,
  valid for independent runs);
* :func:`observables` — n, δn (Eq. 5), V = 1 − |⟨e^{iφ}⟩|, the circular standard deviation
  σ_φ = √(−2 ln(1 − V)) (the angular half-width of W_ℓ, exact for a wrapped normal phase), the
  mean radius r̄ = ⟨|α|⟩ and the radial width σ_r = √(⟨|α|²⟩ − ⟨|α|⟩²) of W_ℓ, their ratio
  r̄σ_φ/σ_r (the **arc aspect ratio**: arc length over radial width; ≫ 1 for an arc, ≈ 1 for a
  round blob), |⟨a_ℓ⟩|, the mean phase and g^(1)_{c,ℓ} (Eq. 7); the Wigner reading of the samples
  or, for a classical run, the field reading (:mod:`replicate.twa.observables`);
* the site-profile statistics (changes across the bulk, monotonicity, g^(1) decay, profile
  agreement) are in :mod:`replicate.analysis.profile_stats`;
* the tests of the chapters: :func:`signatures` (every scalar of Fig. 6; :func:`signature_table`
  jackknifes them jointly over several runs or windows), :func:`bulk_drift` (the stationarity of
  a window), :func:`onsets` (the RNW onset of every trajectory), :func:`comparison`
  (TWA against classical, SI Fig. 18), :func:`angular_identity` (|⟨a_ℓ⟩| = ⟨|α_ℓ|⟩(1 − V_ℓ),
  the SI's explanation of the decay of the field) and :func:`classical_comparison` (every scalar
  of SI Fig. 18 with its control, jackknifed jointly).

:func:`reduce_evolve` turns one ``twa.evolve(..., keep_sites=all)`` run into these window means
plus n_L(t) per trajectory (for the onsets of :mod:`replicate.analysis.survival`) and raw samples
at a few sites (for W_ℓ); :func:`quench` runs evolve in chunks of trajectories and reduces each at
once, so that memory stays bounded at the paper's trajectory counts, and then
:func:`batch_reduce` keeps only what the statistics read: the window means summed over the
batches of the jackknife, the onset times instead of n_L(t) and Wigner histograms instead of the
raw samples (a few hundred kB instead of ~10² MB at the paper's statistics: the results store
keeps it). Every function here reads both forms.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import provenance, stats
from ..chain import ChainParams
from ..twa import evolve
from ..twa import observables as obs
from ..validate import count, grid_edges
from . import survival
from .wigner_samples import wigner_histogram
from .profile_stats import (bulk, bulk_max, change_across, g1_decay_length, g1_drop, relative_rms,
                            smallest_step, wrapped_rms)

WINDOW_MOMENTS = ("m2", "m4", "re", "im", "cos", "sin", "r1", "cre", "cim")
N_BATCHES = 32
CHUNK_SEED_STRIDE = 1_000_003   # chunk j of a quench uses seed + j · stride (j = 0: the plain seed)


def window_moments(alpha, select, centre: int) -> np.ndarray:
    """Per-trajectory time means (moment, site, traj) of :data:`WINDOW_MOMENTS` over the times
    ``select`` (bool over the first axis) of complex samples ``alpha(time, site, traj)``;
    ``cre + i cim`` = ⟨α*_c α_ℓ⟩ with the centre site c (1-based)."""
    a = np.asarray(alpha)
    sel = np.asarray(select, dtype=bool)
    if a.ndim != 3 or sel.shape != a.shape[:1]:
        raise ValueError(f"alpha must be (time, site, traj) and select a bool over its {a.shape[:1]} times")
    centre = count("centre", centre)
    if centre > a.shape[1]:
        raise ValueError(f"centre must be a site in 1..{a.shape[1]}, got {centre}")
    if not sel.any():
        raise ValueError("select picks no time")
    w = a[sel]
    q = np.abs(w) ** 2
    r = np.sqrt(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(r > 0, w / np.where(r > 0, r, 1.0), 1.0)
    corr = np.conj(w[:, centre - 1])[:, None, :] * w
    out = [q, q * q, w.real, w.imag, z.real, z.imag, r, corr.real, corr.imag]
    return np.stack([x.mean(0) for x in out])


def _mask(times: np.ndarray, window) -> np.ndarray:
    t0, t1 = (float(x) for x in window)
    if not t0 <= t1:
        raise ValueError(f"a window must be (start, end) with start <= end, got {window!r}")
    eps = 1e-9 * max(1.0, abs(t1))
    return (times >= t0 - eps) & (times <= t1 + eps)


def reduce_evolve(ds: xr.Dataset, *, windows: Mapping[str, tuple[float, float]], centre: int,
                  sample_sites: Sequence[int] = (), sample_window: str | None = None) -> xr.Dataset:
    """The reduced form of one ``twa.evolve(..., keep_sites=range(1, L + 1))`` run.

    Returns a Dataset with ``moments(window, moment, site, traj)`` (:func:`window_moments` over
    each named (start, end) window, ends included), ``n_last(time, traj)`` (the photon number of
    site L of every trajectory: |α_L|² − ½, classical |α_L|²), ``n_sum(time, site)`` (the sum
    over trajectories of the photon number, for space-time maps) and, with ``sample_sites``,
    ``samples(sample_site, traj, sample_time)``: the raw α at those sites in ``sample_window``.
    """
    if "alpha" not in ds or not np.array_equal(ds["kept_site"].values, ds["site"].values):
        raise ValueError("ds must be an evolve run with keep_sites = every site 1..L")
    if not windows:
        raise ValueError("windows must name at least one (start, end) window")
    a = ds["alpha"].values                               # (time, site, traj)
    times = ds["time"].values
    classical = bool(ds.attrs.get("classical", 0))
    half = 0.0 if classical else 0.5
    names = list(windows)
    mom = np.stack([window_moments(a, _mask(times, windows[k]), centre) for k in names])
    n = np.abs(a) ** 2 - half
    data = {"moments": (("window", "moment", "site", "traj"), mom),
            "n_last": (("time", "traj"), n[:, -1]),
            "n_sum": (("time", "site"), n.sum(-1))}
    coords = {"window": names, "moment": list(WINDOW_MOMENTS), "site": ds["site"].values,
              "time": times, "traj": np.arange(a.shape[2])}
    sites = [count("sample_sites", s) for s in sample_sites]
    if sites:
        if sample_window not in windows:
            raise ValueError(f"sample_window must be one of {names}, got {sample_window!r}")
        sel = _mask(times, windows[sample_window])
        data["samples"] = (("sample_site", "traj", "sample_time"),
                           a[sel][:, np.asarray(sites) - 1].transpose(1, 2, 0))
        coords.update(sample_site=sites, sample_time=times[sel])
    attrs = dict(ds.attrs, centre=int(centre),
                 windows=str({k: tuple(float(x) for x in v) for k, v in windows.items()}))
    return xr.Dataset(data, coords=coords, attrs=attrs)


def quench(params: ChainParams, *, n_traj: int, times, windows: Mapping[str, tuple[float, float]],
           centre: int, sample_sites: Sequence[int] = (), sample_window: str | None = None,
           chunk: int = 128, seed: int = 0, classical: bool = False,
           initial_noise: bool | None = None, dt: float | None = None,
           max_halvings: int = 0, n_batches: int = N_BATCHES,
           onset: Mapping[str, float] | None = None,
           wigner_grid: tuple[float, int] | None = None) -> xr.Dataset:
    """Quench from the vacuum (``twa.evolve``) reduced by :func:`reduce_evolve`, in chunks of at
    most ``chunk`` trajectories (chunk j with seed ``seed + j · CHUNK_SEED_STRIDE``; a single chunk
    is exactly ``evolve(params, seed=seed, ...)``), and then by :func:`batch_reduce` with
    ``n_batches``, ``onset`` and ``wigner_grid``. ``attrs["dt"]`` is the largest step any chunk
    used and ``attrs["dt_chunks"]`` lists them (a chunk reruns with a halved step when it
    diverges)."""
    n_traj, chunk = count("n_traj", n_traj), count("chunk", chunk)
    parts, steps = [], []
    with provenance.pooled():  # the caption counts the whole run, not its chunks
        for j, start in enumerate(range(0, n_traj, chunk)):
            ds = evolve(params, n_traj=min(chunk, n_traj - start), times=times, dt=dt,
                        seed=seed + j * CHUNK_SEED_STRIDE, classical=classical,
                        initial_noise=initial_noise, keep_sites=range(1, params.L + 1),
                        max_halvings=max_halvings)
            steps.append(float(ds.attrs["dt"]))
            parts.append(reduce_evolve(ds, windows=windows, centre=centre, sample_sites=sample_sites,
                                       sample_window=sample_window))
            del ds
    per_traj = [v for v in parts[0].data_vars if "traj" in parts[0][v].dims]
    out = xr.concat([p[per_traj] for p in parts], dim="traj")
    out = out.assign_coords(traj=np.arange(out.sizes["traj"]))
    out["n_sum"] = sum(p["n_sum"] for p in parts)
    out.attrs = dict(parts[0].attrs, n_traj=n_traj, seed=seed, chunk=chunk, dt=max(steps),
                     dt_chunks=str(steps))
    provenance.note(out.attrs)
    return batch_reduce(out, n_batches=n_batches, onset=onset, wigner_grid=wigner_grid)


ONSET_KEYS = ("after", "window", "smooth", "tolerance")
ONSET_DEFAULTS = {"window": 100.0, "smooth": 20.0, "tolerance": 0.1}
"""The onset criterion of :func:`onsets` where a caller names only ``after``."""


def batch_reduce(red: xr.Dataset, *, n_batches: int = N_BATCHES,
                 onset: Mapping[str, float] | None = None,
                 wigner_grid: tuple[float, int] | None = None) -> xr.Dataset:
    """The per-trajectory run ``red`` of :func:`reduce_evolve` reduced to what the statistics read.

    - ``moment_sums(window, moment, site, batch)`` and ``batch_count(batch)``: the window means
      summed over min(``n_batches``, trajectories) contiguous batches of trajectories, the input
      of every jackknife here (which then uses that many batches);
    - with ``onset`` (the arguments of :func:`onsets`: ``after`` and optionally ``window``,
      ``smooth``, ``tolerance``): ``onset_T(traj)``, the onset times, instead of n_L(t) of every
      trajectory; :func:`onsets` returns them when asked with the same arguments;
    - with ``wigner_grid`` = (extent, bins): ``wigner(sample_site, re, im)``, the histogram of
      :func:`replicate.analysis.wigner_samples.wigner_histogram` of each sample site, instead of
      the raw samples;
    - ``n_sum`` and the attributes as they are."""
    nb = count("n_batches", n_batches)
    sums, counts = stats.batch_sums(red["moments"].values, nb)
    data = {"moment_sums": (("window", "moment", "site", "batch"), sums),
            "batch_count": ("batch", counts), "n_sum": red["n_sum"]}
    coords = {k: red[k].values for k in ("window", "moment", "site", "time")}
    attrs = dict(red.attrs)
    if onset is not None:
        settings = dict(_onset_settings(onset))
        o = onsets(red, **settings)
        data["onset_T"] = ("traj", o.T)
        attrs.update({f"onset.{k}": v for k, v in settings.items()},
                     **{"onset.plateau": o.plateau, "onset.censor_time": o.censor_time})
    elif "n_last" in red:
        data["n_last"] = red["n_last"]
    if "samples" in red:
        if wigner_grid is None:
            data["samples"] = red["samples"]
            coords["sample_time"] = red["sample_time"].values
        else:
            edges = grid_edges("wigner_grid", wigner_grid)
            extent, bins = float(edges[-1]), edges.size - 1
            W = np.stack([wigner_histogram(red["samples"].sel(sample_site=s).values, extent, bins)
                          for s in red["sample_site"].values])
            centres = 0.5 * (edges[1:] + edges[:-1])   # as the engine's histograms (twa.ness)
            data["wigner"] = (("sample_site", "re", "im"), W)
            coords.update(re=centres, im=centres)
            attrs["wigner_extent"] = extent
        coords["sample_site"] = red["sample_site"].values
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _onset_settings(onset: Mapping[str, float]) -> list[tuple[str, float]]:
    unknown = set(onset) - set(ONSET_KEYS)
    if "after" not in onset or unknown:
        raise ValueError(f"onset must name 'after' and only {ONSET_KEYS}, got {dict(onset)!r}")
    full = {**ONSET_DEFAULTS, **onset}
    return [(k, float(full[k])) for k in ONSET_KEYS]


def _batches(ds: xr.Dataset) -> int:
    """The most batches a jackknife of this run can use."""
    return ds.sizes["batch"] if "moment_sums" in ds else ds.sizes["traj"]


def circular_std(V):
    """σ_φ = √(−2 ln(1 − V)) from the circular variance (the standard deviation of a wrapped
    normal phase with that V)."""
    R = 1.0 - np.asarray(V, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(-2.0 * np.log(R))


def observables(m: Mapping[str, np.ndarray], classical: bool = False,
                centre: int | None = None) -> dict[str, np.ndarray]:
    """Site observables of the module docstring from window means ``m`` (arrays over sites,
    optionally with trailing resample axes)."""
    m2, r1 = np.asarray(m["m2"]), np.asarray(m["r1"])
    V = obs.circular_variance(m["cos"], m["sin"])
    sigma_phi = circular_std(V)
    sigma_r = np.sqrt(np.maximum(m2 - r1 * r1, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):   # a sharp radius: arc ratio inf
        arc = r1 * sigma_phi / sigma_r
    out = {"n": obs.n_photons(m2, classical), "delta_n": obs.delta_n(m2, m["m4"], classical),
           "circular_variance": V, "sigma_phi": sigma_phi, "r_mean": r1, "sigma_r": sigma_r,
           "arc_ratio": arc, "field_abs": np.hypot(m["re"], m["im"]),
           "field_re": np.asarray(m["re"]), "field_im": np.asarray(m["im"]),
           "mean_phase": obs.mean_phase(m["cos"], m["sin"])}
    if centre is not None:
        L = m2.shape[0]
        same = (np.arange(1, L + 1) == centre).reshape((L,) + (1,) * (m2.ndim - 1))
        out["g1"] = obs.g1(m["cre"], m["cim"], m2[centre - 1], m2, same, classical)
    return out


def _run_sums(ds: xr.Dataset, window: str, n_batches: int):
    if window not in ds["window"].values:
        raise ValueError(f"window {window!r} is not in the run (windows: {list(ds['window'].values)})")
    if "moment_sums" in ds:
        if n_batches != ds.sizes["batch"]:
            raise ValueError(f"the run keeps {ds.sizes['batch']} batches of trajectories, not {n_batches}: "
                             "resample it with that many (n_batches) or jointly with runs that keep as many")
        sums = ds["moment_sums"].sel(window=window).transpose("moment", "site", "batch").values
        counts = ds["batch_count"].values
    else:
        x = ds["moments"].sel(window=window).transpose("moment", "site", "traj").values
        sums, counts = stats.batch_sums(x, n_batches)
    names = list(ds["moment"].values)
    return {k: sums[i] for i, k in enumerate(names)}, counts.astype(float)


def jackknife_windows(stat: Callable[[list[dict]], Mapping[str, np.ndarray]],
                      runs: Sequence[tuple[xr.Dataset, str]], *, n_batches: int = N_BATCHES,
                      circular: tuple[str, ...] = ("mean_phase",)) -> tuple[dict, dict]:
    """Value and joint jackknife error of ``stat([observables of run 1, run 2, ...])``.

    ``runs`` are (reduced run, window name) pairs; each is cut into the same number of contiguous
    batches of trajectories, nb = min(``n_batches``, fewest trajectories; for a run of
    :func:`batch_reduce`, its stored batches, which must then equal nb), and resample i leaves
    out batch i of every run at once (module docstring). ``stat`` receives one
    :func:`observables` dict per run (with g1 about the run's ``attrs["centre"]``), vectorised over
    a trailing resample axis, and returns arrays; entries named in ``circular`` are angles.
    """
    if not runs:
        raise ValueError("runs must hold at least one (dataset, window) pair")
    nb = max(1, min([count("n_batches", n_batches)] + [_batches(ds) for ds, _ in runs]))
    sums = [_run_sums(ds, w, nb) for ds, w in runs]
    meta = [(bool(ds.attrs.get("classical", 0)), int(ds.attrs["centre"])) for ds, _ in runs]

    def evaluate(means):
        return {k: np.asarray(v, dtype=float) for k, v in
                stat([observables(m, c, centre) for m, (c, centre) in zip(means, meta)]).items()}

    full = evaluate([{k: v.sum(-1) / c.sum() for k, v in s.items()} for s, c in sums])
    if nb < 2:
        return full, {k: np.full(np.shape(v), np.nan) for k, v in full.items()}
    loo = evaluate([{k: (v.sum(-1, keepdims=True) - v) / (c.sum() - c) for k, v in s.items()}
                    for s, c in sums])
    err = {}
    with np.errstate(invalid="ignore"):                    # NaN where a resample is not finite
        for k, v in loo.items():
            dev = np.angle(np.exp(1j * (v - full[k][..., None]))) if k in circular else v
            dev = dev - dev.mean(-1, keepdims=True)
            err[k] = np.sqrt((nb - 1) / nb * (dev * dev).sum(-1))
    return full, err


def profiles(ds: xr.Dataset, window: str, *, n_batches: int = N_BATCHES) -> xr.Dataset:
    """Every :func:`observables` profile of one window of a reduced run, with jackknife errors
    (``*_err``), over ``site``."""
    value, err = jackknife_windows(lambda o: o[0], [(ds, window)], n_batches=n_batches)
    data = {k: ("site", v) for k, v in value.items()}
    data.update({k + "_err": ("site", e) for k, e in err.items()})
    return xr.Dataset(data, coords={"site": ds["site"].values},
                      attrs={"window": window, "centre": int(ds.attrs["centre"]),
                             "classical": int(bool(ds.attrs.get("classical", 0)))})


def at_site(profile: xr.Dataset, name: str, site: int) -> tuple[float, float]:
    """(value, jackknife error) of the :func:`profiles` variable ``name`` at ``site``."""
    return float(profile[name].sel(site=site)), float(profile[name + "_err"].sel(site=site))


def signatures(o: Mapping[str, np.ndarray], *, sites: Sequence[int], centre: int,
               edges=(5, 5), parts: int = 4) -> dict[str, np.ndarray]:
    """The scalars of Fig. 6 from one :func:`observables` dict ``o`` (with ``g1``; vectorised over
    trailing axes). ``sites`` are the Wigner sites of panels (b–e), first to last.

    ``V_change`` (:func:`change_across` of V_ℓ), ``V_step`` (:func:`smallest_step` of V_ℓ over
    ``parts`` blocks), ``V_max`` (max V_ℓ over the bulk); at the Wigner sites ``delta_n_max``
    (max δn), ``sigma_r_change`` (σ_r at the last over σ_r at the first, − 1),
    ``sigma_phi_growth`` (σ_φ at the last minus σ_φ at the first, rad), ``arc_min`` (min arc
    aspect ratio r̄σ_φ/σ_r); ``g1_xi`` (:func:`g1_decay_length`) and ``g1_drop``
    (:func:`g1_drop`) about ``centre``, the centre of ``o["g1"]``.
    """
    idx = np.asarray([count("sites", s) for s in sites]) - 1
    if idx.size < 2:
        raise ValueError("sites must hold at least two Wigner sites")
    V, g = o["circular_variance"], o["g1"]
    return {"V_change": change_across(V, edges), "V_step": smallest_step(V, edges, parts),
            "V_max": bulk_max(V, edges), "delta_n_max": o["delta_n"][idx].max(0),
            "sigma_r_change": o["sigma_r"][idx[-1]] / o["sigma_r"][idx[0]] - 1.0,
            "sigma_phi_growth": o["sigma_phi"][idx[-1]] - o["sigma_phi"][idx[0]],
            "arc_min": o["arc_ratio"][idx].min(0), "g1_xi": g1_decay_length(g, centre),
            "g1_drop": g1_drop(g, centre)}


def comparison(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], *,
               edges=(5, 5)) -> dict[str, np.ndarray]:
    """SI Fig. 18 scalars of run ``a`` against run ``b`` (:func:`observables` dicts, vectorised):
    ``density`` = :func:`relative_rms` of n_ℓ (a over b, every site), ``phase`` =
    :func:`wrapped_rms` of the mean phases (rad, every site), ``field_change_a``/``_b`` = the
    relative change of |⟨a_ℓ⟩| across the bulk (:func:`change_across`, relative) of each run."""
    return {"density": relative_rms(a["n"], b["n"]), "phase": wrapped_rms(a["mean_phase"], b["mean_phase"]),
            "field_change_a": change_across(a["field_abs"], edges, relative=True),
            "field_change_b": change_across(b["field_abs"], edges, relative=True)}


def angular_identity(o: Mapping[str, np.ndarray], *, edges=(5, 5),
                     frozen_at: int | None = None) -> np.ndarray:
    """max over the bulk of | |⟨a_ℓ⟩| / (⟨|α_ℓ|⟩ (1 − V_ℓ)) − 1 |: how well the mean field is the
    mean radius times the mean resultant length (exact when amplitude and phase are
    independent, e.g. a thin arc). ``frozen_at`` (a site): V_ℓ replaced by its value there, i.e.
    the prediction without the angular spreading along the chain (the control)."""
    V = o["circular_variance"]
    if frozen_at is not None:
        V = np.broadcast_to(V[count("frozen_at", frozen_at) - 1], V.shape)
    return bulk_max(np.abs(o["field_abs"] / (o["r_mean"] * (1.0 - V)) - 1.0), edges)


def classical_comparison(twa: xr.Dataset, classical: xr.Dataset, density_control: xr.Dataset,
                         phase_control: xr.Dataset, *, window: str, frozen_at: int, edges=(5, 5),
                         n_batches: int = N_BATCHES) -> dict[str, tuple[float, float]]:
    """The SI Fig. 18 scalars of a TWA run against the classical ensemble, each with the scalar of
    its control, as (value, error) from one joint jackknife of the four reduced runs over their
    ``window`` (:func:`jackknife_windows`).

    ``density``, ``phase``, ``field_change_a`` (the TWA run) and ``field_change_b`` (the classical
    one) are :func:`comparison` of ``twa`` with ``classical``; ``density_control`` and
    ``phase_control`` the same density and phase statistics of ``twa`` against the control runs
    (a classical run that should not agree); ``identity`` is :func:`angular_identity` of ``twa``
    and ``identity_control`` the same with V_ℓ frozen at the site ``frozen_at``.
    """
    def stat(o):
        q, c, u, d = o
        return {**comparison(q, c, edges=edges),
                "density_control": comparison(q, u, edges=edges)["density"],
                "phase_control": comparison(q, d, edges=edges)["phase"],
                "identity": angular_identity(q, edges=edges),
                "identity_control": angular_identity(q, edges=edges, frozen_at=frozen_at)}

    runs = [(ds, window) for ds in (twa, classical, density_control, phase_control)]
    value, error = jackknife_windows(stat, runs, n_batches=n_batches)
    return {k: (float(value[k]), float(error[k])) for k in value}


@dataclass(frozen=True)
class SignatureTable:
    """The :func:`signatures` of several named (run, window) pairs with their joint jackknife
    errors (:func:`signature_table`). ``table[key, name]`` is (value, error) of the scalar ``key``
    (e.g. ``"V_change"``) in the run ``name``; ``str(table)`` prints one row per scalar."""

    names: tuple
    keys: tuple
    value: dict                      # (key, name) -> float
    error: dict                      # (key, name) -> float

    def __getitem__(self, item) -> tuple[float, float]:
        return self.value[item], self.error[item]

    def __str__(self) -> str:
        return "\n".join(f"{k:17s}" + "  ".join(f"{n} {self.value[k, n]:.4g} ± {self.error[k, n]:.2g}"
                                               for n in self.names) for k in self.keys)


def signature_table(runs: Mapping[str, tuple[xr.Dataset, str]], *, sites: Sequence[int],
                    centre: int, edges=(5, 5), parts: int = 4,
                    n_batches: int = N_BATCHES) -> SignatureTable:
    """:func:`signatures` (``sites``, ``centre``, ``edges``, ``parts``) of every named (reduced
    run, window) pair of ``runs``, jackknifed jointly by :func:`jackknife_windows` (batch i of
    every run left out together), so that differences between runs keep their correlations."""
    if not runs:
        raise ValueError("runs must name at least one (dataset, window) pair")
    names = tuple(runs)

    def stat(o):
        return {(k, n): v for n, x in zip(names, o)
                for k, v in signatures(x, sites=sites, centre=centre, edges=edges, parts=parts).items()}

    value, error = jackknife_windows(stat, [runs[n] for n in names], n_batches=n_batches)
    keys = tuple(dict.fromkeys(k for k, _ in value))
    return SignatureTable(names, keys, {k: float(v) for k, v in value.items()},
                          {k: float(v) for k, v in error.items()})


def bulk_drift(ds: xr.Dataset, first: str, second: str, *, key: str = "circular_variance",
               edges=(5, 5), n_batches: int = N_BATCHES) -> tuple[float, float]:
    """Bulk mean of the :func:`observables` profile ``key`` in window ``second`` minus that in
    window ``first`` of the same run, with its joint jackknife error: zero within errors when the
    state is stationary across the two windows (e.g. the two halves of the RNW window)."""
    value, error = jackknife_windows(
        lambda o: {"d": bulk(o[1][key], edges).mean(0) - bulk(o[0][key], edges).mean(0)},
        [(ds, first), (ds, second)], n_batches=n_batches)
    return float(value["d"]), float(error["d"])


def onsets(ds: xr.Dataset, *, after: float, window: float = ONSET_DEFAULTS["window"],
           smooth: float = ONSET_DEFAULTS["smooth"], tolerance: float = ONSET_DEFAULTS["tolerance"]) -> survival.Onset:
    """Onset times (:func:`survival.onset_times`) of the RNW in every trajectory of a reduced run,
    from n_L(t) (``n_last``): the plateau is the median over trajectories and times t ≥ ``after``
    (a window where the run is in the RNW), ``window``/``smooth``/``tolerance`` the onset criterion.
    A run of :func:`batch_reduce` that kept its onset times returns them, for the same arguments."""
    asked = dict(_onset_settings(dict(after=after, window=window, smooth=smooth, tolerance=tolerance)))
    if "n_last" not in ds:
        kept = {k: ds.attrs.get(f"onset.{k}") for k in ONSET_KEYS}
        if "onset_T" not in ds or kept != asked:
            raise ValueError(f"the run keeps no n_L(t), only the onsets of {kept}; asked for {asked}")
        return survival.Onset(ds["onset_T"].values, float(ds.attrs["onset.censor_time"]),
                              float(ds.attrs["onset.plateau"]), asked["tolerance"], asked["window"])
    times = ds["time"].values
    n = ds["n_last"].values
    plateau = float(np.median(n[times >= after]))
    return survival.onset_times(times, n, plateau=plateau, window=window, smooth=smooth,
                                tolerance=tolerance)
