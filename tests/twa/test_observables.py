import numpy as np

from replicate import stats
from replicate.twa import observables as obs


def _gaussian(rng, n, mean, var_quad, shape=()):
    """Complex samples with Re, Im ~ N(., var_quad)."""
    s = np.sqrt(var_quad)
    return mean + s * rng.standard_normal(shape + (n,)) + 1j * s * rng.standard_normal(shape + (n,))


def _stats_with_errors(alpha, nb=40):
    q = np.abs(alpha) ** 2
    ph = alpha / np.abs(alpha)
    per = np.stack([q, q * q, alpha.real, alpha.imag, ph.real, ph.imag])
    sums, counts = stats.batch_sums(per, nb)
    return stats.jackknife(obs.standard, dict(zip(obs.MOMENTS, sums)), counts)


def test_coherent_state_is_poissonian():
    rng = np.random.default_rng(1)
    beta = 2.0 - 1.0j
    alpha = _gaussian(rng, 200_000, beta, 0.25)  # coherent state: vacuum noise around beta
    v, e = _stats_with_errors(alpha)
    assert abs(v["n"] - abs(beta) ** 2) < 4 * e["n"]
    assert abs(v["delta_n"]) < 4 * e["delta_n"]
    assert abs(v["field_re"] - 2.0) < 4 * e["field_re"]
    assert abs(v["mean_phase"] - np.angle(beta)) < 4 * e["mean_phase"]


def test_thermal_state_mandel_q_equals_n():
    rng = np.random.default_rng(2)
    nbar = 3.0
    alpha = _gaussian(rng, 200_000, 0.0, (nbar + 0.5) / 2)  # thermal Wigner function
    v, e = _stats_with_errors(alpha)
    assert abs(v["n"] - nbar) < 4 * e["n"]
    assert abs(v["delta_n"] - nbar) < 4 * e["delta_n"]  # Q = n for thermal light
    assert v["circular_variance"] > 0.99


def test_sample_means_matches_standard_and_uniform_phase():
    rng = np.random.default_rng(3)
    alpha = np.exp(2j * np.pi * rng.random(400_000))
    m = obs.sample_means(alpha)
    assert abs(m["m2"] - 1.0) < 1e-12
    assert obs.circular_variance(m["cos"], m["sin"]) > 1 - 4 / np.sqrt(400_000)


def test_g1_values():
    # fully coherent fields: g1 = 1 for any pair; vacuum noise subtracted on the diagonal
    assert np.isclose(obs.g1(4.5, 0.0, 4.5, 4.5, True), 1.0)
    assert np.isclose(obs.g1(2.0, 2.0, 2.5 + 0.5, 4.5 + 0.5, False), np.hypot(2, 2) / np.sqrt(2.5 * 4.5))


def test_jackknife_of_mean_is_batch_means_error():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(1000)
    sums, counts = stats.batch_sums(x, 10)
    v, e = stats.jackknife(lambda m: {"x": m["x"]}, {"x": sums}, counts)
    bm = sums / counts
    assert np.isclose(v["x"], x.mean())
    assert np.isclose(e["x"], bm.std(ddof=1) / np.sqrt(10))


def test_classical_reading_is_glauber_p():
    """Classical field: fixed amplitude → n = |β|², δn = 0; complex Gaussian → thermal, δn = n."""
    rng = np.random.default_rng(5)
    beta = 1.5 + 2.0j
    fixed = np.full(1000, beta) * np.exp(2j * np.pi * rng.random(1000))
    m = obs.sample_means(fixed)
    assert np.isclose(obs.n_photons(m["m2"], classical=True), abs(beta) ** 2)
    assert abs(obs.delta_n(m["m2"], m["m4"], classical=True)) < 1e-12
    nbar = 4.0
    therm = _gaussian(rng, 400_000, 0.0, nbar / 2)
    v, e = _stats_with_errors(therm)  # quantum reading: a thermal Wigner function of n + ½
    mt = obs.sample_means(therm)
    dn = obs.delta_n(mt["m2"], mt["m4"], classical=True)
    assert abs(obs.n_photons(mt["m2"], classical=True) - nbar) < 4 * e["n"]
    assert abs(dn - nbar) < 4 * e["delta_n"]
