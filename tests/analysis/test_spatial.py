"""Oracles for the spatial-relaxation estimators (replicate.analysis.spatial, Fig. 3)."""
import numpy as np
import pytest

from replicate import twa
from replicate.analysis import spatial
from replicate.chain import ChainParams


def test_half_decay_distance_and_censoring():
    """n = 100 − 2(ℓ − 1): half maximum (50) is reached exactly at distance 25."""
    assert spatial.half_decay_distance(100.0 - 2.0 * np.arange(50)) == pytest.approx(25.0)
    assert spatial.half_decay_distance(np.full(10, 3.0)) == np.inf
    with pytest.raises(ValueError, match="fraction"):
        spatial.half_decay_distance(np.ones(5), fraction=1.5)


def test_right_half_drop_limits():
    L = 41
    ell = np.arange(L)
    assert spatial.right_half_drop(40.0 - ell) == pytest.approx(0.5)          # linear
    assert spatial.right_half_drop(1 + 30 * np.exp(-ell / 2.0)) < 0.01          # decays early
    assert spatial.right_half_drop(31 - 30 * np.exp(-(L - 1 - ell) / 2.0)) > 0.99  # falls late


def _batched(profile, noise, nb, rng):
    """A NESS-like Dataset whose batch means scatter around ``profile`` (correlated along the
    chain: a common shift per batch plus independent site noise)."""
    m2 = profile[:, None] + 0.5 + noise * (rng.standard_normal((1, nb)) + 0.3 * rng.standard_normal((profile.size, nb)))
    import xarray as xr
    return xr.Dataset({"batch_means": (("moment", "site", "batch"), m2[None])},
                      coords={"moment": ["m2"], "site": np.arange(1, profile.size + 1),
                              "batch_count": ("batch", np.full(nb, 10))})


def test_jackknife_error_of_xi_matches_repeated_experiments():
    """The jackknife error of ξ_n over batches equals the spread of ξ_n over independent
    repetitions, also with site-to-site correlations (which independent propagation misses)."""
    rng = np.random.default_rng(1)
    n0 = 40.0 * np.exp(-np.arange(30) / 12.0) + 5.0
    reps = [spatial.relaxation_length(_batched(n0, 2.0, 32, rng)) for _ in range(400)]
    values, errors = np.array([r.value for r in reps]), np.array([r.error for r in reps])
    assert np.std(values) == pytest.approx(np.median(errors), rel=0.15)
    f2 = [spatial.drop_fraction(_batched(n0, 2.0, 32, rng)) for _ in range(400)]
    assert np.std([v for v, _ in f2]) == pytest.approx(np.median([e for _, e in f2]), rel=0.15)


def test_exponential_fit_exact_and_pulls():
    r = np.arange(1, 8, dtype=float)
    y = 0.8 * np.exp(-r / 1.7)
    fit = spatial.exponential_fit(r, y, 0.01 * y)
    assert fit.xi == pytest.approx(1.7) and fit.amplitude == pytest.approx(0.8)
    rng = np.random.default_rng(2)
    pulls = []
    for _ in range(2000):
        s = 0.05 * y
        f = spatial.exponential_fit(r, y + s * rng.standard_normal(r.size), s)
        pulls.append((f.xi - 1.7) / f.xi_err)
    assert abs(np.mean(pulls)) < 0.1 and np.std(pulls) == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match="decay"):
        spatial.exponential_fit(r, np.exp(r / 3), 0.01 * np.exp(r / 3))


def test_phase_length_stops_at_the_floor():
    L, c = 41, 21
    r = np.abs(np.arange(1, L + 1) - c)
    g = np.maximum(np.exp(-r / 1.5), 0.004)
    g[c - 1] = 1.0
    fit, floor = spatial.phase_length(g, 0.02 * g, c, floor_from=12)
    assert floor == pytest.approx(0.004)
    assert fit.xi == pytest.approx(1.5, rel=1e-6) and fit.r.max() < 8


def test_circular_variance_floor_matches_uniform_phases():
    rng = np.random.default_rng(3)
    N = 200
    V = [1 - abs(np.exp(1j * rng.uniform(0, 2 * np.pi, N)).mean()) for _ in range(3000)]
    assert np.mean(V) == pytest.approx(spatial.circular_variance_floor(N), abs=0.003)


def _vacuum(rng, n_traj, n_t):
    return (rng.standard_normal((n_traj, n_t)) + 1j * rng.standard_normal((n_traj, n_t))) / 2


def test_radial_profile_of_the_vacuum_is_the_vacuum_wigner_function():
    """W_0(α) = (2/π) e^{−2|α|²}; bell-shaped: contrast e^{−1/8} − 1."""
    rng = np.random.default_rng(4)
    prof = spatial.radial_profile(_vacuum(rng, 256, 400))
    u, du = prof["u"].values, float(prof["du"])
    exact = (np.exp(-2 * (u - du / 2)) - np.exp(-2 * (u + du / 2))) / (np.pi * du)
    pull = (prof["W"].values - exact) / prof["W_err"].values
    assert np.all(np.abs(pull[:12]) < 4.5) and np.mean(pull[:12] ** 2) < 3
    assert abs(float(prof["contrast"]) - (np.exp(-1 / 8) - 1)) < 3 * float(prof["contrast_err"])


def test_radial_profile_ring_has_positive_contrast():
    """Phase-diffused coherent state |α| = 5 (+ vacuum noise): W has a dip at the origin."""
    rng = np.random.default_rng(5)
    ring = 5 * np.exp(1j * rng.uniform(0, 2 * np.pi, (128, 200))) + _vacuum(rng, 128, 200)
    prof = spatial.radial_profile(ring)
    assert float(prof["contrast"]) > 0.9
    assert float(prof["contrast"]) - 2 * float(prof["contrast_err"]) > 0


def test_anisotropy_and_chi2_from_a_dataset():
    import xarray as xr
    z = np.zeros(3)
    ds = xr.Dataset({"field_re": ("site", [3.0, 0.01, 0.0]), "field_im": ("site", [4.0, 0.0, 0.0]),
                     "n": ("site", [24.5, 24.5, 0.5]), "field_re_err": ("site", z + 0.1),
                     "field_im_err": ("site", z + 0.1), "n_err": ("site", z + 0.2)})
    A, sA = spatial.anisotropy(ds)
    assert A[0] == pytest.approx(1.0) and A[2] == 0 and np.all(np.isfinite(sA)) and np.all(sA > 0)
    assert spatial.isotropy_chi2(ds)[1] == pytest.approx(0.01)


def test_site_samples_are_the_ness_trajectories():
    """Same seed and window sampling as twa.ness → identical ⟨|α|²⟩ and ⟨α⟩."""
    p = ChainParams(L=4, F=2.0)
    kw = dict(n_traj=64, t_relax=2.0, t_avg=3.0, seed=7)
    ds = twa.ness(p, sample_every=0.5, **kw)
    smp = twa.site_samples(p, [1, 4], sample_every=0.5, **kw)
    assert smp.shape == (2, 64, 6)
    n = (np.abs(smp.values) ** 2).mean(axis=(1, 2)) - 0.5
    np.testing.assert_allclose(n, ds["n"].sel(site=[1, 4]).values, rtol=1e-10)
    np.testing.assert_allclose(smp.values.mean(axis=(1, 2)).real,
                               ds["field_re"].sel(site=[1, 4]).values, rtol=1e-9, atol=1e-12)
