"""Entropy density (projection and model) and the equipartition temperature."""
import math

import numpy as np
import pytest

from replicate.thermometry import fitting as ft
from replicate.thermometry import models as m
from replicate.thermometry import thermodynamics as td
from replicate.thermometry.histogram import from_samples

GIBBS_RING = {"T": 1.0, "mu": 0.5}


@pytest.mark.parametrize("n_mean", [0.2, 1.0, 30.0])
def test_thermal_entropy_closed_form(n_mean):
    P = m.gaussian_populations(m.thermal_mu_over_T(n_mean)).P
    exact = (n_mean + 1) * math.log(n_mean + 1) - n_mean * math.log(n_mean)
    assert td.entropy(P) == pytest.approx(exact, rel=1e-9)


def test_pure_and_uniform_entropies():
    assert td.entropy([0.0, 1.0]) == 0.0
    assert td.entropy(np.full(8, 1 / 8)) == pytest.approx(math.log(8))
    with pytest.raises(ValueError, match="P"):
        td.entropy([0.7, 0.7])


def test_projected_populations_are_unbiased(draw):
    P = m.gibbs_populations(**GIBBS_RING).P
    p, err = td.fock_populations(draw(P, 400, 50, seed=2), n_cut=20)
    pulls = (p - P[:21]) / err
    assert np.all(np.abs(pulls) < 4)
    assert 0.3 < np.mean(pulls**2) < 2.5


def test_histogram_projection_agrees_with_samples(draw):
    samples = draw(m.gibbs_populations(**GIBBS_RING).P, 400, 50, seed=3)
    p_samples, err = td.fock_populations(samples, n_cut=20)
    p_hist, _ = td.fock_populations(from_samples(samples, bins=400), n_cut=20)
    assert np.all(np.abs(p_hist - p_samples) < err)  # same samples: binning error ≪ noise


@pytest.mark.parametrize("P", [m.gaussian_populations(m.thermal_mu_over_T(1.0)).P,
                               m.gibbs_populations(**GIBBS_RING).P], ids=["thermal", "gibbs"])
def test_projected_entropy_matches_the_exact_one(P, draw):
    s, err = td.local_entropy(draw(P, 500, 100, seed=4), method="projection")
    assert err > 0
    assert abs(s - td.entropy(P)) < 3 * err


def test_model_entropy_with_error(draw):
    P = m.gibbs_populations(**GIBBS_RING).P
    samples = draw(P, 200, 50, seed=5)
    res = ft.fit(samples, "gibbs")
    s, err = td.local_entropy(res)
    assert (s, err) == td.local_entropy(samples, method="model")
    assert 0 < err < 0.05
    assert abs(s - td.entropy(P)) < 3 * err


def test_unknown_entropy_method_raises(draw):
    with pytest.raises(ValueError, match="method"):
        td.local_entropy(draw([1.0], 20, 2), method="wehrl")


@pytest.mark.parametrize("T, eps", [(0.3, 1.0), (5.0, 2.0)])
def test_quantum_equipartition_inverts_bose_einstein(T, eps):
    n = 1 / math.expm1(eps / T)
    T_q, _ = td.equipartition_temperature(n + 0.5, energy_scale=eps, quantum=True)
    assert T_q == pytest.approx(T, rel=1e-12)


def test_classical_equipartition_is_the_high_temperature_limit():
    T, eps = 50.0, 1.0
    p2 = 0.5 / math.tanh(eps / (2 * T))  # ⟨p̂²⟩ = ½ coth(ε/2T) = n + ½
    T_cl, err = td.equipartition_temperature(p2, energy_scale=eps, p2_err=0.1)
    assert T_cl == pytest.approx(T, abs=eps**2 / (12 * T) * 1.01) and err == pytest.approx(0.1)
    T_q, err_q = td.equipartition_temperature(p2, energy_scale=eps, quantum=True, p2_err=0.1)
    assert T_q == pytest.approx(T, rel=1e-12)
    assert err_q == pytest.approx(0.1, rel=1e-3)  # dT/d⟨p²⟩ → ε at high T


@pytest.mark.parametrize("kwargs, name", [({"energy_scale": -1.0}, "energy_scale"),
                                          ({"energy_scale": 1.0, "quantum": True}, "p2")])
def test_equipartition_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        td.equipartition_temperature(0.4, **kwargs)
