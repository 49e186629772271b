"""Thermal and near-thermal steady states: Bose–Einstein (Eq. A8), the perturbative solution
(Eq. 15), the energy-dependent temperature (Eq. 16) and temperatures read off a distribution.

Energies are measured from the band centre (ω0 = 0).  μ and the constant c of Eq. (15) are
fixed by discrete sums over the L modes (spec §2.4).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import brentq

from .. import __version__
from ..validate import chain_length, finite, finite_array, positive
from .array import band_energies, wave_numbers
from .spectrum import beta0

_BETA_ZERO = 1e-12


def chemical_potential(omega, beta: float, N: float) -> float:
    """μ with Σ_k 1/(e^{β(ω_k − μ)} − 1) = N (Eq. A8); below the band for β > 0, above it for β < 0.

    Returns NaN for β = 0 (infinite temperature: every mode holds N/L).
    """
    omega = finite_array("omega", omega)
    beta, N = finite("beta", beta), positive("N", N)
    if abs(beta) * np.ptp(omega) < _BETA_ZERO:
        return float("nan")
    a = beta * omega - np.min(beta * omega)          # β(ω_k − ω*) ≥ 0, ω* the band edge

    def excess(s: float) -> float:
        return float(np.sum(1.0 / np.expm1(a + s)) - N)

    L = len(omega)
    s = brentq(excess, np.log1p(1.0 / N), np.log1p(L / N), xtol=1e-15, rtol=1e-14)
    edge = omega[np.argmin(beta * omega)]
    return float(edge - s / beta)


def bose_einstein(omega, beta: float, N: float) -> np.ndarray:
    """n_BE(ω_k) = 1/(e^{β(ω_k − μ)} − 1) with μ fixed by Σ_k n_BE = N (Eqs. 9, A8)."""
    omega = finite_array("omega", omega)
    mu = chemical_potential(omega, beta, N)
    if np.isnan(mu):
        return np.full(len(omega), float(N) / len(omega))
    return 1.0 / np.expm1(beta * (omega - mu))


def _correction_coefficient(Delta: float, kappa: float) -> float:
    """β0²(3 + β0Δ)/(36Δ), written as 16Δ(3 + β0Δ)/(36[Δ² + κ²/4]²) so Δ = 0 is regular."""
    b0 = beta0(Delta, kappa)
    return 16.0 * Delta * (3.0 + b0 * Delta) / (36.0 * (Delta**2 + kappa**2 / 4) ** 2)


def beta_of_omega(omega, Delta: float, kappa: float, J: float = 1.0) -> np.ndarray:
    """β(ω_k) = β0[1 + β0(3 + β0Δ)(ω_k² + 18J²)/(36Δ)] (Eq. 16); ≡ β0 at Δ = ±√3κ/2."""
    J = positive("J", J)
    w = finite_array("omega", omega)
    return beta0(Delta, kappa) + _correction_coefficient(Delta, kappa) * (w**2 + 18 * J**2)


def beta_local_of_omega(omega, Delta: float, kappa: float, J: float = 1.0) -> np.ndarray:
    """d[β(ω)ω]/dω = β0 + β0²(3 + β0Δ)(3ω² + 18J²)/(36Δ): the local slope of ln(1 + 1/n) for
    Eq. (15) to first order, i.e. what :func:`beta_extracted` (without μ) gives on Eq. (15)."""
    J = positive("J", J)
    w = finite_array("omega", omega)
    return beta0(Delta, kappa) + _correction_coefficient(Delta, kappa) * (3 * w**2 + 18 * J**2)


def perturbative_steady_state(Delta: float, kappa: float, *, N: float = 50, L: int = 100,
                              J: float = 1.0) -> xr.Dataset:
    """The perturbative steady state Eq. (15), n = n0 + n2 (n1 = 0), next to n_BE (Eq. A8).

    n = n_BE{1 − e^{β0(ω−μ)} n_BE [A(ω) − e^{−β0μ}c]},  A = β0²(3+β0Δ)(ω²+18J²)ω/(36Δ);
    μ from Σ n_BE = N, then e^{−β0μ}c = Σ h A/Σ h with h = n_BE(n_BE + 1) so that Σ n = N.

    Returns a Dataset over ``omega`` with ``n`` (NaN where Eq. 15 is negative), ``n_raw``
    (unmasked) and ``n_be``; ``attrs["valid"]`` is False when any occupation is ≤ 0, i.e.
    outside the perturbative regime where Eq. (15) must not be used.
    """
    L, N, J = chain_length(L), positive("N", N), positive("J", J)
    b0 = beta0(Delta, kappa)
    omega = band_energies(L, J)
    n_be = bose_einstein(omega, b0, N)
    mu = chemical_potential(omega, b0, N)
    A = _correction_coefficient(Delta, kappa) * (omega**2 + 18 * J**2) * omega
    h = n_be * (n_be + 1.0)
    C = float(np.sum(h * A) / np.sum(h))
    n = n_be - h * (A - C)
    valid = bool(np.all(n > 0))
    return xr.Dataset(
        {"n": ("omega", np.where(n > 0, n, np.nan)), "n_raw": ("omega", n), "n_be": ("omega", n_be)},
        coords={"omega": omega, "k": ("omega", wave_numbers(L))},
        attrs={"Delta": float(Delta), "kappa": float(kappa), "N": float(N), "L": L, "J": J,
               "beta0": b0, "mu": mu, "c_times_exp_minus_beta0_mu": C, "valid": int(valid),
               "equation": "Ribeiro & Marquardt Eq. (15)", "version": __version__})


def beta_extracted(omega, n, mu: float | None = None) -> np.ndarray:
    """Inverse temperature read off a distribution.

    With ``mu`` given: the deformed-BE β(ω_k) solving n_k = 1/(e^{β(ω_k − μ)} − 1), i.e.
    ln(1 + 1/n_k)/(ω_k − μ) — the quantity Eq. (16) approximates (use μ of n_BE).
    Without ``mu``: the local β(ω) = d ln(1 + 1/n)/dω (finite differences on the modes),
    which equals β for any BE distribution and needs no μ.
    """
    omega, n = finite_array("omega", omega), finite_array("n", n)
    y = np.log1p(1.0 / n)
    if mu is None:
        return np.gradient(y, omega)
    return y / (omega - finite("mu", mu))
