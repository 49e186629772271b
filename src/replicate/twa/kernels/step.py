"""Integrators of the truncated-Wigner SDE, Eq. (4) (SI Eq. 31), and of its classical limit, Eq. (35).

Layout (structure of arrays): a block of ``BLOCK`` trajectories is two float64 arrays ``xr, xi``
of shape (L + 2, BLOCK) (Re α, Im α), trajectories innermost and contiguous; rows 0 and L + 1 are
zero pads (open chain, α_0 = α_{L+1} = 0). Each trajectory carries its own xoshiro256+ state
(``rng``: (4, BLOCK) uint64 per block, :mod:`.noise`), so the numbers do not depend on the thread
count.

Drift of Eq. (4) with w_ℓ = w0 + U|α_ℓ|² (w0 = −Δ − U quantum, −Δ classical):

    d Re α = [ w Im α − J (Im α_{ℓ−1} + Im α_{ℓ+1}) − g_ℓ Re α ] dt
    d Im α = [ J (Re α_{ℓ−1} + Re α_{ℓ+1}) − w Re α − F_ℓ − g_ℓ Im α ] dt

with g_ℓ = γ_ℓ / 2, plus the noise amp_ℓ (ξ1 + i ξ2), amp_ℓ = sqrt(γ_ℓ dt) / 2 (⟨dW dW*⟩ = dt),
on the lossy sites only.

Integrators (codes in :data:`INTEGRATORS`), each a function ``(xr, xi, rng, nsteps, c, ws)``
that advances one block by ``nsteps`` steps in place, given the :class:`Coefficients` ``c`` and
the scratch :class:`Workspace` ``ws``:

- :func:`heun` (weak order 2 for additive noise): p = x + f(x) dt + η,
  x' = x + [f(x) + f(p)] dt/2 + η, the same η in both stages;
- :func:`euler` (Euler-Maruyama): x' = x + f(x) dt + η;
- :func:`.split.split` (Strang splitting into exact Kerr, bath and hopping flows, weak order 2,
  no stability limit; in :mod:`.split`).

A new integrator is one such function, a code, an entry in :data:`INTEGRATORS` and one branch of
:func:`advance`; extra coefficients or scratch go into :class:`Coefficients` / :class:`Workspace`.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .noise import normal_pair, xoshiro_next

BLOCK = 64  # trajectories per block (a compile-time constant: the lane loops are fully vectorised)
HEUN, EULER, SPLIT = 0, 1, 2
INTEGRATORS = {"heun": HEUN, "euler": EULER, "split": SPLIT}

Coefficients = namedtuple("Coefficients", ("dt", "w0", "U", "J", "drive", "g", "amp", "noise_row",
                                           "nrows", "nsub", "hop", "phase", "bath", "decay",
                                           "kick", "ou_decay", "ou_amp"))
Coefficients.__doc__ = """Coefficients of Eq. (4) for the kernels (arrays padded to L + 2 rows).

dt : time step; w0 : −Δ − U (quantum) or −Δ (classical); U, J : Kerr and hopping;
drive : F_ℓ; g : γ_ℓ / 2; amp : noise amplitude sqrt(γ_ℓ dt) / 2 (0 where there is no noise);
noise_row : row of site ℓ in the per-step noise draw (−1: no noise); nrows : noisy sites;
nsub : normal pairs summed per increment (the noise-convergence tests: coarse increments as
sums of fine ones; for the split step, sub-intervals of each half bath step, :mod:`.split`);
hop, phase, bath, decay, kick, ou_decay, ou_amp : the split-step factors of
:func:`.split.split_fields` (unused by Heun and Euler)."""

Workspace = namedtuple("Workspace", ("pr", "pi", "tr", "ti", "zr", "zi"))
Workspace.__doc__ = """Per-worker scratch of the integrators: the predictor p (pr, pi), the Heun
partial update t = x + f(x) dt/2 + η (tr, ti), and the noise draw (zr, zi; one scratch row more)."""


def coefficients(params, dt: float, *, classical: bool, noise_substeps: int) -> Coefficients:
    """The :class:`Coefficients` of a chain (``ChainParams``) at step ``dt``; no noise if
    ``classical`` (Eq. 35)."""
    L = params.L
    drive = np.zeros(L + 2)
    drive[1:-1] = params.drive_profile()
    gam = np.zeros(L + 2)
    gam[1:-1] = params.loss_profile()
    noise_row = np.full(L + 2, -1, dtype=np.int64)
    amp = np.zeros(L + 2)
    if not classical:
        noisy = np.flatnonzero(gam > 0)
        noise_row[noisy] = np.arange(noisy.size)
        amp[noisy] = 0.5 * np.sqrt(gam[noisy] * dt)
    w0 = -params.Delta - (0.0 if classical else params.U)
    extra = split_fields(params, dt, classical=classical, noise_substeps=noise_substeps,
                         noise_row=noise_row, w0=w0)
    return Coefficients(float(dt), float(w0), float(params.U), float(params.J), drive, 0.5 * gam,
                        amp, noise_row, int((noise_row >= 0).sum()), int(noise_substeps), **extra)


@njit(cache=True, error_model="numpy")
def workspace(Lp2, nrows):
    """A zeroed :class:`Workspace` for blocks of Lp2 = L + 2 rows and ``nrows`` noisy sites."""
    return Workspace(np.zeros((Lp2, BLOCK)), np.zeros((Lp2, BLOCK)), np.zeros((Lp2, BLOCK)),
                     np.zeros((Lp2, BLOCK)), np.zeros((nrows + 1, BLOCK)),
                     np.zeros((nrows + 1, BLOCK)))


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
def draw_noise(rng, c, ws):
    """Standard normal pairs of one step into rows 0..nrows-1 of ws.zr, ws.zi (row index fastest):
    the sum of ``c.nsub`` pairs / sqrt(nsub). Row ``nrows`` is scratch for the extra draws."""
    zr, zi, nrows, nsub = ws.zr, ws.zi, c.nrows, c.nsub
    for k in range(nrows):
        _normals(rng, zr, zi, k)
    for _ in range(1, nsub):
        for k in range(nrows):
            _normals(rng, zr, zi, nrows)
            for j in range(BLOCK):
                zr[k, j] += zr[nrows, j]
                zi[k, j] += zi[nrows, j]
    if nsub > 1:
        inv = 1.0 / np.sqrt(nsub)
        for k in range(nrows):
            for j in range(BLOCK):
                zr[k, j] *= inv
                zi[k, j] *= inv


@njit(cache=True, inline="always", error_model="numpy")
def drift(ar, ai, nbr_r, nbr_i, w0, U, J, F, gl):
    """Drift of Eq. (4) for one site and lane: (d Re α, d Im α)/dt, given the sums of the two
    neighbours' real and imaginary parts."""
    w = w0 + U * (ar * ar + ai * ai)
    return w * ai - J * nbr_i - gl * ar, J * nbr_r - w * ar - F - gl * ai


@njit(cache=True, inline="always", error_model="numpy")
def _euler_site(l, xr, xi, c, ws, with_half):
    """Euler predictor p = x + f(x) dt + η of site l into ws.pr, ws.pi; if ``with_half``, also
    the Heun partial update t = x + f(x) dt/2 + η into ws.tr, ws.ti."""
    dt, hdt = c.dt, 0.5 * c.dt
    F, gl, row, a = c.drive[l], c.g[l], c.noise_row[l], c.amp[l]
    pr, pi, tr, ti, zr, zi = ws
    for j in range(BLOCK):
        ar = xr[l, j]
        ai = xi[l, j]
        fr, fi = drift(ar, ai, xr[l - 1, j] + xr[l + 1, j], xi[l - 1, j] + xi[l + 1, j],
                       c.w0, c.U, c.J, F, gl)
        if row >= 0:
            nr = a * zr[row, j]
            ni = a * zi[row, j]
        else:
            nr = 0.0
            ni = 0.0
        pr[l, j] = ar + dt * fr + nr
        pi[l, j] = ai + dt * fi + ni
        if with_half:
            tr[l, j] = ar + hdt * fr + nr
            ti[l, j] = ai + hdt * fi + ni


@njit(cache=True, inline="always", error_model="numpy")
def _heun_corrector(l, xr, xi, c, ws):
    """Heun corrector of site l: x' = t + f(p) dt/2 (needs p at l − 1, l, l + 1)."""
    hdt = 0.5 * c.dt
    F, gl = c.drive[l], c.g[l]
    pr, pi, tr, ti = ws.pr, ws.pi, ws.tr, ws.ti
    for j in range(BLOCK):
        fr, fi = drift(pr[l, j], pi[l, j], pr[l - 1, j] + pr[l + 1, j], pi[l - 1, j] + pi[l + 1, j],
                       c.w0, c.U, c.J, F, gl)
        xr[l, j] = tr[l, j] + hdt * fr
        xi[l, j] = ti[l, j] + hdt * fi


@njit(cache=True, inline="always", error_model="numpy")
def _copy_site(l, xr, xi, ws):
    for j in range(BLOCK):
        xr[l, j] = ws.pr[l, j]
        xi[l, j] = ws.pi[l, j]


@njit(cache=True, error_model="numpy")
def heun(xr, xi, rng, nsteps, c, ws):
    """``nsteps`` Heun steps of one block in place. Site by site: the predictor of site l, then
    the corrector of site l − 1, whose neighbours' predictors are then known (one pass)."""
    L = xr.shape[0] - 2
    for _ in range(nsteps):
        if c.nrows > 0:
            draw_noise(rng, c, ws)
        for l in range(1, L + 1):
            _euler_site(l, xr, xi, c, ws, True)
            if l >= 2:
                _heun_corrector(l - 1, xr, xi, c, ws)
        _heun_corrector(L, xr, xi, c, ws)


@njit(cache=True, error_model="numpy")
def euler(xr, xi, rng, nsteps, c, ws):
    """``nsteps`` Euler-Maruyama steps of one block in place (site l − 1 is written back once
    site l, its last reader, has its new value)."""
    L = xr.shape[0] - 2
    for _ in range(nsteps):
        if c.nrows > 0:
            draw_noise(rng, c, ws)
        for l in range(1, L + 1):
            _euler_site(l, xr, xi, c, ws, False)
            if l >= 2:
                _copy_site(l - 1, xr, xi, ws)
        _copy_site(L, xr, xi, ws)


@njit(cache=True, error_model="numpy")
def advance(xr, xi, rng, nsteps, method, c, ws, edges):
    """Advance one block by ``nsteps`` steps of the integrator ``method`` (:data:`INTEGRATORS`).
    ``edges`` (bits :data:`.split.OPEN`, :data:`.split.CLOSE`): where the split step's fused
    half Kerr rotations open and close (:func:`.split.split`); ignored by Heun and Euler."""
    if method == HEUN:
        heun(xr, xi, rng, nsteps, c, ws)
    elif method == EULER:
        euler(xr, xi, rng, nsteps, c, ws)
    elif method == SPLIT:
        split(xr, xi, rng, nsteps, c, ws, edges)


# the split-step kernel and its factors (last: split.py imports BLOCK, SPLIT and _normals from here)
from .split import split, split_fields  # noqa: E402
