"""Exact reference systems shared by the engine tests (the habit of dynamiqs' tests/systems/).

``pyproject.toml`` puts ``tests/`` on the path, so a test imports them with ``from systems import``.
"""
import numpy as np

from replicate.chain import ChainParams


def linear_drift(p: ChainParams) -> tuple[np.ndarray, np.ndarray]:
    """dα/dt = M α + b of Eq. (4) at U = 0 (no −1 correction survives: U(|α|² − 1) = 0)."""
    hop = np.eye(p.L, k=1) + np.eye(p.L, k=-1)
    M = 1j * (p.Delta * np.eye(p.L) + p.J * hop) - 0.5 * np.diag(p.loss_profile())
    return M, -1j * p.drive_profile().astype(complex)


def gp_rhs(p: ChainParams):
    """Right-hand side of the classical Eq. (35) on (Re α, Im α), for scipy's solve_ivp."""
    F, g = p.drive_profile(), 0.5 * p.loss_profile()

    def rhs(t, y):
        a = y[:p.L] + 1j * y[p.L:]
        nb = np.zeros_like(a)
        nb[1:] += a[:-1]
        nb[:-1] += a[1:]
        da = -1j * (-p.Delta * a + p.U * np.abs(a) ** 2 * a - p.J * nb + F) - g * a
        return np.concatenate([da.real, da.imag])
    return rhs
