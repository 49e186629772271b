"""Non-equilibrium steady state by truncated Wigner: trajectory and time-window averages (§2, §5)."""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr

from .. import stats
from . import observables as obs
from ..chain import ChainParams
from .engine import Simulation, n_steps, with_dt_halving
from ..validate import count, grid_edges, positive
from .kernels import BLOCK, NQ

DEFAULT_SAMPLE_EVERY = 0.1  # time between samples inside the window (units of 1/γ)
N_BATCHES = 32  # batches of trajectories for the errors


def ness(params: ChainParams, *, n_traj: int, t_relax: float, t_avg: float, dt: float | None = None,
         seed: int = 0, classical: bool = False, integrator: str = "heun",
         sample_every: float | None = None, alpha0=None, initial_noise: bool | None = None,
         g1_centre: int | None = None, wigner_grid: tuple[float, int] | None = None,
         max_halvings: int = 0, keep_batches: bool = False, progress: bool = False) -> xr.Dataset:
    """Steady-state observables of Eq. (4) averaged over trajectories and a time window.

    Each trajectory starts from the vacuum Wigner function (plus ``alpha0`` if given), is evolved
    for ``t_relax`` and then sampled every ``sample_every`` (default 0.1, rounded to whole steps)
    during ``t_avg``. Time samples are averaged within each trajectory first; errors (``*_err``)
    are jackknife/batch-means errors over ``min(32, n_traj)`` batches of whole trajectories.
    Accumulation happens inside the kernel: memory does not grow with time.

    Parameters
    ----------
    params : ChainParams
    n_traj : int
        Number of Wigner trajectories.
    t_relax, t_avg : float
        Discarded transient and averaging window (multiples of ``dt``).
    dt : float, optional
        Time step (default :data:`replicate.twa.engine.DEFAULT_DT`).
    seed : int
        Trajectory k uses the noise stream (seed, k) only.
    classical : bool
        Gross-Pitaevskii limit, SI Eq. (35): no −1 in U(|α|²−1), no noise, α(0) = alpha0 or 0.
        The observables then read α as a classical field (n = ⟨|α|²⟩, δn = Var|α|²/⟨|α|²⟩,
        see :mod:`replicate.twa.observables`).
    initial_noise : bool, optional
        Add vacuum Wigner samples to α(0) (default: True for the TWA, False if ``classical``).
        ``classical=True, initial_noise=True`` is a classical ensemble started from the vacuum
        distribution ("initial conditions in the complex plane", SI): its trajectories differ,
        so its error bars are honest.
    integrator : {"heun", "euler"}
    alpha0 : array of complex, length L, optional
        Coherent start α(0) = alpha0 + vacuum noise (SI Fig. 9(b)).
    g1_centre : int, optional
        Site c (1..L) for g1_{c,m}, Eq. (7).
    wigner_grid : (extent, bins), optional
        Per-site Wigner histogram (SI Eq. 33) on the square [−extent, extent]² with bins × bins
        equal bins, normalised so that it integrates to the fraction of samples inside the square.
    keep_batches : bool
        Also return ``batch_means(moment, site, batch)`` and ``batch_count(batch)``: the batch
        means of the Wigner moments, for jackknife errors of any derived quantity
        (:func:`replicate.twa.observables.jackknife_dataset`).
    max_halvings : int
        If a trajectory diverges, rerun with half the time step, at most this many times
        (:func:`replicate.twa.engine.with_dt_halving`); 0 raises :class:`TWADivergenceError`.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    xarray.Dataset
        Over ``site`` = 1..L: ``n`` (⟨|α|²⟩ − ½), ``delta_n`` (Eq. 5), ``circular_variance``,
        ``mean_phase``, ``field_re``, ``field_im``, the quadrature moments ``x2`` = ⟨x̂²⟩ and
        ``p2`` = ⟨p̂²⟩ (vacuum ½) and their ``*_err``; ``g1``/``g1_err`` if
        ``g1_centre``; ``wigner(site, re, im)`` if ``wigner_grid``.
    """
    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                         integrator=integrator, alpha0=alpha0, initial_noise=initial_noise)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        plan = Window.plan(sim, t_avg, sample_every, g1_centre, wigner_grid)  # checks before running
        sim.run(n_relax, progress=progress, desc="relax")
        ds = plan.average(sim, keep_batches=keep_batches, progress=progress)
        ds.attrs.update(t_relax=t_relax,
                        alpha0="vacuum" if alpha0 is None else str(list(np.asarray(alpha0, complex))))
        return ds

    return with_dt_halving(run, dt, max_halvings)


@dataclass(frozen=True)
class Window:
    """A validated NESS averaging window: ``n_samples`` samples every ``every`` steps."""

    t_avg: float
    every: int
    n_samples: int
    g1_centre: int | None
    edges: np.ndarray | None

    @classmethod
    def plan(cls, sim: Simulation, t_avg: float, sample_every: float | None = None,
             g1_centre: int | None = None, wigner_grid: tuple[float, int] | None = None) -> "Window":
        """Check the window arguments of :func:`ness` against ``sim`` (its dt and L)."""
        L = sim.params.L
        t_avg = positive("t_avg", t_avg)
        if sample_every is None:
            every = max(1, round(DEFAULT_SAMPLE_EVERY / sim.dt))
        else:
            every = n_steps("sample_every", positive("sample_every", sample_every), sim.dt)
            if every < 1:
                raise ValueError(f"sample_every must be >= dt, got {sample_every!r}")
        n_samples = n_steps("t_avg", t_avg, sim.dt) // every
        if n_samples < 1:
            raise ValueError(f"t_avg={t_avg!r} is shorter than sample_every={every * sim.dt!r}")
        if g1_centre is not None:
            g1_centre = count("g1_centre", g1_centre)
            if g1_centre > L:
                raise ValueError(f"g1_centre must be a site in 1..{L}, got {g1_centre}")
        edges = None if wigner_grid is None else grid_edges("wigner_grid", wigner_grid)
        return cls(t_avg, every, n_samples, g1_centre, edges)

    def average(self, sim: Simulation, keep_batches: bool = False, progress: bool = False) -> xr.Dataset:
        """Advance ``sim`` through the window, accumulating in the kernel; the NESS Dataset
        (with the batch means of the moments if ``keep_batches``, see :func:`ness`)."""
        L = sim.params.L
        g1_centre, every, n_samples, edges = self.g1_centre, self.every, self.n_samples, self.edges
        hist, lo, inv = None, 0.0, 0.0
        if edges is not None:
            bins = edges.size - 1
            lo, inv = edges[0], bins / (edges[-1] - edges[0])
            hist = np.zeros((min(sim.nblocks, numba.get_num_threads()), L, bins, bins), dtype=np.int64)
        acc = np.zeros((sim.nblocks, NQ, L, BLOCK))
        sim.run(n_samples * every, sample_every=every, acc=acc, centre=g1_centre or 1, hist=hist,
                hist_lo=lo, hist_inv=inv, progress=progress, desc="average")

        per_traj = acc.transpose(1, 2, 0, 3).reshape(NQ, L, -1)[..., :sim.n_traj] / n_samples
        sums, counts = stats.batch_sums(per_traj, N_BATCHES)
        names = obs.MOMENTS + ("cre", "cim", "re2", "im2")
        batch = dict(zip(names, sums))
        same = np.arange(1, L + 1) == (g1_centre or 1)

        classical = sim.classical

        def stat(m):
            out = obs.standard(m, classical)
            out["x2"], out["p2"] = obs.quadrature_second_moments(m["re2"], m["im2"])
            if g1_centre is not None:
                out["g1"] = obs.g1(m["cre"], m["cim"], m["m2"][g1_centre - 1],
                                   m["m2"], same.reshape((L,) + (1,) * (m["m2"].ndim - 1)), classical)
            return out

        value, err = stats.jackknife(stat, batch, counts)
        data = {}
        for k, v in value.items():
            data[k] = ("site", v)
            data[k + "_err"] = ("site", err[k])
        coords = {"site": np.arange(1, L + 1)}
        if keep_batches:
            data["batch_means"] = (("moment", "site", "batch"), np.stack([batch[k] for k in names]) / counts)
            coords.update(moment=list(names), batch_count=("batch", counts))
        if hist is not None:
            centres = 0.5 * (edges[1:] + edges[:-1])
            area = (edges[1] - edges[0]) ** 2
            data["wigner"] = (("site", "re", "im"), hist.sum(0) / (sim.n_traj * n_samples * area))
            coords.update(re=centres, im=centres)
        attrs = sim.attrs()
        attrs.update(t_avg=self.t_avg, sample_every=every * sim.dt, n_samples=n_samples,
                     n_batches=int(counts.size), g1_centre=g1_centre or 0)
        return xr.Dataset(data, coords=coords, attrs=attrs)

