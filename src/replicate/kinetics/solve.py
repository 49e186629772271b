"""Time evolution and steady states of the kinetic equation (Eq. 7) for the cavity reservoir.

Time is τ = χ²t/J.  The steady state is found directly: Newton's method in log-occupations on
the stationary equations, with the particle-number constraint replacing one equation; a
mass-conserving pseudo-transient continuation (implicit Euler with growing steps) is the
fallback when Newton from the Bose–Einstein / perturbative guesses does not converge.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp
from threadpoolctl import ThreadpoolController

from .. import __version__
from ..validate import chain_length, finite, finite_array, positive
from .array import band_energies, overlap, wave_numbers
from .equation import (
    classical_rhs,
    kinetic_jacobian,
    kinetic_rhs,
    rate_matrix,
    scaled_residual,
)
from .spectrum import beta0, cavity_spectrum, thermal_spectrum
from .thermal import bose_einstein, perturbative_steady_state

RESIDUAL_TOL = 1e-10
_THREADPOOLS = ThreadpoolController()


def one_blas_thread():
    """Context manager: BLAS on one thread. The kinetic problems are L×L with L ~ 100, where
    multi-threaded OpenBLAS only adds synchronisation (on a busy 2-core machine it made the
    steady-state solver ~20× slower); the numbers do not depend on it."""
    return _THREADPOOLS.limit(limits=1, user_api="blas")


def cavity_rates(Delta: float, kappa: float, *, L: int = 100, J: float = 1.0, Omega0: float = 0.1,
                 exact_overlap: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(ω_k, W) for the driven-cavity reservoir: W_{kk'} = Jγ_{k,k'}S_c(ω_k − ω_k') (Eqs. 4, 12, A1)."""
    L = chain_length(L)
    Delta, kappa = finite("Delta", Delta), positive("kappa", kappa)
    J, Omega0 = positive("J", J), positive("Omega0", Omega0)
    omega = band_energies(L, J)
    W = rate_matrix(omega, overlap(L, exact_overlap), lambda w: cavity_spectrum(w, Delta, kappa, Omega0), J)
    return omega, W


def evolve_rates(W: np.ndarray, n0: np.ndarray, times: np.ndarray, *, rtol: float = 1e-9,
                 atol: float = 1e-12) -> np.ndarray:
    """Integrate Eq. (7) with rate matrix ``W`` from ``n0`` (stiff BDF, analytic Jacobian);
    returns n at ``times`` as an array ``[time, mode]``."""
    times = finite_array("times", times, nonnegative=True)
    if times.ndim != 1 or len(times) == 0 or np.any(np.diff(times) < 0):
        raise ValueError("times must be a non-empty, non-decreasing 1D array")
    n0 = finite_array("n0", n0, nonnegative=True)
    sol = solve_ivp(lambda t, n: kinetic_rhs(n, W), (0.0, float(times[-1])), n0, method="BDF",
                    t_eval=times, jac=lambda t, n: kinetic_jacobian(n, W), rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"kinetic integration failed: {sol.message}")
    return sol.y.T


def evolve(Delta: float, kappa: float, *, n0, times, L: int = 100, J: float = 1.0, chi: float = 1e-3,
           Omega0: float = 0.1, exact_overlap: bool = True) -> xr.Dataset:
    """n(ω_k, τ) from Eq. (7) with the cavity spectrum Eq. (12), τ = χ²t/J.

    Parameters
    ----------
    Delta, kappa : detuning ω_d − ω_c and cavity decay rate (units of J).
    n0 : initial occupation, a scalar (uniform in k, e.g. N/L) or an array over the L modes.
    times : output times τ (non-decreasing, starting anywhere ≥ 0; integration starts at τ = 0).
    chi : coupling; it only fixes the clock t = τJ/χ² and drops out of n(τ).
    """
    positive("chi", chi)
    omega, W = cavity_rates(Delta, kappa, L=L, J=J, Omega0=Omega0, exact_overlap=exact_overlap)
    n0 = np.broadcast_to(finite_array("n0", n0, nonnegative=True), omega.shape).astype(float)
    times = finite_array("times", np.atleast_1d(times), nonnegative=True)
    with one_blas_thread():
        n = evolve_rates(W, n0, times)
    return xr.Dataset(
        {"n": (("time", "omega"), n)},
        coords={"time": times, "omega": omega, "k": ("omega", wave_numbers(len(omega)))},
        attrs={"Delta": float(Delta), "kappa": float(kappa), "L": len(omega), "J": float(J), "chi": float(chi),
               "Omega0": float(Omega0), "N": float(n0.sum()), "time_unit": "tau = chi^2 t / J",
               "exact_overlap": int(exact_overlap), "version": __version__})


def _newton(W: np.ndarray, N: float, n: np.ndarray, max_iter: int = 60) -> tuple[np.ndarray, float, bool]:
    """Damped Newton on x = ln n: rows = scaled stationarity residual (one row replaced by
    (Σn − N)/N).  Returns (n, max |residual|, converged)."""
    Wn = W / W.max()
    drop = int(np.argmax(n))                 # replace the best-conditioned row by the constraint

    def F(n):
        f = scaled_residual(n, W)
        f[drop] = (n.sum() - N) / N
        return f

    def jac(n):
        g, l = Wn.T @ n, Wn @ (n + 1.0)
        Jm = Wn.T / n[:, None] - Wn / (n + 1.0)[:, None]
        Jm[np.diag_indices_from(Jm)] += -g / n**2 + l / (n + 1.0) ** 2
        Jm = Jm * n[None, :]
        Jm[drop] = n / N
        return Jm

    x, f = np.log(n), F(n)
    for _ in range(max_iter):
        err = np.max(np.abs(f))
        if err < RESIDUAL_TOL:
            return np.exp(x), err, True
        try:
            dx = np.linalg.solve(jac(np.exp(x)), -f)
        except np.linalg.LinAlgError:
            break
        step = 1.0
        while step > 1e-4:
            xt = x + step * np.clip(dx, -5, 5)
            ft = F(np.exp(xt))
            if np.all(np.isfinite(ft)) and np.max(np.abs(ft)) < (1 - 1e-4 * step) * err:
                break
            step /= 2
        else:
            break
        x, f = xt, ft
    err = float(np.max(np.abs(f)))
    return np.exp(x), err, err < RESIDUAL_TOL


def _pseudo_transient(W: np.ndarray, n: np.ndarray, steps: int = 400, dt_max: float = 1e8) -> np.ndarray:
    """Implicit-Euler steps with growing step size (Σn conserved up to round-off), stopped once the
    scaled residual is small enough to hand over to Newton; ``dt_max`` keeps the step matrix
    well conditioned (at dt → ∞ it becomes the singular Jacobian)."""
    Wn = W / W.max()
    dt = 1.0
    for _ in range(steps):
        try:
            dn = np.linalg.solve(np.eye(len(n)) - dt * kinetic_jacobian(n, Wn), dt * kinetic_rhs(n, Wn))
        except np.linalg.LinAlgError:
            dt /= 4.0
            continue
        if np.all(n + dn > 0):
            n = n + dn
            if np.max(np.abs(scaled_residual(n, W))) < 1e-8:
                break
            dt = min(2.0 * dt, dt_max)
        else:
            dt /= 4.0
    return n


def steady_state_rates(W: np.ndarray, N: float, guesses: list[np.ndarray]) -> tuple[np.ndarray, float, str]:
    """Stationary solution of Eq. (7) with Σn = N for rate matrix ``W``: Newton from each guess
    in turn, then pseudo-transient continuation + Newton.  Returns (n, residual, method)."""
    N = positive("N", N)
    best = (None, np.inf, "")
    for i, g in enumerate(guesses):
        if g is None or not np.all(np.isfinite(g)) or np.any(g <= 0):
            continue
        n, err, ok = _newton(W, N, g * N / g.sum())
        if ok:
            return n, err, f"newton(guess {i})"
        best = min(best, (n, err, f"newton(guess {i})"), key=lambda t: t[1])
    n, err, ok = _newton(W, N, _pseudo_transient(W, np.full(len(W), N / len(W))))
    if ok or err < best[1]:
        best = (n, err, "pseudo-transient + newton")
    if best[1] > 1e-6:
        raise RuntimeError(f"steady state not found (scaled residual {best[1]:.2e})")
    return best


def classical_steady_state_rates(W: np.ndarray, N: float) -> np.ndarray:
    """Stationary solution of Eq. (7) *without* Bose enhancement (n_{k'} + 1 → 1): the linear
    master equation Wᵀn = n∘(W·1) with Σn = N, solved directly (one row replaced by the
    constraint).  The shape n/N then does not depend on N: the control for Bose enhancement."""
    N = positive("N", N)
    Wn = W / W.max()
    A = Wn.T - np.diag(Wn.sum(axis=1))
    A[0] = 1.0
    b = np.zeros(len(W))
    b[0] = N
    return np.linalg.solve(A, b)


def _steady_dataset(omega: np.ndarray, W: np.ndarray, N: float, guesses: list, bose: bool,
                    attrs: dict) -> xr.Dataset:
    with one_blas_thread():
        if bose:
            n, err, method = steady_state_rates(W, N, guesses)
            rate = kinetic_rhs(n, W)
        else:
            n = classical_steady_state_rates(W, N)
            rate = classical_rhs(n, W)
            err, method = float(np.max(np.abs(rate) / n) / W.max()), "linear solve (no Bose factor)"
    return xr.Dataset(
        {"n": ("omega", n)},
        coords={"omega": omega, "k": ("omega", wave_numbers(len(omega)))},
        attrs={**attrs, "N": float(N), "L": len(omega), "residual": float(err),
               "residual_rate": float(np.max(np.abs(rate))), "number_error": float(n.sum() - N),
               "method": method, "bose": int(bose), "version": __version__})


def steady_state(Delta: float, kappa: float, *, N: float = 50, L: int = 100, J: float = 1.0, chi: float = 1e-3,
                 Omega0: float = 0.1, exact_overlap: bool = True, bose: bool = True) -> xr.Dataset:
    """Long-time distribution n^(∞)(ω_k) of Eq. (7), solved directly (not by integrating in time).

    Newton in ln n from the BE (β0, Eq. A8) and perturbative (Eq. 15) guesses; ``attrs``
    report ``residual`` (max |ṅ_k|/[n_k(n_k+1) max W], dimensionless), ``residual_rate``
    (max |dn_k/dτ|), ``number_error`` (Σn − N) and the method used.  The result does not
    depend on χ or Ω0 (they only set the clock).  ``bose=False`` drops the Bose factor of the
    final state (n_{k'} + 1 → 1, a linear master equation): the classical control.
    """
    positive("chi", chi)
    N = positive("N", N)
    omega, W = cavity_rates(Delta, kappa, L=L, J=J, Omega0=Omega0, exact_overlap=exact_overlap)
    b0 = beta0(Delta, kappa)
    guesses = []
    if bose:
        pert = perturbative_steady_state(Delta, kappa, N=N, L=L, J=J)
        guesses = [bose_einstein(omega, b0, N), pert["n_raw"].values if pert.attrs["valid"] else None]
    attrs = {"Delta": float(Delta), "kappa": float(kappa), "J": float(J), "chi": float(chi),
             "Omega0": float(Omega0), "beta0": b0, "exact_overlap": int(exact_overlap)}
    return _steady_dataset(omega, W, N, guesses, bose, attrs)


def thermal_steady_state(beta: float, *, N: float = 50, L: int = 100, J: float = 1.0,
                         exact_overlap: bool = True) -> xr.Dataset:
    """Steady state of Eq. (7) for a *thermal* bath, S(ω)/S(−ω) = e^{βω} (detailed balance):
    Bose–Einstein at β (Eq. A8) up to the solver tolerance.  The control for "the steady state
    is not thermal"."""
    beta, N = finite("beta", beta), positive("N", N)
    L = chain_length(L)
    omega = band_energies(L, J)
    W = rate_matrix(omega, overlap(L, exact_overlap), lambda w: thermal_spectrum(w, beta), J)
    attrs = {"beta": beta, "J": float(J), "exact_overlap": int(exact_overlap), "bath": "thermal"}
    return _steady_dataset(omega, W, N, [bose_einstein(omega, beta, N)], True, attrs)
