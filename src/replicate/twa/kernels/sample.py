"""The registry of quantities accumulated in the kernel while a window is sampled.

Every sample (one every ``every`` steps of each trajectory) adds, at every site ℓ:

- the per-site moments of :data:`MOMENTS`, functions of the Wigner amplitude α = α_ℓ (and of
  α_c at a centre site c for the coherence pair of Eq. 7), summed per trajectory; with
  p = √2 Im α the Weyl symbol of the quadrature p̂ = (a − a†)/(i√2) (SI §2.9);
- the histograms of :data:`HISTOGRAMS`, each only if asked (integer counts):
  ``wigner`` the 2-D histogram of (Re α, Im α) on [lo, hi)² pooled over trajectories (SI Eq. 33);
  ``p`` the 1-D histogram of p = √2 Im α and ``u`` the radial histogram of u = |α|² (equal bins
  in u on [0, u_max)), both per batch of whole trajectories (the contiguous batches of
  :func:`replicate.stats.batch_sums`).

Histogram counts are integers in per-worker buffers, summed afterwards, so they do not depend on
the thread count. A new moment is one entry of :data:`MOMENTS` (name: definition, NumPy twin)
and one value in :func:`site_moments`, at the same position; rows are referred to by name
(:func:`rows`) outside this module.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from numba import njit

from ... import stats
from ...validate import count, grid_edges, positive
from .step import BLOCK

SQRT2 = 1.4142135623730951


@dataclass(frozen=True)
class Moment:
    """A per-site moment: its definition and a NumPy twin f(α, α_c) of the kernel's value."""

    definition: str
    numpy: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _phase(a):
    return np.where(a == 0, 0.0, a / np.where(a == 0, 1.0, np.abs(a)))


MOMENTS: dict[str, Moment] = {
    "m2": Moment("|α|²", lambda a, c: np.abs(a) ** 2),
    "m4": Moment("|α|⁴", lambda a, c: np.abs(a) ** 4),
    "re": Moment("Re α", lambda a, c: a.real),
    "im": Moment("Im α", lambda a, c: a.imag),
    "cos": Moment("cos φ = Re α/|α| (0 at α = 0)", lambda a, c: _phase(a).real),
    "sin": Moment("sin φ = Im α/|α| (0 at α = 0)", lambda a, c: _phase(a).imag),
    "cre": Moment("Re(α_c* α), the g1 pair of Eq. (7)", lambda a, c: (np.conj(c) * a).real),
    "cim": Moment("Im(α_c* α)", lambda a, c: (np.conj(c) * a).imag),
    "re2": Moment("(Re α)²", lambda a, c: a.real ** 2),
    "im2": Moment("(Im α)²", lambda a, c: a.imag ** 2),
    "pm3": Moment("p³, p = √2 Im α", lambda a, c: (SQRT2 * a.imag) ** 3),
    "pm4": Moment("p⁴", lambda a, c: (SQRT2 * a.imag) ** 4),
}
NAMES = tuple(MOMENTS)
NQ = len(NAMES)

HISTOGRAMS = {"wigner": "(Re α, Im α), 2-D, pooled over trajectories (SI Eq. 33)",
              "p": "p = √2 Im α, per batch", "u": "u = |α|², per batch"}


@njit(cache=True, inline="always", error_model="numpy")
def site_moments(ar, ai, cr, ci):
    """The values of :data:`MOMENTS` (in that order) for one sample α = ar + i ai, α_c = cr + i ci."""
    q = ar * ar + ai * ai
    rinv = 1.0 / np.sqrt(q) if q > 0.0 else 0.0
    p = SQRT2 * ai
    pp = p * p
    return (q, q * q, ar, ai, ar * rinv, ai * rinv, cr * ar + ci * ai, cr * ai - ci * ar,
            ar * ar, ai * ai, pp * p, pp * pp)


def rows(names: Iterable[str]) -> list[int]:
    """Accumulator rows of the moments ``names``; ``ValueError`` listing the valid names."""
    names = list(names)
    bad = [n for n in names if n not in MOMENTS]
    if bad:
        raise ValueError(f"unknown moment(s) {bad}; valid: {', '.join(NAMES)}")
    return [NAMES.index(n) for n in names]


def radial_edges(name: str, grid) -> np.ndarray:
    """Bin edges of a radial grid ``(u_max, bins)``: ``bins`` equal bins on [0, u_max)."""
    try:
        u_max, bins = grid
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (u_max, bins)") from None
    return np.linspace(0.0, positive(f"{name} u_max", u_max), count(f"{name} bins", bins) + 1)


Sampler = namedtuple("Sampler", ("every", "centre", "ntraj", "batch", "moments",
                                 "wigner", "wigner_lo", "wigner_inv",
                                 "p", "p_lo", "p_width", "u", "u_lo", "u_width"))
Sampler.__doc__ = """What the kernel accumulates (flat: numba's parallel loops take one level of
tuple). A sample every ``every`` steps (0: none); g1 ``centre`` site; ``ntraj`` real trajectories;
``batch`` (lanes,) int64 batch of each lane (−1: padding); ``moments`` (nblocks, NQ, L, BLOCK)
sums; ``wigner`` (nworkers, L, bins, bins) counts, bin floor((x − lo)·inv); ``p`` and ``u``
(nworkers, nbatches, L, bins) counts, bin floor((v − lo)/width). Empty counts: not accumulated."""


@njit(cache=True, inline="always", error_model="numpy")
def _bin(v, lo, width, bins):
    k = np.floor((v - lo) / width)
    return int(k) if 0.0 <= k < bins else -1


@njit(cache=True, error_model="numpy")
def accumulate(xr, xi, b, w, s):
    """Add one sample of block ``b`` (state xr, xi) to the sums of ``s`` (worker ``w``'s buffers)."""
    L = xr.shape[0] - 2
    acc = s.moments[b]
    c = s.centre
    for l in range(1, L + 1):
        for j in range(BLOCK):
            v = site_moments(xr[l, j], xi[l, j], xr[c, j], xi[c, j])
            for k in range(NQ):
                acc[k, l - 1, j] += v[k]
    nvalid = min(BLOCK, s.ntraj - b * BLOCK)  # real trajectories (not padding) of the block
    hw = s.wigner
    hbins = hw.shape[2]
    if hbins > 0:
        for l in range(1, L + 1):
            for j in range(nvalid):
                br = np.floor((xr[l, j] - s.wigner_lo) * s.wigner_inv)
                bi = np.floor((xi[l, j] - s.wigner_lo) * s.wigner_inv)
                if 0.0 <= br < hbins and 0.0 <= bi < hbins:
                    hw[w, l - 1, int(br), int(bi)] += 1
    hp, hu = s.p, s.u
    pbins, ubins = hp.shape[3], hu.shape[3]
    if pbins > 0 or ubins > 0:
        for l in range(1, L + 1):
            for j in range(nvalid):
                bt = s.batch[b * BLOCK + j]
                ar = xr[l, j]
                ai = xi[l, j]
                if pbins > 0:
                    k = _bin(SQRT2 * ai, s.p_lo, s.p_width, pbins)
                    if k >= 0:
                        hp[w, bt, l - 1, k] += 1
                if ubins > 0:
                    k = _bin(ar * ar + ai * ai, s.u_lo, s.u_width, ubins)
                    if k >= 0:
                        hu[w, bt, l - 1, k] += 1


class Accumulators:
    """Buffers of one sampled window and their reductions (the Python side of :class:`Sampler`).

    Parameters
    ----------
    L, n_traj, nblocks : chain length, real trajectories, blocks of ``BLOCK`` lanes.
    nworkers : worker buffers of the histograms (the run may use fewer workers).
    centre : g1 centre site c (1..L).
    wigner_edges, p_edges, u_edges : bin edges of the histograms to accumulate (None: not).
    n_batches : batches of whole trajectories of the per-batch histograms (capped at n_traj).
    """

    def __init__(self, L: int, n_traj: int, nblocks: int, nworkers: int, *, centre: int = 1,
                 wigner_edges: np.ndarray | None = None, p_edges: np.ndarray | None = None,
                 u_edges: np.ndarray | None = None, n_batches: int = 32) -> None:
        self.L, self.n_traj, self.nworkers, self.centre = L, n_traj, nworkers, centre
        self.edges = {"wigner": wigner_edges, "p": p_edges, "u": u_edges}
        _, self.batch_count = stats.batch_sums(np.zeros(n_traj), n_batches)
        nb = self.batch_count.size
        self.batch = np.full(nblocks * BLOCK, -1, dtype=np.int64)
        self.batch[:n_traj] = np.repeat(np.arange(nb), self.batch_count)
        self.moments = np.zeros((nblocks, NQ, L, BLOCK))
        e = self.edges["wigner"]
        wb = 0 if e is None else e.size - 1
        self.wigner = (np.zeros((nworkers, L if wb else 0, wb, wb), dtype=np.int64),
                       0.0 if e is None else float(e[0]),  # lo, and inv = bins / (hi − lo)
                       0.0 if e is None else wb / (e[-1] - e[0]))
        self.p, self.u = (self._per_batch(self.edges[k], nworkers, nb, L) for k in ("p", "u"))

    @staticmethod
    def _per_batch(edges, nworkers: int, nb: int, L: int) -> tuple[np.ndarray, float, float]:
        """(counts (nworkers, nb, L, bins), lo, width) of a per-batch 1-D histogram."""
        if edges is None:
            return np.zeros((nworkers, 0, 0, 0), dtype=np.int64), 0.0, 1.0
        return (np.zeros((nworkers, nb, L, edges.size - 1), dtype=np.int64), float(edges[0]),
                float(edges[1] - edges[0]))

    @classmethod
    def none(cls) -> "Accumulators":
        """Empty buffers, for runs that do not sample (``every`` = 0: never touched)."""
        return cls(0, 1, 1, 1)

    def sampler(self, every: int) -> Sampler:
        """The kernel's view: a sample every ``every`` steps (0: none)."""
        return Sampler(int(every), int(self.centre), int(self.n_traj), self.batch, self.moments,
                       *self.wigner, *self.p, *self.u)

    def trajectory_sums(self) -> np.ndarray:
        """Moment sums over the samples of each real trajectory, (NQ, L, n_traj), rows in
        :data:`NAMES` order."""
        m = self.moments
        return m.transpose(1, 2, 0, 3).reshape(NQ, self.L, -1)[..., :self.n_traj]

    def counts(self, name: str) -> np.ndarray:
        """Integer counts of histogram ``name``: wigner (L, bins, bins); p, u (L, batch, bins)."""
        if name not in HISTOGRAMS:
            raise ValueError(f"unknown histogram {name!r}; valid: {', '.join(HISTOGRAMS)}")
        if self.edges[name] is None:
            raise ValueError(f"histogram {name!r} was not accumulated")
        h = getattr(self, name)[0].sum(0)
        return h if name == "wigner" else h.transpose(1, 0, 2)


def window_edges(wigner_grid=None, p_grid=None, radial_grid=None) -> dict[str, np.ndarray | None]:
    """Validated bin edges of the histograms asked for (``ValueError`` naming the argument)."""
    return {"wigner": None if wigner_grid is None else grid_edges("wigner_grid", wigner_grid),
            "p": None if p_grid is None else grid_edges("p_grid", p_grid),
            "u": None if radial_grid is None else radial_edges("radial_grid", radial_grid)}
