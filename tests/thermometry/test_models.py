"""Local models: closed forms, detailed balance, and the impurity NESS against QuTiP."""
import math

import numpy as np
import pytest
from scipy.linalg import null_space

from replicate.thermometry import models as m
from replicate.thermometry.lindblad import impurity_steady_populations

N_QUTIP = 16  # Fock cutoff of the QuTiP checks


def _truncated(log_w):
    p = np.exp(log_w - log_w.max())
    return p / p.sum()


def _rate_matrix_null_vector(a, b, N):
    """Independent oracle: null vector of the full (N+1)×(N+1) generator of the 2-photon chain."""
    G = np.zeros((N + 1, N + 1))
    for n in range(N + 1):
        for target, rate in ((n + 1, a * (n + 1)), (n - 1, n), (n - 2, b * n * (n - 1))):
            if 0 <= target <= N:
                G[target, n] += rate
                G[n, n] -= rate
    p = null_space(G)[:, 0]
    return p / p.sum()


@pytest.mark.parametrize("a, b", [(0.6, 0.0), (2.0, 0.1), (1.5, 0.3), (4.0, 0.05)])
def test_two_photon_matches_qutip_steadystate(a, b):
    rho = impurity_steady_populations("two_photon", N_QUTIP, kappa_p_over_kappa_d=a,
                                      kappa_2_over_kappa_d=b, kappa_phi_over_kappa_d=0.7, U=0.1)
    ours = _truncated(m.two_photon_log_weights(a, b, N_QUTIP))  # same truncation as QuTiP
    np.testing.assert_allclose(ours, rho, atol=1e-10)


def test_two_photon_naive_neighbour_balance_is_wrong():
    """p_{n+1}/p_n = κ_p/(κ_d + κ_2 n), pretending the 2-photon jump were a 1-photon one, misses."""
    a, b = 2.0, 0.3
    rho = impurity_steady_populations("two_photon", N_QUTIP, kappa_p_over_kappa_d=a,
                                      kappa_2_over_kappa_d=b)
    n = np.arange(N_QUTIP)
    naive = _truncated(np.append(0.0, np.cumsum(np.log(a / (1 + b * n)))))
    assert np.max(np.abs(naive - rho)) > 1e-2


@pytest.mark.parametrize("a, b", [(3.0, 0.02), (0.9, 0.001)])
def test_two_photon_matches_generator_null_vector_at_large_cutoff(a, b):
    N = 150
    np.testing.assert_allclose(_truncated(m.two_photon_log_weights(a, b, N)),
                               _rate_matrix_null_vector(a, b, N), atol=1e-10)


@pytest.mark.parametrize("a, s", [(2.0, 0.2), (0.8, 0.05), (3.0, 1.0)])
def test_scully_lamb_matches_qutip_steadystate(a, s):
    rho = impurity_steady_populations("scully_lamb", N_QUTIP, kappa_p_over_kappa_d=a,
                                      s_over_kappa_d=s, kappa_phi_over_kappa_d=0.7)
    pops = m.scully_lamb_populations(a, s)
    P = np.zeros(N_QUTIP + 1)
    k = min(pops.n_cut, N_QUTIP) + 1
    P[:k] = pops.P[:k]
    # one-step chain: the truncated NESS is the infinite one conditioned on n ≤ N
    np.testing.assert_allclose(P / P.sum(), rho, atol=1e-10)


def test_scully_lamb_gain_first_order_is_the_notes_form():
    n, kp, s = np.arange(5.0), 2.0, 1e-4
    gain = m.scully_lamb_gain(n, kp, s)
    first_order = (n + 1) * (kp - s * (n + 1))
    assert np.max(np.abs(gain - first_order)) < 10 * (s * 5) ** 2 / kp


@pytest.mark.parametrize("n_mean", [0.5, 3.0, 30.0])
def test_detailed_balance_thermal_limits(n_mean):
    """κ_2 = 0 and s = 0 give the thermal state with κ_p/κ_d = e^{μ/T} = n/(n+1) (Eqs. 11, 44)."""
    mu_over_T = m.thermal_mu_over_T(n_mean)
    ratio = m.detailed_balance_ratio(mu_over_T)
    assert ratio == pytest.approx(n_mean / (n_mean + 1))
    assert m.detailed_balance_mu_over_T(ratio) == pytest.approx(mu_over_T)
    thermal = m.gaussian_populations(mu_over_T)
    assert thermal.n_mean == pytest.approx(n_mean, rel=1e-10)
    for pops in (m.two_photon_populations(ratio, 0.0), m.scully_lamb_populations(ratio, 0.0),
                 m.gibbs_populations(1.0, mu_over_T, U=0.0)):
        np.testing.assert_allclose(pops.P[: thermal.P.size], thermal.P[: pops.P.size], atol=1e-13)


def test_gibbs_closed_form_and_conventions():
    T, mu, U = 0.8, 0.6, 0.1
    pops = m.gibbs_populations(T, mu, U=U)
    n = np.arange(pops.P.size)
    np.testing.assert_allclose(pops.P, _truncated((mu * n - 0.5 * U * n * (n - 1)) / T), atol=1e-14)
    assert pops.P.argmax() > 0  # μ > 0: ring-shaped, populations peak away from the vacuum
    beta = m.gibbs_populations_beta(mu / T, 1 / T, U=U)
    np.testing.assert_allclose(beta.P, pops.P, atol=1e-15)


@pytest.mark.parametrize("pops", [m.gaussian_populations(m.thermal_mu_over_T(40.0)),
                                  m.gibbs_populations(2.0, 3.0), m.two_photon_populations(5.0, 0.01),
                                  m.scully_lamb_populations(3.0, 0.02)],
                         ids=["thermal", "gibbs", "two_photon", "scully_lamb"])
def test_adaptive_cutoff_reports_small_tail(pops):
    assert pops.truncation < m.TAIL_TOL
    assert pops.P.size == pops.n_cut + 1
    assert pops.P.sum() == pytest.approx(1.0, abs=1e-14)


def test_cutoff_grows_with_photon_number_and_flags_runaway():
    small, large = (m.gaussian_populations(m.thermal_mu_over_T(n)) for n in (2.0, 50.0))
    assert large.n_cut > 10 * small.n_cut
    runaway = m.two_photon_populations(1.5, 0.0, n_max=300)  # gain beats loss, no saturation
    assert runaway.n_cut == 300 and math.isinf(runaway.truncation)


@pytest.mark.parametrize("call, name", [
    (lambda: m.two_photon_populations(-1.0, 0.1), "kappa_p_over_kappa_d"),
    (lambda: m.two_photon_populations(1.0, -0.1), "kappa_2_over_kappa_d"),
    (lambda: m.scully_lamb_populations(1.0, -0.1), "s_over_kappa_d"),
    (lambda: m.gibbs_populations(-1.0, 0.1), "T"),
    (lambda: m.gibbs_populations(1.0, np.nan), "mu"),
    (lambda: m.gibbs_populations(1.0, 0.1, U=-0.1), "U"),
    (lambda: m.gaussian_populations(0.2), "mu_over_T"),
    (lambda: m.populations("laser", {}), "gibbs, gaussian, two_photon, scully_lamb"),
    (lambda: m.populations("gibbs", {"T": 1.0}), "mu"),
])
def test_bad_input_raises_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
