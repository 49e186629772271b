"""Plain-NumPy truncated-Wigner integrator: the same equations and noise stream as the engine.

All trajectories live in arrays of shape (L + 2, n_traj) (zero pad rows 0 and L + 1); each time
step is a handful of whole-array operations, with no Python loop over trajectories. It uses the
same per-trajectory xoshiro256+ streams, the same vacuum samples and the same order of
floating-point operations as :mod:`replicate.twa.kernels`, so trajectory k agrees with the numba
engine bit for bit. It serves as the test oracle and as the speed reference of
:mod:`replicate.twa.bench`. ``integrator="split"`` is the twin of :mod:`.kernels.split` (the same
factors, from :func:`.kernels.split.split_fields`, and the same polynomial sin/cos).
"""
from __future__ import annotations

import numpy as np

from ..chain import ChainParams
from .engine import DEFAULT_DT, DEFAULT_INTEGRATOR, vacuum_noise
from ..validate import count, positive
from .kernels.noise import normal_pair_numpy, seed_states, xoshiro_next_numpy
from .kernels.split import check_dt as check_split_dt, sincos_numpy
from .kernels.step import coefficients


class Reference:
    """``n_traj`` trajectories of Eq. (4) (or Eq. (35) if ``classical``), stepped with NumPy."""

    def __init__(self, params: ChainParams, *, n_traj: int, dt: float | None = None, seed: int = 0,
                 classical: bool = False, integrator: str = DEFAULT_INTEGRATOR, alpha0=None,
                 noise_substeps: int = 1, initial_noise: bool | None = None) -> None:
        if integrator not in ("heun", "euler", "split"):
            raise ValueError(f"integrator must be 'heun', 'euler' or 'split', got {integrator!r}")
        self.p = params
        self.n = count("n_traj", n_traj)
        self.dt = DEFAULT_DT if dt is None else positive("dt", dt)
        self.heun = integrator == "heun"
        self.split = integrator == "split"
        self.nsub = count("noise_substeps", noise_substeps)
        if self.split:
            check_split_dt(params, self.dt)
            self.c = coefficients(params, self.dt, classical=classical, noise_substeps=self.nsub)
        L = params.L
        states = seed_states(seed, self.n)
        self.xr = np.zeros((L + 2, self.n))
        self.xi = np.zeros((L + 2, self.n))
        if alpha0 is not None:
            a0 = np.asarray(alpha0, dtype=complex)
            self.xr[1:-1] = a0.real[:, None]
            self.xi[1:-1] = a0.imag[:, None]
        gam = params.loss_profile()
        self.F = params.drive_profile()[:, None]
        self.g = 0.5 * gam[:, None]
        self.noisy = np.zeros(L, dtype=bool) if classical else gam > 0
        self.amp = (0.5 * np.sqrt(gam * self.dt))[self.noisy][:, None]
        if (not classical) if initial_noise is None else initial_noise:
            vr, vi = vacuum_noise(states, L)
            self.xr[1:-1] += vr
            self.xi[1:-1] += vi
        self.s = np.ascontiguousarray(states.T)
        self.w0 = -params.Delta - (0.0 if classical else params.U)
        self.t = 0.0

    def _pair(self) -> tuple[np.ndarray, np.ndarray]:
        o1 = xoshiro_next_numpy(self.s)
        o2 = xoshiro_next_numpy(self.s)
        return normal_pair_numpy(o1, o2)

    def _noise(self) -> tuple[np.ndarray, np.ndarray]:
        """Noise increments per site, shape (L, n): amp (ξ1 + iξ2), zero on lossless sites."""
        k = int(self.noisy.sum())
        zr = np.empty((k, self.n))
        zi = np.empty((k, self.n))
        for r in range(k):
            zr[r], zi[r] = self._pair()
        for _ in range(1, self.nsub):
            for r in range(k):
                a, b = self._pair()
                zr[r] += a
                zi[r] += b
        if self.nsub > 1:
            inv = 1.0 / np.sqrt(self.nsub)
            zr *= inv
            zi *= inv
        nr = np.zeros((self.p.L, self.n))
        ni = np.zeros((self.p.L, self.n))
        nr[self.noisy] = self.amp * zr
        ni[self.noisy] = self.amp * zi
        return nr, ni

    def _drift(self, xr: np.ndarray, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drift of Eq. (4) on padded arrays: (d Re α, d Im α)/dt for sites 1..L."""
        ar, ai = xr[1:-1], xi[1:-1]
        J, U = self.p.J, self.p.U
        w = self.w0 + U * (ar * ar + ai * ai)
        fr = w * ai - J * (xi[:-2] + xi[2:]) - self.g * ar
        fi = J * (xr[:-2] + xr[2:]) - w * ar - self.F - self.g * ai
        return fr, fi

    def _ou(self) -> tuple[np.ndarray, np.ndarray]:
        """OU increments of one half bath step per noise row, shape (k, n) (``split.ou_noise``)."""
        k, amp, rho = self.c.nrows, self.c.ou_amp, self.c.ou_decay
        zr = np.empty((k, self.n))
        zi = np.empty((k, self.n))
        for r in range(k):
            a, b = self._pair()
            zr[r] = amp[r] * a
            zi[r] = amp[r] * b
        for _ in range(1, self.nsub):
            for r in range(k):
                a, b = self._pair()
                zr[r] = rho[r] * zr[r] + amp[r] * a
                zi[r] = rho[r] * zi[r] + amp[r] * b
        return zr, zi

    def _kerr(self, ar: np.ndarray, ai: np.ndarray, p0: float, pU: float):
        """A on sites 1..L: α e^{iφ}, φ = p0 + pU |α|² (A(h/2): phase[0:2], A(h): phase[2:4])."""
        co, sn = sincos_numpy(p0 + pU * (ar * ar + ai * ai))
        return ar * co - ai * sn, ar * sn + ai * co

    def _bath(self, ar: np.ndarray, ai: np.ndarray, zr: np.ndarray, zi: np.ndarray) -> None:
        """B(h/2) in place on the bath sites of (L, n) arrays, with the :meth:`_ou` increments."""
        c = self.c
        rows = c.noise_row[1:-1]
        for m in np.flatnonzero(c.bath[1:-1]):
            e, kk, r = c.decay[m + 1], c.kick[m + 1], rows[m]
            ar[m] = e * ar[m]
            ai[m] = e * ai[m] - kk
            if r >= 0:
                ar[m] = ar[m] + zr[r]
                ai[m] = ai[m] + zi[r]

    def _bonds(self, start: int, co: float, sn: float) -> None:
        """Exact hopping rotations on the bonds (l, l + 1), l = start, start + 2, ... < L."""
        a = np.arange(start, self.p.L, 2)
        b = a + 1
        ar, ai, br, bi = self.xr[a], self.xi[a], self.xr[b], self.xi[b]
        self.xr[a] = co * ar - sn * bi
        self.xi[a] = co * ai + sn * br
        self.xr[b] = co * br - sn * ai
        self.xi[b] = co * bi + sn * ar

    def _split_run(self, nsteps: int) -> None:
        """``nsteps`` Strang steps with the fused Kerr rotations of :func:`.split.split`: A(h/2)
        first, A(h) between the steps, A(h/2) last (a call of ``run`` is one engine run)."""
        hc, hs, fc, fs = self.c.hop
        ph = self.c.phase
        noisy = self.c.nrows > 0
        for n in range(nsteps):
            p0, pU = (ph[0], ph[1]) if n == 0 else (ph[2], ph[3])
            zr, zi = self._ou() if noisy else (None, None)
            ar, ai = self._kerr(self.xr[1:-1], self.xi[1:-1], p0, pU)
            self._bath(ar, ai, zr, zi)
            self.xr[1:-1], self.xi[1:-1] = ar, ai
            self._bonds(1, hc, hs)
            self._bonds(2, fc, fs)
            self._bonds(1, hc, hs)
            zr, zi = self._ou() if noisy else (None, None)
            ar, ai = self.xr[1:-1].copy(), self.xi[1:-1].copy()
            self._bath(ar, ai, zr, zi)
            self.xr[1:-1], self.xi[1:-1] = ar, ai
            self.t += self.dt
        if nsteps > 0:
            self.xr[1:-1], self.xi[1:-1] = self._kerr(self.xr[1:-1], self.xi[1:-1], ph[0], ph[1])

    def step(self) -> None:
        if self.split:
            return self._split_run(1)
        dt = self.dt
        nr, ni = self._noise() if self.noisy.any() else (0.0, 0.0)
        fr, fi = self._drift(self.xr, self.xi)
        ar, ai = self.xr[1:-1], self.xi[1:-1]
        pr = np.zeros_like(self.xr)
        pi = np.zeros_like(self.xi)
        pr[1:-1] = ar + dt * fr + nr
        pi[1:-1] = ai + dt * fi + ni
        if self.heun:
            hdt = 0.5 * dt
            tr = ar + hdt * fr + nr
            ti = ai + hdt * fi + ni
            gr, gi = self._drift(pr, pi)
            self.xr[1:-1] = tr + hdt * gr
            self.xi[1:-1] = ti + hdt * gi
        else:
            self.xr, self.xi = pr, pi
        self.t += dt

    def run(self, nsteps: int) -> None:
        if self.split:
            return self._split_run(nsteps)
        for _ in range(nsteps):
            self.step()

    def alpha(self) -> np.ndarray:
        """Complex amplitudes, shape (L, n_traj)."""
        return self.xr[1:-1] + 1j * self.xi[1:-1]
