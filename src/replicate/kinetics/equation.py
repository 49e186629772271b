"""Golden-rule rates (Eq. 4) and the kinetic equation (Eq. 7) in matrix form.

With τ = χ²t/J the kinetic equation reads

    dn_k/dτ = Σ_{k'} [W_{k'k} n_{k'}(n_k + 1) − W_{kk'} n_k(n_{k'} + 1)],
    W_{kk'} = J γ_{k,k'} S(ω_k − ω_{k'}),

so χ drops out.  In vector form, with g = Wᵀn and l = W(n + 1),
dn/dτ = (n + 1)∘g − n∘l.  Σ_k dn_k/dτ = 0 identically (particle number is conserved).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..validate import positive


def rate_matrix(omega: np.ndarray, gamma: np.ndarray, spectrum: Callable[[np.ndarray], np.ndarray],
                J: float = 1.0) -> np.ndarray:
    """W_{kk'} = J γ_{k,k'} S(ω_k − ω_{k'}), zero diagonal: the rate k → k' per n_k(n_{k'}+1)
    in units of χ²/J (Eq. 4)."""
    J = positive("J", J)
    W = J * gamma * spectrum(np.subtract.outer(omega, omega))
    np.fill_diagonal(W, 0.0)
    if np.any(W < 0) or not np.all(np.isfinite(W)):
        raise ValueError("spectrum must be finite and non-negative")
    return W


def kinetic_rhs(n: np.ndarray, W: np.ndarray) -> np.ndarray:
    """dn/dτ of Eq. (7): (n + 1)∘(Wᵀn) − n∘(W(n + 1))."""
    return (n + 1.0) * (W.T @ n) - n * (W @ (n + 1.0))


def kinetic_jacobian(n: np.ndarray, W: np.ndarray) -> np.ndarray:
    """∂(dn_k/dτ)/∂n_j = δ_kj[(Wᵀn)_k − (W(n+1))_k] + (n_k + 1)W_{jk} − n_k W_{kj}."""
    Jac = (n + 1.0)[:, None] * W.T - n[:, None] * W
    Jac[np.diag_indices_from(Jac)] += W.T @ n - W @ (n + 1.0)
    return Jac


def classical_rhs(n: np.ndarray, W: np.ndarray) -> np.ndarray:
    """dn/dτ without Bose enhancement (n_{k'} + 1 → 1): Wᵀn − n∘(W·1), a linear master
    equation; its steady state is N times the stationary distribution of the rate matrix."""
    return W.T @ n - n * W.sum(axis=1)


def scaled_residual(n: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Stationarity residual per mode, (Wᵀn)_k/n_k − (W(n+1))_k/(n_k+1) = ṅ_k/[n_k(n_k+1)],
    divided by max W: dimensionless, O(1)-scaled for every occupation."""
    return ((W.T @ n) / n - (W @ (n + 1.0)) / (n + 1.0)) / W.max()
