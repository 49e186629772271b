"""Wigner samples of a known Fock-diagonal state, for tests and calibration of the fits.

u = |α|² is drawn by inverse transform of the exact radial CDF F(u) (:func:`.wigner.radial_cdf`)
and the phase uniformly. This is exact sampling of the quantum Wigner function, and it is only
possible where W ≥ 0 everywhere: :func:`wigner_samples` checks that on a fine grid and raises
``ValueError`` otherwise (a non-classical state has no Wigner samples; TWA samples of such a state
do not exist either). Gibbs states of the Kerr site with U = 0.1 are positive for the
temperatures of interest (T ≳ U), including ring-shaped ones (μ > 0): the check decides, no
classical approximation is used.
"""
from __future__ import annotations

import numpy as np

from ..validate import count
from .wigner import radial_cdf, wigner_radial

_GRID = 4096


def wigner_samples(P, shape, rng: np.random.Generator) -> np.ndarray:
    """Complex samples α of shape ``shape`` from the Wigner function of Σ_n P(n)|n⟩⟨n|.

    Raises ``ValueError`` if W < 0 anywhere (then it is not a probability density).
    """
    P = np.asarray(P, dtype=float)
    n = np.arange(P.size)
    n_mean = float(n @ P)
    spread = float(np.sqrt(max((n * n) @ P - n_mean**2, 0.0)))
    u_hi = n_mean + 0.5 + 40.0 * (spread + 1.0)
    u = np.linspace(0.0, u_hi, _GRID)
    W = wigner_radial(P, u)
    if W.min() < -1e-9 * W.max():
        raise ValueError(f"P: the Wigner function is negative (min W = {W.min():.3g}); "
                         "it has no Wigner samples")
    F = np.maximum.accumulate(np.clip(radial_cdf(P, u), 0.0, 1.0))
    if F[-1] < 1 - 1e-9:
        raise ValueError("P: the radial grid does not cover the state (internal error)")
    size = int(np.prod([count("shape", s) for s in np.atleast_1d(shape)]))
    y = rng.random(size)
    # inverse CDF: linear interpolation of u(F) on the grid, then one Newton step on F(u) = y
    uu = np.interp(y, F, u)
    step = (radial_cdf(P, uu) - y) / np.maximum(np.pi * wigner_radial(P, uu), 1e-300)
    du = u[1] - u[0]
    uu = np.clip(uu - np.clip(step, -du, du), 0.0, None)
    phase = rng.uniform(0.0, 2 * np.pi, size)
    return (np.sqrt(uu) * np.exp(1j * phase)).reshape(tuple(np.atleast_1d(shape)))
