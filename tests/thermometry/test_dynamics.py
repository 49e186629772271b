"""The impurity models' steady-state coherence C(τ) (thermometry.dynamics) against QuTiP."""
import numpy as np
import pytest

from replicate.thermometry import dynamics, lindblad

qt = pytest.importorskip("qutip")

CASES = [("two_photon", {"kappa_p_over_kappa_d": 1.5, "kappa_2_over_kappa_d": 0.1}),
         ("scully_lamb", {"kappa_p_over_kappa_d": 2.0, "s_over_kappa_d": 0.6})]
N_CUT = 30


@pytest.mark.parametrize("model, params", CASES, ids=[c[0] for c in CASES])
def test_coherence_matches_quantum_regression_in_qutip(model, params):
    """Kerr term, dephasing and a rate scale κ_d ≠ 1 all switched on."""
    U, kphi, kd = 0.3, 0.2, 1.5
    tau = np.linspace(0, 3, 31)
    C = dynamics.coherence(model, params, tau, U=U, kappa_d=kd, kappa_phi_over_kappa_d=kphi)
    rates = dict(params, kappa_phi_over_kappa_d=kphi, U=U / kd)
    H, c_ops = lindblad.impurity_operators(model, N_CUT, **rates)
    a = qt.destroy(N_CUT + 1)
    corr = qt.correlation_2op_1t(H, qt.steadystate(H, c_ops), tau * kd, c_ops, a.dag(), a)
    np.testing.assert_allclose(C, np.conj(corr / corr[0]), atol=2e-4)


def test_laser_keeps_its_phase_and_dephasing_kills_it():
    """Far above threshold (n̄ ≈ 200) the Scully–Lamb laser's coherence decays at a rate of order
    κ_d/n̄ (phase diffusion); a dephasing κ_φ adds κ_φ/2 to the rate."""
    params = {"kappa_p_over_kappa_d": 2.0, "s_over_kappa_d": 0.01}
    tau = np.linspace(0, 10, 11)
    slow = dynamics.coherence("scully_lamb", params, tau, U=0.0)
    fast = dynamics.coherence("scully_lamb", params, tau, U=0.0, kappa_phi_over_kappa_d=1.0)
    rate_slow = -np.log(np.abs(slow[-1])) / tau[-1]
    assert 0.1 / 200 < rate_slow < 1 / 200
    assert -np.log(np.abs(fast[-1])) / tau[-1] == pytest.approx(rate_slow + 0.5, rel=0.05)


def test_bad_input():
    with pytest.raises(ValueError, match="tau"):
        dynamics.coherence("two_photon", CASES[0][1], [0.0, 1.0, 3.0])
    with pytest.raises(ValueError, match="model"):
        dynamics.coherence("gibbs", {}, [0.0, 1.0])
