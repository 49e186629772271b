"""Steady-state autocorrelation of the Wigner field, SI Eq. (46) (our reconstruction, flagged [G]):

    C_ℓ(τ) = ⟨α*_ℓ(t + τ) α_ℓ(t)⟩_t / ⟨|α_ℓ(t)|²⟩_t ,

the time average taken along each trajectory in the NESS and then over trajectories. The paper
evaluates it on one long trajectory (ergodicity); averaging over trajectories gives the same
quantity with error bars (jackknife over trajectory batches). Its decay measures the dephasing
that the static Wigner function cannot show (SI Fig. 16). Memory holds one sample per lag (a ring
buffer), not the trajectory.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from .. import stats
from ..chain import ChainParams
from ..validate import count, positive
from .engine import DEFAULT_INTEGRATOR, Simulation, n_steps, with_dt_halving
from .ness import N_BATCHES, Window


def autocorrelation(params: ChainParams, *, sites: Sequence[int], n_lags: int, n_traj: int,
                    t_relax: float, t_avg: float, sample_every: float | None = None,
                    dt: float | None = None, seed: int = 0, classical: bool = False,
                    integrator: str = DEFAULT_INTEGRATOR, max_halvings: int = 0,
                    progress: bool = False) -> xr.Dataset:
    """C_ℓ(τ) of Eq. (46) at ``sites`` for τ = 0, Δs, …, ``n_lags``·Δs (Δs = ``sample_every``).

    Trajectories start from the vacuum (as :func:`replicate.twa.ness`, same trajectories for the
    same arguments), ``t_relax`` is discarded, then the field is sampled every Δs during
    ``t_avg``; lag k uses the n_samples − k pairs of samples k apart in each trajectory.

    Returns
    -------
    xarray.Dataset over (``site``, ``tau``): ``C_re``, ``C_im``, ``C_abs`` (|C|) with ``*_err``
    (jackknife over 32 trajectory batches); attrs as :func:`replicate.twa.ness`.
    """
    sites = [count("site", s) for s in np.atleast_1d(sites)]
    if max(sites) > params.L:
        raise ValueError(f"sites must be in 1..{params.L}, got {sites}")
    n_lags = count("n_lags", n_lags, minimum=0)

    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                         integrator=integrator)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        win = Window.plan(sim, t_avg, sample_every)
        if win.n_samples <= n_lags:
            raise ValueError(f"n_lags={n_lags} needs more than {n_lags} samples in t_avg "
                             f"(got {win.n_samples})")
        idx = np.asarray(sites) - 1
        K = n_lags + 1
        ring = np.empty((K, len(sites), sim.n_traj), complex)
        prod = np.zeros((K, len(sites), sim.n_traj), complex)
        sim.run(n_relax, progress=progress, desc="relax")
        for i in tqdm(range(win.n_samples), desc="autocorrelation", disable=not progress, leave=False):
            sim.run(win.every, close=i == win.n_samples - 1)  # the window is one run, as in ness
            a = sim.alpha()[idx]
            ring[i % K] = a
            for k in range(min(i, n_lags) + 1):
                prod[k] += np.conj(a) * ring[(i - k) % K]  # α*(t_i) α(t_i − τ_k)
        pairs = (win.n_samples - np.arange(K))[:, None, None]
        per_traj = prod / pairs  # time averages per trajectory: (lag, site, traj)
        re, counts = stats.batch_sums(per_traj.real.transpose(1, 0, 2), N_BATCHES)
        im, _ = stats.batch_sums(per_traj.imag.transpose(1, 0, 2), N_BATCHES)

        def stat(m):
            norm = m["re"][:, :1]  # C(0) = <|α|²>, real
            c_re, c_im = m["re"] / norm, m["im"] / norm
            return {"C_re": c_re, "C_im": c_im, "C_abs": np.hypot(c_re, c_im)}

        value, err = stats.jackknife(stat, {"re": re, "im": im}, counts)
        data = {}
        for k, v in value.items():
            data[k] = (("site", "tau"), v)
            data[k + "_err"] = (("site", "tau"), err[k])
        attrs = sim.attrs()
        attrs.update(t_relax=t_relax, t_avg=win.t_avg, sample_every=win.every * sim.dt,
                     n_samples=win.n_samples, n_batches=int(counts.size),
                     equation="C(τ) = <α*(t+τ) α(t)>_t / <|α|²>_t (SI Eq. 46, reconstructed)")
        return xr.Dataset(data, coords={"site": sites, "tau": np.arange(K) * win.every * sim.dt},
                          attrs=attrs)

    return with_dt_halving(run, dt, max_halvings)
