"""First-order coherence of an impurity model in its steady state (SI §"auto-correlation").

The static Wigner function fixes only the rate ratios of an impurity model (notes §3.2); its
time correlations also depend on the overall rate κ_d, the dephasing κ_φ and the local
Hamiltonian Ĥ_ℓ = (U/2) â†â†ââ (Eq. 9). The paper argues from them that the prethermal domain is
not a laser: a Scully–Lamb laser (κ_φ = 0) keeps its phase for times ~ 1/s, while the chain's
C_ℓ(τ) decays within ~1/γ. :func:`coherence` computes the model's normalised correlation

.. math:: C(\\tau)=\\langle\\hat a^\\dagger(0)\\,\\hat a(\\tau)\\rangle/\\langle\\hat n\\rangle

for given rates, to put a number on "a laser would be coherent".

Method (quantum regression theorem): ⟨a†(τ) a(0)⟩ = Tr[a† e^{𝓛τ}(a ρ)], and for a Fock-diagonal
ρ and U(1)-symmetric jumps the operator a ρ and its evolution live on the first off-diagonal,
X_n = X_{n,n+1}. There 𝓛 is a banded matrix (jumps as in :mod:`.lindblad`, rates over κ_d):

- loss √κ_d â:   κ_d √((n+1)(n+2)) X_{n+1} − κ_d (n + ½) X_n;
- pump √κ_p â† g(n̂) with g(n)² = gain(n)/[κ_p(n+1)] (:func:`.models.scully_lamb_gain`, g = 1 for
  the 2-photon model): κ_p g(n−1)g(n) √(n(n+1)) X_{n−1} − ½[gain(n) + gain(n+1)] X_n;
- two-photon loss √κ_2 â²: κ_2 (n+2) √((n+1)(n+3)) X_{n+2} − κ_2 n² X_n;
- dephasing √κ_φ n̂: −(κ_φ/2) X_n;
- Ĥ_ℓ: +iU n X_n.

C(τ) is the complex conjugate of Σ_n √(n+1) X_n(τ)/⟨n⟩ with X_n(0) = √(n+1) P(n+1), propagated
exactly on the τ grid by one matrix exponential of 𝓛Δτ. Checked against QuTiP's
``correlation_2op_1t`` in the tests.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.linalg import expm
from scipy.sparse import diags
from threadpoolctl import ThreadpoolController

from ..validate import positive
from . import models as m

_THREADPOOLS = ThreadpoolController()  # small dense algebra: one BLAS thread is fastest


def coherence(model: str, params: Mapping[str, float], tau, *, U: float = m.U_SIMULATION,
              kappa_d: float = 1.0, kappa_phi_over_kappa_d: float = 0.0) -> np.ndarray:
    """C(τ) of the steady state of ``model`` ("two_photon" or "scully_lamb") with fitted
    ``params`` (:data:`.models.PARAMETERS`), at times ``tau`` (equally spaced from 0, units of
    1/γ) for the rate scale ``kappa_d`` (units of γ)."""
    if model not in ("two_photon", "scully_lamb"):
        raise ValueError(f"model must be 'two_photon' or 'scully_lamb', got {model!r}")
    tau = np.asarray(tau, float)
    if tau.ndim != 1 or tau.size < 2 or tau[0] != 0 or not np.allclose(np.diff(tau), tau[1]):
        raise ValueError("tau must be an equally spaced grid starting at 0")
    kd = positive("kappa_d", kappa_d)
    kphi = positive("kappa_phi_over_kappa_d", kappa_phi_over_kappa_d, allow_zero=True)
    U = positive("U", U, allow_zero=True)
    P = m.populations(model, params).P
    N = P.size + 8  # a margin above the populated levels
    n = np.arange(N, dtype=float)
    kp = params["kappa_p_over_kappa_d"]
    if model == "scully_lamb":
        gain = m.scully_lamb_gain(n, kp, params["s_over_kappa_d"])
        k2 = 0.0
    else:
        gain, k2 = kp * (n + 1.0), params["kappa_2_over_kappa_d"]
    g = np.sqrt(gain / (kp * (n + 1.0))) if kp > 0 else np.zeros(N)
    M = N - 1  # X_0 .. X_{N-2}
    k = n[:M]
    diag = -(k + 0.5) - 0.5 * (gain[:M] + gain[1:]) - k2 * k ** 2 - 0.5 * kphi + 1j * (U / kd) * k
    up1 = np.sqrt((k[:-1] + 1) * (k[:-1] + 2))                      # X_{n+1} → X_n
    dn1 = kp * g[: M - 1] * g[1:M] * np.sqrt((k[1:]) * (k[1:] + 1))   # X_{n-1} → X_n (row n ≥ 1)
    up2 = k2 * (k[:-2] + 2) * np.sqrt((k[:-2] + 1) * (k[:-2] + 3))   # X_{n+2} → X_n
    L = diags([diag, up1, dn1, up2], [0, 1, -1, 2], shape=(M, M), format="csr") * kd
    x0 = np.zeros(M, complex)
    x0[: P.size - 1] = np.sqrt(np.arange(1, P.size)) * P[1:]
    X = np.empty((tau.size, M), complex)
    X[0] = x0
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        step = expm(L.toarray() * tau[1])  # one exact propagator for the grid's spacing
        for i in range(1, tau.size):
            X[i] = step @ X[i - 1]
    c = X @ np.sqrt(k + 1.0)
    return np.conj(c / c[0].real)
