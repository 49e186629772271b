"""Drivers that keep per-site NESS samples: raw Wigner samples at a few sites, and momentum
histograms with higher moments (SI Figs. 13-14)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from .. import stats
from ..chain import ChainParams
from ..validate import count, grid_edges, positive
from . import observables as obs
from .engine import Simulation, n_steps
from .ness import N_BATCHES, Window

MOMENTS = obs.LOCAL_MOMENTS


def site_samples(params: ChainParams, sites, *, n_traj: int, t_relax: float, t_avg: float,
                 sample_every: float, dt: float | None = None, seed: int = 0,
                 dtype=np.complex128, progress: bool = False) -> xr.DataArray:
    """Complex NESS samples α_ℓ(t) of Eq. (4) at a few sites, every ``sample_every`` in a window.

    Same trajectories as :func:`replicate.twa.ness` with the same ``params``, ``n_traj``, ``dt``,
    ``seed`` and ``t_relax`` (sampling does not touch the noise streams). Memory is
    n_sites × n_traj × t_avg/sample_every values; ``dtype=np.complex64`` halves it.

    Returns
    -------
    xarray.DataArray (site, traj, time) of ``dtype``.
    """
    sim = Simulation(params, n_traj=n_traj, dt=dt, seed=seed, classical=False,
                     integrator="heun")
    sites = [count("site", int(s)) for s in np.atleast_1d(sites)]
    if max(sites) > params.L:
        raise ValueError(f"sites must be in 1..{params.L}, got {sites}")
    n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
    every = n_steps("sample_every", positive("sample_every", sample_every), sim.dt)
    n_samp = n_steps("t_avg", positive("t_avg", t_avg), sim.dt) // max(every, 1)
    if every < 1 or n_samp < 1:
        raise ValueError("sample_every must be >= dt and t_avg >= sample_every")
    idx = np.asarray(sites) - 1
    out = np.empty((len(sites), sim.n_traj, n_samp), dtype=dtype)
    sim.run(n_relax, progress=progress, desc="relax")
    for k in tqdm(range(n_samp), desc="samples", disable=not progress, leave=False):
        sim.run(every)
        out[:, :, k] = sim.alpha()[idx]
    attrs = sim.attrs()
    attrs.update(t_relax=t_relax, t_avg=t_avg, sample_every=every * sim.dt)
    times = t_relax + every * sim.dt * np.arange(1, n_samp + 1)
    return xr.DataArray(out, dims=("site", "traj", "time"), coords={"site": sites, "time": times},
                        attrs=attrs)


def local_ness(params: ChainParams, *, n_traj: int, t_relax: float, t_avg: float,
               p_grid: tuple[float, int], dt: float | None = None, seed: int = 0,
               classical: bool = False, initial_noise: bool | None = None,
               sample_every: float | None = None, progress: bool = False) -> xr.Dataset:
    """Steady-state site observables with momentum histograms and moments, errors by jackknife.

    The trajectories are those of :func:`replicate.twa.ness` with the same arguments (vacuum start,
    ``t_relax`` discarded, then a sample every ``sample_every`` during ``t_avg``); the time samples
    of each trajectory are averaged first, and errors are jackknife errors over
    ``min(32, n_traj)`` batches of whole trajectories. Sampling runs in Python between kernel
    calls (a kernel launch and a copy of the amplitudes per sample), so short ``sample_every``
    is slower than in ``ness``; samples every ~0.5/γ keep the overhead to tens of per cent.

    Parameters
    ----------
    params, n_traj, t_relax, t_avg, dt, seed, classical, initial_noise, sample_every
        As in :func:`replicate.twa.ness` (Gross-Pitaevskii limit, SI Eq. 35, if ``classical``).
    p_grid : (extent, bins)
        Histogram of p = √2 Im α on [−extent, extent] with ``bins`` equal bins: the p-marginal of
        the local Wigner histogram (SI Eq. 33). ``p_outside`` is the weight outside the grid.
    progress : bool
        Show a tqdm progress bar over the samples.

    Returns
    -------
    xarray.Dataset
        Over ``site``: the variables of :func:`replicate.twa.observables.local_observables` and their ``*_err``;
        ``p_density(site, p)`` (normalised to the fraction inside the grid) with ``p_density_err``;
        ``p_outside``; and ``batch_means(moment, site, batch)`` with coordinate ``batch_count``
        (trajectories per batch), for jackknife errors of derived quantities
        (:func:`replicate.twa.observables.jackknife_dataset`).
    """
    sim = Simulation(params, n_traj=n_traj, dt=dt, seed=seed, classical=classical,
                     integrator="heun", initial_noise=initial_noise)
    t_relax = positive("t_relax", t_relax, allow_zero=True)
    n_relax = n_steps("t_relax", t_relax, sim.dt)
    window = Window.plan(sim, t_avg, sample_every)  # the checks and sampling grid of ness
    every, n_samples = window.every, window.n_samples
    edges = grid_edges("p_grid", p_grid)
    extent, bins, width = edges[-1], edges.size - 1, edges[1] - edges[0]

    L, n = params.L, sim.n_traj
    nb = max(1, min(N_BATCHES, n))
    starts = (np.arange(nb) * n) // nb
    counts = np.diff(np.append(starts, n))
    batch_of = np.repeat(np.arange(nb), counts)
    base = (batch_of[None, :] * L + np.arange(L)[:, None]) * bins  # flat (batch, site, bin) offset
    hist = np.zeros(nb * L * bins, dtype=np.int64)
    sums = np.zeros((len(MOMENTS), L, n))
    sq2 = np.sqrt(2.0)

    sim.run(n_relax, progress=progress, desc="relax")
    for _ in tqdm(range(n_samples), desc="average", disable=not progress, leave=False):
        sim.run(every)
        a = sim.alpha()
        re, im = a.real, a.imag
        q = re * re + im * im
        r = np.sqrt(q)
        safe = np.where(r > 0, r, 1.0)
        p = sq2 * im
        pp = p * p
        for k, v in enumerate((q, q * q, re, im, np.where(r > 0, re / safe, 0.0),
                               np.where(r > 0, im / safe, 0.0), re * re, im * im, pp * p, pp * pp)):
            sums[k] += v
        idx = np.floor((p - edges[0]) / width).astype(np.int64)
        ok = (idx >= 0) & (idx < bins)
        hist += np.bincount((base + idx)[ok], minlength=hist.size)

    per_traj = sums / n_samples
    bsums, counts = stats.batch_sums(per_traj, nb)
    batch = dict(zip(MOMENTS, bsums))
    value, err = stats.jackknife(lambda m: obs.local_observables(m, sim.classical), batch, counts)
    dens_sums = hist.reshape(nb, L, bins).transpose(1, 2, 0) / (n_samples * width)
    dval, derr = stats.jackknife(lambda m: {"d": m["d"]}, {"d": dens_sums}, counts)

    data = {}
    for k, v in value.items():
        data[k] = ("site", v)
        data[k + "_err"] = ("site", err[k])
    data["p_density"] = (("site", "p"), dval["d"])
    data["p_density_err"] = (("site", "p"), derr["d"])
    data["p_outside"] = ("site", 1.0 - dval["d"].sum(-1) * width)
    data["batch_means"] = (("moment", "site", "batch"), bsums / counts)
    coords = {"site": np.arange(1, L + 1), "p": 0.5 * (edges[1:] + edges[:-1]),
              "moment": list(MOMENTS), "batch_count": ("batch", counts)}
    attrs = sim.attrs()
    attrs.update(t_relax=t_relax, t_avg=window.t_avg, sample_every=every * sim.dt, n_samples=n_samples,
                 n_batches=nb, p_extent=extent, p_bins=bins)
    return xr.Dataset(data, coords=coords, attrs=attrs)
