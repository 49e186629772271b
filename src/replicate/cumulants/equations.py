"""Second-order cumulant expansion (Gaussian closure, M = 2) of the chain's Lindblad dynamics.

Ferrari et al., SI Eqs. (34) and (37).  The variables are the field α_ℓ = ⟨a_ℓ⟩ and the
normally ordered second moments N_ℓm = ⟨a_ℓ† a_m⟩ and M_ℓm = ⟨a_ℓ a_m⟩.  With
A = iΔ𝟙 + iJT − Γ/2 (T the nearest-neighbour adjacency matrix, Γ = diag γ_ℓ) and the drive
vector f_ℓ (F on site 1, or on every site for ``drive="uniform"``), the exact equations are

.. math::
    \\dot\\alpha = A\\alpha - i f - iU\\,\\langle a_\\ell^\\dagger a_\\ell a_\\ell\\rangle,\\qquad
    \\dot N = A^*N + NA^T + i(f\\alpha^T - \\alpha^* f^T) + iU(H - H^\\dagger),\\\\
    \\dot M = AM + MA^T - i(f\\alpha^T + \\alpha f^T) - iU(G + G^T + {\\rm diag}\\,M_{\\ell\\ell}),

with H_ℓm = ⟨a_ℓ†a_ℓ†a_ℓ a_m⟩ and G_ℓm = ⟨a_ℓ†a_ℓ a_ℓ a_m⟩ (the diag M term is the
commutator a_ℓ a_ℓ† = a_ℓ†a_ℓ + 1 in d(a_ℓ a_ℓ)).  Zero-temperature losses add no source
terms to normally ordered moments.  The Gaussian closure sets the third and fourth joint
cumulants to zero, so for normally ordered products

.. math::
    \\langle x_1x_2x_3\\rangle = \\sum_{\\rm 3\\ pairs}\\langle x_ix_j\\rangle\\mu_k - 2\\mu_1\\mu_2\\mu_3,\\qquad
    \\langle x_1x_2x_3x_4\\rangle = \\sum_{\\rm 3\\ pairings}\\langle x_ix_j\\rangle\\langle x_kx_l\\rangle
    - 2\\mu_1\\mu_2\\mu_3\\mu_4,

giving ⟨a†aa⟩ = 2N_ℓℓα_ℓ + M_ℓℓα_ℓ* − 2|α_ℓ|²α_ℓ, G_ℓm = 2N_ℓℓM_ℓm + M_ℓℓN_ℓm − 2|α_ℓ|²α_ℓα_m,
H_ℓm = M_ℓℓ*M_ℓm + 2N_ℓℓN_ℓm − 2|α_ℓ|²α_ℓ*α_m, and the Kerr moment of spec §1.6,
⟨a†²a²⟩ = |M_ℓℓ|² + 2N_ℓℓ² − 2|α_ℓ|⁴.  δn is Eq. (37): (⟨a†²a²⟩ − n²)/n.
At U = 0 the equations are exact.

:func:`rhs` is a numba loop that uses the tridiagonal drift matrix directly,
(A X)_ℓm = (iΔ − γ_ℓ/2) X_ℓm + iJ (X_{ℓ−1,m} + X_{ℓ+1,m}), so a call costs O(L²); N is Hermitian
and M symmetric, so only their upper triangles are stored (:func:`pack`, :func:`unpack`).
"""
from __future__ import annotations

import numpy as np
from numba import njit


def packed_size(L: int) -> int:
    """Length of the packed state: α (L), upper triangles (ℓ ≤ m) of N and M (L(L+1)/2 each)."""
    return L + L * (L + 1)


def pack(a: np.ndarray, N: np.ndarray, M: np.ndarray) -> np.ndarray:
    """(α, N, M) → packed state; N must be Hermitian and M symmetric (only ℓ ≤ m is kept)."""
    iu = np.triu_indices(len(a))
    return np.concatenate([np.asarray(a, complex), np.asarray(N)[iu], np.asarray(M)[iu]])


def unpack(y: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed state → (α, N, M) with N Hermitian and M symmetric."""
    k = L * (L + 1) // 2
    iu = np.triu_indices(L)
    N = np.zeros((L, L), complex)
    M = np.zeros((L, L), complex)
    N[iu] = y[L:L + k]
    M[iu] = y[L + k:L + 2 * k]
    N = N + np.triu(N, 1).conj().T
    M = M + np.triu(M, 1).T
    return np.array(y[:L]), N, M


@njit(cache=True, error_model="numpy")
def rhs(y: np.ndarray, out: np.ndarray, L: int, Delta: float, J: float, U: float,
        g: np.ndarray, f: np.ndarray, N: np.ndarray, M: np.ndarray) -> None:
    """dy/dt of the closed equations for a packed state (see :func:`pack`) into ``out``.

    ``g`` is the total loss rate γ_ℓ of each site, ``f`` the drive F_ℓ (real); ``N``, ``M`` are
    complex (L, L) scratch arrays.  With d_ℓ = iΔ − γ_ℓ/2, n_ℓ = N_ℓℓ, m_ℓ = M_ℓℓ and
    k_ℓ = 2|α_ℓ|²α_ℓ this is (for ℓ ≤ m; N_mℓ = N_ℓm*, M_mℓ = M_ℓm)

    dα_ℓ = d_ℓα_ℓ + iJ(α_{ℓ−1} + α_{ℓ+1}) − i f_ℓ − iU(2n_ℓα_ℓ + m_ℓα_ℓ* − k_ℓ),
    dN_ℓm = (d_ℓ* + d_m)N_ℓm − iJ(N_{ℓ−1,m} + N_{ℓ+1,m}) + iJ(N_{ℓ,m−1} + N_{ℓ,m+1})
            + i(f_ℓα_m − f_mα_ℓ*) + iU(H_ℓm − H_mℓ*),
    dM_ℓm = (d_ℓ + d_m)M_ℓm + iJ(M_{ℓ−1,m} + M_{ℓ+1,m} + M_{ℓ,m−1} + M_{ℓ,m+1})
            − i(f_ℓα_m + f_mα_ℓ) − iU(G_ℓm + G_mℓ + δ_ℓm m_ℓ),

    H_ℓm = m_ℓ*M_ℓm + 2n_ℓN_ℓm − k_ℓ*α_m and G_ℓm = 2n_ℓM_ℓm + m_ℓN_ℓm − k_ℓα_m, i.e.
    the dense matrix equations of the module docstring restricted to Hermitian N and symmetric
    M (the physical states, which the equations preserve).
    """
    kk = L * (L + 1) // 2
    pos = L
    for l in range(L):
        for m in range(l, L):
            N[l, m] = y[pos]
            N[m, l] = y[pos].conjugate()
            M[l, m] = y[pos + kk]
            M[m, l] = y[pos + kk]
            pos += 1
    iJ = 1j * J
    iU = 1j * U
    d = np.empty(L, np.complex128)
    nd = np.empty(L)
    md = np.empty(L, np.complex128)
    k = np.empty(L, np.complex128)
    for l in range(L):
        d[l] = 1j * Delta - 0.5 * g[l]
        nd[l] = N[l, l].real
        md[l] = M[l, l]
        k[l] = 2.0 * (y[l].real ** 2 + y[l].imag ** 2) * y[l]
    for l in range(L):
        s = 0j
        if l > 0:
            s += y[l - 1]
        if l < L - 1:
            s += y[l + 1]
        out[l] = (d[l] * y[l] + iJ * s - 1j * f[l]
                  - iU * (2.0 * nd[l] * y[l] + md[l] * y[l].conjugate() - k[l]))
    pos = L
    for l in range(L):
        al = y[l]
        alc = al.conjugate()
        for m in range(l, L):
            am = y[m]
            Nlm = N[l, m]
            Mlm = M[l, m]
            hN = 0j
            hM = 0j
            if l > 0:
                hN -= N[l - 1, m]
                hM += M[l - 1, m]
            if l < L - 1:
                hN -= N[l + 1, m]
                hM += M[l + 1, m]
            if m > 0:
                hN += N[l, m - 1]
                hM += M[l, m - 1]
            if m < L - 1:
                hN += N[l, m + 1]
                hM += M[l, m + 1]
            H_lm = md[l].conjugate() * Mlm + 2.0 * nd[l] * Nlm - k[l].conjugate() * am
            H_ml_c = md[m] * Mlm.conjugate() + 2.0 * nd[m] * Nlm - k[m] * alc  # conj(H_mℓ)
            G_lm = 2.0 * nd[l] * Mlm + md[l] * Nlm - k[l] * am
            G_ml = 2.0 * nd[m] * Mlm + md[m] * Nlm.conjugate() - k[m] * al
            out[pos] = ((d[l].conjugate() + d[m]) * Nlm + iJ * hN
                        + 1j * (f[l] * am - f[m] * alc) + iU * (H_lm - H_ml_c))
            src = G_lm + G_ml
            if l == m:
                src += md[l]
            out[pos + kk] = ((d[l] + d[m]) * Mlm + iJ * hM - 1j * (f[l] * am + f[m] * al)
                             - iU * src)
            pos += 1
