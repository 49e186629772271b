"""Wigner function of Fock-diagonal states on a radial grid: closed forms and exact moments."""
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.integrate import simpson

from replicate.thermometry import wigner as wg
from replicate.thermometry.models import gaussian_populations, thermal_mu_over_T


def _fock(n):
    P = np.zeros(n + 1)
    P[n] = 1.0
    return P


def _exact_h(n, x):
    """(−1)^n e^{−x/2} L_n(x) in exact rational arithmetic (integer x), then to float."""
    s = sum(Fraction(math.comb(n, k) * (-x) ** k, math.factorial(k)) for k in range(n + 1))
    if s == 0:
        return 0.0
    log_abs = math.log(abs(s.numerator)) - math.log(s.denominator) - x / 2
    return (-1) ** n * (1 if s > 0 else -1) * math.exp(log_abs)


def _moments(P, u_max, points=200_001):
    """∫W d²α, ⟨u⟩_W, ⟨u²⟩_W from the exact CDF: ⟨u^k⟩ = ∫ k u^{k−1} (1 − F) du."""
    u = np.linspace(0.0, u_max, points)
    F = wg.radial_cdf(P, u)
    return F[-1], simpson(1 - F, x=u), simpson(2 * u * (1 - F), x=u)


def test_vacuum_closed_form():
    u = np.linspace(0, 5, 11)
    np.testing.assert_allclose(wg.wigner_radial([1.0], u), 2 / np.pi * np.exp(-2 * u), rtol=1e-14)
    np.testing.assert_allclose(wg.radial_cdf([1.0], u), 1 - np.exp(-2 * u), atol=1e-15)


@pytest.mark.parametrize("n_mean", [0.3, 4.0, 40.0])
def test_thermal_state_is_gaussian_with_variance_n_plus_half(n_mean):
    pops = gaussian_populations(thermal_mu_over_T(n_mean))
    var = n_mean + 0.5
    u = np.linspace(0, 20 * var, 41)
    # atol: P(n) is truncated where its tail mass drops below 1e-12
    np.testing.assert_allclose(wg.wigner_radial(pops.P, u), np.exp(-u / var) / (np.pi * var),
                               rtol=1e-9, atol=1e-12)
    edges = np.linspace(0, 10 * var, 31)
    np.testing.assert_allclose(wg.annulus_probabilities(pops.P, edges), -np.diff(np.exp(-edges / var)),
                               atol=1e-11)


@pytest.mark.parametrize("n", [1, 5, 50, 150])
def test_fock_state_normalisation_and_moments(n):
    norm, u1, u2 = _moments(_fock(n), u_max=n + 30 + 6 * math.sqrt(n))
    assert norm == pytest.approx(1.0, abs=1e-12)
    assert u1 == pytest.approx(n + 0.5, rel=1e-8)  # ⟨|α|²⟩_W = n + ½
    assert u2 == pytest.approx(n * n + n + 0.5, rel=1e-7)  # ⟨|α|⁴⟩_W = ⟨a†²a²⟩ + 2⟨n⟩ + ½


@pytest.mark.parametrize("n", [0, 1, 5, 50, 150])
def test_fock_state_parity_at_origin(n):
    assert wg.wigner_radial(_fock(n), [0.0])[0] == pytest.approx((-1) ** n * 2 / np.pi, rel=1e-12)


@pytest.mark.parametrize("n, x", [(150, 600), (150, 20), (400, 1500), (1000, 3000), (1000, 4000)])
def test_laguerre_recursion_is_stable_at_large_n_and_x(n, x):
    # L_1000(4000) ~ 10^1200 and e^{-2000} ~ 10^-869: neither fits in a double alone
    assert wg.laguerre_h(n, [x])[n, 0] == pytest.approx(_exact_h(n, x), rel=1e-11, abs=1e-300)


def test_annulus_mean_matches_point_values_on_fine_bins():
    P = gaussian_populations(thermal_mu_over_T(2.0)).P * 0.5
    P[3] += 0.5  # a mixture with a Fock component: W is not monotone
    edges = np.linspace(0, 12, 2401)
    centres = 0.5 * (edges[1:] + edges[:-1])
    W_edge, W_mid = wg.wigner_radial(P, edges), wg.wigner_radial(P, centres)
    simpson_mean = (W_edge[:-1] + 4 * W_mid + W_edge[1:]) / 6  # error O(du^4 W^(4)) ~ 1e-10
    np.testing.assert_allclose(wg.annulus_mean_wigner(P, edges), simpson_mean, atol=1e-9)
    assert wg.annulus_probabilities(P, edges).sum() == pytest.approx(
        wg.radial_cdf(P, [12.0])[0], abs=1e-13)


def test_fock_state_has_negative_annuli():
    p = wg.annulus_probabilities(_fock(1), np.linspace(0, 0.5, 6))
    assert p[0] < 0  # W(0) = −2/π for |1⟩


@pytest.mark.parametrize("bad", [[-0.1, 1.1], [0.5, 0.4], [np.nan, 1.0], []])
def test_bad_populations_raise(bad):
    with pytest.raises(ValueError, match="P"):
        wg.wigner_radial(bad, [0.0])


def test_bad_radii_raise():
    with pytest.raises(ValueError, match="u"):
        wg.wigner_radial([1.0], [-1.0])
    with pytest.raises(ValueError, match="u_edges"):
        wg.annulus_probabilities([1.0], [0.0, 2.0, 1.0])
