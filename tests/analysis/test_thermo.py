"""Oracles for the local-thermodynamics profiles (replicate.analysis.thermo, Fig. 4, SI 15-17) and
the autocorrelation fit (replicate.analysis.autocorr, SI Fig. 16)."""
import numpy as np
import pytest
import xarray as xr

from replicate import thermometry as th
from replicate.analysis import autocorr as ac
from replicate.analysis import thermo
from replicate.thermometry import fitting, models, wigner

RING = {"T": 80.0, "mu": 4.0}      # a prethermal-like Gibbs state: n̄ ≈ 40, ring-shaped W
BELL = {"T": 30.0, "mu": -0.5}     # a thermal-domain-like one


def _samples(P, seed, n_traj=100, n_times=40):
    return th.wigner_samples(P, (n_traj, n_times), np.random.default_rng(seed))


def _ness(p2, V, sites):
    """A minimal NESS Dataset with the variables local_profile reads."""
    z = np.full(len(sites), 1e-3)
    return xr.Dataset({"p2": ("site", p2), "p2_err": ("site", z), "n": ("site", p2 - 0.5), "n_err": ("site", z),
                       "circular_variance": ("site", V), "circular_variance_err": ("site", z)},
                      coords={"site": sites})


def test_basis_cache_is_exact():
    x = 4.0 * np.linspace(0, 60, 41)
    fitting._BASIS_CACHE.clear()
    small = fitting.basis_rows(x, 10).copy()
    big = fitting.basis_rows(x, 300)
    assert big.shape[0] >= 300
    np.testing.assert_array_equal(big, wigner.laguerre_h(big.shape[0] - 1, x))
    np.testing.assert_array_equal(small, big[: small.shape[0]])
    samples = _samples(models.gibbs_populations(**RING).P, seed=1)
    warm = th.fit(samples, "gibbs")
    fitting._BASIS_CACHE.clear()
    assert th.fit(samples, "gibbs").params == warm.params


def test_coarsen_keeps_counts_and_fits():
    samples = _samples(models.gibbs_populations(**BELL).P, seed=2)
    fine = th.from_samples(samples, bins=800, u_max=400.0)
    h = th.coarsen(fine, 50)
    assert h.u_edges.size - 1 <= 50 and h.pooled.sum() == fine.pooled.sum()
    assert np.all(np.isin(h.u_edges, fine.u_edges)) and h.u_edges[-1] > np.abs(samples).max() ** 2
    direct = th.from_samples(samples, bins=h.u_edges)
    np.testing.assert_array_equal(direct.counts, h.counts)
    assert th.fit(h, "gibbs").params == pytest.approx(th.fit(direct, "gibbs").params)


def test_norm_error_matches_the_spread_of_norms():
    P = models.gibbs_populations(**RING).P
    norms, errs = [], []
    for seed in range(12):
        r = th.fit(_samples(P, seed, n_traj=60, n_times=1), "gibbs", errors="poisson")
        h = th.from_samples(_samples(P, seed, n_traj=60, n_times=1), bins=r.u_edges)
        norms.append(r.norm)
        errs.append(thermo.norm_error(th.RadialHistogram(h.u_edges, h.counts), r.expected))
    # 60 iid samples in 20 batches: the jackknife error is the scatter of the norm within 50 %
    assert 0.5 < np.mean(errs) / np.std(norms, ddof=1) < 2.0


def test_polar_norm_sees_anisotropy_the_radial_fit_misses():
    rng = np.random.default_rng(3)
    iso = _samples(models.gibbs_populations(**RING).P, seed=4, n_traj=200)
    r = th.fit(iso, "gibbs")
    norm, err, noise = thermo.polar_norm(iso, r)
    assert 0.6 < norm / noise < 1.5 and err > 0
    one, _, _ = thermo.polar_norm(iso, r, n_angles=1)
    assert one == pytest.approx(r.norm)
    # the same radii with a phase concentrated around 0: radially identical, anisotropic
    aniso = np.abs(iso) * np.exp(1j * rng.vonmises(0.0, 1.0, iso.shape))
    ra = th.fit(aniso, "gibbs")
    assert ra.norm / ra.norm_noise < 1.5
    norm_a, err_a, noise_a = thermo.polar_norm(aniso, ra)
    assert norm_a / noise_a > 3 and norm_a - 3 * err_a > norm


def test_local_profile_recovers_known_states():
    states = {1: RING, 2: BELL}
    data = xr.DataArray(np.stack([_samples(models.gibbs_populations(**s).P, seed=10 + k) for k, s in states.items()]),
                        dims=("site", "traj", "time"), coords={"site": [1, 2]})
    p2 = np.array([models.gibbs_populations(**s).n_mean + 0.5 for s in states.values()])
    prof, fits = thermo.local_profile(_ness(p2, np.ones(2), [1, 2]), data, U=0.1, energy_scale=2.5)
    g = prof.sel(model="gibbs")
    for k, s in states.items():
        for var in ("T", "mu"):
            assert abs(g[var].sel(site=k) - s[var]) < 4 * g[var + "_err"].sel(site=k)
        assert abs(g["mu_over_T"].sel(site=k) - s["mu"] / s["T"]) < 4 * g["mu_over_T_err"].sel(site=k)
        ent = th.entropy(models.gibbs_populations(**s).P)
        assert abs(prof["s"].sel(site=k) - ent) < 4 * prof["s_err"].sel(site=k)
    assert bool(prof["converged"].all())
    np.testing.assert_allclose(prof["T_eq"], 2.5 * p2)
    np.testing.assert_allclose(prof["mu_over_T_eq"], -1 / p2)
    assert np.isnan(prof["T"].sel(model="two_photon")).all() and np.isfinite(prof["kappa_2"].sel(model="two_photon")).all()
    # detailed balance ln κ_p/κ_d of the impurity fits tracks the Gibbs μ/T (Eq. 11)
    mu_tw = prof["mu_over_T"].sel(model="two_photon").values
    assert np.all(np.sign(mu_tw) == np.sign(g["mu_over_T"].values))
    assert fits["scully_lamb", 2].model == "scully_lamb"


def test_peak_site_error_includes_quantization():
    sites = np.arange(1, 41, 2)
    v = -((sites - 21.0) ** 2)
    peak, err = thermo.peak_site(v, np.full(sites.size, 1e-3), sites)
    assert peak == 21 and err == pytest.approx(2 / np.sqrt(12))
    flat, err_flat = thermo.peak_site(np.zeros(sites.size), np.ones(sites.size), sites)
    assert err_flat > 5


def _synthetic_profiles():
    """Weak drive: μ/T = −0.05 − 0.002 ℓ; intermediate: μ falling from 4 to −0.5, T peaking at
    ℓ = 50; s and n peaking at ℓ = 10."""
    s = np.arange(5, 81, dtype=float)
    T = 70 + 40 * np.exp(-((s - 50) / 15) ** 2) - 40 * (s > 70) * (s - 70) / 10
    mu = 4.0 - 4.5 * (s - 5) / 75
    bump = -((s - 10.0) ** 2)
    weak = {"mu_over_T_gibbs": -0.05 - 0.002 * s, "mu_over_T_eq": -0.05 - 0.002 * s}
    inter = {"mu_over_T_gibbs": mu / T, "T": T, "mu": mu, "T_eq": 60 - 0.5 * s, "s": bump, "n": bump,
             "mu_over_T_eq": -1 / (60 - 0.5 * s)}
    for p in (weak, inter):
        for m in thermo.IMPURITY:
            p[f"mu_over_T_{m}"] = p["mu_over_T_gibbs"] * 1.05
        p["mu_over_T_gaussian"] = -np.abs(p["mu_over_T_gibbs"]) - 0.02
    return weak, inter, s


def test_heating_statistics_on_a_known_profile():
    weak, inter, s = _synthetic_profiles()
    st = thermo.heating_statistics(weak, inter, s, s, 80)
    assert st["weak_mu_over_T_slope"] == pytest.approx(-0.002)
    assert st["weak_max_mu_over_T"] < 0 < st["inter_max_mu_over_T"]
    assert st["T_peak"] == 50 and st["s_peak"] == 10 and st["T_minus_s_peak"] == 40
    assert st["heating"] == pytest.approx(110 / 70, rel=1e-3) and st["heating_eq"] == pytest.approx(1.0)
    assert st["inter_mu_drop_share"] == pytest.approx(0.25 * 75 / 75, rel=0.05)   # linear fall
    assert st["agree_impurity"] < 0.06 and st["agree_gaussian"] > 0.3
    assert st["inter_end_mu_over_T"] < 0 < st["inter_start_mu_over_T"]


def _ou(G, w, n_traj, n_t, dt, seed):
    """Complex Ornstein–Uhlenbeck samples with C(τ) = exp[−(G + iw)τ], stationary start."""
    rng = np.random.default_rng(seed)
    a = np.exp(-(G + 1j * w) * dt)
    kick = np.sqrt((1 - abs(a) ** 2) / 2)
    x = np.empty((n_traj, n_t), complex)
    x[:, 0] = (rng.standard_normal(n_traj) + 1j * rng.standard_normal(n_traj)) / np.sqrt(2)
    for t in range(1, n_t):
        x[:, t] = a * x[:, t - 1] + kick * (rng.standard_normal(n_traj) + 1j * rng.standard_normal(n_traj))
    return x


def test_autocorrelation_sums_match_direct_average():
    x = _ou(1.0, 0.5, 6, 50, 0.1, 1)
    sums, counts = ac.autocorrelation_sums(x, 5, n_batches=3)
    direct = np.array([np.mean(np.conj(x[:, : 50 - k]) * x[:, k:], axis=1).sum() for k in range(6)])
    np.testing.assert_allclose(sums.sum(1), direct)
    assert counts.tolist() == [2, 2, 2]


def test_eq47_recovers_one_and_two_rates():
    dt = 0.05
    one = _ou(0.8, 1.2, 64, 2000, dt, 2)
    ds = ac.autocorrelation(one, dt, 100, n_batches=16)
    assert ds["C_re"].values[0] == pytest.approx(1.0) and ds["C_abs_err"].values[10] > 0
    v, e = ac.eq47_rates(ds, tau_fit=3.0, n_terms=1)
    assert abs(v["G1"] - 0.8) < 4 * e["G1"] and abs(v["w1"] - 1.2) < 4 * e["w1"]
    two = (np.sqrt(0.7) * _ou(0.5, 0.0, 64, 3000, dt, 3) + np.sqrt(0.3) * _ou(3.0, 2.0, 64, 3000, dt, 4))
    ds2 = ac.autocorrelation(two, dt, 120, n_batches=16)
    f = ac.fit_eq47(ds2["tau"].values, ds2["C_re"].values + 1j * ds2["C_im"].values, tau_fit=6.0)
    assert f.rates[0] == pytest.approx(0.5, abs=0.1) and f.rates[1] == pytest.approx(3.0, rel=0.3)
    assert f.amplitudes[0] == pytest.approx(0.7, abs=0.08)
    assert f.mean_rate == pytest.approx(f.amplitudes @ f.rates / f.amplitudes.sum())


def test_bad_input():
    with pytest.raises(ValueError, match="n_lags"):
        ac.autocorrelation_sums(np.ones((2, 5), complex), 5)
    with pytest.raises(ValueError, match="tau_fit"):
        ac.fit_eq47(np.arange(5.0), np.ones(5, complex), tau_fit=1.0, n_terms=2)
    with pytest.raises(ValueError, match="batches"):
        thermo.norm_error(th.RadialHistogram(np.arange(3.0), np.ones((1, 2))), np.ones(2))


def test_extreme_and_norm_ratio():
    v, e = thermo.extreme([1.0, 5.0, 3.0], [0.1, 0.1, 0.1], "max")
    assert v == 5.0 and 0.05 < e < 0.15
    assert thermo.extreme([1.0, 5.0, 3.0], [0.1, 0.1, 0.1], "median")[0] == 3.0
    with pytest.raises(ValueError, match="which"):
        thermo.extreme([1.0], [0.1], "mean")
    ds = xr.Dataset({"norm": ("site", [0.2]), "norm_noise": ("site", [0.1]), "norm_err": ("site", [0.02])})
    r, re = thermo.norm_ratio(ds)
    assert r.item() == pytest.approx(2.0) and re.item() == pytest.approx(0.2)


def test_impurity_rate_of_a_laser_and_of_a_dephased_one():
    """Eq. (47) on the impurity's own C(τ): a Scully–Lamb laser (κ_φ = 0, U = 0) keeps its phase,
    κ_φ = 1 adds κ_φ/2 = 0.5 to the decay rate; the error follows the fitted rates."""
    samples = _samples(models.scully_lamb_populations(2.0, 0.05).P, seed=7)
    r = th.fit(samples, "scully_lamb")
    tau = np.arange(0, 3.0001, 0.05)
    laser, e_laser = ac.impurity_rate(r, tau, tau_fit=3.0, n_terms=1, U=0.0)
    dephased, _ = ac.impurity_rate(r, tau, tau_fit=3.0, n_terms=1, U=0.0, kappa_phi_over_kappa_d=1.0)
    assert 0 < laser < 0.05 and e_laser > 0
    assert dephased == pytest.approx(laser + 0.5, abs=0.02)


def test_eq47_table_joint_jackknife_and_log_ratio():
    dt = 0.05
    ds = {s: ac.autocorrelation(_ou(G, 0.0, 32, 800, dt, s), dt, 60, n_batches=8) for s, G in ((1, 0.8), (2, 1.2))}
    v, e = ac.eq47_table(ds, tau_fit=2.0, n_terms=1)
    assert v["G1_mean"] == pytest.approx((v["G1_1"] + v["G1_2"]) / 2)
    assert abs(v["G1_2"] - 1.2) < 4 * e["G1_2"] and 0 < e["G1_mean"]
    one, one_err = ac.eq47_rates(ds[1], tau_fit=2.0, n_terms=1)
    assert one["G1"] == pytest.approx(v["G1_1"]) and one_err["G1"] == pytest.approx(e["G1_1"])
    r, re = ac.log10_ratio(1.0, 0.1, 0.001, 0.0001)
    assert r == pytest.approx(3.0) and re == pytest.approx(np.hypot(0.1, 0.1) / np.log(10))


def _norm_profile():
    """A local_profile-like Dataset: norm / noise = (model index + 1) × site, noise 2, error 0.5."""
    sites = np.arange(1, 7)
    mods = ["gibbs", "gaussian"]
    ratio = np.outer([1.0, 2.0], sites)
    return xr.Dataset({"norm": (("model", "site"), 2.0 * ratio), "norm_noise": (("model", "site"), np.full((2, 6), 2.0)),
                       "norm_err": (("model", "site"), np.full((2, 6), 1.0)),
                       "circular_variance": ("site", np.array([0.1, 0.5, 0.95, 0.95, 0.99, 0.99]))},
                      coords={"model": mods, "site": sites})


def test_symmetric_median_uses_only_symmetric_sites():
    p = _norm_profile()
    med = thermo.symmetric_median(p, V_sym=0.9, models=("gibbs", "gaussian"))
    assert med["gibbs"][0] == pytest.approx(4.5) and med["gaussian"][0] == pytest.approx(9.0)   # sites 3..6
    assert med["gibbs"][1] == pytest.approx(np.sqrt(np.pi / 2) * 0.5 / 2)
    with pytest.raises(ValueError, match="no site"):
        thermo.symmetric_median(p, V_sym=0.999, models=("gibbs",))


def test_norm_extreme_selects_models_and_sites():
    ratio, err = thermo.norm_ratio(_norm_profile())
    v, e = thermo.norm_extreme(ratio, err, "max", model=["gibbs", "gaussian"], sites=[2, 3], n_resamples=200)
    assert v == pytest.approx(6.0) and 0 < e < 1.0               # gaussian at site 3
    v, _ = thermo.norm_extreme(ratio, err, "min", model="gaussian", sites=[5, 6], n_resamples=200)
    assert v == pytest.approx(10.0)
    same = thermo.extreme(ratio.sel(model="gibbs", site=[4]).values, err.sel(model="gibbs", site=[4]).values, "max",
                          n_resamples=50, seed=3)
    assert thermo.norm_extreme(ratio, err, "max", model="gibbs", sites=[4], n_resamples=50, seed=3) == same


def test_histogram_mismatch_is_zero_for_the_samples_own_histogram():
    rng = np.random.default_rng(0)
    samples = xr.DataArray(rng.normal(size=(2, 64, 10)) + 1j * rng.normal(size=(2, 64, 10)),
                           dims=("site", "traj", "time"), coords={"site": [1, 2]})
    u_grid = (20.0, 16)
    counts = np.stack([th.from_samples(samples.sel(site=s).values, bins=16, u_max=20.0, n_batches=8).counts
                       for s in (1, 2)])
    ness = xr.Dataset({"radial_counts": (("site", "batch", "bin"), counts)}, coords={"site": [1, 2]})
    assert thermo.histogram_mismatch(samples, ness, [1, 2], u_grid) == 0
    off = counts.copy()
    off[1, 0, 3] += 5
    off[0, 2, 0] -= 2
    ness["radial_counts"] = (("site", "batch", "bin"), off)
    assert thermo.histogram_mismatch(samples, ness, [1, 2], u_grid) == 7
    assert thermo.histogram_mismatch(samples, ness, [1], u_grid) == 2


def test_site_histograms_give_the_polar_profile_and_mismatch_of_the_samples():
    """The stored form of SI Figs. 15/17 (polar and radial counts per batch on the fits' annuli):
    the same polar norms, errors and noise floors as the raw samples, and the same mismatch."""
    rng = np.random.default_rng(7)
    ring = _samples(models.gibbs_populations(**RING).P, seed=1, n_traj=96, n_times=20)
    aniso = np.abs(ring) * np.exp(1j * rng.vonmises(0.0, 1.0, ring.shape))
    samples = xr.DataArray(np.stack([ring, aniso]), dims=("site", "traj", "time"), coords={"site": [3, 9]})
    u_grid = (400.0, 200)
    counts = np.stack([th.from_samples(samples.sel(site=s).values, bins=200, u_max=400.0, n_batches=32).counts
                       for s in (3, 9)])  # batched as the engine
    ness = xr.Dataset({"radial_counts": (("site", "batch", "u"), counts)},
                      coords={"site": [3, 9], "u": (np.arange(200) + 0.5) * 2.0})
    _, fits = thermo.local_profile(_ness(np.full(2, 40.0), np.full(2, 0.95), [3, 9]),
                                   ness["radial_counts"], U=0.1, energy_scale=2.5, bins=30)
    edges = [fits["gibbs", s].u_edges for s in (3, 9)]
    red = thermo.site_histograms(samples, u_edges=edges, u_grid=u_grid, wigner_sites=[9], n_angles=6)
    assert red.polar_counts.dtype == np.int32 and red.wigner.sum() == samples.sel(site=9).size
    a, b = thermo.polar_profile(samples, fits, n_angles=6), thermo.polar_profile(red, fits)
    for k in ("norm", "norm_err", "noise"):
        np.testing.assert_allclose(b[k].values, a[k].values, rtol=1e-12, err_msg=k)
    assert float(a.ratio.sel(model="gibbs", site=9)) > 3 * float(a.ratio.sel(model="gibbs", site=3))
    assert thermo.histogram_mismatch(red, ness, [3, 9], u_grid) == 0 == thermo.histogram_mismatch(samples, ness, [3, 9], u_grid)
    ness["radial_counts"][0, 1, 4] += 3
    assert thermo.histogram_mismatch(red, ness, [3, 9], u_grid) == 3
    other = {k: thermo.local_profile(_ness(np.full(2, 40.0), np.full(2, 0.95), [3, 9]), ness["radial_counts"],
                                     U=0.1, energy_scale=2.5, bins=12)[1][k] for k in fits}
    with pytest.raises(ValueError, match="annuli"):
        thermo.polar_profile(red, other)
    with pytest.raises(ValueError, match="one array"):
        thermo.site_histograms(samples, u_edges=edges[:1], u_grid=u_grid, wigner_sites=[9])
