"""Exact Wigner sampling of Fock-diagonal states (used to calibrate the fits)."""
import numpy as np
import pytest
from scipy import stats as sps

from replicate.thermometry import models as m
from replicate.thermometry import sampling


def test_thermal_samples_are_exponential_in_u(draw):
    n_mean = 3.0
    u = np.abs(draw(m.gaussian_populations(m.thermal_mu_over_T(n_mean)).P, 100, 100)) ** 2
    assert sps.kstest(u.ravel(), sps.expon(scale=n_mean + 0.5).cdf).pvalue > 1e-3


def test_gibbs_ring_samples_have_the_right_moments(draw):
    pops = m.gibbs_populations(1.0, 0.5)  # μ > 0 at U = 0.1: ring-shaped yet W ≥ 0
    u = np.abs(draw(pops.P, 200, 100)).ravel() ** 2
    n = np.arange(pops.P.size)
    var_n = (n * n) @ pops.P - pops.n_mean**2
    assert u.mean() == pytest.approx(pops.n_mean + 0.5, abs=4 * u.std() / np.sqrt(u.size))
    assert u.var() == pytest.approx(var_n + 0.25, rel=4 * np.sqrt(2 / u.size) * 2)


def test_phase_is_uniform(draw):
    a = draw(m.gaussian_populations(-1.0).P, 100, 100).ravel()
    assert abs(np.mean(np.exp(1j * np.angle(a)))) < 4 / np.sqrt(a.size)


def test_negative_wigner_function_cannot_be_sampled():
    sub_poissonian = m.gibbs_populations(0.5, 1.5).P  # cold and dense: W < 0 in places
    with pytest.raises(ValueError, match="negative"):
        sampling.wigner_samples(sub_poissonian, 10, np.random.default_rng(0))
