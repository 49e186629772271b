"""Per-trajectory values at one time (serial, without the GIL: a few flops per value, far less
than the start-up of a parallel region): the registry moments of every trajectory
(:func:`snapshot`, for time series) and the phase decorrelation of OTOC replica pairs
(:func:`pair_decorrelation`, Eq. 15)."""
from __future__ import annotations

import numpy as np
from numba import njit

from .sample import NQ, site_moments
from .step import BLOCK


@njit(cache=True, nogil=True, error_model="numpy")
def snapshot(xr, xi, centre, out):
    """out (NQ, L, nblocks · BLOCK): the values of :data:`.sample.MOMENTS` of every site and lane
    at the current time (g1 pair with site ``centre``)."""
    nblocks, Lp2, _ = xr.shape
    for b in range(nblocks):
        for l in range(1, Lp2 - 1):
            for j in range(BLOCK):
                v = site_moments(xr[b, l, j], xi[b, l, j], xr[b, centre, j], xi[b, centre, j])
                for k in range(NQ):
                    out[k, l - 1, b * BLOCK + j] = v[k]


@njit(cache=True, nogil=True, error_model="numpy")
def pair_decorrelation(xr, xi, out):
    """1 − cos(φ_a − φ_b) for replica pairs (lane j, lane j + BLOCK/2): out (L, nblocks · BLOCK/2).

    With p = |a||b|, a·b = p cos θ and a×b = p sin θ, 1 − cos θ = (a×b)²/[p (p + a·b)] has no
    cancellation for a·b ≥ 0 (resolves D down to the underflow, not to 1e-16); for a·b < 0 the
    direct (p − a·b)/p is exact. A pair with a zero amplitude counts as undecorrelated (0)."""
    nblocks, Lp2, _ = xr.shape
    half = BLOCK // 2
    for b in range(nblocks):
        for l in range(1, Lp2 - 1):
            for j in range(half):
                ar = xr[b, l, j]
                ai = xi[b, l, j]
                br = xr[b, l, j + half]
                bi = xi[b, l, j + half]
                p = np.sqrt((ar * ar + ai * ai) * (br * br + bi * bi))
                dot = ar * br + ai * bi
                cross = ar * bi - ai * br
                if p == 0.0:
                    d = 0.0
                elif dot >= 0.0:
                    d = cross * cross / (p * (p + dot))
                else:
                    d = (p - dot) / p
                out[l - 1, b * half + j] = d
