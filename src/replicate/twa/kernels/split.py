"""Split-step (Strang) integrator of Eq. (4) and of its classical limit, Eq. (35).

Eq. (4) is a sum of three parts whose flows are known in closed form:

- on-site detuning and Kerr, dα = −i w(|α|²) α dt with w = w0 + U|α|² (w0 = −Δ − U quantum,
  −Δ classical, :mod:`.step`): |α| is conserved, so A(τ): α ← α e^{iφ}, φ = −w τ;
- bath (loss, drive, noise) of site ℓ, dα = (−g α − iF) dt + amp dW (g = γ_ℓ/2, ⟨dW dW*⟩ = dt,
  Re and Im of the noise each of variance γ_ℓ dt/4, as the Heun kernels scale it): an
  Ornstein-Uhlenbeck process, B(τ): α ← e^{−gτ} α − iF (1 − e^{−gτ})/g + η with Re η, Im η
  independent N(0, (1 − e^{−γ_ℓ τ})/4), i.e. ⟨|η|²⟩ = (1 − e^{−γ_ℓ τ})/2 (exact for any τ; the
  stationary variance 1/4 of the vacuum is kept exactly);
- hopping, dα_ℓ = iJ(α_{ℓ−1} + α_{ℓ+1}) dt (the sign of the Heun drift, J nbr in d Im α): on one
  bond (a, b) alone the exact flow is the rotation a ← cos(Jτ) a + i sin(Jτ) b,
  b ← cos(Jτ) b + i sin(Jτ) a; the "even" bonds (1,2), (3,4), ... commute with one another,
  and so do the "odd" bonds (2,3), (4,5), ..., so H_e(τ) and H_o(τ) are exact too.

One step of length h is the symmetric (Strang) composition

    A(h/2) B(h/2) H_e(h/2) H_o(h) H_e(h/2) B(h/2) A(h/2),

applied left to right. Order: each piece samples the transition law of its own part of the
Fokker-Planck generator L = L_A + L_B + L_e + L_o exactly (the noise is additive and lives only in
the linear OU part), so the step's transition operator is the symmetric product
e^{hL_A/2} e^{hL_B/2} e^{hL_e/2} e^{hL_o} e^{hL_e/2} e^{hL_B/2} e^{hL_A/2} of exact
sub-semigroups. By the Baker-Campbell-Hausdorff expansion its local weak error is O(h³) (the
symmetry cancels the h² commutators), so the scheme has weak order 2 for smooth observables,
deterministic order 2 (classical runs) and strong order 1 (additive noise), as the BAOAB/OBABO
Langevin splittings with an exact OU step of Leimkuhler and Matthews (2013) and the second-order
ABA splittings of the discrete nonlinear Schrödinger equation into exact on-site and hopping
flows (Skokos and coworkers). Each piece is norm-preserving (A, H) or contracting towards a
bounded drive (B), so no trajectory can blow up whatever the step: the step is limited by
accuracy, not stability (:func:`check_dt`). Also exact at any step: the vacuum (F = 0) is
stationary (A is a phase rotation, H unitary, B keeps Re, Im ~ N(0, 1/4)), and at U = 0 a
Wigner covariance ½·1 (vacuum or coherent start) stays exact (only the mean carries an O(h²)
error).

Noise and consistent step halving: each half bath step B(h/2) draws its own normal pair per
noisy site, with the engine's per-step draw (the same xoshiro streams and Box-Muller as Heun, in
the same row order: all noisy sites of sub-interval 0, then of sub-interval 1, ...). With
``noise_substeps`` = m, the half step is cut into m sub-intervals of δ = h/(2m) and its OU
increment is the exact combination of their m increments,

    η = Σ_k e^{−g δ (m−1−k)} σ_δ z_k ,  σ_δ² = (1 − e^{−γ δ})/4   (Horner: η ← e^{−gδ} η + σ_δ z_k),

which is what the exact OU increment over h/2 is in terms of those of its sub-intervals
(∫₀^{2δ} e^{−g(2δ−s)} dW = e^{−gδ} η_a + η_b). Hence a run at (h, m = 2) uses exactly the
Brownian paths of the run at (h/2, m = 1): the coarse half step's noise is e^{−γh/4} η_a + η_b
of the fine step's two half-step increments η_a, η_b (weak-order tests, and a later
step-error estimate by halving on the same paths, :func:`replicate.twa.ness.step_error`).

Fused Kerr rotations: A is exact, so A(h/2) A(h/2) = A(h), and n steps of one run are
A(h/2) [M A(h)]^{n−1} M A(h/2) with M = B(h/2) H_e(h/2) H_o(h) H_e(h/2) B(h/2): one Kerr rotation
per step. A run (one :meth:`.engine.Simulation.run`, however the engine cuts it into kernel
calls: ``edges`` of :func:`split`) opens with A(h/2) and closes with A(h/2); between its chunks the
state is the mid-step state w (the closing A(h/2) pending), so the chunking (which depends on
n_traj and the work per call) does not change a bit. Samples inside a run are taken on the
whole-step state A(h/2) w computed into scratch (:func:`close_into`), so the trajectories do not
depend on the sampling interval either. They do depend, at the rounding level, on where the
runs begin and end: A(h/2) A(h/2) and A(h) differ in the last bits. Those boundaries are part of a
run's definition (``t_relax``, the ``times`` grid of evolve/otoc, the OTOC kick), the same for
any n_traj and thread count, so the engine's determinism is kept: same seed, same numbers.

Rotations: e^{iφ} of the Kerr step by :func:`sincos`, branch-free (range reduction to
[−π/4, π/4] by the nearest multiple of π/2, ``floor`` and a two-part π/2; fdlibm's minimax
polynomials by Estrin's scheme; the quadrant by selects), accurate to ~1 ulp for any angle, so the
lane loops stay SIMD-vectorised (as the Box-Muller of :mod:`.noise`) and :func:`sincos_numpy`
reproduces them bit for bit. A row of a block (one site, ``BLOCK`` lanes) whose |α|² are all
below a per-run limit has every |φ| < π/4: there the range reduction is the identity (k = 0,
r = φ exactly) and is skipped (:func:`sincos_small`, same bits), which halves the cost of the
rotation in the usual case. The hopping and bath factors are per-step constants (computed once
with NumPy in :func:`split_fields`).

Cost: one Kerr rotation (~40 flops with the small-angle path, ~60 with the reduction), three bond
sweeps (6 flops per site each) and two bath updates with their own noise draws per step.
Measured (one block of 64 trajectories, L = 40): 1.4× the time of a Heun step (5.5× before the
fusion and the small-angle path), for a step 5-10× longer. Not fused: the two half even-bond
rotations H_e(h/2) of consecutive steps (B and A stand between them). Tried and dropped: B(h)
in the middle, A(h/2) H_e(h/2) H_o(h/2) B(h) H_o(h/2) H_e(h/2) A(h/2), with H_o(h/2) B(h) H_o(h/2)
= H_o(h) B(h) on the bonds without a bath site (one noise draw per step instead of two, ~10-30 %
faster), but its step bias of n_L is 2-3× larger at the same dt (L = 6 and 10, regime I), which
costs more than it saves.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .step import BLOCK, _normals

SMALL_PHASE = 0.78  # |φ| below which sincos needs no range reduction (< π/4 with a margin)
MAX_PHASE = 0.75  # largest linear phase per step, (|Δ| + 2|J| + max γ/2) dt, accepted by check_dt

_TWO_OVER_PI = 0.6366197723675814  # 2/π
_PIO2_HI = 1.5707963267948966  # π/2 rounded to double
_PIO2_LO = 6.123233995736766e-17  # π/2 − _PIO2_HI


def split_fields(params, dt: float, *, classical: bool, noise_substeps: int,
                 noise_row: np.ndarray, w0: float) -> dict:
    """The split-step entries of :class:`.step.Coefficients` (NumPy, once per run).

    hop : [cos(Jh/2), sin(Jh/2), cos(Jh), sin(Jh)]; phase : [−w0 h/2, −U h/2, −w0 h, −U h,
    q_half, q_full] (the Kerr angle of A(h/2) is phase[0] + phase[1] |α|², of A(h) phase[2] +
    phase[3] |α|²; q_half, q_full: the |α|² below which those angles are < π/4,
    :func:`_small_phase_limit`); bath : 1 on sites with loss or drive (rows of the padded
    chain); decay : e^{−g h/2}; kick : F (1 − e^{−g h/2})/g (F h/2 at g = 0);
    ou_decay, ou_amp : e^{−g δ} and sqrt(1 − e^{−γ δ})/2 per noise row, δ = h/(2 noise_substeps)
    (one scratch row more, zero).
    """
    L = params.L
    h = float(dt)
    F = np.zeros(L + 2)
    F[1:-1] = params.drive_profile()
    gam = np.zeros(L + 2)
    gam[1:-1] = params.loss_profile()
    g = 0.5 * gam
    hh = 0.5 * h
    decay = np.exp(-g * hh)
    # F (1 − e^{−g τ})/g without cancellation: −expm1(−gτ)/g, τ at g = 0
    frac = np.where(g > 0, -np.expm1(-g * hh) / np.where(g > 0, g, 1.0), hh)
    kick = F * frac
    bath = ((gam > 0) | (F != 0)).astype(np.uint8)
    bath[0] = bath[-1] = 0
    nrows = int((noise_row >= 0).sum())
    ou_decay = np.zeros(nrows + 1)
    ou_amp = np.zeros(nrows + 1)
    delta = hh / noise_substeps
    rows = noise_row >= 0
    ou_decay[noise_row[rows]] = np.exp(-g[rows] * delta)
    ou_amp[noise_row[rows]] = 0.5 * np.sqrt(-np.expm1(-gam[rows] * delta))
    J = float(params.J)
    hop = np.array([math.cos(J * hh), math.sin(J * hh), math.cos(J * h), math.sin(J * h)])
    U = float(params.U)
    phase = np.array([-w0 * hh, -U * hh, -w0 * h, -U * h,
                      _small_phase_limit(w0 * hh, U * hh), _small_phase_limit(w0 * h, U * h)])
    return dict(hop=hop, phase=phase, bath=bath, decay=decay, kick=kick, ou_decay=ou_decay,
                ou_amp=ou_amp)


def _small_phase_limit(a: float, b: float) -> float:
    """The largest |α|² for which |a + b|α|²| ≤ |a| + |b| |α|² ≤ :data:`SMALL_PHASE` (−1: none)."""
    room = SMALL_PHASE - abs(a)
    if room < 0:
        return -1.0
    return room / abs(b) if b != 0 else math.inf


def linear_phase(params, dt: float) -> float:
    """(|Δ| + 2|J| + max γ_ℓ/2) dt: a bound on the linear phase (and damping) per step."""
    return (abs(params.Delta) + 2 * abs(params.J) + 0.5 * float(np.max(params.loss_profile()))) * dt


def check_dt(params, dt: float) -> None:
    """``ValueError`` (before any work) if ``dt`` is beyond the accurate range of the split step,
    :func:`linear_phase` > :data:`MAX_PHASE`. The scheme cannot blow up, so a too-large step
    would otherwise return finite numbers that are wrong by far more than their error bars."""
    ph = linear_phase(params, dt)
    if not ph <= MAX_PHASE:
        dmax = MAX_PHASE * dt / ph
        raise ValueError(f"dt={dt!r} is too large for integrator 'split': (|Delta| + 2|J| + "
                         f"max gamma/2) dt = {ph:.3g} > {MAX_PHASE}; use dt <= {dmax:.3g}")


# minimax kernels of cos and sin on [−π/4, π/4] (fdlibm's __kernel_cos, __kernel_sin):
# cos r = 1 − y/2 + y²(K1 + K2 y + ... + K6 y⁵), sin r = r (1 + S1 y + ... + S6 y⁶), y = r²;
# < 1 ulp of error from the polynomials (7 terms each; a Taylor series needs 9 for that)
K1, K2, K3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
K4, K5, K6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11
S1, S2, S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
S4, S5, S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10


@njit(cache=True, inline="always", error_model="numpy")
def sincos(phi):
    """(cos φ, sin φ), branch-free: φ = kπ/2 + r with k the nearest integer (``floor``) and
    r ∈ [−π/4, π/4] (Cody-Waite two-part π/2); the minimax polynomials above in y = r², evaluated
    by Estrin's scheme (short dependency chains); the quadrant k mod 4 by selects."""
    k = np.floor(phi * _TWO_OVER_PI + 0.5)
    r = (phi - k * _PIO2_HI) - k * _PIO2_LO
    q = k - 4.0 * np.floor(k * 0.25)
    y = r * r
    y2 = y * y
    y4 = y2 * y2
    c = ((1.0 - 0.5 * y) + (K1 + K2 * y) * y2) + ((K3 + K4 * y) + (K5 + K6 * y) * y2) * y4
    s = ((1.0 + S1 * y) + (S2 + S3 * y) * y2) + ((S4 + S5 * y) + S6 * y2) * y4
    s = s * r
    odd = (q == 1.0) | (q == 3.0)
    co = s if odd else c
    sn = c if odd else s
    co = -co if (q == 1.0) | (q == 2.0) else co
    sn = -sn if q >= 2.0 else sn
    return co, sn


def sincos_numpy(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array version of :func:`sincos` (same operations, bitwise equal)."""
    k = np.floor(phi * _TWO_OVER_PI + 0.5)
    r = (phi - k * _PIO2_HI) - k * _PIO2_LO
    q = k - 4.0 * np.floor(k * 0.25)
    y = r * r
    y2 = y * y
    y4 = y2 * y2
    c = ((1.0 - 0.5 * y) + (K1 + K2 * y) * y2) + ((K3 + K4 * y) + (K5 + K6 * y) * y2) * y4
    s = ((1.0 + S1 * y) + (S2 + S3 * y) * y2) + ((S4 + S5 * y) + S6 * y2) * y4
    s = s * r
    odd = (q == 1.0) | (q == 3.0)
    co = np.where(odd, s, c)
    sn = np.where(odd, c, s)
    co = np.where((q == 1.0) | (q == 2.0), -co, co)
    sn = np.where(q >= 2.0, -sn, sn)
    return co, sn


@njit(cache=True, inline="always", error_model="numpy")
def ou_noise(rng, c, ws):
    """The OU increments η of one half bath step into rows 0..nrows-1 of ws.zr, ws.zi:
    η = σ z_0, then η ← e^{−gδ} η + σ z_k for the ``c.nsub`` − 1 further sub-intervals (row
    ``nrows`` is scratch)."""
    zr, zi, nrows, nsub = ws.zr, ws.zi, c.nrows, c.nsub
    amp, rho = c.ou_amp, c.ou_decay
    for k in range(nrows):
        _normals(rng, zr, zi, k)
        a = amp[k]
        for j in range(BLOCK):
            zr[k, j] = a * zr[k, j]
            zi[k, j] = a * zi[k, j]
    for _ in range(1, nsub):
        for k in range(nrows):
            _normals(rng, zr, zi, nrows)
            a = amp[k]
            p = rho[k]
            for j in range(BLOCK):
                zr[k, j] = p * zr[k, j] + a * zr[nrows, j]
                zi[k, j] = p * zi[k, j] + a * zi[nrows, j]


@njit(cache=True, inline="always", error_model="numpy")
def sincos_small(r):
    """:func:`sincos` for |r| ≤ :data:`SMALL_PHASE` (there k = 0 and r is φ exactly: the same
    operations, the same bits), without the range reduction and the quadrant selects."""
    y = r * r
    y2 = y * y
    y4 = y2 * y2
    c = ((1.0 - 0.5 * y) + (K1 + K2 * y) * y2) + ((K3 + K4 * y) + (K5 + K6 * y) * y2) * y4
    s = ((1.0 + S1 * y) + (S2 + S3 * y) * y2) + ((S4 + S5 * y) + S6 * y2) * y4
    return c, s * r


@njit(cache=True, inline="always", error_model="numpy")
def _kerr(l, xr, xi, yr, yi, p0, pU, qlim):
    """A on site l from (xr, xi) into (yr, yi) (may be the same arrays): α e^{iφ},
    φ = p0 + pU |α|² (phase[0], phase[1], phase[4] for A(h/2); phase[2], phase[3], phase[5] for
    A(h)). If no lane of the row has |α|² > qlim, every |φ| ≤ :data:`SMALL_PHASE` < π/4 and
    :func:`sincos_small` gives the bits of :func:`sincos` without its range reduction (a branch
    per row of the block: both loops stay vectorised)."""
    big = 0
    for j in range(BLOCK):
        ar = xr[l, j]
        ai = xi[l, j]
        big += 1 if ar * ar + ai * ai > qlim else 0
    if big == 0:
        for j in range(BLOCK):
            ar = xr[l, j]
            ai = xi[l, j]
            co, sn = sincos_small(p0 + pU * (ar * ar + ai * ai))
            yr[l, j] = ar * co - ai * sn
            yi[l, j] = ar * sn + ai * co
    else:
        for j in range(BLOCK):
            ar = xr[l, j]
            ai = xi[l, j]
            co, sn = sincos(p0 + pU * (ar * ar + ai * ai))
            yr[l, j] = ar * co - ai * sn
            yi[l, j] = ar * sn + ai * co


@njit(cache=True, inline="always", error_model="numpy")
def _bath(l, xr, xi, c, ws):
    """B(h/2) on site l: α ← e^{−gh/2} α − i kick + η (η from :func:`ou_noise` on noisy sites)."""
    e, kk, row = c.decay[l], c.kick[l], c.noise_row[l]
    if row >= 0:
        zr, zi = ws.zr, ws.zi
        for j in range(BLOCK):
            xr[l, j] = e * xr[l, j] + zr[row, j]
            xi[l, j] = (e * xi[l, j] - kk) + zi[row, j]
    else:
        for j in range(BLOCK):
            xr[l, j] = e * xr[l, j]
            xi[l, j] = e * xi[l, j] - kk


@njit(cache=True, inline="always", error_model="numpy")
def _bonds(xr, xi, start, co, sn):
    """Exact hopping rotation on the bonds (l, l + 1), l = start, start + 2, ... < L."""
    L = xr.shape[0] - 2
    for l in range(start, L, 2):
        for j in range(BLOCK):
            ar = xr[l, j]
            ai = xi[l, j]
            br = xr[l + 1, j]
            bi = xi[l + 1, j]
            xr[l, j] = co * ar - sn * bi
            xi[l, j] = co * ai + sn * br
            xr[l + 1, j] = co * br - sn * ai
            xi[l + 1, j] = co * bi + sn * ar


OPEN, CLOSE = 1, 2  # bits of ``edges``: the call starts from / ends at a whole-step state


@njit(cache=True, inline="always", error_model="numpy")
def close_into(xr, xi, yr, yi, c):
    """The whole-step state A(h/2) w of the mid-step state w = (xr, xi), into (yr, yi)."""
    for l in range(1, xr.shape[0] - 1):
        _kerr(l, xr, xi, yr, yi, c.phase[0], c.phase[1], c.phase[4])


@njit(cache=True, error_model="numpy")
def split(xr, xi, rng, nsteps, c, ws, edges):
    """``nsteps`` Strang steps A(h/2) B(h/2) H_e(h/2) H_o(h) H_e(h/2) B(h/2) A(h/2) of one block
    in place, the closing A(h/2) of each step fused with the opening one of the next into one
    exact A(h) (the module docstring; c.hop, c.phase, ... from :func:`split_fields`).

    ``edges``: if it has the bit :data:`OPEN`, (xr, xi) is a whole-step state and the first step
    opens with A(h/2); otherwise it is a mid-step state w (a previous call without :data:`CLOSE`)
    and the first step opens with A(h). With :data:`CLOSE`, the call ends with A(h/2) (a
    whole-step state); otherwise it leaves the mid-step state w, whose whole-step state is
    A(h/2) w (:func:`close_into`)."""
    L = xr.shape[0] - 2
    hc, hs, fc, fs = c.hop[0], c.hop[1], c.hop[2], c.hop[3]
    for n in range(nsteps):
        if n == 0 and (edges & OPEN) != 0:
            p0, pU, qlim = c.phase[0], c.phase[1], c.phase[4]
        else:
            p0, pU, qlim = c.phase[2], c.phase[3], c.phase[5]
        if c.nrows > 0:
            ou_noise(rng, c, ws)
        for l in range(1, L + 1):
            _kerr(l, xr, xi, xr, xi, p0, pU, qlim)
            if c.bath[l] != 0:
                _bath(l, xr, xi, c, ws)
        _bonds(xr, xi, 1, hc, hs)
        _bonds(xr, xi, 2, fc, fs)
        _bonds(xr, xi, 1, hc, hs)
        if c.nrows > 0:
            ou_noise(rng, c, ws)
        for l in range(1, L + 1):
            if c.bath[l] != 0:
                _bath(l, xr, xi, c, ws)
    if (edges & CLOSE) != 0 and nsteps > 0:
        close_into(xr, xi, xr, xi, c)
