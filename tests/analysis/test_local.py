"""Local statistics (SI Figs. 13-14): momentum distributions, kurtosis, domain classifier."""
import numpy as np

from replicate.stats import jackknife_dataset
import pytest

from replicate.analysis import local as ls
from replicate import stats
from replicate.twa import observables as obs
from replicate import twa
from replicate.chain import ChainParams


def _jack_kurtosis(p, n_batches=32):
    """Excess kurtosis of samples p (traj axis last) with the module's estimator and jackknife."""
    means = {"im": p / np.sqrt(2), "im2": p ** 2 / 2, "pm3": p ** 3, "pm4": p ** 4}
    sums, counts = stats.batch_sums(np.stack(list(means.values())), n_batches)
    return stats.jackknife(obs.momentum_stats, dict(zip(means, sums)), counts)


@pytest.mark.parametrize("dist, kappa", [("normal", 0.0), ("uniform", -1.2), ("laplace", 3.0)])
def test_kurtosis_estimator_known_distributions(dist, kappa):
    rng = np.random.default_rng(3)
    x = {"normal": rng.normal(1.0, 2.0, 200_000), "uniform": rng.uniform(-1, 3, 200_000),
         "laplace": rng.laplace(0.5, 1.0, 200_000)}[dist]
    val, err = _jack_kurtosis(x)
    assert abs(val["p_kurtosis"] - kappa) < 4 * err["p_kurtosis"]
    assert err["p_kurtosis"] > 0


def test_ring_boundary_is_half_gaussian_intensity():
    """μ = 0 classical Gibbs state: I = |α|² half-Gaussian, uniform phase → κ = KAPPA_RING."""
    rng = np.random.default_rng(4)
    intensity = np.abs(rng.normal(0, 10.0, 400_000))
    p = np.sqrt(2 * intensity) * np.sin(rng.uniform(0, 2 * np.pi, intensity.size))
    val, err = _jack_kurtosis(p)
    assert abs(val["p_kurtosis"] - ls.KAPPA_RING) < 4 * err["p_kurtosis"]
    # the same number from n and δn of the same samples (rotation-invariant formula)
    m2, var = intensity.mean(), intensity.var()
    n = m2 - 0.5
    dn = (var - 0.25) / n - 1
    assert abs(ls.kurtosis_u1(n, dn) - ls.KAPPA_RING) < 4 * err["p_kurtosis"]


def test_kurtosis_u1_limits():
    n = np.array([0.0, 0.3, 5.0, 100.0])
    assert np.allclose(ls.kurtosis_u1(n, n), 0.0)  # thermal (Gaussian W), incl. vacuum
    assert ls.kurtosis_u1(1e6, 0.0) == pytest.approx(-1.5, abs=1e-5)  # thin ring


def test_marginal_of_vacuum_wigner_grid():
    """W₀ = (2/π) e^{−2|α|²} binned like a histogram → P(p) = e^{−p²}/√π, ⟨p̂²⟩ = ½, κ = 0
    (Sheppard-corrected)."""
    import xarray as xr
    c = np.linspace(-4, 4, 161)[:-1] + 0.025
    g = ls.gaussian_density(c, 0.0, 0.25)  # Re α, Im α ~ N(0, 1/4), averaged over each bin
    W = g[:, None] * g[None, :]
    P = ls.momentum_marginal(xr.DataArray(W, dims=("re", "im"), coords={"re": c, "im": c}))
    h = float(P.p[1] - P.p[0])
    assert float(P.sum()) * h == pytest.approx(1.0, abs=1e-10)
    assert np.allclose(P.values, np.exp(-P.p.values ** 2) / np.sqrt(np.pi), atol=1e-3)
    m = ls.density_moments(P.p.values, P.values)
    assert m["p_var"] == pytest.approx(0.5, rel=1e-4)
    assert m["p_kurtosis"] == pytest.approx(0.0, abs=1e-3)


def test_sheppard_corrections_on_coarse_bins():
    p = np.arange(-10, 10.001, 0.8)
    d = ls.gaussian_density(p, 0.3, 2.0)
    m = ls.density_moments(p, d)
    assert m["p_var"] == pytest.approx(2.0, rel=2e-3)
    assert abs(m["p_kurtosis"]) < 5e-3


def test_local_moments_match_ness_and_vacuum():
    """Same trajectories as twa.ness; the undriven lossy chain stays in the vacuum (⟨p̂²⟩ = ½, κ = 0)."""
    p = ChainParams(L=3, F=0.0)
    kw = dict(n_traj=64, t_relax=1.0, t_avg=20.0, seed=5)
    loc = twa.ness(p, keep_batches=twa.LOCAL_MOMENTS, p_grid=(4.0, 40), **kw)
    ref = twa.ness(p, **kw)
    for v in ("n", "delta_n", "circular_variance", "p2", "x2", "p2_err"):
        assert np.allclose(loc[v].values, ref[v].values, rtol=1e-9, atol=1e-12), v
    assert np.all(np.abs(loc.p2 - 0.5) < 4 * loc.p2_err)
    assert np.all(np.abs(loc.p_kurtosis) < 4 * loc.p_kurtosis_err)
    h = float(loc.p[1] - loc.p[0])
    assert np.allclose(loc.p_density.sum("p") * h + loc.p_outside, 1.0)
    assert np.all(loc.p_density_err.values[loc.p_density.values > 0] > 0)
    # jackknife_local reproduces the dataset's own errors
    val, err = jackknife_dataset(loc, obs.local_observables)
    assert np.allclose(err["p2"], loc.p2_err.values)


def test_p_grid_validation():
    p = ChainParams(L=3, F=1.0)
    with pytest.raises(ValueError, match="p_grid"):
        twa.ness(p, keep_batches=twa.LOCAL_MOMENTS, n_traj=4, t_relax=0.0, t_avg=1.0, p_grid=(0.0, 10))
    with pytest.raises(ValueError, match="p_grid"):
        twa.ness(p, keep_batches=twa.LOCAL_MOMENTS, n_traj=4, t_relax=0.0, t_avg=1.0, p_grid=5.0)
    with pytest.raises(ValueError, match="t_avg"):
        twa.ness(p, keep_batches=twa.LOCAL_MOMENTS, n_traj=4, t_relax=0.0, t_avg=0.0, p_grid=(5.0, 10))


def test_classifier_and_slope():
    V = np.array([0.3, 0.8, 0.95, 0.99, 0.99, 0.99])
    k = np.array([-0.9, -0.9, -0.9, -0.7, -0.5, -0.3])
    labels, amb = ls.classify_domains(V, k, kappa_err=np.full(6, 0.02))
    assert list(labels) == ["nonthermal"] * 2 + ["prethermal"] * 2 + ["thermal"] * 2
    assert list(amb) == [False, False, False, False, False, False]
    _, amb = ls.classify_domains(V, k, kappa_err=np.full(6, 0.1))
    assert amb[3] and amb[4] and not amb[2]
    assert list(ls.domain_sites(labels)["thermal"]) == [5, 6]
    sites = np.arange(1, 11)
    assert ls.log_slope(sites, 5 * np.exp(-sites / 7.0)) == pytest.approx(-1 / 7.0)
    two = np.exp(-np.outer(sites, [1 / 7.0, 1 / 3.0]))
    assert np.allclose(ls.log_slope(sites, two, sites > 2), [-1 / 7.0, -1 / 3.0])
    with pytest.raises(ValueError, match="V_sym"):
        ls.classify_domains(V, k, V_sym=0.0)


def _fake_local(kinds, *, n_traj=320, n_t=40, seed=0, scale=None):
    """A Dataset like ness(keep_batches=LOCAL_MOMENTS) built from synthetic Wigner samples: per site "N" (a coherent
    field with noise: phase locked), "P" (a thin ring: uniform phase, fixed radius), "T" (a
    thermal complex Gaussian); ``scale`` (per site) multiplies the amplitudes."""
    rng = np.random.default_rng(seed)
    L = len(kinds)
    scale = np.ones(L) if scale is None else np.asarray(scale, float)
    noise = lambda: rng.normal(size=(n_traj, n_t)) + 1j * rng.normal(size=(n_traj, n_t))
    a = np.empty((L, n_traj, n_t), complex)
    for i, k in enumerate(kinds):
        if k == "N":
            a[i] = 4.0 + noise()
        elif k == "P":
            a[i] = 5.0 * (1 + 0.05 * rng.normal(size=(n_traj, n_t))) * np.exp(2j * np.pi * rng.uniform(size=(n_traj, n_t)))
        else:
            a[i] = 2.5 * noise()
        a[i] *= scale[i]
    q, p = np.abs(a) ** 2, np.sqrt(2) * a.imag
    ph = np.exp(1j * np.angle(a))
    per = {"m2": q, "m4": q * q, "re": a.real, "im": a.imag, "cos": ph.real, "sin": ph.imag,
           "re2": a.real ** 2, "im2": a.imag ** 2, "pm3": p ** 3, "pm4": p ** 4}
    names = list(obs.LOCAL_MOMENTS)
    sums, counts = stats.batch_sums(np.stack([per[k].mean(-1) for k in names]), 32)
    import xarray as xr
    ds = xr.Dataset({"batch_means": (("moment", "site", "batch"), sums / counts)},
                    coords={"moment": names, "site": np.arange(1, L + 1), "batch_count": ("batch", counts)},
                    attrs={"classical": 0})
    full = ls.subset(ds, np.arange(counts.size))
    return full.assign(batch_means=ds.batch_means)


def test_site_jackknife_and_subsets_are_the_ness_errors():
    """site_jackknife of an observable is the value and error of ness; the two halves are
    independent ensembles whose mean is the full one (for a linear observable)."""
    p = ChainParams(L=3, F=1.0)
    loc = twa.ness(p, keep_batches=twa.LOCAL_MOMENTS, n_traj=64, t_relax=1.0, t_avg=10.0, seed=5, p_grid=(4.0, 40))
    v, e = ls.site_jackknife(loc, lambda o: {"p2": o["p2"], "kappa": o["p_kurtosis"]})
    np.testing.assert_allclose(v["p2"], loc.p2.values, rtol=1e-10)
    np.testing.assert_allclose(e["kappa"], loc.p_kurtosis_err.values, rtol=1e-8)
    a, b = ls.subset(loc, np.arange(16)), ls.subset(loc, np.arange(16, 32))
    np.testing.assert_allclose(0.5 * (a.p2 + b.p2), loc.p2, rtol=1e-10)
    assert np.all(a.p2_err > loc.p2_err) and not np.allclose(a.p2, b.p2)
    with pytest.raises(ValueError, match="2 batches"):
        ls.site_jackknife(loc, lambda o: o, [0])


def test_labels_and_blocks():
    ds = _fake_local("NNPPPPPTTTTTTPT")
    m = ls.labels(ds)
    site = np.arange(1, 16)
    assert list(site[m["nonthermal"]]) == [1, 2] and list(site[m["prethermal"]]) == [3, 4, 5, 6, 7, 14]
    assert list(site[m["prethermal_block"]]) == [3, 4, 5, 6, 7]       # before the first thermal site
    assert list(site[m["thermal_block"]]) == list(range(8, 16))        # the lossy end stays thermal
    assert m["bulk"].sum() == 13 and not m["ambiguous"].any()


def test_block_rise():
    assert ls.block_rise([9, 9, 4, 4, 2, 2], 1, 2) == pytest.approx(-0.5)   # blocks 9, 4, 2
    assert ls.block_rise([5, 1, 1, 2, 2, 4, 4], 2, 2) == pytest.approx(1.0)  # from site 2: 1, 2, 4
    with pytest.raises(ValueError, match="two blocks"):
        ls.block_rise(np.ones(5), 1, 3)


def test_classical_tests_identity_and_control():
    """TWA against itself: no difference at all; a chain without ring domain fails the domain and
    κ tests."""
    kinds = "NNN" + "P" * 12 + "T" * 10
    twa_ds = _fake_local(kinds, scale=np.linspace(1.0, 0.8, 25))
    weak = _fake_local("NNN" + "T" * 22, seed=1)
    t = ls.classical_tests(twa_ds, twa_ds, weak, sites=(2, 8, 20), few_sites=3)
    assert t["n-agreement"][0] == pytest.approx(0.0, abs=1e-12) and t["n-agreement"][1] > 0
    for d in ls.DOMAINS:
        assert t[f"kappa-{d}"][0] == pytest.approx(0.0, abs=1e-12)
    assert t["domains-GP"][0] > 0.3 and t["domains-GP_control"][0] < -0.3
    assert t["V-few-sites-TWA"][0] > 0.9 > t["V-few-sites-TWA_control"][0]
    assert t["flat-n-TWA"][0] == pytest.approx(2 * np.log(0.8) / 24, rel=0.1)  # n ∝ scale²
    no_ring = ls.classical_tests(weak, weak, weak, sites=(2, 8, 20), few_sites=3)
    assert "flat-n-TWA" not in no_ring and "n-agreement" in no_ring


def test_equipartition_tests_use_independent_halves():
    low = _fake_local("NN" + "T" * 28, scale=np.linspace(1.0, 0.5, 30), seed=2)
    mid = _fake_local("NN" + "P" * 14 + "T" * 14, scale=np.linspace(1.0, 0.8, 30), seed=3)
    t, mask = ls.equipartition_tests(low, mid, sites=(2, 10, 25), few_sites=2, block=4, seed=0)
    assert t["T-low-monotonic"][0] < 0 < t["T-low-monotonic_control"][0]
    assert t["bulk-non-gaussian"][0] < ls.KAPPA_RING < t["bulk-non-gaussian_control"][0]
    assert abs(t["end-maxwell"][0]) < 3 * t["end-maxwell"][1] + 0.05 and t["end-bell_control"][0] < ls.KAPPA_RING
    assert t["T-int-saturates"][0] > t["T-int-saturates_control"][0]
    # the domains come from the first half of the batches, the κ tests from the second half only
    first, second = np.arange(16), np.arange(16, 32)
    assert all(np.array_equal(mask[k], ls.labels(ls.subset(mid, first))[k]) for k in mask)
    v, e = ls.site_jackknife(mid, lambda o: {"k": o["p_kurtosis"][mask["thermal"]].mean()}, second)
    assert t["end-bell"] == pytest.approx((v["k"], e["k"]), rel=1e-12)
    assert list(np.flatnonzero(mask["prethermal"]) + 1) == list(range(3, 17))
