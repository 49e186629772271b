"""OTOC analysis (τ grid, saturation, light cone, Lyapunov fit, stall, growth) on synthetic curves
with known answers."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import otoc as oa

NB = 32


def dataset(D_batch, tau, counts=None):
    """An OTOC-like Dataset (as returned by replicate.twa.otoc) from batch means (tau, site, batch)."""
    counts = np.full(D_batch.shape[-1], 4) if counts is None else np.asarray(counts)
    L = D_batch.shape[1]
    return xr.Dataset({"D": (("tau", "site"), (D_batch * counts).sum(-1) / counts.sum()),
                       "D_batch": (("tau", "site", "batch"), D_batch),
                       "batch_count": ("batch", counts)},
                      coords={"tau": tau, "site": np.arange(1, L + 1)})


def cone(tau, L, v, lam, eps2=1e-8):
    """Chaotic front: D = min(1, ε² e^{λ(τ − (ℓ−1)/v)}) (arrival of θ at t_ℓ = (ℓ−1)/v + ln(θ/ε²)/λ)."""
    x = np.arange(L)[None, :]
    return np.minimum(1.0, eps2 * np.exp(lam * (tau[:, None] - x / v)))


def test_first_crossing_exact_for_an_exponential():
    tau = np.linspace(0, 10, 21)
    D = 1e-6 * np.exp(1.3 * tau)
    t = oa.first_crossing(tau, D[:, None], 1e-3)[0]
    assert t == pytest.approx(np.log(1e3) / 1.3, rel=1e-12)
    assert oa.first_crossing(tau, D[:, None], 1e-6)[0] == 0.0           # already there at τ[0]
    assert np.isnan(oa.first_crossing(tau, D[:, None], 1e9)[0])         # never reached
    with pytest.raises(ValueError, match="threshold"):
        oa.first_crossing(tau, D[:, None], 0.0)


def test_noise_free_light_cone_gives_the_velocity_exactly():
    tau = np.arange(0, 30.01, 0.25)
    v, lam = 2.5, 1.7
    D = cone(tau, 20, v, lam)
    ds = dataset(np.repeat(D[..., None], NB, axis=-1), tau)
    arr = oa.arrival_times(ds, 0.1)
    expect = np.arange(20) / v + np.log(0.1 / 1e-8) / lam
    assert np.allclose(arr["arrival"].values, expect, atol=1e-9)
    fit = oa.light_cone(ds, 0.1)
    assert fit["v_B"][0] == pytest.approx(v, rel=1e-9)
    assert fit["v_B"][1] == pytest.approx(0.0, abs=1e-9)               # identical batches
    assert fit["r"][0] == pytest.approx(1.0, abs=1e-12)                # a straight front
    assert abs(oa.light_cone(ds, 0.1, shuffle=0)["r"][0]) < 0.6        # no spatial order: no line


def test_noisy_light_cone_recovers_velocity_within_error():
    rng = np.random.default_rng(1)
    tau = np.arange(0, 30.01, 0.25)
    v, lam = 3.0, 2.0
    D = cone(tau, 24, v, lam)
    D_batch = D[..., None] * np.exp(0.5 * rng.standard_normal(D.shape + (NB,)))
    fit = oa.light_cone(oa_ds := dataset(D_batch, tau), 0.1, sites=np.arange(2, 25))
    (vB, vB_err), (r, r_err) = fit["v_B"], fit["r"]
    assert 0 < vB_err < 0.2 * v
    assert abs(vB - v) < 3 * vB_err
    assert r > 0.99 and r_err > 0
    with pytest.raises(ValueError, match="sites"):
        oa.light_cone(oa_ds, 0.1, sites=[3, 4])


def test_exponential_rate_and_its_error_are_calibrated():
    tau = np.arange(0, 8.01, 0.25)
    lam = 1.1
    ests, errs = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        D = 1e-7 * np.exp(lam * tau)[:, None, None] * np.exp(0.3 * rng.standard_normal((tau.size, 1, NB)))
        ds = dataset(D, tau)
        fit = oa.exponential_rate(ds, 1, (1.0, 7.0))
        ests.append(fit["lam"]), errs.append(fit["lam_err"])
        assert fit["n_points"] == 25
    ests, errs = np.array(ests), np.array(errs)
    assert abs(ests.mean() - lam) < 3 * ests.std() / np.sqrt(ests.size)  # unbiased
    assert 0.6 < np.mean(errs) / ests.std() < 1.6                       # jackknife error ≈ true scatter
    with pytest.raises(ValueError, match="window"):
        oa.exponential_rate(ds, 1, (2.0, 2.2))


def test_tau_grid():
    t = oa.tau_grid(10.0, step=0.5, fine=3.0, coarse=2.0)
    assert np.allclose(t, [0, 0.5, 1, 1.5, 2, 2.5, 3, 5, 7, 9])
    assert np.allclose(oa.tau_grid(2.0, step=1.0, fine=5.0, coarse=3.0), [0, 1, 2])
    with pytest.raises(ValueError, match="step"):
        oa.tau_grid(10.0, 0.0, 3.0, 2.0)


def test_saturation_is_the_window_mean_with_the_batch_error():
    rng = np.random.default_rng(2)
    tau = np.arange(0, 50.01, 0.5)
    D = 0.8 + 0.05 * rng.standard_normal((tau.size, 3, NB))
    ds = dataset(D, tau)
    sat = twa.otoc_saturation(ds, 25.0)
    for site in (1, 3):
        val, err = oa.saturation(ds, site, 25.0)
        assert val == pytest.approx(float(sat["D_sat"].sel(site=site)), rel=1e-12)
        assert err == pytest.approx(float(sat["D_sat_err"].sel(site=site)), rel=1e-9)
    with pytest.raises(ValueError, match="site"):
        oa.saturation(ds, 4, 25.0)


def test_growth_window_and_stall():
    tau = np.arange(0, 20.01, 0.5)
    grow = 1e-8 * np.exp(tau)
    t_lo, t_hi = oa.growth_window(tau, grow, 1e-6, 1e-2)
    assert (t_lo, t_hi) == pytest.approx((np.log(100), np.log(1e6)))
    with pytest.raises(ValueError, match="grow"):
        oa.growth_window(tau, grow, 1e-6, 1e9)
    # a monotonic growth never stalls; a dip by 10 on 4 < τ < 6 on top of e^{0.1τ}: D gets back to
    # its level of τ = 4 between τ = 5.5 (dipped) and 6, at the fraction f of that step (ln D linear)
    wiggle = 1e-8 * np.exp(0.1 * tau) * np.where((tau > 4) & (tau < 6), 0.1, 1.0)
    f = (np.log(10) - 0.15) / (np.log(10) + 0.05)
    for curve, expect in ((grow, 0.0), (wiggle, 1.5 + 0.5 * f)):
        ds = dataset(np.repeat(curve[:, None, None], NB, axis=-1), tau)
        val, err = oa.stall(ds, 1, tau_max=20.0)
        assert val == pytest.approx(expect, abs=1e-9) and err == pytest.approx(0.0, abs=1e-9)
    # a dip still open at tau_max is counted up to tau_max; points at or below the floor are skipped
    ds = dataset(np.repeat(wiggle[:, None, None], NB, axis=-1), tau)
    assert oa.stall(ds, 1, tau_max=5.0)[0] == pytest.approx(1.0)
    assert oa.stall(ds, 1, tau_max=20.0, floor=1e-3)[0] == 0.0


def test_stall_interpolates_the_recovery_in_log():
    tau = np.array([0.0, 1.0, 2.0, 3.0])
    d = np.array([1e-4, 1e-6, 1e-6, 1e-2])   # back at 1e-4 halfway (in ln D) between τ = 2 and 3
    ds = dataset(np.repeat(d[:, None, None], NB, axis=-1), tau)
    assert oa.stall(ds, 1, tau_max=3.0)[0] == pytest.approx(2.5)


def test_growth_of_an_exponential_that_saturates():
    tau = np.arange(0, 60.01, 0.25)
    eps, lam = 1e-4, 0.8
    kick = 1 - np.cos(eps)
    curve = np.minimum(0.9, kick * np.exp(lam * tau))
    rng = np.random.default_rng(5)
    D = curve[:, None, None] * np.exp(0.05 * rng.standard_normal((tau.size, 1, NB)))
    ds = dataset(D, tau).assign_coords(eps=eps)
    g = oa.growth(ds, 1, window=25.0, kick_factor=100.0, sat_fraction=0.1)
    assert g["window"] == pytest.approx((np.log(100) / lam, np.log(0.09 / kick) / lam), rel=0.02)
    assert abs(g["lam"][0] - lam) < 4 * g["lam"][1] + 1e-3
    assert abs(g["shape"][0] - 1) < 4 * g["shape"][1] + 1e-3
    assert abs(g["D_sat"][0] - 0.9) < 4 * g["D_sat"][1]
    assert g["stall"][0] < 0.3                                # noise dips last a grid step or so


def test_rate_ratio_one_for_exponential_and_analytic_for_power_law():
    tau = np.arange(1.0, 41.0, 0.5)
    window = (2.0, 40.0)

    def ls_slope(a, b):  # least-squares slope of ln τ on the grid points of [a, b] (covariance form)
        t = tau[(tau >= a) & (tau <= b)]
        return np.mean((t - t.mean()) * np.log(t)) / np.var(t)

    power = ls_slope(21, 40) / ls_slope(2, 21)  # the same for any exponent p
    assert power < 0.5
    for curve, expect in ((1e-9 * np.exp(0.3 * tau), 1.0), (1e-9 * tau ** 3, power)):
        ds = dataset(np.repeat(curve[:, None, None], NB, axis=-1), tau)
        val, err = oa.rate_ratio(ds, 1, window)
        assert val == pytest.approx(expect, rel=1e-9) and err == pytest.approx(0.0, abs=1e-12)


def synthetic_scan(eps, d_sat_of_eps, tau):
    """An eps-scan Dataset whose curves sit at D_sat(ε) (with batch noise) over the whole τ grid."""
    rng = np.random.default_rng(3)
    D = np.stack([d * np.exp(0.1 * rng.standard_normal((tau.size, 2, NB))) for d in d_sat_of_eps(eps)])
    return xr.Dataset({"D_batch": (("eps", "tau", "site", "batch"), D),
                       "batch_count": ("batch", np.full(NB, 4))},
                      coords={"eps": eps, "tau": tau, "site": [1, 2]})


def test_kick_exponent_linear_response_and_saturation():
    tau = np.arange(0, 30.01, 1.0)
    eps = np.array([1e-5, 1e-4, 1e-3, 1e-2])
    lin = oa.kick_exponent(synthetic_scan(eps, lambda e: 3e-3 * (1 - np.cos(e)), tau), 2, window=10.0)
    (kappa, kappa_err) = lin["kappa"]
    assert abs(kappa - 1) < 3 * kappa_err + 1e-3 and kappa_err < 0.01
    assert lin["c"] == pytest.approx(3e-3, rel=0.05)
    flat = oa.kick_exponent(synthetic_scan(eps, lambda e: 0.04 + 0 * e, tau), 2, window=10.0, eps_max=1e-3)
    assert abs(flat["kappa"][0]) < 3 * flat["kappa"][1] + 1e-3 and flat["eps"].size == 3


def test_eps_scan_forks_the_same_ness_with_each_kick():
    from replicate.chain import ChainParams

    eps = [1e-4, 1e-2, 0.0]
    scan = twa.otoc_eps_scan(ChainParams(L=4, F=6.0), eps, n_traj=40, t_relax=1.0, times=[0.0, 2.0], seed=4)
    for e in eps:
        d0 = scan["D"].sel(eps=e).isel(tau=0).values
        assert d0[0] == pytest.approx(1 - np.cos(e), rel=1e-6, abs=1e-18) and np.all(d0[1:] == 0.0)
    assert np.all(scan["D"].sel(eps=0.0).values == 0.0)          # no kick, same noise: no distance
    assert np.all(scan["D"].sel(eps=1e-2).isel(tau=1).values > 0)
    assert scan["batch_count"].dims == ("batch",)


def _scan_at_zero(D11, others, eps_values):
    """An ε-scan-like Dataset with only D(eps, tau=0, site)."""
    D = np.zeros((len(eps_values), 2, 3))
    D[:, 0, 0] = D11
    D[:, 0, 1:] = others
    return xr.Dataset({"D": (("eps", "tau", "site"), D)},
                      coords={"eps": list(eps_values), "tau": [0.0, 1.0], "site": [1, 2, 3]})


def test_initial_condition_measures_the_kick():
    eps = np.array([1e-2, 1e-1])
    exact = _scan_at_zero(1 - np.cos(eps), 0.0, eps)
    assert oa.initial_condition([exact]) == pytest.approx((0.0, 0.0), abs=1e-12)
    off = _scan_at_zero((1 - np.cos(eps)) * np.array([1.0, 1.5]), np.array([[0.0, 0.0], [0.0, 3e-3]]), eps)
    kicked, others = oa.initial_condition([exact, off])
    assert kicked == pytest.approx(0.5) and others == pytest.approx(3e-3)


def test_kick_scan_starts_from_the_kick():
    """A small real scan (engine): at τ = 0 the replicas differ by the kick only."""
    from replicate.chain import ChainParams

    eps = (1e-3, 1e-1)
    ds = oa.kick_scan(ChainParams(L=4, F=3.0), eps, n_traj=8, t_relax=5.0, tau_max=2.0,
                      grid=(0.5, 1.0, 1.0), seed=1)
    assert list(ds["eps"].values) == list(eps)
    assert np.allclose(ds["tau"].values, oa.tau_grid(2.0, 0.5, 1.0, 1.0))
    kicked, others = oa.initial_condition([ds])
    assert kicked < 1e-9 and others == 0.0


def test_kick_scan_keeps_a_few_sites_and_the_kick_everywhere():
    """The stored form of the RNW scans of Fig. 8: the kept sites equal the full scan's, and the
    τ = 0 check still sees every site."""
    from replicate.chain import ChainParams

    p, eps = ChainParams(L=5, F=3.0), (1e-3, 1e-1)
    kw = dict(n_traj=8, t_relax=5.0, tau_max=2.0, grid=(0.5, 1.0, 1.0), seed=1)
    full = oa.kick_scan(p, eps, **kw)
    few = oa.kick_scan(p, eps, keep_sites=[5], **kw)
    assert list(few.site.values) == [5] and few.D_batch.sizes["site"] == 1
    xr.testing.assert_identical(few.D_batch, full.D_batch.sel(site=[5]))
    assert oa.initial_condition([few]) == oa.initial_condition([full])
    assert oa.saturation(few.sel(eps=1e-1), 5, 1.0) == oa.saturation(full.sel(eps=1e-1), 5, 1.0)
    broken = few.copy()
    broken["D_tau0"] = few.D_tau0 + 1e-3 * (few.all_site == 3)
    assert oa.initial_condition([broken])[1] == pytest.approx(1e-3)  # a non-kicked site seen
    with pytest.raises(ValueError, match="keep_sites"):
        oa.kick_scan(p, eps, keep_sites=[6], **kw)
