"""TWA against the exact Lindblad steady state on small chains (SI Fig. 9 and its extensions).

:class:`Runs` makes and remembers the runs a comparison needs, each named by how it is made:

- ``"exact"``: the exact steady state with an automatic Fock cutoff
  (:func:`replicate.exact.steady_state`);
- ``"ladder"``: the exact steady state at the fixed cutoffs ``coherent_cutoffs`` in the frame
  displaced by the TWA field of the vacuum run (:func:`replicate.exact.cutoff_ladder`; the
  coherent regime, tens of photons per site);
- ``"vacuum"``: the TWA NESS from the vacuum (Eq. 4 of Ferrari et al.);
- ``"coherent"``: the TWA NESS from a coherent state at the vacuum run's steady-state field plus
  vacuum noise (SI Fig. 9 b, d), with the next seed: with the same noise the two starts would
  synchronise at these contracting drives, which is not a check.

:func:`comparison_rows` lists the rows of the claims table (the dimer of SI Fig. 9, the extensions
to other L and U, and the U = 0 checks), and :func:`record` compares each row's last site with
its exact reference (:func:`replicate.analysis.compare.twa_minus_exact`), with the TWA run at
U = 0 against the same reference as the control of every U > 0 row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import xarray as xr
from threadpoolctl import threadpool_limits

from .. import exact, twa
from ..chain import ChainParams
from .compare import twa_minus_exact

HOW = ("exact", "ladder", "vacuum", "coherent")


@dataclass
class Runs:
    """The runs of a TWA-vs-exact comparison at fixed Δ, J, γ, γ_int and TWA statistics.

    ``runs(how, L, U, F)`` (and ``Delta=``, ``J=`` to leave the defaults, e.g. J = 0 for one Kerr
    mode) returns the Dataset of that run, computed once. ``ness`` is the TWA driver
    (:func:`replicate.twa.ness`, or its cached version ``sweep.cached(twa.ness)``);
    ``steady_state`` and ``cutoff_ladder`` the exact solvers (:mod:`replicate.exact`, or their
    cached versions: at the paper's cutoffs one ladder costs minutes)."""

    Delta: float
    J: float
    gamma: float
    n_traj: int
    t_relax: float
    t_avg: float
    seed: int
    gamma_int: float = 0.0
    F_sign: float = 1.0
    coherent_cutoffs: Sequence[int] = (8, 12)
    exact_atol: float = 1e-3
    exact_max_dim: int = 400
    ness: Callable[..., xr.Dataset] = twa.ness
    steady_state: Callable[..., xr.Dataset] = exact.steady_state
    cutoff_ladder: Callable[..., xr.Dataset] = exact.cutoff_ladder
    _done: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.F_sign not in (1.0, -1.0):
            raise ValueError(f"F_sign must be +1 or -1, got {self.F_sign!r}")

    def params(self, L: int, U: float, F: float, Delta: float | None = None,
               J: float | None = None) -> ChainParams:
        return ChainParams(L=L, F=self.F_sign * F, U=U, Delta=self.Delta if Delta is None else Delta,
                           J=self.J if J is None else J, gamma=self.gamma, gamma_int=self.gamma_int)

    def __call__(self, how: str, L: int, U: float, F: float, Delta: float | None = None,
                 J: float | None = None) -> xr.Dataset:
        if how not in HOW:
            raise ValueError(f"how must be one of {HOW}, got {how!r}")
        key = (how, L, U, F, Delta, J)
        if key not in self._done:
            self._done[key] = self._make(how, L, U, F, Delta, J)
        return self._done[key]

    def _make(self, how: str, L: int, U: float, F: float, Delta: float | None,
              J: float | None) -> xr.Dataset:
        p = self.params(L, U, F, Delta, J)
        if how == "exact":
            with threadpool_limits(1):  # dense algebra on small matrices: BLAS threads only contend
                return self.steady_state(p, atol=self.exact_atol, rtol=self.exact_atol,
                                         max_dim=self.exact_max_dim)
        frame = None
        if how in ("coherent", "ladder"):
            v = self("vacuum", L, U, F, Delta, J)
            frame = v.field_re.values + 1j * v.field_im.values
        if how == "ladder":
            with threadpool_limits(1):
                return self.cutoff_ladder(p, self.coherent_cutoffs, frame=frame)
        return self.ness(p, n_traj=self.n_traj, t_relax=self.t_relax, t_avg=self.t_avg,
                         seed=self.seed + (how == "coherent"), alpha0=frame)


def comparison_rows(*, U: float, F_fig9: Sequence[float], F_coherent: Sequence[float],
                    F_table: Sequence[float], L_table: Sequence[int],
                    U_factors: Sequence[float], ladder_note: str = "") -> tuple[list[dict], list[dict]]:
    """The rows of the comparison: ``(dimer, table)``.

    ``dimer``: L = 2 at ``U`` for both starts at every drive of ``F_fig9`` (panels a–d of SI
    Fig. 9, exact reference) and ``F_coherent`` (the coherent regime, the cutoff-ladder
    reference; their ``extra`` is ``ladder_note``, empty for the others). ``table``: L in ``L_table``, U = f·``U`` for f in ``U_factors``, F in ``F_table``
    from the vacuum, leaving out the dimer rows already in ``dimer``; ``check`` marks the U = 0
    rows (the TWA is exact there: engine checks, not paper claims).
    Each row: ``key``, ``L``, ``U``, ``F``, ``start``, ``ref`` ("exact" or "ladder")."""
    coherent = tuple(F_coherent)
    dimer = [dict(key=f"dimer-{start}-F{F:g}", L=2, U=U, F=F, start=start,
                  ref="ladder" if F in coherent else "exact",
                  panels=(f"({a})", f"({c})") if F in F_fig9 else (" (coherent regime)",) * 2,
                  extra="" if F in F_fig9 else ladder_note)
             for F in (*F_fig9, *coherent) for start, a, c in (("vacuum", "a", "c"), ("coherent", "b", "d"))]
    table = [dict(key=f"L{L}-{f:g}U-F{F:g}", L=L, U=f * U, F=F, start="vacuum", ref="exact",
                  check=f == 0)
             for L in L_table for f in U_factors for F in F_table
             if not (L == 2 and f == 1 and F in F_fig9)]
    return dimer, table


def record(ledger: Any, rows: Sequence[dict], runs: Runs) -> list[str]:
    """Check every row on ``ledger`` and record the exact values; returns one summary line per
    vacuum row (cutoff, exact n_L and δn_L).

    For a row ``r`` the claims ``n-<key>`` and ``dn-<key>`` get TWA − exact at the last site
    (relative in n, absolute in δn) with its error; for a U > 0 row the control is the TWA at
    U = 0 against the same exact value, for a ``check`` row the claim is the pull
    (TWA − exact)/σ. Values ``n-exact-<key>`` and ``dn-exact-<key>`` record the exact side (with
    the ladder's truncation error in the coherent regime)."""
    lines = []
    for row in rows:
        key, L, F = row["key"], row["L"], row["F"]
        ex = runs(row["ref"], L, row["U"], F).isel(site=-1)
        dev = twa_minus_exact(runs(row["start"], L, row["U"], F).isel(site=-1), ex)
        control = twa_minus_exact(runs("vacuum", L, 0.0, F).isel(site=-1), ex)
        for obs, (d, e) in dev.items():
            if row.get("check"):
                ledger.check(f"{obs}-{key}", d / e, 1.0)
            else:
                ledger.check(f"{obs}-{key}", d, e, control=control[obs])
        if row["start"] != "vacuum":
            continue
        lines.append(f"{key:>16}: n_max = {ex.attrs['n_max']:2d}, exact n_L = {float(ex.n):.4f}, "
                     f"δn_L = {float(ex.delta_n):+.4f}")
        for var, name in (("n", "n"), ("delta_n", "dn")):
            # a ladder's value depends on its (TWA) frame within its truncation error
            error = float(ex[f"{var}_trunc"]) if row["ref"] == "ladder" else None
            ledger.value(f"{name}-exact-{key}", f"exact {var.replace('delta_', 'δ')}_L, {key}",
                         ex[var], error)
    return lines


def kerr_mode(runs: Runs, *, U: float, drives: Sequence[float],
              detunings: Sequence[float]) -> dict[tuple[float, float], tuple[tuple[float, float], xr.Dataset]]:
    """One driven Kerr mode from the chain with J = 0 (site 1 is isolated, loss γ + γ_int):
    ``{(Δ, F): ((n, δn) exact from :func:`replicate.exact.kerr_oscillator`, TWA site 1)}``."""
    return {(D, F): (exact.kerr_oscillator(F, D, U, runs.gamma + runs.gamma_int),
                     runs("vacuum", 2, U, F, D, 0.0).sel(site=1))
            for D in detunings for F in drives}
