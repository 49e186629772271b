"""Time-resolved truncated-Wigner observables, e.g. quenches from the vacuum (Figs. 5, 7; SI Fig. 9).

Data flow: at each time of the grid the kernel writes the registry moments of every trajectory
(:func:`replicate.twa.kernels.snapshot`); they are reduced at once to sums over batches of
trajectories, and every :data:`JACKKNIFE_CHUNK`-sized block of times gets its jackknife values
and errors, so memory holds the result plus one chunk, whatever the simulated time.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from .. import stats
from . import observables as obs
from ..chain import ChainParams
from . import kernels
from .engine import DEFAULT_INTEGRATOR, Simulation, with_dt_halving
from ..validate import count, finite
from .kernels import sample
from .ness import N_BATCHES

JACKKNIFE_CHUNK = 2 ** 18  # batch sums (time × site × batch) per jackknife call


def step_grid(times, dt: float) -> np.ndarray:
    """Step indices of a non-decreasing grid of times ≥ 0 that are multiples of dt."""
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be a non-empty 1D array of finite times >= 0")
    steps = np.round(t / dt).astype(np.int64)
    if np.any(np.abs(steps * dt - t) > 1e-9 * np.maximum(1.0, np.abs(t))):
        raise ValueError(f"times must be multiples of dt={dt!r}")
    if np.any(np.diff(steps) < 0):
        raise ValueError("times must be non-decreasing")
    return steps


def evolve(params: ChainParams, *, n_traj: int, times, dt: float | None = None, seed: int = 0,
           classical: bool = False, integrator: str = DEFAULT_INTEGRATOR, alpha0=None,
           initial_noise: bool | None = None, keep_trajectories: int = 0,
           keep_sites: Sequence[int] | None = None, window_means: float | None = None,
           max_halvings: int = 0, progress: bool = False) -> xr.Dataset:
    """Observables of Eq. (4) (or Eq. (35) if ``classical``) on the time grid ``times``.

    Trajectories start from the vacuum Wigner function (+ ``alpha0``). At each time the ensemble
    gives ``n``, ``delta_n`` (Eq. 5), ``circular_variance``, ``mean_phase``, ``field_re``,
    ``field_im`` with jackknife/batch-means errors over batches of trajectories (dims ``time``,
    ``site``). Arguments as in :func:`replicate.twa.ness`, and:

    Parameters
    ----------
    keep_trajectories : int
        > 0: also ``alpha_abs2(time, site, traj)``, the raw |α|² of the first trajectories
        (single-trajectory traces).
    keep_sites : sequence of int, optional
        Also ``alpha(time, kept_site, traj)``: the complex α_ℓ(t) of every trajectory at these
        sites (1..L).
    window_means : float, optional
        t_start: also the per-trajectory time averages over the grid times t ≥ t_start,
        ``window_moments(moment, site, traj)`` of the Wigner moments of
        :data:`replicate.twa.observables.MOMENTS` and ``window_n(site, traj)`` = ⟨|α|²⟩_t − ½
        (classical: ⟨|α|²⟩_t), e.g. for histograms over trajectories of the time-averaged n_L.
    max_halvings : int
        Rerun with half the step on divergence, at most this many times (the step used is
        ``attrs["dt"]``).

    With ``keep_sites`` or ``window_means`` the ``traj`` dimension holds all ``n_traj``
    trajectories, so ``keep_trajectories`` must then be 0 or ≥ ``n_traj``.
    """
    keep = count("keep_trajectories", keep_trajectories, minimum=0)
    sites = _sites(params.L, keep_sites)
    t_start = None if window_means is None else finite("window_means", window_means)
    if (sites or t_start is not None) and 0 < keep < n_traj:
        raise ValueError("keep_trajectories must be 0 or >= n_traj with keep_sites/window_means "
                         "(they share the traj dimension of all trajectories)")

    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                         integrator=integrator, alpha0=alpha0, initial_noise=initial_noise)
        steps = step_grid(times, sim.dt)
        in_window = None if t_start is None else steps * sim.dt >= t_start - 1e-9 * sim.dt
        if in_window is not None and not in_window.any():
            raise ValueError(f"window_means={t_start!r} is after the last time {steps[-1] * sim.dt!r}")
        ds = _record(sim, steps, min(keep, sim.n_traj), sites, in_window, progress)
        ds.attrs.update(alpha0="vacuum" if alpha0 is None else str(list(np.asarray(alpha0, complex))))
        return ds

    return with_dt_halving(run, dt, max_halvings)


def _sites(L: int, keep_sites) -> list[int]:
    if keep_sites is None:
        return []
    sites = [count("keep_sites", s) for s in np.atleast_1d(keep_sites)]
    if not sites or max(sites) > L:
        raise ValueError(f"keep_sites must be sites in 1..{L}, got {keep_sites!r}")
    return sites


def _record(sim: Simulation, steps: np.ndarray, keep: int, sites: list[int],
            in_window: np.ndarray | None, progress: bool) -> xr.Dataset:
    """Walk ``sim`` through the step grid, recording the Dataset of :func:`evolve`."""
    L, n = sim.params.L, sim.n_traj
    rows = sample.rows(obs.MOMENTS)
    m2, re, im = sample.rows(("m2", "re", "im"))
    idx = np.asarray(sites, dtype=np.int64) - 1
    buf = np.empty((sample.NQ, L, sim.lanes))
    nb = max(1, min(N_BATCHES, n))
    chunk = max(1, JACKKNIFE_CHUNK // (L * nb))
    sums = np.empty((min(chunk, steps.size), len(rows), L, nb))
    jack = _ChunkedJackknife(steps.size, lambda m: obs.standard(m, sim.classical))
    traces = np.empty((steps.size, L, keep))
    alpha = np.empty((steps.size, len(sites), n), complex) if sites else None
    window = np.zeros((len(rows), L, n)) if in_window is not None else None
    for i in sim.walk(steps, progress=progress, desc="evolve"):
        kernels.snapshot(sim.xr, sim.xi, 1, buf)
        moments = buf[rows, :, :n]
        sums[i % chunk], counts = stats.batch_sums(moments, nb)
        if i % chunk == chunk - 1 or i == steps.size - 1:
            jack.add(i - i % chunk, sums[:i % chunk + 1], counts)
        traces[i] = buf[m2, :, :keep]
        if alpha is not None:
            alpha[i] = buf[re][idx, :n] + 1j * buf[im][idx, :n]
        if window is not None and in_window[i]:
            window += moments
    data = {}
    for k in jack.value:
        data[k] = (("time", "site"), jack.value[k])
        data[k + "_err"] = (("time", "site"), jack.err[k])
    coords = {"time": steps * sim.dt, "site": np.arange(1, L + 1)}
    if keep:
        data["alpha_abs2"] = (("time", "site", "traj"), traces)
    if alpha is not None:
        data["alpha"] = (("time", "kept_site", "traj"), alpha)
        coords["kept_site"] = sites
    attrs = sim.attrs()
    attrs.update(n_batches=int(nb))
    if window is not None:
        window /= in_window.sum()
        data["window_moments"] = (("moment", "site", "traj"), window)
        data["window_n"] = (("site", "traj"),
                            obs.n_photons(window[obs.MOMENTS.index("m2")], sim.classical))
        coords["moment"] = list(obs.MOMENTS)
        attrs.update(window_start=float(steps[in_window][0] * sim.dt),
                     window_samples=int(in_window.sum()))
    n_kept = n if (alpha is not None or window is not None) else keep
    if n_kept:
        coords["traj"] = np.arange(n_kept)
    return xr.Dataset(data, coords=coords, attrs=attrs)


class _ChunkedJackknife:
    """Jackknife values and errors of ``stat`` over the time grid, filled a block of times at a
    time (``value[k]``, ``err[k]``: (time, site))."""

    def __init__(self, n_times: int, stat) -> None:
        self.n_times, self.stat = n_times, stat
        self.value: dict[str, np.ndarray] = {}
        self.err: dict[str, np.ndarray] = {}

    def add(self, start: int, sums: np.ndarray, counts: np.ndarray) -> None:
        """Times start.. of batch sums ``sums`` (time, moment, site, batch), moments in
        :data:`replicate.twa.observables.MOMENTS` order."""
        batch = {k: sums[:, q] for q, k in enumerate(obs.MOMENTS)}
        value, err = stats.jackknife(self.stat, batch, counts)
        for k in value:
            if k not in self.value:
                self.value[k] = np.empty((self.n_times,) + value[k].shape[1:])
                self.err[k] = np.empty((self.n_times,) + value[k].shape[1:])
            self.value[k][start:start + sums.shape[0]] = value[k]
            self.err[k][start:start + sums.shape[0]] = err[k]
