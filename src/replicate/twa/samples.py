"""Raw per-site NESS samples α_ℓ(t) at a few sites (local Wigner functions, autocorrelations)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ..chain import ChainParams
from ..validate import count, positive
from .engine import DEFAULT_INTEGRATOR, Simulation, n_steps, with_dt_halving


def site_samples(params: ChainParams, sites, *, n_traj: int, t_relax: float, t_avg: float,
                 sample_every: float, dt: float | None = None, seed: int = 0,
                 integrator: str = DEFAULT_INTEGRATOR, dtype=np.complex128, max_halvings: int = 0,
                 progress: bool = False) -> xr.DataArray:
    """Complex NESS samples α_ℓ(t) of Eq. (4) at a few sites, every ``sample_every`` in a window.

    Same trajectories as :func:`replicate.twa.ness` with the same ``params``, ``n_traj``, ``dt``,
    ``seed`` and ``t_relax`` (sampling does not touch the noise streams). Memory is
    n_sites × n_traj × t_avg/sample_every values; ``dtype=np.complex64`` halves it.
    ``max_halvings`` as in :func:`replicate.twa.ness` (the step used is ``attrs["dt"]``).

    Returns
    -------
    xarray.DataArray (site, traj, time) of ``dtype``.
    """
    sites = [count("site", int(s)) for s in np.atleast_1d(sites)]
    if max(sites) > params.L:
        raise ValueError(f"sites must be in 1..{params.L}, got {sites}")

    def run(step: float) -> xr.DataArray:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=False,
                         integrator=integrator)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        every = n_steps("sample_every", positive("sample_every", sample_every), sim.dt)
        n_samp = n_steps("t_avg", positive("t_avg", t_avg), sim.dt) // max(every, 1)
        if every < 1 or n_samp < 1:
            raise ValueError("sample_every must be >= dt and t_avg >= sample_every")
        idx = np.asarray(sites) - 1
        out = np.empty((len(sites), sim.n_traj, n_samp), dtype=dtype)
        sim.run(n_relax, progress=progress, desc="relax")
        for k in tqdm(range(n_samp), desc="samples", disable=not progress, leave=False):
            sim.run(every, close=k == n_samp - 1)  # the window is one run, as in ness
            out[:, :, k] = sim.alpha()[idx]
        attrs = sim.attrs()
        attrs.update(t_relax=t_relax, t_avg=t_avg, sample_every=every * sim.dt)
        times = t_relax + every * sim.dt * np.arange(1, n_samp + 1)
        return xr.DataArray(out, dims=("site", "traj", "time"),
                            coords={"site": sites, "time": times}, attrs=attrs)

    return with_dt_halving(run, dt, max_halvings)
