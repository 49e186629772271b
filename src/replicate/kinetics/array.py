"""The open 1D bosonic array: eigenmodes, band energies and overlap factors (Ribeiro & Marquardt App. A).

Energies are measured from the band centre (ω0 = 0), as Eqs. (15)–(16) and the density of
states assume.
"""
from __future__ import annotations

import numpy as np

from ..validate import chain_length, positive


def wave_numbers(L: int) -> np.ndarray:
    """k_j = π j/(L+1), j = 1…L, for an open chain of ``L`` sites."""
    L = chain_length(L)
    return np.pi * np.arange(1, L + 1) / (L + 1)


def band_energies(L: int, J: float = 1.0) -> np.ndarray:
    """ω_k = 2J cos k (Eq. 14 diagonalised, ω0 = 0); j = 1 is the top of the band, j = L the bottom."""
    J = positive("J", J)
    return 2.0 * J * np.cos(wave_numbers(L))


def mode_functions(L: int) -> np.ndarray:
    """φ_r(k) = √(2/(L+1)) sin(k r) as an array ``[k, r]`` (App. A)."""
    k = wave_numbers(L)
    r = np.arange(1, len(k) + 1)
    return np.sqrt(2.0 / (len(k) + 1)) * np.sin(np.outer(k, r))


def overlap(L: int, exact: bool = True) -> np.ndarray:
    """Overlap factors γ_{k,k'} = Σ_r |φ_r(k)|²|φ_r(k')|² (Eq. 6) as an ``L×L`` array.

    ``exact=True`` uses the closed form Eq. (A1), γ = [1 + δ_{k+k',π}/2]/(L+1) (with the
    diagonal 3/[2(L+1)]); ``exact=False`` the constant 1/(L+1) of the continuum theory.
    The diagonal never enters the kinetic equation (its gain and loss cancel).
    """
    L = chain_length(L)
    g = np.full((L, L), 1.0 / (L + 1))
    if exact:
        j = np.arange(1, L + 1)
        g[np.add.outer(j, j) == L + 1] *= 1.5
        g[np.diag_indices(L)] = 1.5 / (L + 1)
    return g

