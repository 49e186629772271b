"""Non-equilibrium steady state by truncated Wigner: trajectory and time-window averages (§2, §5).

Data flow: :func:`ness` relaxes a :class:`~replicate.twa.engine.Simulation`, then a
:class:`Window` samples it; the kernel accumulates the registry of
:mod:`replicate.twa.kernels.sample` (per-site moments, and the histograms asked for) into
:class:`~replicate.twa.kernels.sample.Accumulators`; the time samples of each trajectory are
averaged, reduced to sums over batches of whole trajectories, and every observable gets a
jackknife error over those batches (:func:`replicate.stats.jackknife`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import xarray as xr

from .. import stats
from . import observables as obs
from ..chain import ChainParams
from .engine import DEFAULT_INTEGRATOR, Simulation, n_steps, with_dt_halving
from ..validate import count, positive
from .kernels import sample

DEFAULT_SAMPLE_EVERY = 0.1  # time between samples inside the window (units of 1/γ)
N_BATCHES = 32  # batches of trajectories for the errors
NESS_BATCH_MOMENTS = ("m2", "m4", "re", "im", "cos", "sin", "cre", "cim", "re2", "im2")
"""Moments of ``batch_means`` for ``keep_batches=True`` (``pm3``, ``pm4`` added with ``p_grid``)."""


def ness(params: ChainParams, *, n_traj: int, t_relax: float, t_avg: float, dt: float | None = None,
         seed: int = 0, classical: bool = False, integrator: str = DEFAULT_INTEGRATOR,
         sample_every: float | None = None, alpha0=None, initial_noise: bool | None = None,
         g1_centre: int | None = None, wigner_grid: tuple[float, int] | None = None,
         max_halvings: int = 0, keep_batches: bool | Sequence[str] = False, progress: bool = False,
         p_grid: tuple[float, int] | None = None,
         radial_grid: tuple[float, int] | None = None, step_error_traj: int = 0) -> xr.Dataset:
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
    integrator : {"heun", "euler", "split"}
        The Strang split step of :mod:`.kernels.split` (default: exact Kerr, bath and hopping
        pieces, weak order 2, cannot diverge; a dt beyond its range is a ValueError), stochastic
        Heun (weak order 2, only conditionally stable for the Kerr term) or Euler-Maruyama.
    alpha0 : array of complex, length L, optional
        Coherent start α(0) = alpha0 + vacuum noise (SI Fig. 9(b)).
    g1_centre : int, optional
        Site c (1..L) for g1_{c,m}, Eq. (7).
    wigner_grid : (extent, bins), optional
        Per-site Wigner histogram (SI Eq. 33) on the square [−extent, extent]² with bins × bins
        equal bins, normalised so that it integrates to the fraction of samples inside the square.
    p_grid : (extent, bins), optional
        Per-site, per-batch histogram of p = √2 Im α on [−extent, extent] (the p-marginal of
        SI Eq. 33, the exact distribution of p̂ within the TWA), and the momentum statistics
        ⟨p⟩, Var p and the excess kurtosis of p (:func:`replicate.twa.observables.momentum_stats`).
    radial_grid : (u_max, bins), optional
        Per-site, per-batch radial histogram of u = |α|² with ``bins`` equal bins on [0, u_max)
        (integer counts; the U(1)-averaged Wigner function, SI Eq. 45).
    keep_batches : bool or sequence of str
        Also return ``batch_means(moment, site, batch)`` and ``batch_count(batch)``: the batch
        means of Wigner moments (True: :data:`NESS_BATCH_MOMENTS`, plus ``pm3``, ``pm4`` with
        ``p_grid``; or the names given, from :data:`replicate.twa.kernels.sample.MOMENTS`), for
        jackknife errors of any derived quantity (:func:`replicate.stats.jackknife_dataset`).
    max_halvings : int
        If a trajectory diverges, rerun with half the time step, at most this many times
        (:func:`replicate.twa.engine.with_dt_halving`); 0 raises :class:`TWADivergenceError`.
    progress : bool
        Show a tqdm progress bar.
    step_error_traj : int
        If > 0, estimate the time-step error on the first ``step_error_traj`` trajectories
        (capped at ``n_traj``; :func:`step_error`): they are rerun at dt and at dt/2 on the same
        Brownian paths (costs 3 step_error_traj / n_traj of the main run), and the result gets
        ``{name}_step_bias`` (Richardson estimate of the bias of the value at this dt, signed),
        ``{name}_step_bias_err`` (its sampling error) and ``{name}_step_err`` (= |bias|) for
        :data:`STEP_ERROR_OBSERVABLES`. A ``UserWarning`` naming a smaller dt is issued where the
        bias of n or δn is significant (> 4 of its own errors) and larger than the sampling error.

    Returns
    -------
    xarray.Dataset
        Over ``site`` = 1..L: ``n`` (⟨|α|²⟩ − ½), ``delta_n`` (Eq. 5), ``circular_variance``,
        ``mean_phase``, ``field_re``, ``field_im``, the quadrature moments ``x2`` = ⟨x̂²⟩ and
        ``p2`` = ⟨p̂²⟩ (vacuum ½) and their ``*_err``; ``g1``/``g1_err`` if ``g1_centre``;
        ``wigner(site, re, im)`` if ``wigner_grid``; with ``p_grid``, ``p_mean``, ``p_var``,
        ``p_kurtosis`` (+ ``*_err``), ``p_density(site, p)`` (normalised to the fraction inside
        the grid) with ``p_density_err`` and ``p_outside``; with ``radial_grid``,
        ``radial_counts(site, batch, u)`` (u: bin centres, ``attrs["u_edges"]``) and the
        coordinate ``samples_per_batch(batch)`` (samples per site in each batch).
    """
    def run(step: float) -> xr.Dataset:
        sim = Simulation(params, n_traj=n_traj, dt=step, seed=seed, classical=classical,
                         integrator=integrator, alpha0=alpha0, initial_noise=initial_noise)
        n_relax = n_steps("t_relax", positive("t_relax", t_relax, allow_zero=True), sim.dt)
        plan = Window.plan(sim, t_avg, sample_every, g1_centre, wigner_grid, p_grid=p_grid,
                           radial_grid=radial_grid, keep_batches=keep_batches)  # checks first
        sim.run(n_relax, progress=progress, desc="relax")
        ds = plan.average(sim, progress=progress)
        ds.attrs.update(t_relax=t_relax,
                        alpha0="vacuum" if alpha0 is None else str(list(np.asarray(alpha0, complex))))
        if n_step:
            est = step_error(params, n_traj=min(n_step, n_traj), dt=sim.dt, t_relax=t_relax,
                             t_avg=t_avg, sample_every=plan.every * sim.dt, seed=seed,
                             classical=classical, integrator=integrator, alpha0=alpha0,
                             initial_noise=initial_noise, progress=progress)
            ds = ds.assign(est.data_vars)
            ds.attrs.update(est.attrs)
            _warn_step_error(ds, sim.dt, est.attrs["step_error_order"])
        return ds

    n_step = count("step_error_traj", step_error_traj, minimum=0)

    return with_dt_halving(run, dt, max_halvings)


@dataclass(frozen=True)
class Window:
    """A validated NESS averaging window: ``n_samples`` samples every ``every`` steps, the
    histogram ``edges`` to accumulate (by registry name) and the moments kept per batch."""

    t_avg: float
    every: int
    n_samples: int
    g1_centre: int | None
    edges: dict
    batch_moments: tuple[str, ...] = ()

    @classmethod
    def plan(cls, sim: Simulation, t_avg: float, sample_every: float | None = None,
             g1_centre: int | None = None, wigner_grid: tuple[float, int] | None = None, *,
             p_grid: tuple[float, int] | None = None, radial_grid: tuple[float, int] | None = None,
             keep_batches: bool | Sequence[str] = False) -> "Window":
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
        edges = sample.window_edges(wigner_grid, p_grid, radial_grid)
        if isinstance(keep_batches, (bool, np.bool_)):
            kept = NESS_BATCH_MOMENTS + (("pm3", "pm4") if p_grid is not None else ())
            kept = kept if keep_batches else ()
        else:
            kept = (keep_batches,) if isinstance(keep_batches, str) else tuple(keep_batches)
            try:
                sample.rows(kept)
            except ValueError as e:
                raise ValueError(f"keep_batches: {e}") from None
        return cls(t_avg, every, n_samples, g1_centre, edges, kept)

    def average(self, sim: Simulation, progress: bool = False) -> xr.Dataset:
        """Advance ``sim`` through the window, accumulating in the kernel; the NESS Dataset
        (see :func:`ness`)."""
        L = sim.params.L
        edges = self.edges
        acc, batch, counts = self.batches(sim, progress)
        value, err = stats.jackknife(self._statistic(L, sim.classical), batch, counts)
        data = {}
        for k, v in value.items():
            data[k] = ("site", v)
            data[k + "_err"] = ("site", err[k])
        coords = {"site": np.arange(1, L + 1)}
        attrs = sim.attrs()
        attrs.update(t_avg=self.t_avg, sample_every=self.every * sim.dt, n_samples=self.n_samples,
                     n_batches=int(counts.size), g1_centre=self.g1_centre or 0)
        if self.batch_moments:
            data["batch_means"] = (("moment", "site", "batch"),
                                   np.stack([batch[k] for k in self.batch_moments]) / counts)
            coords.update(moment=list(self.batch_moments), batch_count=("batch", counts))
        if edges["wigner"] is not None:
            e = edges["wigner"]
            centres = 0.5 * (e[1:] + e[:-1])
            area = (e[1] - e[0]) ** 2
            data["wigner"] = (("site", "re", "im"),
                              acc.counts("wigner") / (sim.n_traj * self.n_samples * area))
            coords.update(re=centres, im=centres)
        if edges["p"] is not None:
            data.update(self._p_density(acc, counts))
            coords["p"] = 0.5 * (edges["p"][1:] + edges["p"][:-1])
            attrs.update(p_extent=edges["p"][-1], p_bins=edges["p"].size - 1)
        if edges["u"] is not None:
            e = edges["u"]
            data["radial_counts"] = xr.Variable(("site", "batch", "u"), acc.counts("u"),
                                                attrs={"u_edges": e})
            coords.update(u=0.5 * (e[1:] + e[:-1]), batch_count=("batch", counts),
                          samples_per_batch=("batch", counts * self.n_samples))
            attrs.update(u_max=e[-1], u_bins=e.size - 1)
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def batches(self, sim: Simulation, progress: bool = False):
        """Advance ``sim`` through the window, accumulating in the kernel: (accumulators, batch
        sums of the per-trajectory means by moment name, trajectories per batch)."""
        edges = self.edges
        acc = sample.Accumulators(sim.params.L, sim.n_traj, sim.nblocks, sim.nworkers,
                                  centre=self.g1_centre or 1, wigner_edges=edges["wigner"],
                                  p_edges=edges["p"], u_edges=edges["u"], n_batches=N_BATCHES)
        sim.run(self.n_samples * self.every, sampler=acc, every=self.every, progress=progress,
                desc="average")
        sums, counts = stats.batch_sums(acc.trajectory_sums() / self.n_samples, N_BATCHES)
        return acc, dict(zip(sample.NAMES, sums)), counts

    def _statistic(self, L: int, classical: bool):
        """The observables of the Wigner means ``m`` (pooled, or leave-one-batch-out)."""
        centre, momentum = self.g1_centre, self.edges["p"] is not None
        same = np.arange(1, L + 1) == (centre or 1)

        def stat(m):
            out = obs.standard(m, classical)
            out["x2"], out["p2"] = obs.quadrature_second_moments(m["re2"], m["im2"])
            if centre is not None:
                out["g1"] = obs.g1(m["cre"], m["cim"], m["m2"][centre - 1],
                                   m["m2"], same.reshape((L,) + (1,) * (m["m2"].ndim - 1)), classical)
            if momentum:
                out.update(obs.momentum_stats(m))
            return out

        return stat

    def _p_density(self, acc: sample.Accumulators, counts: np.ndarray) -> dict:
        """P(p) per site with jackknife errors over the batches, and the weight outside the grid."""
        e = self.edges["p"]
        width = e[1] - e[0]
        dens_sums = acc.counts("p").transpose(0, 2, 1) / (self.n_samples * width)  # (site, p, batch)
        dval, derr = stats.jackknife(lambda m: {"d": m["d"]}, {"d": dens_sums}, counts)
        return {"p_density": (("site", "p"), dval["d"]),
                "p_density_err": (("site", "p"), derr["d"]),
                "p_outside": ("site", 1.0 - dval["d"].sum(-1) * width)}


STEP_ERROR_OBSERVABLES = ("n", "delta_n", "field_re", "field_im", "x2", "p2")
"""Observables of :func:`ness` that get a time-step error with ``step_error_traj``."""
WEAK_ORDER = {"heun": 2, "euler": 1, "split": 2}
SIGNIFICANT = 4.0
"""|bias| / its own error above which a step bias counts for the warning: 2L correlated tests per
result (n, δn on every site); at 3 a chaotic run (L = 10, F = 6, 256 trajectories) gave a false
alarm."""


def step_error(params: ChainParams, *, n_traj: int, dt: float, t_relax: float, t_avg: float,
               sample_every: float, seed: int = 0, classical: bool = False,
               integrator: str = DEFAULT_INTEGRATOR, alpha0=None, initial_noise: bool | None = None,
               progress: bool = False) -> xr.Dataset:
    """Time-step error of :func:`ness` at step ``dt``, by halving on the same Brownian paths.

    The first ``n_traj`` trajectories of the seed are run twice, at (dt, ``noise_substeps`` = 2)
    and at (dt/2, 1): both see the same Brownian increments on every dt/2 (Heun and Euler: each
    coarse increment is the sum of the two fine ones; split: each coarse OU increment is the
    exact combination of the two fine ones, :mod:`.kernels.split`), and the coarse run has the
    law of the run at dt with the default single draw. With weak order p (2 for Heun and split,
    1 for Euler) the bias of a value X at dt is b = (X_dt − X_dt/2) / (1 − 2^−p) (Richardson); its
    sampling error is the jackknife error of that paired difference over the batches (small
    while the two runs stay close; in a chaotic regime they decorrelate and it approaches the
    error of two independent runs: at L = 10, F = 6 with 256 trajectories it is 1-3× the
    sampling error of n, so the estimate resolves only biases well above that). Returns
    ``{name}_step_bias``, ``{name}_step_bias_err`` and ``{name}_step_err`` = |bias| over
    ``site`` for :data:`STEP_ERROR_OBSERVABLES`.
    """
    order = WEAK_ORDER[integrator]
    batches, plans = [], []
    for h, m in ((dt, 2), (0.5 * dt, 1)):
        sim = Simulation(params, n_traj=n_traj, dt=h, seed=seed, classical=classical,
                         integrator=integrator, alpha0=alpha0, initial_noise=initial_noise,
                         noise_substeps=m)
        plan = Window.plan(sim, t_avg, sample_every)
        sim.run(n_steps("t_relax", t_relax, h), progress=progress, desc="step error: relax")
        _, batch, counts = plan.batches(sim, progress)
        batches.append(batch)
        plans.append(plan)
    stat = plans[0]._statistic(params.L, classical)
    factor = 1.0 / (1.0 - 2.0 ** -order)

    def bias(m):
        coarse = stat({k: m[("c", k)] for k in sample.NAMES})
        fine = stat({k: m[("f", k)] for k in sample.NAMES})
        return {k: factor * (coarse[k] - fine[k]) for k in STEP_ERROR_OBSERVABLES}

    sums = {("c", k): v for k, v in batches[0].items()}
    sums.update({("f", k): v for k, v in batches[1].items()})
    value, err = stats.jackknife(bias, sums, counts)
    data = {}
    for k in STEP_ERROR_OBSERVABLES:
        data[k + "_step_bias"] = ("site", value[k])
        data[k + "_step_bias_err"] = ("site", err[k])
        data[k + "_step_err"] = ("site", np.abs(value[k]))
    attrs = dict(step_error_traj=int(n_traj), step_error_order=order,
                 step_error_method="Richardson, (dt, noise_substeps=2) vs (dt/2, 1), same paths")
    return xr.Dataset(data, coords={"site": np.arange(1, params.L + 1)}, attrs=attrs)


def _warn_step_error(ds: xr.Dataset, dt: float, order: int) -> None:
    """``UserWarning`` where the step bias of n or δn is significant (> :data:`SIGNIFICANT` of its
    own errors) and above the sampling error,
    naming the dt at which it would be half the sampling error (bias ∝ dt^order)."""
    worst = np.inf
    names = []
    for k in ("n", "delta_n"):
        b = np.abs(ds[k + "_step_bias"].values)
        be, e = ds[k + "_step_bias_err"].values, ds[k + "_err"].values
        bad = (b > SIGNIFICANT * be) & (b > e)
        if bad.any():
            names.append(k)
            worst = min(worst, float(np.min(0.5 * e[bad] / b[bad])))
    if names:
        new = dt * worst ** (1.0 / order)
        warnings.warn(f"time-step error of {', '.join(names)} exceeds the sampling error at "
                      f"dt={dt:g} ({ds.attrs.get('integrator')}); use dt <= {new:.2g}",
                      UserWarning, stacklevel=5)  # _warn, run, with_dt_halving, ness, caller
