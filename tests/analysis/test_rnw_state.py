"""RNW quantum signatures (replicate.analysis.rnw_state) on synthetic arcs with known answers, and
the reduction of real evolve runs."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import rnw_state as rs
from replicate.chain import ChainParams


def fake_run(alpha, times, classical=False):
    """An evolve-like Dataset holding ``alpha(time, site, traj)`` at every site."""
    T, L, N = alpha.shape
    return xr.Dataset({"alpha": (("time", "kept_site", "traj"), alpha)},
                      coords={"time": times, "site": np.arange(1, L + 1), "kept_site": np.arange(1, L + 1),
                              "traj": np.arange(N)}, attrs={"classical": int(classical)})


def arcs(L=12, n_traj=400, n_t=20, R=8.0, s_r=0.3, sigma=None, seed=0):
    """Arcs: |α| ~ N(R, s_r), phase ~ N(kℓ, σ_ℓ) with σ_ℓ growing along the chain; independent
    samples (every time and trajectory)."""
    rng = np.random.default_rng(seed)
    sigma = np.linspace(0.1, 0.8, L) if sigma is None else np.asarray(sigma)
    r = R + s_r * rng.standard_normal((n_t, L, n_traj))
    phi = 0.2 * np.arange(1, L + 1)[None, :, None] + sigma[None, :, None] * rng.standard_normal((n_t, L, n_traj))
    return r * np.exp(1j * phi), sigma


def test_observables_of_synthetic_arcs_match_their_construction():
    R, s_r = 8.0, 0.3
    alpha, sigma = arcs(R=R, s_r=s_r)
    times = np.arange(alpha.shape[0], dtype=float)
    red = rs.reduce_evolve(fake_run(alpha, times), windows={"w": (0.0, times[-1])}, centre=6)
    p = rs.profiles(red, "w")
    V = 1 - np.exp(-sigma**2 / 2)
    for name, exact, rel in (("circular_variance", V, 0.08), ("sigma_phi", sigma, 0.03),
                             ("sigma_r", np.full(12, s_r), 0.03), ("r_mean", np.full(12, R), 1e-3),
                             ("field_abs", R * np.exp(-sigma**2 / 2), 0.01),
                             ("n", np.full(12, R**2 + s_r**2 - 0.5), 5e-3),
                             ("arc_ratio", R * sigma / s_r, 0.05)):
        got, err = p[name].values, p[name + "_err"].values
        assert np.allclose(got, exact, rtol=rel), name
        assert np.all(np.abs(got - exact) < 5 * err + 1e-12), name       # errors cover the truth
    # independent phases: g1_{c,m} = e^{−σ_c²/2} e^{−σ_m²/2} R² / n (m ≠ c), 1 at c
    g = p["g1"].values
    n = R**2 + s_r**2 - 0.5
    expect = np.exp(-sigma[5]**2 / 2) * np.exp(-sigma**2 / 2) * R**2 / n
    expect[5] = 1.0
    assert np.allclose(g, expect, rtol=0.02)
    # the mean field of a thin arc is the mean radius times the resultant length
    value, _ = rs.jackknife_windows(lambda o: {"id": rs.angular_identity(o[0], edges=(1, 1)),
                                               "ctrl": rs.angular_identity(o[0], edges=(1, 1), frozen_at=2)},
                                    [(red, "w")])
    assert value["id"] < 0.01 and value["ctrl"] > 0.1


def test_classical_reading_has_no_ordering_corrections():
    alpha, _ = arcs(sigma=np.zeros(12), s_r=0.0)
    times = np.arange(alpha.shape[0], dtype=float)
    p = rs.profiles(rs.reduce_evolve(fake_run(alpha, times, classical=True),
                                     windows={"w": (0.0, times[-1])}, centre=4), "w")
    assert np.allclose(p["n"], 64.0) and np.allclose(p["g1"], 1.0)
    assert np.allclose(p["circular_variance"], 0.0, atol=1e-12) and np.allclose(p["delta_n"], 0.0, atol=1e-9)


def test_signatures_discriminate_arcs_from_points():
    alpha, _ = arcs(L=20, sigma=np.linspace(0.2, 0.9, 20))
    point, _ = arcs(L=20, sigma=np.full(20, 0.02), s_r=0.3, seed=1)
    times = np.arange(alpha.shape[0], dtype=float)
    runs = [(rs.reduce_evolve(fake_run(a, times), windows={"w": (0.0, 19.0)}, centre=10), "w") for a in (alpha, point)]
    v, e = rs.jackknife_windows(lambda o: {**{k + "_arc": x for k, x in rs.signatures(o[0], sites=(4, 8, 12, 16), centre=10, edges=(2, 2)).items()},
                                          **{k + "_pt": x for k, x in rs.signatures(o[1], sites=(4, 8, 12, 16), centre=10, edges=(2, 2)).items()}},
                                runs)
    assert v["V_change_arc"] > 0.2 and abs(v["V_change_pt"]) < 0.01
    assert v["arc_min_arc"] > 3 and v["arc_min_pt"] < 1
    assert v["sigma_phi_growth_arc"] > 0.3 and abs(v["sigma_phi_growth_pt"]) < 0.02
    assert abs(v["sigma_r_change_arc"]) < 3 * e["sigma_r_change_arc"] + 0.02
    assert v["g1_drop_arc"] > 0.02 and abs(v["g1_drop_pt"]) < 0.005   # independent phases: 0.037
    assert all(np.all(np.isfinite(x)) and np.all(x >= 0) for x in e.values())


def test_joint_jackknife_of_independent_runs_is_the_quadrature_sum():
    """For a difference of linear statistics of two independent runs the joint jackknife variance
    is the sum of the separate variances up to the cross term of the paired resamples, which
    vanishes on average (here: averaged over 12 sites)."""
    a, _ = arcs(seed=3)
    b, _ = arcs(seed=4, n_traj=200)
    times = np.arange(a.shape[0], dtype=float)
    ra, rb = (rs.reduce_evolve(fake_run(x, times), windows={"w": (0.0, 19.0)}, centre=6) for x in (a, b))
    v, e = rs.jackknife_windows(lambda o: {"d": o[0]["r_mean"] - o[1]["r_mean"]}, [(ra, "w"), (rb, "w")])
    pa, pb = rs.profiles(ra, "w"), rs.profiles(rb, "w")
    assert np.allclose(v["d"], pa["r_mean"] - pb["r_mean"])
    ratio = e["d"] ** 2 / (pa["r_mean_err"].values ** 2 + pb["r_mean_err"].values ** 2)
    assert 0.75 < ratio.mean() < 1.25


def test_reduce_evolve_matches_the_engine_and_chunks_concatenate():
    p = ChainParams(L=5, F=3.0, Delta=2.5, J=2.0, U=0.1, gamma=1.0)
    times = np.round(np.arange(0.0, 20.0 + 1e-9, 1.0), 9)
    win = {"late": (10.0, 20.0), "early": (2.0, 4.0)}
    ds = twa.evolve(p, n_traj=24, times=times, seed=3, keep_sites=range(1, 6))
    red = rs.reduce_evolve(ds, windows=win, centre=3, sample_sites=(2, 5), sample_window="late")
    late = (times >= 10.0)
    assert np.allclose(red["n_sum"].values / 24, ds["n"].values)
    assert np.allclose(red["n_last"].values.mean(-1), ds["n"].values[:, -1])
    prof = rs.profiles(red, "late")
    assert np.allclose(prof["n"], ds["n"].values[late].mean(0))
    assert red["samples"].shape == (2, 24, late.sum())
    assert np.array_equal(red["samples"].sel(sample_site=5).values, ds["alpha"].values[late, 4].T)
    one = rs.quench(p, n_traj=24, times=times, windows=win, centre=3, seed=3)  # 24 batches of one trajectory
    assert np.allclose(one["moment_sums"].values, red["moments"].values)
    two = rs.quench(p, n_traj=24, times=times, windows=win, centre=3, seed=3, chunk=16)
    assert two.sizes["batch"] == 24 and two.attrs["n_traj"] == 24
    assert np.allclose(two["moment_sums"].values[..., :16], red["moments"].values[..., :16])
    assert not np.allclose(two["moment_sums"].values[..., 16:], red["moments"].values[..., 16:])
    with pytest.raises(ValueError, match="keep_sites"):
        rs.reduce_evolve(twa.evolve(p, n_traj=4, times=times[:3], keep_sites=[1]), windows=win, centre=3)


def test_batch_reduce_keeps_every_statistic_in_a_fraction_of_the_size():
    """The stored form of a quench (batch sums, onset times, Wigner histograms) gives the same
    profiles, onsets and W_ℓ as the per-trajectory form it replaces."""
    from replicate.analysis.wigner_samples import wigner_histogram

    p = ChainParams(L=8, F=12.0, Delta=2.5, J=2.0, U=0.1, gamma=1.0)
    times = np.round(np.arange(0.0, 60.0 + 1e-9, 1.0), 9)
    win = {"late": (30.0, 60.0), "early": (5.0, 10.0)}
    red = rs.reduce_evolve(twa.evolve(p, n_traj=80, times=times, seed=1, keep_sites=range(1, 9)),
                           windows=win, centre=4, sample_sites=(3, 6), sample_window="late")
    small = rs.batch_reduce(red, onset=dict(after=40.0, window=10.0, smooth=2.0), wigner_grid=(6.0, 20))
    assert small.sizes["batch"] == 32 and int(small.batch_count.sum()) == 80
    assert not {"moments", "n_last", "samples"} & set(small.data_vars)
    for w in win:
        a, b = rs.profiles(red, w), rs.profiles(small, w)
        for k in a.data_vars:
            np.testing.assert_allclose(b[k].values, a[k].values, rtol=1e-12, atol=1e-15, err_msg=k)
    kw = dict(after=40.0, window=10.0, smooth=2.0)
    full = rs.onsets(red, **kw)
    kept = rs.onsets(small, **kw)
    np.testing.assert_array_equal(kept.T, full.T)
    assert (kept.plateau, kept.censor_time, kept.window) == (full.plateau, full.censor_time, full.window)
    with pytest.raises(ValueError, match="keeps no n_L"):
        rs.onsets(small, after=40.0, window=20.0, smooth=2.0)
    np.testing.assert_array_equal(small.wigner.sel(sample_site=6).values,
                                  wigner_histogram(red.samples.sel(sample_site=6).values, 6.0, 20))
    assert small.re.values[0] == pytest.approx(-6.0 + 0.3)
    with pytest.raises(ValueError, match="keeps 32 batches"):
        rs.profiles(small, "late", n_batches=16)
    with pytest.raises(ValueError, match="onset"):
        rs.batch_reduce(red, onset=dict(window=10.0))


def test_signature_table_matches_the_joint_jackknife_and_prints_every_scalar():
    alpha, _ = arcs(L=20, sigma=np.linspace(0.2, 0.9, 20))
    point, _ = arcs(L=20, sigma=np.full(20, 0.02), s_r=0.3, seed=1)
    times = np.arange(alpha.shape[0], dtype=float)
    ra, rp = (rs.reduce_evolve(fake_run(a, times), windows={"w": (0.0, 19.0)}, centre=10) for a in (alpha, point))
    kw = dict(sites=(4, 8, 12, 16), centre=10, edges=(2, 2))
    table = rs.signature_table({"arc": (ra, "w"), "point": (rp, "w")}, **kw)
    v, e = rs.jackknife_windows(lambda o: {k + "_pt": x for k, x in rs.signatures(o[1], **kw).items()},
                                [(ra, "w"), (rp, "w")])
    assert table["V_change", "point"] == pytest.approx((float(v["V_change_pt"]), float(e["V_change_pt"])))
    assert table["arc_min", "arc"][0] > 3 and table["arc_min", "point"][0] < 1
    assert table.names == ("arc", "point") and "g1_drop" in table.keys and "V_step" in table.keys
    rows = str(table).splitlines()
    assert len(rows) == len(table.keys) and rows[0].startswith("V_change")
    assert f"arc {table.value['V_change', 'arc']:.4g} ± " in rows[0]


def test_bulk_drift_is_zero_for_a_stationary_state_and_sees_a_step():
    L, n_t = 12, 40
    alpha, _ = arcs(L=L, n_t=n_t, sigma=np.full(L, 0.3))
    later, _ = arcs(L=L, n_t=n_t, sigma=np.full(L, 0.9), seed=2)
    times = np.arange(n_t, dtype=float)
    windows = {"first": (0.0, 19.0), "second": (20.0, 39.0)}
    flat = rs.reduce_evolve(fake_run(alpha, times), windows=windows, centre=6)
    d, err = rs.bulk_drift(flat, "first", "second", edges=(1, 1))
    assert abs(d) < 4 * err and err > 0
    step = rs.reduce_evolve(fake_run(np.concatenate([alpha[:20], later[20:]]), times), windows=windows, centre=6)
    d, err = rs.bulk_drift(step, "first", "second", edges=(1, 1))
    expected = np.exp(-0.3**2 / 2) - np.exp(-0.9**2 / 2)         # V = 1 − e^{−σ²/2} rises by this
    assert d == pytest.approx(expected, rel=0.1) and d > 10 * err


def test_onsets_of_a_reduced_run():
    """Trajectories that jump from n ≈ 2 to the plateau 30 at known times."""
    times = np.arange(0.0, 300.0 + 1e-9, 1.0)
    jumps = np.array([20.0, 50.0, 120.0, 400.0])               # the last never arrives
    n = np.where(times[:, None] >= jumps[None, :], 30.0, 2.0)
    ds = xr.Dataset({"n_last": (("time", "traj"), n)}, coords={"time": times, "traj": np.arange(4)})
    onset = rs.onsets(ds, after=250.0, window=50.0, smooth=0.0)
    assert onset.plateau == 30.0
    assert np.allclose(onset.T[:3], jumps[:3]) and np.isnan(onset.T[3])


def test_at_site_reads_a_profile_and_its_error():
    p = xr.Dataset({"n": ("site", [1.0, 2.0, 3.0]), "n_err": ("site", [0.1, 0.2, 0.3])}, coords={"site": [1, 2, 3]})
    assert rs.at_site(p, "n", 2) == (2.0, 0.2)
    assert rs.at_site(p, "n", 3) == (3.0, 0.3)


def test_classical_comparison_agrees_where_built_to_and_sees_every_control():
    """TWA arcs against classical points of the same density and phase winding (agreement), a
    classical run with n ÷ 1.5 (density control) and one winding 0.1 rad/site faster (phase
    control)."""
    L = 12
    alpha, _ = arcs(L=L)                                     # n = R² + s_r² − ½ = 63.59
    point, _ = arcs(L=L, sigma=np.zeros(L), s_r=0.0, R=np.sqrt(63.59), n_traj=64)
    times = np.arange(alpha.shape[0], dtype=float)
    sites = np.arange(1, L + 1)[None, :, None]
    runs = [rs.reduce_evolve(fake_run(a, times, classical=c), windows={"w": (0.0, 19.0)}, centre=6)
            for a, c in ((alpha, False), (point, True), (point / np.sqrt(1.5), True),
                         (point * np.exp(0.1j * sites), True))]
    est = rs.classical_comparison(*runs, window="w", frozen_at=2, edges=(1, 1))
    assert list(est) == ["density", "phase", "field_change_a", "field_change_b", "density_control",
                         "phase_control", "identity", "identity_control"]
    assert est["density"][0] < 0.01 and est["density_control"][0] == pytest.approx(0.5, abs=0.01)
    assert est["phase"][0] < 0.05
    assert est["phase_control"][0] == pytest.approx(0.1 * np.sqrt(np.mean(np.arange(1, L + 1) ** 2)), abs=0.03)
    assert est["field_change_a"][0] < -0.2 and est["field_change_b"][0] == pytest.approx(0.0, abs=1e-12)
    assert est["identity"][0] < 0.01 and est["identity_control"][0] > 0.1
    assert all(np.isfinite(e) and e > 0 for k, (_, e) in est.items() if k != "field_change_b")
