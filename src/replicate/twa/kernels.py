"""Numba kernels for the truncated-Wigner SDE, Eq. (4) (SI Eq. 31), and its classical limit, Eq. (35).

Layout (structure of arrays): the state of a block of ``BLOCK`` trajectories is two float64 arrays
``xr, xi`` of shape (L + 2, BLOCK) (Re α, Im α), trajectories innermost and contiguous; rows 0
and L + 1 are zero pads (open chain, α_0 = α_{L+1} = 0). All blocks: shape (nblocks, L + 2, BLOCK).
``prange`` runs over workers, each taking blocks w, w + nworkers, ...; each trajectory carries its
own xoshiro256+ state (``rng``: (nblocks, 4, BLOCK) uint64), so the numbers do not depend on the
thread count.

Drift of Eq. (4) with w_ℓ = w0 + U|α_ℓ|² (w0 = −Δ − U quantum, −Δ classical):
    d Re α = [ w Im α − J (Im α_{ℓ−1} + Im α_{ℓ+1}) − g_ℓ Re α ] dt
    d Im α = [ J (Re α_{ℓ−1} + Re α_{ℓ+1}) − w Re α − F_ℓ − g_ℓ Im α ] dt
with g_ℓ = γ_ℓ / 2, plus noise amp_ℓ (ξ1 + i ξ2), amp_ℓ = sqrt(γ_ℓ dt) / 2 (⟨dW dW*⟩ = dt).
Heun (weak order 2 for additive noise): p = x + f(x) dt + η, x' = x + [f(x) + f(p)] dt/2 + η, with
the same η in both stages. Euler-Maruyama: x' = x + f(x) dt + η.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .noise import normal_pair, xoshiro_next

BLOCK = 64  # trajectories per block (a compile-time constant: the lane loops are fully vectorised)
NQ = 10  # sampled: |α|², |α|⁴, Re α, Im α, cos φ, sin φ, Re(α_c* α), Im(α_c* α), (Re α)², (Im α)²
HEUN, EULER = 0, 1


@njit(cache=True, inline="always", error_model="numpy")
def _normals(rng, zr, zi, k):
    """One standard normal pair per lane into zr[k], zi[k] (advances the lane streams)."""
    for j in range(BLOCK):
        o1, s0, s1, s2, s3 = xoshiro_next(rng[0, j], rng[1, j], rng[2, j], rng[3, j])
        o2, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
        rng[0, j] = s0
        rng[1, j] = s1
        rng[2, j] = s2
        rng[3, j] = s3
        zr[k, j], zi[k, j] = normal_pair(o1, o2)


@njit(cache=True, inline="always", error_model="numpy")
def _draw_noise(rng, zr, zi, nrows, nsub, inv_sqrt_nsub):
    """Rows 0..nrows-1 of zr, zi: sum of ``nsub`` normal pairs / sqrt(nsub) (row index fastest).

    Row ``nrows`` is scratch for the extra draws when ``nsub`` > 1 (noise-convergence tests).
    """
    for k in range(nrows):
        _normals(rng, zr, zi, k)
    for _ in range(1, nsub):
        for k in range(nrows):
            _normals(rng, zr, zi, nrows)
            for j in range(BLOCK):
                zr[k, j] += zr[nrows, j]
                zi[k, j] += zi[nrows, j]
    if nsub > 1:
        for k in range(nrows):
            for j in range(BLOCK):
                zr[k, j] *= inv_sqrt_nsub
                zi[k, j] *= inv_sqrt_nsub


@njit(cache=True, inline="always", error_model="numpy")
def _drift(ar, ai, nbr_r, nbr_i, w0, U, J, F, gl):
    """Drift of Eq. (4) for one site and lane: (d Re α, d Im α)/dt, given the sums of the two
    neighbours' real and imaginary parts."""
    w = w0 + U * (ar * ar + ai * ai)
    return w * ai - J * nbr_i - gl * ar, J * nbr_r - w * ar - F - gl * ai


@njit(cache=True, error_model="numpy")
def advance_block(xr, xi, rng, nsteps, method, dt, w0, U, J, drive, g, amp, noise_row, nrows,
                  nsub, pr, pi, tr, ti, zr, zi):
    """Advance one block by ``nsteps`` steps in place (scratch arrays pr, pi, tr, ti, zr, zi)."""
    L = xr.shape[0] - 2
    hdt = 0.5 * dt
    inv = 1.0 / np.sqrt(nsub)
    for _ in range(nsteps):
        if nrows > 0:
            _draw_noise(rng, zr, zi, nrows, nsub, inv)
        for l in range(1, L + 1):
            F = drive[l]
            gl = g[l]
            row = noise_row[l]
            a = amp[l]
            for j in range(BLOCK):
                ar = xr[l, j]
                ai = xi[l, j]
                fr, fi = _drift(ar, ai, xr[l - 1, j] + xr[l + 1, j], xi[l - 1, j] + xi[l + 1, j],
                                w0, U, J, F, gl)
                if row >= 0:
                    nr = a * zr[row, j]
                    ni = a * zi[row, j]
                else:
                    nr = 0.0
                    ni = 0.0
                pr[l, j] = ar + dt * fr + nr
                pi[l, j] = ai + dt * fi + ni
                tr[l, j] = ar + hdt * fr + nr
                ti[l, j] = ai + hdt * fi + ni
            if l >= 2:
                _finish_site(l - 1, xr, xi, pr, pi, tr, ti, method, hdt, w0, U, J, drive, g)
        _finish_site(L, xr, xi, pr, pi, tr, ti, method, hdt, w0, U, J, drive, g)


@njit(cache=True, inline="always", error_model="numpy")
def _finish_site(l, xr, xi, pr, pi, tr, ti, method, hdt, w0, U, J, drive, g):
    """Write the new state of site l (Heun corrector at the predictor p, or the Euler value)."""
    if method == EULER:
        for j in range(BLOCK):
            xr[l, j] = pr[l, j]
            xi[l, j] = pi[l, j]
        return
    F = drive[l]
    gl = g[l]
    for j in range(BLOCK):
        fr, fi = _drift(pr[l, j], pi[l, j], pr[l - 1, j] + pr[l + 1, j], pi[l - 1, j] + pi[l + 1, j],
                        w0, U, J, F, gl)
        xr[l, j] = tr[l, j] + hdt * fr
        xi[l, j] = ti[l, j] + hdt * fi


@njit(cache=True, error_model="numpy")
def _finite(xr, xi):
    for l in range(xr.shape[0]):
        for j in range(BLOCK):
            if not (np.isfinite(xr[l, j]) and np.isfinite(xi[l, j])):
                return False
    return True


@njit(cache=True, error_model="numpy")
def _sample(xr, xi, acc, centre, hist, hlo, hinv, hbins, nvalid):
    """Add the sampled quantities of every site and lane to ``acc`` (NQ, L, BLOCK).

    The first ``nvalid`` lanes (real, not padding trajectories) also go into ``hist`` (L, bins, bins).
    """
    L = xr.shape[0] - 2
    for l in range(1, L + 1):
        for j in range(BLOCK):
            ar = xr[l, j]
            ai = xi[l, j]
            q = ar * ar + ai * ai
            rinv = 1.0 / np.sqrt(q) if q > 0.0 else 0.0
            cr = xr[centre, j]
            ci = xi[centre, j]
            acc[0, l - 1, j] += q
            acc[1, l - 1, j] += q * q
            acc[2, l - 1, j] += ar
            acc[3, l - 1, j] += ai
            acc[4, l - 1, j] += ar * rinv
            acc[5, l - 1, j] += ai * rinv
            acc[6, l - 1, j] += cr * ar + ci * ai
            acc[7, l - 1, j] += cr * ai - ci * ar
            acc[8, l - 1, j] += ar * ar
            acc[9, l - 1, j] += ai * ai
    if hbins > 0:
        for l in range(1, L + 1):
            for j in range(nvalid):
                br = np.floor((xr[l, j] - hlo) * hinv)
                bi = np.floor((xi[l, j] - hlo) * hinv)
                if 0.0 <= br < hbins and 0.0 <= bi < hbins:
                    hist[l - 1, int(br), int(bi)] += 1


@njit(cache=True, error_model="numpy")
def _worker(w, xr, xi, rng, nsteps, sample_every, method, dt, w0, U, J, drive, g, amp, noise_row,
            nrows, nsub, acc, centre, hist, hlo, hinv, hbins, ntraj, nworkers, ok):
    """Worker ``w`` of :func:`run`: blocks w, w + nworkers, ... with its own scratch arrays."""
    nblocks, Lp2, _ = xr.shape
    pr = np.zeros((Lp2, BLOCK))
    pi = np.zeros((Lp2, BLOCK))
    tr = np.zeros((Lp2, BLOCK))
    ti = np.zeros((Lp2, BLOCK))
    zr = np.zeros((nrows + 1, BLOCK))
    zi = np.zeros((nrows + 1, BLOCK))
    for b in range(w, nblocks, nworkers):
        if not ok[b]:
            continue
        if sample_every > 0:
            for _ in range(nsteps // sample_every):
                advance_block(xr[b], xi[b], rng[b], sample_every, method, dt, w0, U, J, drive,
                              g, amp, noise_row, nrows, nsub, pr, pi, tr, ti, zr, zi)
                _sample(xr[b], xi[b], acc[b], centre, hist[w], hlo, hinv, hbins,
                        min(BLOCK, ntraj - b * BLOCK))
        else:
            advance_block(xr[b], xi[b], rng[b], nsteps, method, dt, w0, U, J, drive, g, amp,
                          noise_row, nrows, nsub, pr, pi, tr, ti, zr, zi)
        ok[b] = _finite(xr[b], xi[b])


@njit(cache=True, parallel=True, error_model="numpy")
def run(xr, xi, rng, nsteps, sample_every, method, dt, w0, U, J, drive, g, amp, noise_row, nrows,
        nsub, acc, centre, hist, hlo, hinv, hbins, ntraj, nworkers, ok):
    """Advance all blocks by ``nsteps``; if ``sample_every`` > 0, sample every that many steps.

    ``acc`` is (nblocks, NQ, L, BLOCK) or empty; ``hist`` is (nworkers, L, hbins, hbins) int64;
    ``ok[b]`` is set False when block b holds a non-finite value. Workers run in parallel.
    """
    for w in prange(nworkers):
        _worker(w, xr, xi, rng, nsteps, sample_every, method, dt, w0, U, J, drive, g, amp,
                noise_row, nrows, nsub, acc, centre, hist, hlo, hinv, hbins, ntraj, nworkers, ok)


@njit(cache=True, nogil=True, error_model="numpy")
def run_serial(xr, xi, rng, nsteps, sample_every, method, dt, w0, U, J, drive, g, amp, noise_row,
               nrows, nsub, acc, centre, hist, hlo, hinv, hbins, ntraj, nworkers, ok):
    """:func:`run` on the calling thread without the GIL (no parallel region: for a single worker,
    whose thread-team start-up would cost more than the work on a busy machine, and for sweeps
    that run independent points on several Python threads). Same numbers."""
    for w in range(nworkers):
        _worker(w, xr, xi, rng, nsteps, sample_every, method, dt, w0, U, J, drive, g, amp,
                noise_row, nrows, nsub, acc, centre, hist, hlo, hinv, hbins, ntraj, nworkers, ok)


@njit(cache=True, nogil=True, error_model="numpy")
def snapshot(xr, xi, out):
    """Per-trajectory values at one time: out (6, L, nblocks * BLOCK) = |α|², |α|⁴, Re, Im, cos, sin.

    Serial (a few flops per value: a parallel region would cost more), without the GIL."""
    nblocks, Lp2, _ = xr.shape
    for b in range(nblocks):
        for l in range(1, Lp2 - 1):
            for j in range(BLOCK):
                ar = xr[b, l, j]
                ai = xi[b, l, j]
                q = ar * ar + ai * ai
                rinv = 1.0 / np.sqrt(q) if q > 0.0 else 0.0
                k = b * BLOCK + j
                out[0, l - 1, k] = q
                out[1, l - 1, k] = q * q
                out[2, l - 1, k] = ar
                out[3, l - 1, k] = ai
                out[4, l - 1, k] = ar * rinv
                out[5, l - 1, k] = ai * rinv


@njit(cache=True, nogil=True, error_model="numpy")
def pair_decorrelation(xr, xi, out):
    """1 − cos(φ_a − φ_b) for replica pairs (lane j, lane j + BLOCK/2): out (L, nblocks * BLOCK/2).

    With p = |a||b|, a·b = p cos θ and a×b = p sin θ, 1 − cos θ = (a×b)²/[p (p + a·b)] has no
    cancellation for a·b ≥ 0 (resolves D down to the underflow, not to 1e-16); for a·b < 0 the
    direct (p − a·b)/p is exact. A pair with a zero amplitude counts as undecorrelated (0).
    Serial: a few flops per pair, far less than the start-up of a parallel region."""
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
