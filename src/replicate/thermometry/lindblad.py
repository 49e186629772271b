"""The impurity models as Lindbladians (QuTiP), to check :mod:`.models` against ``steadystate``.

Jump operators (notes §3.2–3.3; rates in units of κ_d = 1, names ours):

- ``two_photon`` (Eqs. 10, 41): √κ_p â†, √κ_d â, √κ_φ n̂, √κ_2 â²;
- ``scully_lamb`` (Eq. 42): √κ_d â, √κ_φ n̂ and the saturated pump
  √κ_p â†[1 + (s/κ_p) â â†]^{−1/2} (the choice explained in :mod:`.models`).

The local Hamiltonian is the Kerr term (U/2) â†â†ââ of Eq. (9); with U(1)-symmetric jumps it
does not change the steady state, nor does κ_φ — keeping both makes the check non-trivial.
QuTiP is imported lazily.
"""
from __future__ import annotations

import numpy as np

from ..validate import count, positive
from .models import U_SIMULATION, scully_lamb_gain


def _qutip():
    try:
        import qutip
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("thermometry.lindblad needs QuTiP: pip install qutip") from exc
    return qutip


def impurity_operators(model: str, n_cut: int, *, kappa_p_over_kappa_d: float,
                       kappa_2_over_kappa_d: float = 0.0, s_over_kappa_d: float = 0.0,
                       kappa_phi_over_kappa_d: float = 0.0, U: float = U_SIMULATION):
    """(H, c_ops) of an impurity model on the Fock space 0..n_cut (QuTiP ``Qobj``s)."""
    qt = _qutip()
    N = count("n_cut", n_cut) + 1
    kp = positive("kappa_p_over_kappa_d", kappa_p_over_kappa_d, allow_zero=True)
    k2 = positive("kappa_2_over_kappa_d", kappa_2_over_kappa_d, allow_zero=True)
    s = positive("s_over_kappa_d", s_over_kappa_d, allow_zero=True)
    kphi = positive("kappa_phi_over_kappa_d", kappa_phi_over_kappa_d, allow_zero=True)
    a = qt.destroy(N)
    H = 0.5 * positive("U", U, allow_zero=True) * a.dag() * a.dag() * a * a
    c_ops = [a, np.sqrt(kphi) * a.dag() * a]
    if model == "two_photon":
        c_ops += [np.sqrt(kp) * a.dag(), np.sqrt(k2) * a * a]
    elif model == "scully_lamb":
        n = np.arange(N)
        # |⟨n+1|L_p|n⟩|² = gain(n): L_p = a† · diag(sqrt(gain(n)/(n+1)))
        damp = np.sqrt(scully_lamb_gain(n, kp, s) / (n + 1.0)) if kp > 0 else np.zeros(N)
        c_ops.append(a.dag() * qt.Qobj(np.diag(damp)))
    else:
        raise ValueError(f"model must be 'two_photon' or 'scully_lamb', got {model!r}")
    return H, c_ops


def impurity_steady_populations(model: str, n_cut: int, **rates) -> np.ndarray:
    """Diagonal of the QuTiP ``steadystate`` of :func:`impurity_operators` (populations 0..n_cut)."""
    qt = _qutip()
    H, c_ops = impurity_operators(model, n_cut, **rates)
    rho = qt.steadystate(H, c_ops)
    return np.real(np.diag(rho.full()))
