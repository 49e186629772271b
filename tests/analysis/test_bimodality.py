"""Bimodality statistics (replicate.analysis.bimodality) on samples with known shapes."""
import numpy as np
import pytest

from replicate.analysis import bimodality as bm

N = 400


def two_gaussians(rng, n, delta, frac=0.5, sigmas=(1.0, 1.0)):
    """A mixture: a fraction ``frac`` around 0, the rest around ``delta``."""
    k = round(frac * n)
    return np.concatenate([rng.normal(0.0, sigmas[0], k), rng.normal(delta, sigmas[1], n - k)])


def test_sarle_reference_values():
    """b → 1/3 for a Gaussian, 5/9 for a uniform law, → 1 for two separated spikes."""
    rng = np.random.default_rng(0)
    assert bm.sarle_coefficient(rng.standard_normal(20000)).value == pytest.approx(1 / 3, abs=0.02)
    assert bm.sarle_coefficient(rng.uniform(size=20000)).value == pytest.approx(5 / 9, abs=0.02)
    assert bm.sarle_coefficient(two_gaussians(rng, 2000, 50.0)).value > 0.95


def test_sarle_bootstrap_error_matches_the_spread_over_experiments():
    rng = np.random.default_rng(1)
    draws = [bm.sarle_coefficient(two_gaussians(rng, 300, 3.0), seed=i) for i in range(100)]
    spread = np.std([d.value for d in draws], ddof=1)
    assert np.mean([d.error for d in draws]) == pytest.approx(spread, rel=0.3)


@pytest.mark.parametrize("delta, modes", [(1.9, 1), (2.1, 2)])
def test_mode_count_of_an_equal_mixture_switches_at_two_sigma(delta, modes):
    """A 50/50 mixture of unit Gaussians is bimodal iff |μ₁ − μ₂| > 2σ."""
    mix = bm.Mixture(np.array([0.5, 0.5]), np.array([0.0, delta]), np.array([1.0, 1.0]), 0.0)
    assert mix.n_modes() == modes


def test_gaussian_is_not_bimodal():
    rng = np.random.default_rng(2)
    res = bm.mixture_test(rng.normal(50.0, 7.0, N), n_boot=100)
    assert not res.bimodal and res.p_value > 0.05
    assert bm.sarle_coefficient(rng.normal(50.0, 7.0, N)).value < 5 / 9


def test_separated_mixture_is_bimodal_with_its_parameters():
    rng = np.random.default_rng(3)
    res = bm.mixture_test(two_gaussians(rng, N, 5.0), n_boot=100)
    assert res.bimodal and res.n_modes == 2 and res.p_value == pytest.approx(1 / 101)
    mix = res.mixture
    assert np.all(np.abs(mix.weights - 0.5) < 3 * res.weights_err)
    assert np.all(np.abs(mix.means - [0.0, 5.0]) < 3 * res.means_err)
    assert np.all(np.abs(mix.sigmas - 1.0) < 3 * res.sigmas_err)
    assert abs(res.separation - 5.0) < 3 * res.separation_err
    assert bm.sarle_coefficient(two_gaussians(rng, N, 5.0)).value > 5 / 9


def test_tiny_separation_is_not_bimodal():
    """Δ = 1σ: the mixture density has one mode, whatever the likelihood ratio says."""
    rng = np.random.default_rng(4)
    x = two_gaussians(rng, N, 1.0)
    assert not bm.mixture_test(x, n_boot=100).bimodal
    assert bm.sarle_coefficient(x).value < 5 / 9


def test_rnw_coexistence_histogram_is_bimodal():
    """Fig. 7(c)-like: a sharp RNW peak (80 %) and a broad chaotic hump at lower n̄_L."""
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(100.0, 0.2, 320), rng.normal(60.0, 10.0, 80)])
    res = bm.mixture_test(x, n_boot=100)
    assert res.bimodal
    assert abs(res.mixture.weights[1] - 0.8) < 3 * res.weights_err[1]


def test_skewed_unimodal_sample_is_not_bimodal():
    """A lognormal needs two Gaussians (small p) but has one mode: not bimodal."""
    rng = np.random.default_rng(6)
    res = bm.mixture_test(rng.lognormal(0.0, 0.6, N), n_boot=100)
    assert res.p_value < 0.05 and res.n_modes == 1 and not res.bimodal


def test_mixture_test_is_affine_invariant_and_seeded():
    rng = np.random.default_rng(7)
    x = two_gaussians(rng, N, 2.5)
    a, b = bm.mixture_test(x, n_boot=100), bm.mixture_test(3.0 * x - 20.0, n_boot=100)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-6) and a.p_value == b.p_value
    assert np.allclose(b.mixture.means, 3.0 * a.mixture.means - 20.0, rtol=1e-5)
    again = bm.mixture_test(x, n_boot=100)
    assert again.separation_err == a.separation_err


def test_false_positive_rate_on_gaussian_samples():
    """Under the Gaussian null the parametric-bootstrap p-value is uniform: P(p < 0.2) ≈ 0.2
    over 40 samples (binomial 3σ band), and the two-mode rule makes 'bimodal' rarer still."""
    rng = np.random.default_rng(8)
    results = [bm.mixture_test(rng.standard_normal(150), n_boot=100) for _ in range(40)]
    assert 0.2 - 3 * 0.063 < np.mean([r.p_value < 0.2 for r in results]) < 0.2 + 3 * 0.063
    assert np.mean([r.bimodal for r in results]) <= 0.1


def test_bimodality_rejects_bad_input():
    with pytest.raises(ValueError, match="constant"):
        bm.mixture_test(np.ones(50))
    with pytest.raises(ValueError, match="finite"):
        bm.sarle_coefficient(np.array([1.0, 2.0, np.nan, 4.0, 5.0]))
    with pytest.raises(ValueError, match="at least 4"):
        bm.sarle_coefficient(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="alpha"):
        bm.mixture_test(np.arange(50.0), alpha=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        bm.mixture_test(np.arange(50.0), n_boot=1)
