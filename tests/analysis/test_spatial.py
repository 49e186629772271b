"""Oracles for the spatial-relaxation estimators (replicate.analysis.spatial, Fig. 3)."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import spatial
from replicate.chain import ChainParams

MOMENTS = ("m2", "cos", "sin", "re", "im", "cre", "cim")


def test_half_decay_distance_interpolates_and_extrapolates():
    """n = 100 − 2(ℓ − 1): half maximum (50) is reached exactly at distance 25; a profile that
    stays above half maximum is extrapolated beyond the chain from its last two sites."""
    assert spatial.half_decay_distance(100.0 - 2.0 * np.arange(50)) == pytest.approx(25.0)
    assert spatial.half_decay_distance(np.array([10.0, 10.0, 10.0, 9.0])) == pytest.approx(7.0)
    assert spatial.half_decay_distance(np.full(10, 3.0)) == np.inf
    with pytest.raises(ValueError, match="fraction"):
        spatial.half_decay_distance(np.ones(5), fraction=1.5)


def test_right_half_drop_limits():
    L = 41
    ell = np.arange(L)
    assert spatial.right_half_drop(40.0 - ell) == pytest.approx(0.5)          # linear
    assert spatial.right_half_drop(1 + 30 * np.exp(-ell / 2.0)) < 0.01          # decays early
    assert spatial.right_half_drop(31 - 30 * np.exp(-(L - 1 - ell) / 2.0)) > 0.99  # falls late


def _chain_means(L=40, centre=20, xi_n=12.0, xi_phi=1.5, V_bulk=0.98):
    """Exact Wigner means of a chain: n decays over xi_n, g1 over xi_phi, V rises to V_bulk over
    a few sites, the coherent field dies out with the phase."""
    site = np.arange(1, L + 1)
    n = 40.0 * np.exp(-(site - 1) / xi_n) + 5.0
    m2 = n + 0.5
    r = np.abs(site - centre)
    corr = np.exp(-r / xi_phi) * np.sqrt(n * n[centre - 1]) + 0.5 * (r == 0)
    V = V_bulk * (1 - 0.5 * np.exp(-(site - 1) / 3.0))
    amp = 0.6 * np.exp(-(site - 1) / 3.0) * np.sqrt(m2)
    zero = np.zeros(L)
    return {"m2": m2, "cos": 1 - V, "sin": zero, "re": amp, "im": zero, "cre": corr, "cim": zero}


def _batched(means, noise, nb, rng):
    """A NESS-like Dataset whose batch means scatter around ``means`` by a relative ``noise``:
    a common shift per batch (correlated along the chain) plus independent site noise."""
    L = means["m2"].size
    data = np.stack([means[k][:, None] * (1 + noise * (0.5 * rng.standard_normal((1, nb))
                                                       + rng.standard_normal((L, nb)))) for k in MOMENTS])
    return xr.Dataset({"batch_means": (("moment", "site", "batch"), data)},
                      coords={"moment": list(MOMENTS), "site": np.arange(1, L + 1),
                              "batch_count": ("batch", np.full(nb, 10))})


def test_profile_statistics_exact_values():
    """Noise-free batches: the statistics are their definitions, with zero error."""
    means = _chain_means()
    ds = _batched(means, 0.0, 8, np.random.default_rng(0))
    v, e = spatial.profile_statistics(ds, centre=20, floor_from=10, few_sites=10)
    n = means["m2"] - 0.5
    assert v["xi_n"] == pytest.approx(spatial.half_decay_distance(n))
    assert v["f2"] == pytest.approx(spatial.right_half_drop(n))
    assert v["phase_rate"] == pytest.approx(1 / 1.5, rel=1e-9)
    assert v["two_stage"] == pytest.approx(v["xi_n"] / 1.5, rel=1e-9)
    V = 1 - means["cos"]
    assert v["V_beyond"] == pytest.approx(V[10:].min()) and v["V_right"] == pytest.approx(V[20:].min())
    np.testing.assert_allclose(v["A"], np.hypot(means["re"], means["im"]) / np.sqrt(means["m2"]))
    assert e["xi_n"] == pytest.approx(0.0, abs=1e-9)


def test_profile_statistics_jackknife_matches_repeated_experiments():
    """The joint jackknife error equals the spread over independent repetitions, also with
    site-to-site correlations (which independent propagation misses)."""
    rng = np.random.default_rng(1)
    means = _chain_means()
    reps = [spatial.profile_statistics(_batched(means, 0.03, 32, rng), centre=20, floor_from=10, few_sites=10)
            for _ in range(300)]
    for q in ("xi_n", "f2", "V_beyond", "phase_rate", "two_stage"):
        values, errors = np.array([r[0][q] for r in reps]), np.array([r[1][q] for r in reps])
        assert np.std(values) == pytest.approx(np.median(errors), rel=0.2), q


def test_phase_decay_rate_is_the_e_folding_distance():
    """e^{−r/ξ} gives 1/ξ for any ξ, also below a site and with a floor beyond the 1/e point; a
    profile above 1/e over the whole arm gives its chord; the rate is continuous in the data."""
    L, c = 41, 21
    r = np.abs(np.arange(1, L + 1) - c)
    for xi in (0.4, 1.5, 6.0):
        g = np.exp(-r / xi)
        assert spatial.phase_decay_rate(g, c) == pytest.approx(1 / xi, rel=1e-12)
        assert spatial.phase_decay_rate(np.maximum(g, 0.02), c) == pytest.approx(1 / xi, rel=1e-12)
    slow = np.exp(-r / 50.0)
    assert spatial.phase_decay_rate(slow, c) == pytest.approx(1 / 50.0, rel=1e-12)  # the chord over R = 20
    assert spatial.phase_decay_rate(np.ones(L), c) == 0.0
    sides = np.exp(-r / 2.0) * np.where(np.arange(1, L + 1) > c, 1.1, 0.9)  # the two sides averaged
    assert spatial.phase_decay_rate(sides, c) == pytest.approx(1 / 2.0, rel=1e-12)
    # a floor-level point moving by noise does not move the rate (the windowed fit jumped)
    g = np.maximum(np.exp(-r / 0.6), 0.01)
    g2 = g.copy()
    g2[c + 1] = g2[c - 3] = 0.03
    assert spatial.phase_decay_rate(g2, c) == spatial.phase_decay_rate(g, c)
    with pytest.raises(ValueError, match="centre"):
        spatial.phase_decay_rate(np.ones(L), 1)


def test_sample_dataset_is_ness_on_the_same_trajectories():
    """Samples of every site → the observables, g1 and batch means of twa.ness with the same seed
    and sampling grid; profile_statistics gives the same numbers on both."""
    p = ChainParams(L=5, F=2.0)
    kw = dict(n_traj=64, t_relax=2.0, t_avg=3.0, seed=7)
    ds = twa.ness(p, sample_every=0.5, g1_centre=3, keep_batches=True, **kw)
    smp = spatial.chain_samples(p, sample_every=0.5, **kw)
    assert smp.shape == (5, 64, 6) and smp.dtype == np.complex64
    sd = spatial.sample_dataset(smp, 3)
    for v in ("n", "circular_variance", "field_re", "g1", "n_err"):
        np.testing.assert_allclose(sd[v].values, ds[v].values, rtol=2e-5, atol=1e-6, err_msg=v)
    a = spatial.profile_statistics(ds, centre=3, floor_from=2, few_sites=1)
    b = spatial.profile_statistics(sd, centre=3, floor_from=2, few_sites=1)
    for q in ("xi_n", "f2", "V_right", "phase_rate"):
        assert b[0][q] == pytest.approx(a[0][q], rel=1e-4, abs=1e-6) and b[1][q] == pytest.approx(a[1][q], rel=1e-3, abs=1e-6)
    with pytest.raises(ValueError, match="every site"):
        spatial.sample_dataset(smp.isel(site=[0, 2]), 1)


def test_worst_and_smallest_increase():
    assert spatial.worst([(1.0, 0.1), (0.9, 0.01), (1.2, 0.05)]) == (1.0, 0.1)  # the smallest value − 2σ
    assert spatial.worst([(1.0, 0.1), (0.9, 0.01), (1.2, 0.4)]) == (1.2, 0.4)
    assert spatial.worst([(1.0, 0.1), (0.9, 0.01)], lowest=False) == (1.0, 0.1)
    xi = {(40, 5.0): (20.0, 1.0), (40, 8.0): (30.0, 1.0), (80, 5.0): (25.0, 3.0), (80, 8.0): (28.0, 4.0)}
    v, e = spatial.smallest_increase(xi, "F")
    assert (v, e) == pytest.approx((3.0, 5.0))
    v, e = spatial.smallest_increase(xi, "L")
    assert (v, e) == pytest.approx((-2.0, np.hypot(4.0, 1.0)))
    with pytest.raises(ValueError, match="differ only"):
        spatial.smallest_increase({(40, 5.0): (1.0, 0.1)}, "L")


def test_relaxation_tests_pick_the_declared_quantities():
    L = 40
    stat = lambda x: ({"xi_n": x, "f2": x / 100, "V_beyond": 0.9 + x / 1000, "V_right": 0.95, "phase_rate": 1 / x,
                       "g1_floor": x / 1000, "two_stage": x * x, "A": np.linspace(0.5, 0.01, L)},
                      {"xi_n": 1.0, "f2": 0.01, "V_beyond": 0.01, "V_right": 0.01, "phase_rate": 0.01,
                       "g1_floor": 0.001, "two_stage": 1.0, "A": np.full(L, 0.001)})
    res = {(20, 5.0): stat(10.0), (20, 8.0): stat(15.0), (L, 5.0): stat(20.0), (L, 8.0): stat(30.0)}
    lin = {(20, 5.0): stat(3.0), (L, 5.0): stat(2.0), (L, 8.0): stat(2.0)}
    contrast = {F: xr.Dataset({"contrast": ("site", np.linspace(c, -c, L)), "contrast_err": ("site", np.full(L, 0.01))},
                              coords={"site": np.arange(1, L + 1)}) for F, c in ((5.0, -0.1), (8.0, 0.5))}
    t = spatial.relaxation_tests(res, lin, contrast, F_weak=5.0, F_intermediate=8.0, sites=(1, 10, L))
    assert t["xi-grows-L"][0] == pytest.approx(10.0) and t["xi-grows-L_control"][0] == pytest.approx(-1.0)
    assert t["xi-grows-F"][0] == pytest.approx(5.0) and t["xi-grows-F_control"][0] == pytest.approx(0.0)
    assert t["weak-decays-early"] == (0.2, 0.01) and t["weak-decays-early_control"] == (0.3, 0.01)
    assert t["V-few-sites"][0] == pytest.approx(0.92) and t["g1-floor"][0] == pytest.approx(0.03)
    assert t["W-anisotropic-drive"][0] == pytest.approx(0.5) and t["W-ring-bulk_control"][0] < 0
    assert t["W-bell-end"][0] == pytest.approx(-0.5)
    assert all(k + "_control" in t for k in t if not k.endswith("_control"))


def test_chain_summary_is_what_fig3_takes_from_the_samples():
    """chain_summary = sample_dataset + radial_contrast + wigner_histogram of chain_samples (the
    same trajectories), without the samples."""
    from replicate.analysis import wigner_samples

    p = ChainParams(L=6, F=2.0)
    kw = dict(n_traj=32, t_relax=2.0, t_avg=3.0, sample_every=0.5, seed=5)
    smp = spatial.chain_samples(p, **kw)
    out = spatial.chain_summary(p, centre=3, wigner_sites=(1, 6), wigner_extent=4.0, wigner_bins=10, **kw)
    ref = spatial.sample_dataset(smp, 3)
    for v in ("n", "g1", "batch_means"):
        np.testing.assert_array_equal(out[v].values, ref[v].values, err_msg=v)
    np.testing.assert_array_equal(out["contrast"].values, wigner_samples.radial_contrast(smp)["contrast"].values)
    np.testing.assert_array_equal(out["wigner"].sel(wigner_site=6).values,
                                  wigner_samples.wigner_histogram(smp.sel(site=6), 4.0, 10))
    assert out.attrs["dt"] == smp.attrs["dt"] and "traj" not in out.dims
