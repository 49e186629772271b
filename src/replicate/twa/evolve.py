"""Time-resolved truncated-Wigner observables, e.g. quenches from the vacuum (Figs. 5, 7; SI Fig. 9)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .. import stats
from . import observables as obs
from ..chain import ChainParams
from . import kernels
from .engine import Simulation
from ..validate import count
from .ness import N_BATCHES


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
           classical: bool = False, integrator: str = "heun", alpha0=None,
           initial_noise: bool | None = None, keep_trajectories: int = 0,
           progress: bool = False) -> xr.Dataset:
    """Observables of Eq. (4) (or Eq. (35) if ``classical``) on the time grid ``times``.

    Trajectories start from the vacuum Wigner function (+ ``alpha0``). At each time the ensemble
    gives ``n``, ``delta_n`` (Eq. 5), ``circular_variance``, ``mean_phase``, ``field_re``,
    ``field_im`` with jackknife/batch-means errors over batches of trajectories (dims ``time``,
    ``site``). ``keep_trajectories`` > 0 also returns ``alpha_abs2(time, site, traj)``, the raw |α|²
    of the first trajectories (single-trajectory traces). Arguments as in
    :func:`replicate.twa.ness`.
    """
    sim = Simulation(params, n_traj=n_traj, dt=dt, seed=seed, classical=classical,
                     integrator=integrator, alpha0=alpha0, initial_noise=initial_noise)
    steps = step_grid(times, sim.dt)
    keep = count("keep_trajectories", keep_trajectories, minimum=0)
    keep = min(keep, sim.n_traj)
    L = params.L
    buf = np.empty((6, L, sim.lanes))
    nb = max(1, min(N_BATCHES, sim.n_traj))
    sums = np.empty((steps.size, 6, L, nb))
    traces = np.empty((steps.size, L, keep))
    for i in sim.walk(steps, progress=progress, desc="evolve"):
        kernels.snapshot(sim.xr, sim.xi, buf)
        sums[i], counts = stats.batch_sums(buf[..., :sim.n_traj], nb)
        traces[i] = buf[0, :, :keep]
    batch = {k: sums[:, q] for q, k in enumerate(obs.MOMENTS)}
    value, err = stats.jackknife(lambda m: obs.standard(m, sim.classical), batch, counts)
    data = {}
    for k, v in value.items():
        data[k] = (("time", "site"), v)
        data[k + "_err"] = (("time", "site"), err[k])
    coords = {"time": steps * sim.dt, "site": np.arange(1, L + 1)}
    if keep:
        data["alpha_abs2"] = (("time", "site", "traj"), traces)
        coords["traj"] = np.arange(keep)
    attrs = sim.attrs()
    attrs.update(n_batches=int(counts.size),
                 alpha0="vacuum" if alpha0 is None else str(list(np.asarray(alpha0, complex))))
    return xr.Dataset(data, coords=coords, attrs=attrs)
