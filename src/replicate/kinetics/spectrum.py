"""Noise spectrum of a driven lossy cavity and its effective temperature (Eqs. 12–13).

Convention (Eq. 4): the rate k → k' uses S(ω_k − ω_k'), the energy the boson gives up;
S(ω > 0) is absorption by the reservoir.
"""
from __future__ import annotations

import numpy as np

from ..validate import finite, positive


def drive_amplitude_sq(Delta: float, kappa: float, Omega0: float = 0.1) -> float:
    """|a0|² = Ω0²/[Δ² + (κ/2)²], the mean cavity photon number (Eq. 12)."""
    Delta, kappa = finite("Delta", Delta), positive("kappa", kappa)
    Omega0 = positive("Omega0", Omega0)
    return Omega0**2 / (Delta**2 + (kappa / 2) ** 2)


def cavity_spectrum(omega, Delta: float, kappa: float, Omega0: float = 0.1) -> np.ndarray:
    """S_c(ω) = |a0|² κ/[(ω + Δ)² + (κ/2)²] (Eq. 12), Δ = ω_d − ω_c; peaks at ω = −Δ."""
    a2 = drive_amplitude_sq(Delta, kappa, Omega0)
    w = np.asarray(omega, dtype=float)
    return a2 * kappa / ((w + Delta) ** 2 + (kappa / 2) ** 2)


def thermal_spectrum(omega, beta: float) -> np.ndarray:
    """A thermal test spectrum S(ω) = 1/(1 + e^{−βω}), obeying S(ω)/S(−ω) = e^{βω} exactly."""
    beta = finite("beta", beta)
    return 0.5 * (1.0 + np.tanh(0.5 * beta * np.asarray(omega, dtype=float)))


def beta0(Delta: float, kappa: float) -> float:
    """β0 = −4Δ/[Δ² + (κ/2)²] (Eq. 13): > 0 for red (Δ < 0), < 0 for blue detuning."""
    Delta, kappa = finite("Delta", Delta), positive("kappa", kappa)
    return -4.0 * Delta / (Delta**2 + (kappa / 2) ** 2)


def beta_eff(omega, Delta: float, kappa: float) -> np.ndarray:
    """Exact β_eff(ω) = ln[S(ω)/S(−ω)]/ω of the cavity spectrum (Stokes relation; β0 at ω → 0)."""
    Delta, kappa = finite("Delta", Delta), positive("kappa", kappa)
    w = np.asarray(omega, dtype=float)
    h = (kappa / 2) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.log(((w - Delta) ** 2 + h) / ((w + Delta) ** 2 + h)) / w
    return np.where(w == 0, beta0(Delta, kappa), b)


def beta_eff_series(omega, Delta: float, kappa: float) -> np.ndarray:
    """Second-order series β0[1 + β0(3 + β0Δ)ω²/(12Δ)] of β_eff(ω) (Eq. 13)."""
    b0 = beta0(Delta, kappa)
    w = np.asarray(omega, dtype=float)
    return b0 * (1 + b0 * (3 + b0 * Delta) * w**2 / (12 * Delta))
