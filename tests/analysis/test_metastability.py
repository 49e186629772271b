"""Fig. 7 statistics: L* by logistic crossing, the bend of ln T*(L), class-mean ratios, quench driver."""
from __future__ import annotations

import numpy as np
import pytest

from replicate.analysis import coexistence, metastability as ms, survival
from replicate.chain import ChainParams


def test_crossing_length_recovers_a_logistic_midpoint():
    L = np.array([10.0, 14, 18, 22, 26, 30])
    p = 1 / (1 + np.exp(0.5 * (L - 20.0)))
    n = np.full(L.size, 100000.0)
    c = ms.crossing_length(L, np.round(p * n), n)
    assert c.value == pytest.approx(20.0, abs=0.05)
    assert c.b == pytest.approx(-0.5, rel=0.02)
    assert 0 < c.error < 0.05


def test_crossing_length_is_finite_under_complete_separation():
    L = np.array([10.0, 20, 30, 40])
    c = ms.crossing_length(L, [64, 64, 0, 0], [64] * 4)
    assert 20 < c.value < 30 and np.isfinite(c.error)


def test_crossing_length_error_shrinks_with_more_trajectories():
    L = np.array([10.0, 20, 30])
    small = ms.crossing_length(L, [60, 32, 4], [64] * 3)
    big = ms.crossing_length(L, [600, 320, 40], [640] * 3)
    assert big.error < small.error / 2


@pytest.mark.parametrize("events", [[0, 0, 0], [5, 5, 5]])
def test_crossing_length_rejects_no_crossing(events):
    with pytest.raises(ValueError):
        ms.crossing_length([1.0, 2, 3], events, [5, 5, 5])


def test_crossing_length_rejects_a_rising_fraction():
    with pytest.raises(ValueError, match="does not fall"):
        ms.crossing_length([1.0, 2, 3], [1, 3, 5], [6, 6, 6])


def test_rate_ratio_is_one_for_an_exponential_and_below_one_for_a_front():
    L = np.arange(12.0, 33, 4)
    T_exp = 3.0 * np.exp(0.2 * L)
    r = ms.rate_ratio(L, T_exp, 0.02 * T_exp)
    assert r.value == pytest.approx(1.0, abs=1e-9)
    assert r.c_low == pytest.approx(0.2) and r.c_high == pytest.approx(0.2)
    assert 0 < r.error < 0.2
    T_front = 8.0 * (L - 6.0)
    f = ms.rate_ratio(L, T_front, 0.02 * T_front)
    assert f.value < 0.6                      # (L_low − L0)/(L_high − L0) ≈ 0.4
    assert f.value + 3 * f.error < 1


def test_rate_ratio_shares_the_middle_length_when_odd():
    r = ms.rate_ratio([1.0, 2, 3, 4, 5], np.exp([1.0, 2, 3, 4, 5]), [0.1] * 5)
    assert r.L_low == (1.0, 2.0, 3.0) and r.L_high == (3.0, 4.0, 5.0)


def test_rate_ratio_rejects_bad_input():
    with pytest.raises(ValueError):
        ms.rate_ratio([1.0, 2], [1.0, 2], [0.1, 0.1])
    with pytest.raises(ValueError, match="does not grow"):
        ms.rate_ratio([1.0, 2, 3, 4], [5.0, 4, 3, 2], [0.1] * 4)


def test_class_mean_ratio_and_its_error():
    rng = np.random.default_rng(1)
    x, y = rng.normal(20, 2, 400), rng.normal(10, 1, 400)
    r, e = coexistence.class_mean_ratio(x, y)
    assert r == pytest.approx(2.0, abs=0.05)
    expected = 2.0 * np.hypot(2 / 20 / np.sqrt(400), 1 / 10 / np.sqrt(400))
    assert e == pytest.approx(expected, rel=0.2)


def test_quench_records_onsets_and_window_means():
    """A short strongly driven chain reaches the RNW well within the run (engine, small)."""
    p = ChainParams(L=8, F=12.0)
    ds = ms.quench(p, n_traj=16, t_final=200.0, sample_every=1.0, window=50.0, seed=1, plateau="self",
                   hold=50.0, smooth=10.0)
    q = ms.Quench.of(ds)
    assert q.nbar.shape == (16,) and q.n_mean.shape == q.times.shape and "onset" in ds
    plateau = float(np.median(q.nbar))
    assert q.onset.plateau == plateau and ds.attrs["trajectory_time"] == 16 * 200.0
    assert q.onset.converged.mean() > 0.8
    assert q.rnw_like(0.1).mean() > 0.8
    c = ms.Quench.of(ms.quench(p, n_traj=16, t_final=200.0, sample_every=1.0, window=50.0, seed=1,
                               classical=True, plateau=plateau, hold=50.0, smooth=10.0))
    assert c.classical and c.onset is not None
    assert np.allclose(c.n_mean[-20:].mean(), c.nbar.mean(), rtol=0.1)
    bare = ms.Quench.of(ms.quench(p, n_traj=16, t_final=200.0, sample_every=1.0, window=50.0, seed=1))
    assert bare.onset is None and np.array_equal(bare.nbar, q.nbar)
    with pytest.raises(ValueError, match="early_stop"):
        ms.quench(p, n_traj=16, t_final=200.0, sample_every=1.0, window=50.0, seed=1, early_stop=True)
    with pytest.raises(ValueError, match="plateau"):
        ms.quench(p, n_traj=16, t_final=200.0, sample_every=1.0, window=50.0, seed=1, plateau="median")


def test_early_stop_gives_the_onsets_of_the_full_run_bit_for_bit():
    """Trajectories are retired as soon as their onset is settled; the rest run on, packed into
    fewer blocks. The onset times equal those of the full run exactly, for the RNW chain (most
    converge early) and with a plateau nobody reaches (nothing retires)."""
    p = ChainParams(L=8, F=12.0)
    kw = dict(n_traj=150, t_final=300.0, sample_every=1.0, window=50.0, seed=2, hold=40.0, smooth=10.0)
    plateau = float(np.median(ms.Quench.of(ms.quench(p, **kw)).nbar))
    for level in (plateau, 5 * plateau):
        full = ms.quench(p, plateau=level, **kw)
        early = ms.quench(p, plateau=level, early_stop=True, check_every=20.0, **kw)
        np.testing.assert_array_equal(early.onset.values, full.onset.values)
        assert early.attrs["censor_time"] == full.attrs["censor_time"]
        assert np.isnan(early.nbar.values).all() and np.isnan(early.n_mean.values).all()
        if level == plateau:
            assert np.isfinite(early.onset.values).mean() > 0.8
            assert early.attrs["trajectory_time"] < 0.7 * 150 * 300.0  # the retired cost nothing
        else:
            assert not np.isfinite(early.onset.values).any()
            assert early.attrs["trajectory_time"] == pytest.approx(150 * 300.0)


def test_retired_trajectories_leave_the_others_unchanged():
    from replicate.twa.engine import Simulation

    p = ChainParams(L=6, F=6.0)
    a = Simulation(p, n_traj=130, dt=0.01, seed=4, classical=False, integrator="split")
    b = Simulation(p, n_traj=130, dt=0.01, seed=4, classical=False, integrator="split")
    a.run(300), b.run(300)
    done = np.zeros(130, bool)
    done[[0, 5, 64, 65, 66, 127, 129]] = True
    done[67:128] = True  # 63 left: one block
    b.retire(done)
    assert b.nblocks == 1 and b.traj.tolist() == [t for t in range(130) if not done[t]]
    a.run(500), b.run(500)
    np.testing.assert_array_equal(b.alpha(), a.alpha()[:, b.traj])
    b.retire(np.ones(b.traj.size, bool))
    b.run(10)
    assert b.alpha().shape == (6, 0)
    with pytest.raises(ValueError, match="done"):
        a.retire(np.ones(3, bool))


def _synthetic(L: int, rate: float, rng, n_traj: int = 200, t_final: float = 400.0) -> ms.Quench:
    """Trajectories that jump from 10 to the plateau 40 at exponential times of mean 1/rate."""
    times = np.arange(0.0, t_final + 1e-9, 1.0)
    T = rng.exponential(1.0 / rate, n_traj)
    n = np.where(times[:, None] >= T[None, :], 40.0, 10.0)
    onset = survival.onset_times(times, n, plateau=40.0, window=20.0, tolerance=0.1)
    return ms.Quench(L, 1.0, False, times, n.mean(1), n.std(1) / np.sqrt(n_traj), n[-50:].mean(0), 50.0, onset)


def test_length_scan_recovers_an_exponential_growth_of_the_onset_time():
    rng = np.random.default_rng(3)
    c, A = 0.15, 10.0
    runs = {L: _synthetic(L, 1.0 / (A * np.exp(c * L)), rng) for L in (4, 8, 12, 16)}
    scan = ms.length_scan(runs, resolution=1.0)
    assert list(scan.L) == [4, 8, 12, 16] and scan.n.tolist() == [200] * 4
    assert abs(scan.mle.c - c) < 3 * scan.c_err
    assert abs(scan.wls.c - c) < 3 * scan.wls.c_err + 0.02
    assert scan.ratio is not None and abs(scan.ratio.value - 1.0) < 3 * scan.ratio.error + 0.1
    # the converged fraction by the censoring time t_c crosses ½ where A e^{cL} = t_c / ln 2
    t_c = scan.summary[16].censor_time
    L_half = np.log(t_c / (A * np.log(2.0))) / c
    assert scan.Lstar is not None and abs(scan.Lstar.value - L_half) < 3 * scan.Lstar.error


def test_length_scan_needs_onset_times():
    rng = np.random.default_rng(0)
    q = _synthetic(4, 0.1, rng)
    bare = ms.Quench(q.L, q.F, q.classical, q.times, q.n_mean, q.n_err, q.nbar, q.window, None)
    with pytest.raises(ValueError, match="onset"):
        ms.length_scan({4: bare}, resolution=1.0)


def test_length_scan_prints_its_fits_and_draws_them():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(4)
    runs = {L: _synthetic(L, 1.0 / (10.0 * np.exp(0.15 * L)), rng) for L in (4, 8, 12, 16, 20, 24, 28, 32)}
    scan = ms.length_scan(runs, resolution=1.0)                       # half converge near L = 26
    text = str(scan)
    assert f"c = {scan.mle.c:.3f} ± {scan.c_err:.3f}/site" in text
    assert f"rate ratio {scan.ratio.value:.2f}" in text
    assert str(scan.Lstar) in text and "beyond the grid" not in text
    assert scan.per_length() in text and f"L=4: {scan.summary[4].events}/200" in text
    fig, ax = plt.subplots()
    scan.plot(ax, marker="s", label="synthetic")
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert any(lab.startswith("  medians: $c=") for lab in labels)
    assert any(lab.startswith("  survival MLE: $c=") for lab in labels)
    vertical = [ln for ln in ax.get_lines() if np.ptp(np.asarray(ln.get_xdata(), float)) == 0]
    assert len(vertical) == 1 and np.asarray(vertical[0].get_xdata(), float)[0] == pytest.approx(scan.Lstar.value)
    fig, ax = plt.subplots()
    colour = scan.plot(ax, label="F=12", control=True)
    assert colour == "0.5" and ax.containers[0].get_label() == "F=12 (control)"
    assert not [ln for ln in ax.get_lines() if np.ptp(np.asarray(ln.get_xdata(), float)) == 0]
    plt.close("all")
    short = ms.length_scan({L: runs[L] for L in (4, 8, 12, 16)}, resolution=1.0)
    assert "L* beyond the grid" in str(short)                         # its crossing lies above L = 16


def test_crossing_str():
    assert str(ms.Crossing(24.876, 0.141, -1.0, 0.1, 0.5)) == "L* = 24.88 ± 0.14"


def _with_nbar(q: ms.Quench, nbar) -> ms.Quench:
    import dataclasses
    return dataclasses.replace(q, nbar=np.asarray(nbar, float))


def test_class_mean_excess_compares_one_class_at_two_lengths():
    rng = np.random.default_rng(5)
    base = _synthetic(4, 0.1, rng, n_traj=400)                        # plateau 40, band ±4
    chaotic_a = np.r_[rng.normal(20.0, 1.0, 200), np.full(200, 40.0)]
    chaotic_b = np.r_[rng.normal(10.0, 1.0, 200), np.full(200, 40.0)]
    a, b = _with_nbar(base, chaotic_a), _with_nbar(base, chaotic_b)
    r, e = coexistence.class_mean_excess(a, b, rnw=False, tolerance=0.1, seed=1)
    assert r == pytest.approx(1.0, abs=0.05) and 0 < e < 0.05
    r, e = coexistence.class_mean_excess(a, b, rnw=True, tolerance=0.1, seed=1)
    assert r == pytest.approx(0.0, abs=1e-12)


def test_coexistence_counts_converged_and_chaotic_runs_and_sees_two_modes():
    rng = np.random.default_rng(6)
    q = _synthetic(10, 1.0 / 300.0, rng, n_traj=300)                  # about half converge by t_c
    c = _synthetic(10, 1.0 / 30.0, rng, n_traj=300)                   # nearly all converge
    bimodal = np.r_[rng.normal(15.0, 1.5, 150), rng.normal(40.0, 1.0, 150)]
    q = _with_nbar(q, bimodal)
    co = coexistence.coexistence({10: q}, {10: c}, tolerance=0.1, seed=2)[10]
    assert co.twa.k == int(q.onset.converged.sum()) and co.twa.n == 300
    assert co.classical.k == int(c.onset.converged.sum()) and co.classical.value > 0.9
    assert co.chaotic.k == 150                                        # the mode at 15 is outside 40 ± 4
    assert co.sarle.value > 5 / 9 and co.mixture.n_modes == 2
    assert str(co).startswith(f"L = 10: TWA {co.twa.k}/300 converged, classical {co.classical.k}/300")
    alone = coexistence.coexistence({10: q}, tolerance=0.1, seed=2)[10]
    assert alone.classical is None and "classical" not in str(alone)


def test_smallest_drop_of_Lstar():
    a, b, c = (ms.Crossing(v, e, -1.0, 0.1, 0.5) for v, e in ((60.0, 1.0), (36.0, 0.5), (34.0, 0.3)))
    d, err = ms.smallest_drop([a, b, c])
    assert d == pytest.approx(2.0) and err == pytest.approx(np.hypot(0.5, 0.3))
    assert ms.smallest_drop([a, None, c]) is None
    assert ms.smallest_drop([a]) is None
    assert ms.smallest_drop([c, a])[0] == pytest.approx(-26.0)       # L* rising: negative


def test_fraction_and_sarle_pairs_and_nbar_mean():
    from replicate.analysis import bimodality, survival
    f = survival.converged_fraction(np.array([True, False, True, True]))
    assert f.pair == (f.value, f.error) and f.value == 0.75
    s = bimodality.sarle_coefficient(np.r_[np.zeros(50), np.ones(50)] + np.linspace(0, 0.1, 100))
    assert s.pair == (s.value, s.error)
    q = _with_nbar(_synthetic(4, 0.1, np.random.default_rng(0), n_traj=4), [1.0, 2.0, 3.0, 4.0])
    m, e = q.nbar_mean()
    assert m == 2.5 and e == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)


def test_quantum_gap_nbar_median_and_ratio_pair():
    rng = np.random.default_rng(7)
    q = _synthetic(10, 1.0 / 300.0, rng, n_traj=300)                  # TWA-like: about half converge
    c = _synthetic(10, 1.0 / 30.0, rng, n_traj=300)                   # classical-like: nearly all
    co = coexistence.coexistence({10: q}, {10: c}, tolerance=0.1, seed=0)[10]
    gap, err = co.quantum_gap
    assert gap == pytest.approx(co.classical.value - co.twa.value)
    assert err == pytest.approx(np.hypot(co.classical.error, co.twa.error)) and gap > 5 * err
    with pytest.raises(ValueError, match="no classical"):
        coexistence.coexistence({10: q}, tolerance=0.1)[10].quantum_gap
    m = _with_nbar(q, [1.0, 2.0, 10.0, 4.0])
    assert m.nbar_median() == pytest.approx((3.0, np.std([1.0, 2.0, 10.0, 4.0]) / 2))
    r = ms.rate_ratio([1.0, 2, 3, 4], np.exp([1.0, 2, 3, 4]), [0.1] * 4)
    assert r.pair == (r.value, r.error)
