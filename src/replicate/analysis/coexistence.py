"""Coexistence of the RNW and the chaotic state at one length (Ferrari et al. 2025, Fig. 7(c)):
the histogram over trajectories of the time-averaged n̄_L of :class:`.metastability.Quench` runs.

* :func:`coexistence` — per length: converged fractions (TWA and classical), Sarle's
  coefficient, the two-Gaussian test and the chaotic fraction of n̄_L;
* :func:`class_mean_ratio` — the ratio of the means of n̄_L over the trajectories of one class
  (e.g. the chaotic ones) at two lengths, with a bootstrap error over trajectories;
  :func:`class_mean_excess` applies it to the RNW-like or chaotic trajectories of two quenches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import stats
from ..validate import count, finite_array
from . import bimodality, survival
from .metastability import Quench

__all__ = ["Coexistence", "class_mean_excess", "class_mean_ratio", "coexistence"]


def class_mean_ratio(x, y, *, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """(mean(x)/mean(y), bootstrap standard deviation) for two independent samples (e.g. n̄_L of
    the chaotic trajectories at two lengths), resampling each sample's trajectories."""
    x, y = finite_array("x", x), finite_array("y", y)
    if x.ndim != 1 or y.ndim != 1 or x.size < 2 or y.size < 2:
        raise ValueError("x and y must be 1-d samples of at least 2 values")
    if not y.mean() > 0:
        raise ValueError("y must have a positive mean")
    n_boot = count("n_boot", n_boot, minimum=10)
    rng = np.random.default_rng(seed)
    bx = x[rng.integers(0, x.size, (n_boot, x.size))].mean(1)
    by = y[rng.integers(0, y.size, (n_boot, y.size))].mean(1)
    return float(x.mean() / y.mean()), float((bx / by).std(ddof=1))


def class_mean_excess(a: Quench, b: Quench, *, rnw: bool, tolerance: float,
                      seed: int = 0) -> tuple[float, float]:
    """mean n̄_L(a) / mean n̄_L(b) − 1 over the trajectories of one class in each quench — the
    RNW-like ones (``rnw=True``, :meth:`Quench.rnw_like` with ``tolerance``) or the chaotic ones —
    with the bootstrap error of :func:`class_mean_ratio`. Zero when the class sits at the same
    n_L at both lengths (as the RNW does); positive when it sits higher in ``a``."""
    x, y = (q.nbar[q.rnw_like(tolerance) == rnw] for q in (a, b))
    r, e = class_mean_ratio(x, y, seed=seed)
    return r - 1, e


@dataclass(frozen=True)
class Coexistence:
    """Statistics of the n̄_L histogram at one length (:func:`coexistence`): converged fractions by
    the censoring time of the TWA (``twa``) and classical (``classical``, None without a classical
    run) ensembles, Sarle's coefficient, the two-Gaussian test and the fraction of trajectories
    whose n̄_L lies outside the RNW band (``chaotic``)."""

    L: int
    twa: survival.Fraction
    classical: survival.Fraction | None
    sarle: bimodality.Sarle
    mixture: bimodality.Bimodality
    chaotic: survival.Fraction

    @property
    def quantum_gap(self) -> tuple[float, float]:
        """Classical − TWA converged fraction and its error (independent ensembles, errors in
        quadrature): positive when quantum fluctuations delay the RNW."""
        if self.classical is None:
            raise ValueError(f"no classical run at L = {self.L}")
        return stats.difference(*self.classical.pair, *self.twa.pair)

    def __str__(self) -> str:
        m = self.mixture
        c = self.classical
        cl = "" if c is None else f", classical {c.k}/{c.n}"
        return (f"L = {self.L}: TWA {self.twa.k}/{self.twa.n} converged{cl}; "
                f"Sarle b = {self.sarle.value:.3f} ± {self.sarle.error:.3f}; "
                f"mixture Λ = {m.statistic:.1f}, p = {m.p_value:.3f}, {m.n_modes} mode(s), "
                f"weights {np.round(m.mixture.weights, 2)}, means {np.round(m.mixture.means, 1)}")


def coexistence(quantum: dict, classical: dict | None = None, *, tolerance: float,
                seed: int = 0) -> dict:
    """L -> :class:`Coexistence` for the quenches ``quantum`` (L -> :class:`Quench` with onset
    times) and, where given, the classical quenches at the same L. Sarle's coefficient and the
    mixture test use ``seed`` for their bootstraps; ``tolerance`` is the RNW band of
    :meth:`Quench.rnw_like`."""
    classical = classical or {}
    out = {}
    for L, q in quantum.items():
        c = classical.get(L)
        out[L] = Coexistence(L, survival.converged_fraction(q.onset.converged),
                             None if c is None else survival.converged_fraction(c.onset.converged),
                             bimodality.sarle_coefficient(q.nbar, seed=seed),
                             bimodality.mixture_test(q.nbar, seed=seed),
                             survival.converged_fraction(~q.rnw_like(tolerance)))
    return out
