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
step-error estimate by halving on the same paths).

Rotations: e^{iφ} of the Kerr step by :func:`sincos`, branch-free (range reduction to
[−π/4, π/4] by the nearest multiple of π/2, ``floor`` and a two-part π/2; Taylor polynomials by
Estrin's scheme; the quadrant by selects), accurate to ~1 ulp for any angle, so the lane loops
stay SIMD-vectorised (as the Box-Muller of :mod:`.noise`) and :func:`sincos_numpy` reproduces
them bit for bit. The hopping and bath factors are per-step constants (computed once with NumPy
in :func:`split_fields`).

Cost: two Kerr rotations (a polynomial sin/cos each, ~60 flops), three bond sweeps (6 flops per
site each) and two bath updates with their own noise draws per step: ~140 flops per site-step,
2.7× a Heun step (52), for a step 5-10× longer. (A(h/2) of one step and A(h/2) of the next
would fuse into one A(h) and save one sin/cos per step, but only within a kernel call: the
numbers would then depend on how the engine cuts the run into calls, i.e. on n_traj.)
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .step import BLOCK, SPLIT, _normals  # noqa: F401  (SPLIT: the integrator code)

MAX_PHASE = 0.75  # largest linear phase per step, (|Δ| + 2|J| + max γ/2) dt, accepted by check_dt

_TWO_OVER_PI = 0.6366197723675814  # 2/π
_PIO2_HI = 1.5707963267948966  # π/2 rounded to double
_PIO2_LO = 6.123233995736766e-17  # π/2 − _PIO2_HI


def split_fields(params, dt: float, *, classical: bool, noise_substeps: int,
                 noise_row: np.ndarray, w0: float) -> dict:
    """The split-step entries of :class:`.step.Coefficients` (NumPy, once per run).

    hop : [cos(Jh/2), sin(Jh/2), cos(Jh), sin(Jh)]; phase : [−w0 h/2, −U h/2] (the Kerr angle of
    a half step is phase[0] + phase[1] |α|²); bath : 1 on sites with loss or drive (rows of the
    padded chain); decay : e^{−g h/2}; kick : F (1 − e^{−g h/2})/g (F h/2 at g = 0);
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
    phase = np.array([-w0 * hh, -float(params.U) * hh])
    return dict(hop=hop, phase=phase, bath=bath, decay=decay, kick=kick, ou_decay=ou_decay,
                ou_amp=ou_amp)


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


# Taylor coefficients of cos r = Σ C_k y^k and sin r / r = Σ S_k y^k, y = r², k = 0..8
_C = (1.0, -0.5, 0.041666666666666664, -0.001388888888888889, 2.48015873015873e-05,
      -2.755731922398589e-07, 2.08767569878681e-09, -1.1470745597729725e-11,
      4.779477332387385e-14)
_S = (1.0, -0.16666666666666666, 0.008333333333333333, -0.0001984126984126984,
      2.7557319223985893e-06, -2.505210838544172e-08, 1.6059043836821613e-10,
      -7.647163731819816e-13, 2.8114572543455206e-15)
C0, C1, C2, C3, C4, C5, C6, C7, C8 = _C
S0, S1, S2, S3, S4, S5, S6, S7, S8 = _S


@njit(cache=True, inline="always", error_model="numpy")
def sincos(phi):
    """(cos φ, sin φ), branch-free: φ = kπ/2 + r with k the nearest integer (``floor``) and
    r ∈ [−π/4, π/4] (Cody-Waite two-part π/2); Taylor polynomials of degree 16 (cos) and 17 (sin)
    in r, evaluated by Estrin's scheme (short dependency chains); the quadrant k mod 4 by selects."""
    k = np.floor(phi * _TWO_OVER_PI + 0.5)
    r = (phi - k * _PIO2_HI) - k * _PIO2_LO
    q = k - 4.0 * np.floor(k * 0.25)
    y = r * r
    y2 = y * y
    y4 = y2 * y2
    y8 = y4 * y4
    c = (((C0 + C1 * y) + (C2 + C3 * y) * y2) + ((C4 + C5 * y) + (C6 + C7 * y) * y2) * y4) + C8 * y8
    s = (((S0 + S1 * y) + (S2 + S3 * y) * y2) + ((S4 + S5 * y) + (S6 + S7 * y) * y2) * y4) + S8 * y8
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
    y8 = y4 * y4
    c = (((C0 + C1 * y) + (C2 + C3 * y) * y2) + ((C4 + C5 * y) + (C6 + C7 * y) * y2) * y4) + C8 * y8
    s = (((S0 + S1 * y) + (S2 + S3 * y) * y2) + ((S4 + S5 * y) + (S6 + S7 * y) * y2) * y4) + S8 * y8
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
def _kerr(l, xr, xi, c):
    """A(h/2) on site l: α ← α e^{iφ}, φ = phase[0] + phase[1] |α|²."""
    p0, pU = c.phase[0], c.phase[1]
    for j in range(BLOCK):
        ar = xr[l, j]
        ai = xi[l, j]
        co, sn = sincos(p0 + pU * (ar * ar + ai * ai))
        xr[l, j] = ar * co - ai * sn
        xi[l, j] = ar * sn + ai * co


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


@njit(cache=True, error_model="numpy")
def split(xr, xi, rng, nsteps, c, ws):
    """``nsteps`` Strang steps A(h/2) B(h/2) H_e(h/2) H_o(h) H_e(h/2) B(h/2) A(h/2) of one block
    in place (the module docstring; c.hop, c.phase, ... from :func:`split_fields`)."""
    L = xr.shape[0] - 2
    hc, hs, fc, fs = c.hop[0], c.hop[1], c.hop[2], c.hop[3]
    for _ in range(nsteps):
        if c.nrows > 0:
            ou_noise(rng, c, ws)
        for l in range(1, L + 1):
            _kerr(l, xr, xi, c)
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
            _kerr(l, xr, xi, c)
