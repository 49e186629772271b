"""NESS phase diagram over (L, F): photon number, δn and OTOC saturation (Fig. 2, SI Figs. 11-12).

One point relaxes a set of Wigner trajectories from the vacuum once, forks OTOC replica pairs
from that NESS state (Eq. 6, kick ε at site 1), then continues the original trajectories through
the averaging window for n and δn (Eq. 5). A point whose trajectories diverge is rerun with half
the time step (at most ``max_halvings`` times); the step used is recorded.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..chain import ChainParams
from ..sweep import grid
from .engine import DEFAULT_INTEGRATOR, Simulation, n_steps, with_dt_halving
from ..validate import positive
from .ness import Window
from .otoc import DEFAULT_WINDOW, otoc_from, otoc_saturation

NESS_VARS = ("n", "delta_n", "circular_variance")


def steady_point(params: ChainParams, *, n_traj: int, t_relax: float, t_avg: float,
                 tau_max: float, tau_step: float = 0.5, window: float = DEFAULT_WINDOW,
                 eps: float = 1e-4, seed: int = 0, dt: float | None = None,
                 integrator: str = DEFAULT_INTEGRATOR, max_halvings: int = 2) -> xr.Dataset:
    """NESS observables and OTOC saturation of one chain, over ``site``.

    Parameters
    ----------
    n_traj : Wigner trajectories (and OTOC replica pairs).
    t_relax : transient discarded before the kick and the window (units of 1/γ).
    t_avg : averaging window of n, δn (the paper: 2·10³).
    tau_max, tau_step : τ grid of the OTOC after the kick; the saturation value is the mean of
        D over the last ``window`` of it (the paper: 25).
    eps : phase kick (not recovered; 1e-4).

    Returns
    -------
    xarray.Dataset over ``site``: ``n``, ``delta_n``, ``circular_variance``, ``D_sat`` (D_{1,m}
    saturation) with ``*_err``; attrs as :func:`replicate.twa.ness` plus ``dt`` actually used.
    """
    positive("tau_max", tau_max)
    positive("tau_step", tau_step)
    if tau_max < window:
        raise ValueError(f"tau_max={tau_max!r} must cover the saturation window {window!r}")
    return with_dt_halving(
        lambda step: _point(params, n_traj, t_relax, t_avg, tau_max, tau_step, window, eps, seed, step,
                             integrator),
        dt, max_halvings)


def _point(params, n_traj, t_relax, t_avg, tau_max, tau_step, window, eps, seed, dt,
           integrator) -> xr.Dataset:
    sim = Simulation(params, n_traj=n_traj, dt=dt, seed=seed, classical=False, integrator=integrator)
    n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
    win = Window.plan(sim, t_avg)
    taus = np.round(np.arange(0.0, tau_max + 0.5 * tau_step, tau_step) / sim.dt) * sim.dt
    sim.run(n_relax)
    sat = otoc_saturation(otoc_from(sim, 1, eps, taus), window)
    ds = win.average(sim)
    out = ds[[v for name in NESS_VARS for v in (name, name + "_err")]]
    out["D_sat"] = sat["D_sat"]
    out["D_sat_err"] = sat["D_sat_err"]
    out.attrs.update(t_relax=t_relax, eps=eps, tau_max=tau_max, otoc_window=window)
    return out


def phase_diagram(base: ChainParams, L_values: Sequence[int], F_values: Sequence[float], *,
                  progress: bool = True, workers: int | None = None, **point) -> xr.Dataset:
    """:func:`steady_point` over the (L, F) plane, reduced to the paper's sites.

    ``base`` supplies Δ, J, U, γ, γ_int and the drive geometry; ``point`` is passed on to
    :func:`steady_point`. Every point uses the same seed (common random numbers), so the result
    does not depend on how the grid is split or on ``workers`` (see :func:`replicate.sweep.grid`).

    Returns
    -------
    xarray.Dataset over (``L``, ``F``): ``n_L``, ``delta_n_L``, ``V_L`` (last site), ``D_first``,
    ``D_middle`` (site L//2), ``D_last`` (OTOC saturation D_{1,m}, SI Fig. 11), each with
    ``*_err``, and ``dt`` (the step used at each point).
    """
    if not isinstance(base, ChainParams):
        raise ValueError(f"base must be a ChainParams, got {type(base).__name__}")

    def one(L: int, F: float) -> xr.Dataset:
        ds = steady_point(base.with_(L=int(L), F=float(F)), **point)
        last, middle = ds.sel(site=int(L)), ds.sel(site=max(1, int(L) // 2))
        pick = {"n_L": last["n"], "delta_n_L": last["delta_n"], "V_L": last["circular_variance"],
                "D_first": ds["D_sat"].sel(site=1), "D_middle": middle["D_sat"], "D_last": last["D_sat"]}
        errs = {"n_L": last["n_err"], "delta_n_L": last["delta_n_err"],
                "V_L": last["circular_variance_err"], "D_first": ds["D_sat_err"].sel(site=1),
                "D_middle": middle["D_sat_err"], "D_last": last["D_sat_err"]}
        data = {k: ((), float(v)) for k, v in pick.items()}
        data.update({k + "_err": ((), float(v)) for k, v in errs.items()})
        data["dt"] = ((), ds.attrs["dt"])
        attrs = {k: v for k, v in ds.attrs.items() if k not in ("L", "F", "dt")}
        return xr.Dataset(data, attrs=attrs)

    return grid(one, {"L": list(L_values), "F": list(F_values)}, progress=progress,
                desc="(L, F) phase diagram", workers=workers)
