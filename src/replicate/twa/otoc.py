"""Semiclassical phase OTOC, Eqs. (6)/(15): D_{ℓ,m}(τ) = 1 − ⟨cos(φ_m^a(t+τ) − φ_m^b(t+τ))⟩.

Protocol (§2.5): evolve Wigner trajectories to t = ``t_relax`` (the NESS), copy each one into a
replica pair (a, b), kick the phase of replica b at ``site``, α_ℓ → α_ℓ e^{iε}, and evolve both with
the same noise. The two replicas of a pair share a block (lanes j and j + BLOCK/2) and a copy of
the same xoshiro state, so they draw identical noise.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import xarray as xr

from .. import stats
from . import observables as obs
from ..chain import ChainParams
from . import kernels
from .engine import DEFAULT_INTEGRATOR, Simulation, n_steps, with_dt_halving
from ..validate import count, finite, positive
from .evolve import step_grid
from .kernels import BLOCK
from .ness import N_BATCHES

DEFAULT_WINDOW = 25.0  # τ window of the saturation value (Fig. 2(c), units of 1/γ)


def _pairs(sim: Simulation, site: int, eps: float) -> Simulation:
    """A Simulation holding replica pairs (a, b) of ``sim``'s trajectories, b kicked at ``site``."""
    half = BLOCK // 2
    n = sim.n_traj
    nblocks = -(-n // half)
    src = np.arange(nblocks * half) % n  # padding pairs repeat real trajectories
    flat = lambda a: a.transpose(1, 0, 2).reshape(a.shape[1], -1)[:, src]  # noqa: E731
    xr_, xi_, rng = flat(sim.xr), flat(sim.xi), flat(sim.rng)

    def layout(a):
        a = a.reshape(a.shape[0], nblocks, half).transpose(1, 0, 2)
        return np.ascontiguousarray(np.concatenate([a, a], axis=2))

    new = copy.copy(sim)
    new.xr, new.xi, new.rng = layout(xr_), layout(xi_), layout(rng)
    new.nblocks = nblocks
    new.ok = np.ones(nblocks, dtype=np.bool_)
    c, s = math.cos(eps), math.sin(eps)
    br = new.xr[:, site, half:].copy()
    bi = new.xi[:, site, half:].copy()
    new.xr[:, site, half:] = br * c - bi * s
    new.xi[:, site, half:] = br * s + bi * c
    return new


def otoc(params: ChainParams, *, site: int = 1, eps: float = 1e-4, n_traj: int, t_relax: float,
         times, dt: float | None = None, seed: int = 0, classical: bool = False,
         integrator: str = DEFAULT_INTEGRATOR, alpha0=None, initial_noise: bool | None = None,
         max_halvings: int = 0, progress: bool = False) -> xr.Dataset:
    """Phase OTOC D_{site,m}(τ), Eq. (6)/(15), for every site m on the τ grid ``times``.

    Parameters
    ----------
    site : int
        Kicked site ℓ (1..L); the paper uses ℓ = 1.
    eps : float
        Phase kick ε (not recovered from the paper; default 1e-4, §2.5).
    n_traj : int
        Number of replica pairs (independent NESS trajectories).
    t_relax : float
        Time t at which the kick is applied (multiple of dt).
    times : array of float
        τ grid after the kick (multiples of dt, non-decreasing, ≥ 0).
    max_halvings : int
        Rerun with half the step on divergence, at most this many times (the step used is
        ``attrs["dt"]``).
    Other arguments as in :func:`replicate.twa.ness`.

    Returns
    -------
    xarray.Dataset
        ``D(tau, site)`` and ``D_err`` (batch means over pairs), and ``D_batch(tau, site, batch)``
        with ``batch_count(batch)`` for :func:`otoc_saturation`.
    """
    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                         integrator=integrator, alpha0=alpha0, initial_noise=initial_noise)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        kick = _check_kick(sim, site, eps, times)  # checks before running
        sim.run(n_relax, progress=progress, desc="relax")
        ds = otoc_from(sim, *kick, progress=progress)
        ds.attrs["t_relax"] = float(t_relax)
        return ds

    return with_dt_halving(run, dt, max_halvings)


def _check_kick(sim: Simulation, site: int, eps: float, times) -> tuple[int, float, np.ndarray]:
    site = count("site", site)
    if site > sim.params.L:
        raise ValueError(f"site must be in 1..{sim.params.L}, got {site}")
    eps = finite("eps", eps)
    step_grid(times, sim.dt)
    return site, eps, np.asarray(times, dtype=float)


def otoc_from(sim: Simulation, site: int = 1, eps: float = 1e-4, times=(0.0,), *,
              progress: bool = False) -> xr.Dataset:
    """Phase OTOC of replica pairs forked from the current state of ``sim`` (left untouched).

    Every trajectory of ``sim`` becomes a pair (a, b), b kicked at ``site`` by ε; both evolve with
    the same noise for the τ grid ``times``. Returns what :func:`otoc` returns.
    """
    site, eps, times = _check_kick(sim, site, eps, times)
    steps = step_grid(times, sim.dt)
    pairs = _pairs(sim, site, eps)
    L = sim.params.L
    dec = np.empty((L, pairs.nblocks * (BLOCK // 2)))
    nb = max(1, min(N_BATCHES, sim.n_traj))
    sums = np.empty((steps.size, L, nb))
    for i in pairs.walk(steps, progress=progress, desc="otoc"):
        kernels.pair_decorrelation(pairs.xr, pairs.xi, dec)
        sums[i], counts = stats.batch_sums(dec[:, :sim.n_traj], nb)
    value, err = stats.jackknife(lambda m: {"D": m["D"]}, {"D": sums}, counts)
    attrs = sim.attrs()
    attrs.update(kick_site=site, eps=eps, t_kick=sim.t, n_batches=int(counts.size))
    return xr.Dataset(
        {"D": (("tau", "site"), value["D"]), "D_err": (("tau", "site"), err["D"]),
         "D_batch": (("tau", "site", "batch"), sums / counts),
         "batch_count": ("batch", counts)},
        coords={"tau": steps * sim.dt, "site": np.arange(1, L + 1)}, attrs=attrs)


def otoc_saturation(ds: xr.Dataset, window: float = DEFAULT_WINDOW) -> xr.Dataset:
    """Saturation value of D: the mean over the last ``window`` of τ (paper: Δτ = 25).

    Returns ``D_sat(site)`` and ``D_sat_err`` (batch means over replica pairs).
    """
    window = positive("window", window)
    tau = ds["tau"].values
    sel = ds["D_batch"].values[tau >= tau[-1] - window]  # (tau, site, batch)
    per_batch = sel.mean(0) * ds["batch_count"].values  # batch sums of window means
    value, err = stats.jackknife(lambda m: {"D": m["D"]}, {"D": per_batch},
                               ds["batch_count"].values)
    return xr.Dataset({"D_sat": ("site", value["D"]), "D_sat_err": ("site", err["D"])},
                      coords={"site": ds["site"].values}, attrs={**ds.attrs, "window": window})


def otoc_eps_scan(params, eps_values, *, n_traj: int, t_relax: float, times, seed: int = 0,
                  dt: float | None = None, integrator: str = DEFAULT_INTEGRATOR,
                  max_halvings: int = 0) -> xr.Dataset:
    """Phase OTOC (Eq. 6) for several kicks ε, all forked from the same NESS trajectories.

    One :class:`replicate.twa.engine.Simulation` is relaxed for ``t_relax`` from the vacuum; for
    each ε, :func:`replicate.twa.otoc.otoc_from` forks replica pairs from that same state (the
    simulation itself is left untouched), so the curves differ only by the kick and share their
    trajectory batches (the jackknife of a quantity combining several ε is then consistent).
    On divergence the whole scan is rerun with half the step, at most ``max_halvings`` times.

    Returns
    -------
    xarray.Dataset with ``D(eps, tau, site)``, ``D_err``, ``D_batch(eps, tau, site, batch)``,
    ``batch_count(batch)``, and ``n_kick(site)``, ``delta_n_kick(site)`` (photon number and Mandel
    Q, Eq. 5, over the trajectories at the kick: which regime was kicked); ``scan.sel(eps=e)`` is a
    Dataset like :func:`replicate.twa.otoc`'s.
    """
    eps_values = [float(e) for e in np.atleast_1d(eps_values)]
    if not eps_values:
        raise ValueError("eps_values must hold at least one kick")

    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=False,
                         integrator=integrator)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        _check_kick(sim, 1, eps_values[0], times)  # checks before running
        sim.run(n_relax)
        return _scan(sim, eps_values, times, t_relax)

    return with_dt_halving(run, dt, max_halvings)


def _scan(sim: Simulation, eps_values: list[float], times, t_relax: float) -> xr.Dataset:
    """The ε scan of :func:`otoc_eps_scan` forked from the relaxed ``sim``."""
    snap = obs.standard(obs.sample_means(sim.alpha(), axis=-1))  # the NESS state that is kicked
    runs = [otoc_from(sim, 1, e, times) for e in eps_values]
    eps_dim = xr.DataArray(eps_values, dims="eps", name="eps")
    scan = xr.concat([r.drop_vars("batch_count") for r in runs], dim=eps_dim,
                     combine_attrs="drop_conflicts")
    scan["batch_count"] = runs[0]["batch_count"]
    scan["n_kick"] = ("site", snap["n"])
    scan["delta_n_kick"] = ("site", snap["delta_n"])
    scan.attrs.update(t_relax=float(t_relax))
    return scan
