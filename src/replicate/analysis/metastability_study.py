"""The runs and claims of Ferrari et al. Fig. 7 (metastability of the RNW), in one place.

:func:`study` makes every quench the figure needs (:func:`replicate.analysis.metastability.quench`,
or its cached version ``sweep.cached(metastability.quench)``) and the statistics on them:

- the classical ensemble (Eq. 35, no quantum noise) at the three lengths ``L_hist`` of panels
  (a, c), at the first drive of ``F_values``. Its median n̄_L at the shortest length, which
  converges long before t_f, is the RNW value n_L^RNW, the plateau of every onset criterion;
- the TWA quench at every (F, L) of ``F_values`` × ``L_grids`` (panel b). Only the three runs of
  panels (a, c) need n_L(t) and n̄_L; the others need their onset times only and retire each
  trajectory once its onset is settled (``early_stop``: the same onset times, bit for bit);
- the control drive ``F_ref`` on the first length grid: there the onset is the arrival of a front
  crossing the chain (Fig. 5), not an escape from a metastable state.

Seeds: the TWA run at the i-th length of a grid takes ``seed + i``, the classical run at L
``seed + 50 + L``, the control run at L ``seed + 200 + L``.

:func:`record` checks the claims of ``chapters/ferrari/fig7.claims.yml`` on a ledger, each against
its control (the same statistic where the property should be absent) and records the values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import xarray as xr

from ..chain import ChainParams
from ..validate import positive
from . import coexistence, metastability
from .metastability import LengthScan, Quench


@dataclass
class Study:
    """The quenches of Fig. 7 and their statistics (module docstring).

    ``classic`` {L: Quench} at ``L_hist``; ``quantum`` {(F, L): Quench}; ``front`` {L: Quench}
    at ``F_ref``; ``scans`` {F: LengthScan} of the TWA runs, ``control`` that of the ``F_ref``
    runs and ``classical`` that of the classical ones; ``coexist`` {L: Coexistence} at L_hist;
    ``excess`` {L: (ratio, error)}: the class-mean excess of the chaotic (L_mid, against L_long)
    and RNW (L_short, against L_mid) trajectories."""

    F_values: tuple[float, ...]
    L_grids: tuple[tuple[int, ...], ...]
    L_hist: tuple[int, int, int]
    F_ref: float
    t_final: float
    n_traj: int
    tolerance: float
    plateau: float
    plateau_err: float
    classic: dict[int, Quench]
    quantum: dict[tuple[float, int], Quench]
    front: dict[int, Quench]
    scans: dict[float, LengthScan]
    control: LengthScan
    classical: LengthScan
    coexist: dict[int, Any]
    excess: dict[int, tuple[float, float]]

    @property
    def F_hist(self) -> float:
        """The drive of panels (a, c)."""
        return self.F_values[0]

    def hist(self, L: int) -> Quench:
        """The TWA run of panels (a, c) at length ``L``."""
        return self.quantum[self.F_hist, L]

    def early_stop_summary(self) -> str:
        """How much trajectory time the onset-only runs simulated, against a full run."""
        panels = {(self.F_hist, L) for L in self.L_hist}
        stopped = [q for k, q in self.quantum.items() if k not in panels] + list(self.front.values())
        done = sum(q.trajectory_time for q in stopped)
        full = sum(self.n_traj * q.times[-1] for q in stopped)
        return (f"early stop: the {len(stopped)} onset-only runs simulated {done:.3g} of {full:.3g} "
                "trajectory-time units")

    def summary(self) -> str:
        """The per-drive scans, the classical one and the coexistence statistics, one per line."""
        lines = [f"n_L^RNW = {self.plateau:.2f} (classical, L = {self.L_hist[0]}, F = {self.F_hist:g})"]
        lines += [f"F = {F:g}: {r}" for F, r in self.scans.items()]
        lines.append(f"F = {self.F_ref:g} (control): {self.control}")
        Lstar = "" if self.classical.Lstar is None else f"; {self.classical.Lstar}"
        lines.append(f"classical: {self.classical.per_length()}{Lstar}")
        lines += [str(c) for c in self.coexist.values()]
        return "\n".join(lines)


def study(chain: Callable[[int, float], ChainParams], *, F_values: Sequence[float],
          L_grids: Sequence[Sequence[int]], L_hist: Sequence[int], F_ref: float, t_ref: float,
          n_traj: int, t_final: float, window: float, hold: float, tolerance: float, smooth: float,
          sample_every: float, seed: int, dt: float | None = None,
          quench: Callable[..., xr.Dataset] = metastability.quench) -> Study:
    """Run (or read from the store) every quench of Fig. 7 and the statistics on them.

    ``chain(L, F)`` makes the chain at length L and drive F; ``F_values[0]`` is the drive of
    panels (a, c), ``L_grids[i]`` the lengths at ``F_values[i]``, ``L_hist`` the three lengths of
    panels (a, c) (RNW, coexistence, chaotic; each in ``L_grids[0]``), ``F_ref`` and ``t_ref``
    the control drive and its run length (its window is ``min(window, t_ref/4)``)."""
    F_values = tuple(float(F) for F in F_values)
    L_grids = tuple(tuple(int(L) for L in g) for g in L_grids)
    L_hist = tuple(int(L) for L in L_hist)
    if not F_values or len(L_grids) != len(F_values):
        raise ValueError(f"L_grids needs one grid per drive of F_values: {len(L_grids)} grids, "
                         f"{len(F_values)} drives")
    if len(L_hist) != 3 or not set(L_hist) <= set(L_grids[0]):
        raise ValueError(f"L_hist must be three lengths of the first grid {L_grids[0]}, got {L_hist}")
    for name, value in (("F_ref", F_ref), ("t_ref", t_ref), ("t_final", t_final), ("window", window)):
        positive(name, value)
    run = dict(n_traj=n_traj, sample_every=sample_every, dt=dt, hold=hold, tolerance=tolerance,
               smooth=smooth)

    def one(L: int, F: float, **kw) -> Quench:
        return Quench.of(quench(chain(L, F), **run, **{"window": window, **kw}))

    F_hist = F_values[0]
    L_short = L_hist[0]
    classic = {L_short: one(L_short, F_hist, t_final=t_final, seed=seed + 50 + L_short,
                            classical=True, plateau="self")}
    plateau, plateau_err = classic[L_short].nbar_median()
    classic.update({L: one(L, F_hist, t_final=t_final, seed=seed + 50 + L, classical=True,
                           plateau=plateau) for L in L_hist[1:]})
    panels = {(F_hist, L) for L in L_hist}
    quantum = {(F, L): one(L, F, t_final=t_final, seed=seed + i, plateau=plateau,
                           early_stop=(F, L) not in panels)
               for F, grid in zip(F_values, L_grids) for i, L in enumerate(grid)}
    front = {L: one(L, F_ref, t_final=t_ref, seed=seed + 200 + L, plateau=plateau,
                    early_stop=True, window=min(window, t_ref / 4)) for L in L_grids[0]}

    scans = {F: metastability.length_scan({L: quantum[F, L] for L in grid}, resolution=sample_every)
             for F, grid in zip(F_values, L_grids)}
    hist = {L: quantum[F_hist, L] for L in L_hist}
    L_mid, L_long = L_hist[1:]
    excess = {L: coexistence.class_mean_excess(hist[L], hist[Lb], rnw=rnw, tolerance=tolerance, seed=seed)
              for L, Lb, rnw in ((L_mid, L_long, False), (L_short, L_mid, True))}
    return Study(F_values, L_grids, L_hist, float(F_ref), float(t_final), int(n_traj),
                 float(tolerance), plateau, plateau_err, classic, quantum, front, scans,
                 metastability.length_scan(front, resolution=sample_every),
                 metastability.length_scan(classic, resolution=sample_every),
                 coexistence.coexistence(hist, classic, tolerance=tolerance, seed=seed), excess)


def record(ledger: Any, s: Study) -> None:
    """Check the claims of Fig. 7 on ``ledger`` (each with its control) and record the values.

    - panels (a, c): the RNW at the shortest length and chaos at the longest (each against the
      other), the L-dependent chaotic n_L (against the RNW class), the classical ensemble
      converging (against the TWA one), the quantum origin of the breakdown (the TWA−classical
      gap at L_mid against that at L_short), the shape of the histograms (Sarle's b) and the
      chaotic fraction after T* at L_mid (against L_short);
    - panel (b): T* ∝ e^{cL} at every drive (error × √(deviance/dof)), its form against the
      control drive (slope ratio), and L* falling with F (the smallest drop between drives)."""
    co, L_short, L_mid, L_long = s.coexist, *s.L_hist
    ledger.check("rnw-short", *co[L_short].twa.pair, control=co[L_long].twa.pair)
    ledger.check("chaotic-long", *co[L_long].twa.pair, control=co[L_short].twa.pair)
    ledger.check("chaotic-L-dependent", *s.excess[L_mid], control=s.excess[L_short])
    for key, L in (("classical-converges", L_mid), ("classical-converges-long", L_long)):
        ledger.check(key, *co[L].classical.pair, control=co[L].twa.pair)
    ledger.check("quantum-origin", *co[L_mid].quantum_gap, control=co[L_short].quantum_gap)
    for F, r in s.scans.items():
        ledger.check(f"Tstar-exponential-F{F:g}", r.mle.c, r.c_err,
                     note=f"error × √(deviance/dof) = {r.c_err / r.mle.c_err:.1f} "
                          "(the exponential-survival model misfits)")
    ratio, control = s.scans[s.F_hist].ratio, s.control.ratio
    if ratio is None or control is None:
        ledger.skip("Tstar-not-front", note="fewer than three lengths with a median T* at F_hist or F_ref")
    else:
        ledger.check("Tstar-not-front", *ratio.pair, control=control.pair)
    drop = metastability.smallest_drop(s.scans[F].Lstar for F in sorted(s.F_values))
    if drop is None:
        ledger.skip("Lstar-decreases", note="L* outside the length grid at one of the drives")
    else:
        ledger.check("Lstar-decreases", *drop)
    for key, L, L_control in (("hist-unimodal-rnw", L_short, L_mid), ("hist-bimodal", L_mid, L_short),
                              ("hist-unimodal-chaotic", L_long, L_mid)):
        ledger.check(key, *co[L].sarle.pair, control=co[L_control].sarle.pair)
    T_conv = s.scans[s.F_hist].summary[L_mid]
    ledger.check("chaotic-after-Tstar", *co[L_mid].chaotic.pair, control=co[L_short].chaotic.pair,
                 note=f"mean T* of the converged runs at L = {L_mid}: {T_conv.mean_converged:.0f} ± "
                      f"{T_conv.mean_converged_err:.0f} < t_f = {s.t_final:g}")
    ledger.value("n-rnw", "n_L^RNW (classical, shortest length)", s.plateau, s.plateau_err)
    for F, r in s.scans.items():
        if r.wls is not None:  # needs two lengths where more than half converged
            ledger.value(f"c-wls-F{F:g}", f"T* growth rate c at F = {F:g} (1/site, WLS on Kaplan–Meier medians)",
                         r.wls.c, r.wls.c_err)
        ledger.value(f"c-F{F:g}", f"T* growth rate c at F = {F:g} (1/site, survival MLE)", r.mle.c, r.c_err)
        if r.Lstar is not None:
            ledger.value(f"Lstar-F{F:g}", f"L* at F = {F:g} (sites)", *r.Lstar.pair)
    if s.classical.Lstar is not None:
        ledger.value(f"classical-Lstar-F{s.F_hist:g}",
                     f"classical L* at F = {s.F_hist:g} (sites, lengths {s.L_hist})", *s.classical.Lstar.pair)
    for L in s.L_hist:
        ledger.value(f"nbar-mean-L{L}", f"mean n̄_L over trajectories at L = {L}, F = {s.F_hist:g}",
                     *s.hist(L).nbar_mean())
