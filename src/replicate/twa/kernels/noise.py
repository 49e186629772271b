"""Counter-free per-trajectory Gaussian noise: xoshiro256+ and a branch-free Box-Muller.

Every trajectory owns a xoshiro256+ state of four ``uint64`` words, taken from
``numpy.random.SeedSequence(seed).generate_state(4 * n)`` (trajectory ``k`` gets words
``4k..4k+3``; the prefix does not depend on ``n``). A trajectory's noise therefore depends only on
``(seed, k)``: never on the number of threads, the block size or ``n_traj``.

The normal pair uses only +, −, ×, ÷ and sqrt (a polynomial log and sincos), so numba vectorises
it across trajectories without SVML, and the NumPy reference reproduces it bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_M53 = 1.0 / 9007199254740992.0  # 2**-53
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_TWO_PI = 6.283185307179586
_PI = 3.141592653589793


def seed_states(seed: int, n: int) -> np.ndarray:
    """xoshiro256+ states, shape (n, 4) uint64, for trajectories 0..n-1 of ``seed``."""
    words = np.random.SeedSequence(seed).generate_state(4 * n, dtype=np.uint64).reshape(n, 4)
    words[:, 0] |= np.uint64(1)  # never the all-zero state
    return words


@njit(cache=True, inline="always", error_model="numpy")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always", error_model="numpy")
def xoshiro_next(s0, s1, s2, s3):
    """One xoshiro256+ step: returns (output, s0, s1, s2, s3)."""
    out = s0 + s3
    t = s1 << np.uint64(17)
    s2 = s2 ^ s0
    s3 = s3 ^ s1
    s1 = s1 ^ s2
    s0 = s0 ^ s3
    s2 = s2 ^ t
    s3 = _rotl(s3, 45)
    return out, s0, s1, s2, s3


@njit(cache=True, inline="always", error_model="numpy")
def normal_pair(x1, x2):
    """Two independent N(0,1) numbers from two uint64 words (Box-Muller, top 53 bits)."""
    # u1 = n 2^-53 in (0, 1]; log n = k ln2 + log m, m = n 2^-k in [1, 2)
    n0 = (x1 >> np.uint64(11)) + np.uint64(1)
    n = n0
    k = 0.0
    scale = 1.0
    c = n >= np.uint64(4294967296)
    n = (n >> np.uint64(32)) if c else n
    k = (k + 32.0) if c else k
    scale = (scale * 2.3283064365386963e-10) if c else scale
    c = n >= np.uint64(65536)
    n = (n >> np.uint64(16)) if c else n
    k = (k + 16.0) if c else k
    scale = (scale * 1.52587890625e-05) if c else scale
    c = n >= np.uint64(256)
    n = (n >> np.uint64(8)) if c else n
    k = (k + 8.0) if c else k
    scale = (scale * 0.00390625) if c else scale
    c = n >= np.uint64(16)
    n = (n >> np.uint64(4)) if c else n
    k = (k + 4.0) if c else k
    scale = (scale * 0.0625) if c else scale
    c = n >= np.uint64(4)
    n = (n >> np.uint64(2)) if c else n
    k = (k + 2.0) if c else k
    scale = (scale * 0.25) if c else scale
    c = n >= np.uint64(2)
    k = (k + 1.0) if c else k
    scale = (scale * 0.5) if c else scale
    m = np.float64(np.int64(n0)) * scale
    c = m > _SQRT2
    m = (m * 0.5) if c else m
    k = (k + 1.0) if c else k
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = 0.047619047619047616  # 1/21
    p = p * s2 + 0.05263157894736842
    p = p * s2 + 0.058823529411764705
    p = p * s2 + 0.06666666666666667
    p = p * s2 + 0.07692307692307693
    p = p * s2 + 0.09090909090909091
    p = p * s2 + 0.1111111111111111
    p = p * s2 + 0.14285714285714285
    p = p * s2 + 0.2
    p = p * s2 + 0.3333333333333333
    p = p * s2 + 1.0
    log_u = (k - 53.0) * _LN2 + 2.0 * s * p
    r = np.sqrt(-2.0 * log_u)
    # angle theta = 2 pi u2 - pi; sincos(theta/8) by Taylor, then three double-angle steps
    u2 = np.float64(np.int64(x2 >> np.uint64(11))) * _M53
    x = (u2 * _TWO_PI - _PI) * 0.125
    x2s = x * x
    c = 2.08767569878681e-09
    c = c * x2s - 2.755731922398589e-07
    c = c * x2s + 2.48015873015873e-05
    c = c * x2s - 0.001388888888888889
    c = c * x2s + 0.041666666666666664
    c = c * x2s - 0.5
    c = c * x2s + 1.0
    sn = 1.6059043836821613e-10
    sn = sn * x2s - 2.505210838544172e-08
    sn = sn * x2s + 2.7557319223985893e-06
    sn = sn * x2s - 0.0001984126984126984
    sn = sn * x2s + 0.008333333333333333
    sn = sn * x2s - 0.16666666666666666
    sn = sn * x2s + 1.0
    sn = sn * x
    sn, c = 2.0 * sn * c, (c - sn) * (c + sn)
    sn, c = 2.0 * sn * c, (c - sn) * (c + sn)
    sn, c = 2.0 * sn * c, (c - sn) * (c + sn)
    return r * c, r * sn


def normal_pair_numpy(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array version of :func:`normal_pair` (same operations, bitwise equal)."""
    n = (x1 >> np.uint64(11)) + np.uint64(1)
    k = np.zeros(n.shape)
    scale = np.ones(n.shape)
    for bits, sc in ((32, 2.3283064365386963e-10), (16, 1.52587890625e-05), (8, 0.00390625),
                     (4, 0.0625), (2, 0.25)):
        c = n >= np.uint64(2**bits)
        n = np.where(c, n >> np.uint64(bits), n)
        k = np.where(c, k + float(bits), k)
        scale = np.where(c, scale * sc, scale)
    c = n >= np.uint64(2)
    k = np.where(c, k + 1.0, k)
    scale = np.where(c, scale * 0.5, scale)
    m = ((x1 >> np.uint64(11)) + np.uint64(1)).astype(np.int64).astype(np.float64) * scale
    c = m > _SQRT2
    m = np.where(c, m * 0.5, m)
    k = np.where(c, k + 1.0, k)
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = 0.047619047619047616
    for coef in (0.05263157894736842, 0.058823529411764705, 0.06666666666666667,
                 0.07692307692307693, 0.09090909090909091, 0.1111111111111111,
                 0.14285714285714285, 0.2, 0.3333333333333333, 1.0):
        p = p * s2 + coef
    log_u = (k - 53.0) * _LN2 + 2.0 * s * p
    r = np.sqrt(-2.0 * log_u)
    u2 = (x2 >> np.uint64(11)).astype(np.int64).astype(np.float64) * _M53
    x = (u2 * _TWO_PI - _PI) * 0.125
    x2s = x * x
    c = 2.08767569878681e-09
    for coef in (-2.755731922398589e-07, 2.48015873015873e-05, -0.001388888888888889,
                 0.041666666666666664, -0.5, 1.0):
        c = c * x2s + coef
    sn = 1.6059043836821613e-10
    for coef in (-2.505210838544172e-08, 2.7557319223985893e-06, -0.0001984126984126984,
                 0.008333333333333333, -0.16666666666666666, 1.0):
        sn = sn * x2s + coef
    sn = sn * x
    for _ in range(3):
        sn, c = 2.0 * sn * c, (c - sn) * (c + sn)
    return r * c, r * sn


def xoshiro_next_numpy(s: np.ndarray) -> np.ndarray:
    """Array xoshiro256+ step on states ``s`` of shape (4, n), in place; returns the outputs."""
    out = s[0] + s[3]
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = (s[3] << np.uint64(45)) | (s[3] >> np.uint64(19))
    return out
