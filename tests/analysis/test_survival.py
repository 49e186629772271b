"""Onset times T*, censored statistics and T*(L) fits (replicate.analysis.survival) on synthetic
series with known answers."""
import numpy as np
import pytest

from replicate.analysis import survival as sv

DT = 0.5


def quench_series(onsets, t_end, rng, plateau=100.0, noise=1.0):
    """n_L(t) per trajectory: thermal-like chaotic values (exponential with mean 0.6·plateau)
    before the onset, plateau + Gaussian noise after it."""
    t = np.arange(0.0, t_end + DT / 2, DT)
    chaos = 0.6 * plateau * rng.exponential(1.0, (t.size, len(onsets)))
    rnw = plateau + noise * rng.standard_normal((t.size, len(onsets)))
    return t, np.where(t[:, None] >= np.asarray(onsets)[None, :], rnw, chaos)


def test_onset_is_the_first_time_the_band_holds_for_the_window():
    rng = np.random.default_rng(0)
    t, n = quench_series([10.0, 55.0, 95.0, np.inf], 100.0, rng)
    n[:, 0][(t >= 30) & (t < 31)] = 50.0      # trajectory 0 leaves the band briefly → restarts at 31
    n[:40, 1] = 100.0                          # trajectory 1 is in the band for 19.5 < w, then chaotic
    onset = sv.onset_times(t, n, plateau=100.0, window=20.0, tolerance=0.1)
    assert onset.censor_time == 80.0
    assert onset.T[0] == 31.0 and onset.T[1] == 55.0
    assert np.isnan(onset.T[2]) and np.isnan(onset.T[3])     # 95 > t_c: censored; never converges
    assert onset.converged.tolist() == [True, True, False, False]


def test_smoothing_lets_a_tight_tolerance_see_a_noisy_plateau():
    """Single Wigner trajectories fluctuate by more than ε = 1 %: raw they never converge;
    smoothed over 20 time units they converge, late by smooth/2 (the running mean must have left
    the chaotic stretch), rarely later when a fluctuation of the mean leaves the band."""
    rng = np.random.default_rng(1)
    onsets = rng.uniform(20, 60, 50)
    t, n = quench_series(onsets, 150.0, rng, noise=1.5)
    raw = sv.onset_times(t, n, plateau=100.0, window=30.0, tolerance=0.01)
    assert not raw.converged.any()
    smooth = sv.onset_times(t, n, plateau=100.0, window=30.0, tolerance=0.01, smooth=20.0)
    assert smooth.converged.all()
    delay = smooth.T - onsets
    assert np.all((delay >= 0) & (delay <= 13.0)) and abs(np.median(delay) - 10.0) <= DT
    assert smooth.censor_time == pytest.approx(150.0 - 10.0 - 30.0)


def test_onset_times_reject_bad_input():
    rng = np.random.default_rng(2)
    t, n = quench_series([10.0], 50.0, rng)
    kw = {"plateau": 100.0, "window": 10.0}
    with pytest.raises(ValueError, match="tolerance"):
        sv.onset_times(t, n, tolerance=0.0, **kw)
    with pytest.raises(ValueError, match="window"):
        sv.onset_times(t, n, plateau=100.0, window=60.0)
    with pytest.raises(ValueError, match="plateau"):
        sv.onset_times(t, n, plateau=-1.0, window=10.0)
    with pytest.raises(ValueError, match="n must be"):
        sv.onset_times(t, n[:-1], **kw)
    with pytest.raises(ValueError, match="finite"):
        sv.onset_times(t, np.where(t[:, None] == 3.0, np.nan, n), **kw)
    uneven = np.cumsum(rng.uniform(0.1, 1.0, t.size))
    with pytest.raises(ValueError, match="uniformly"):
        sv.onset_times(uneven, n, smooth=2.0, **kw)
    assert sv.onset_times(uneven, n, **kw).T.shape == (1,)        # no smoothing: any grid
    with pytest.raises(ValueError, match="times"):
        sv.onset_times(t[::-1], n, **kw)


def test_wilson_interval_values_and_coverage():
    f = sv.converged_fraction(np.array([True] * 3 + [False] * 7))
    assert f.value == 0.3
    z2, n, p = 1.0, 10, 0.3
    centre = (p + z2 / 20) / (1 + z2 / 10)
    half = 1 / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    assert (f.low, f.high) == pytest.approx((centre - half, centre + half))
    zero = sv.converged_fraction(np.zeros(20, bool))
    assert zero.value == 0 and zero.low == pytest.approx(0, abs=1e-12) and zero.high > 0.03 and zero.error > 0
    rng = np.random.default_rng(3)
    intervals = [sv.converged_fraction(rng.random(60) < 0.2) for _ in range(400)]
    cover = np.mean([f.low <= 0.2 <= f.high for f in intervals])
    assert 0.6 < cover < 0.78
    with pytest.raises(ValueError, match="converged"):
        sv.converged_fraction(np.array([]))
    with pytest.raises(ValueError, match="converged"):
        sv.converged_fraction(np.array([1, 0]))


def censored(tau, n, t_c, rng):
    T = rng.exponential(tau, n)
    return sv.Onset(np.where(T <= t_c, T, np.nan), t_c, 100.0, 0.1, 1.0)


def test_censored_summary_is_calibrated_and_the_converged_mean_is_biased():
    """Exponential onsets (mean 100) censored at t_c = 80 (≈ 55 % censored): the MLE mean and the
    KM median (truth 100 ln 2) cover the truth at the nominal rate; the mean over converged runs
    only is far below the truth."""
    rng = np.random.default_rng(4)
    tau, t_c = 100.0, 80.0
    mean_pull, med_cover, biased = [], [], []
    for _ in range(300):
        s = sv.onset_summary(censored(tau, 200, t_c, rng))
        mean_pull.append((s.mean - tau) / s.mean_err)
        med_cover.append(s.median_low <= tau * np.log(2) <= s.median_high)
        biased.append(s.mean_converged + 3 * s.mean_converged_err < tau)
    assert 0.6 < np.mean(np.abs(mean_pull) <= 1) < 0.78
    assert 0.66 < np.mean(med_cover) < 0.85          # order-statistic interval: ≥ 68 % by construction
    assert np.all(biased)
    assert s.rate == pytest.approx(s.events / s.exposure) and s.median_err > 0


def test_summary_when_few_or_no_runs_converge():
    rng = np.random.default_rng(5)
    few = sv.onset_summary(censored(1000.0, 100, 50.0, rng))
    assert few.median == np.inf and np.isfinite(few.mean) and few.events > 0
    none = sv.onset_summary(sv.Onset(np.full(40, np.nan), 50.0, 100.0, 0.1, 1.0))
    assert none.events == 0 and none.rate == 0 and none.mean == np.inf
    assert none.rate_err == pytest.approx(-np.log(0.3173) / (40 * 50.0), rel=1e-3)


def survival_data(Ls, c, A, n, t_c, rng, law=None):
    """Events and exposures per length for exponential onsets of mean A e^{cL} (or ``law(L)``)."""
    events, exposure = [], []
    for L in Ls:
        s = sv.onset_summary(censored(A * np.exp(c * L) if law is None else law(L), n, t_c, rng))
        events.append(s.events)
        exposure.append(s.exposure)
    return np.array(events), np.array(exposure)


def test_growth_mle_recovers_c_with_calibrated_errors():
    """Lengths where (almost) nothing converges still enter the joint fit."""
    rng = np.random.default_rng(6)
    Ls = np.array([10, 20, 30, 40, 50])
    c, A, t_c = 0.12, 3.0, 400.0
    pulls, pvals = [], []
    for _ in range(200):
        fit = sv.growth_mle(Ls, *survival_data(Ls, c, A, 100, t_c, rng))
        pulls.append((fit.c - c) / fit.c_err)
        pvals.append(fit.p_value)
    assert 0.6 < np.mean(np.abs(pulls) <= 1) < 0.78
    assert 0.02 < np.mean(np.array(pvals) < 0.1) < 0.2        # deviance p-values ~ uniform
    assert fit.T(20) == pytest.approx(np.exp(fit.lnA + 20 * fit.c))


def test_growth_mle_rejects_a_non_exponential_law():
    """T* ∝ L² is not exponential in L: with many runs the deviance says so (p < 10⁻³), while
    the same statistics from the exponential law pass."""
    rng = np.random.default_rng(7)
    Ls = np.array([5, 10, 20, 40, 80])
    power = sv.growth_mle(Ls, *survival_data(Ls, 0, 0, 2000, 4000.0, rng, law=lambda L: 0.5 * L**2))
    assert power.p_value < 1e-3
    expo = sv.growth_mle(Ls, *survival_data(Ls, 0.05, 50.0, 2000, 4000.0, rng))
    assert expo.p_value > 1e-3


def test_growth_fits_reject_bad_input():
    with pytest.raises(ValueError, match="events"):
        sv.growth_mle([10, 20, 30], [5, 0, 0], [100.0, 100.0, 100.0])
    with pytest.raises(ValueError, match="exposure"):
        sv.growth_mle([10, 20], [5, 3], [100.0, 0.0])
    with pytest.raises(ValueError, match="L must"):
        sv.growth_mle([10, 10], [5, 3], [100.0, 100.0])
    with pytest.raises(ValueError, match="events"):
        sv.growth_mle([10, 20], [5, -3], [100.0, 100.0])
    with pytest.raises(ValueError, match="T_err"):
        sv.growth_wls([10, 20, 30], [1.0, 2.0, 4.0], [0.1, 0.0, 0.1])


def test_growth_wls_is_exact_without_noise_and_calibrated_with_it():
    Ls = np.array([10.0, 20.0, 30.0, 40.0])
    T = 2.0 * np.exp(0.1 * Ls)
    exact = sv.growth_wls(Ls, T, 0.05 * T)
    assert exact.c == pytest.approx(0.1) and exact.lnA == pytest.approx(np.log(2.0))
    assert exact.statistic == pytest.approx(0, abs=1e-18) and exact.dof == 2
    rng = np.random.default_rng(8)
    fits = [sv.growth_wls(Ls, T * np.exp(0.05 * rng.standard_normal(4)), 0.05 * T) for _ in range(400)]
    pulls = [(f.lnA - np.log(2.0)) / f.lnA_err for f in fits]
    assert 0.6 < np.mean(np.abs(pulls) <= 1) < 0.76


def test_critical_length_is_where_half_the_runs_converge():
    """Exact for a known model, and for fitted data the converged fraction simulated at L* is ½."""
    fit = sv.growth_wls([10.0, 20.0, 30.0], 2.0 * np.exp(0.1 * np.array([10.0, 20.0, 30.0])),
                        [0.1, 0.3, 1.0])
    Ls, err = sv.critical_length(fit, 500.0)
    assert Ls == pytest.approx((np.log(500.0 / np.log(2)) - np.log(2.0)) / 0.1)
    assert err > 0
    rng = np.random.default_rng(9)
    lengths, t_c = np.array([20, 30, 40, 50]), 300.0
    fit = sv.growth_mle(lengths, *survival_data(lengths, 0.1, 5.0, 400, t_c, rng))
    Ls, err = sv.critical_length(fit, t_c)
    truth = (np.log(t_c / np.log(2)) - np.log(5.0)) / 0.1
    assert abs(Ls - truth) < 3 * err and err < 3
    frac = sv.converged_fraction(censored(5.0 * np.exp(0.1 * Ls), 2000, t_c, rng).converged)
    assert abs(frac.value - 0.5) < 3 * frac.error + 0.1 * 3 * err
    flat = sv.Growth(-0.1, 0.01, 1.0, 0.1, np.eye(2), 0.0, 1, 0.5, "test")
    assert sv.critical_length(flat, t_c)[0] == np.inf
    with pytest.raises(ValueError, match="fraction"):
        sv.critical_length(fit, t_c, fraction=1.0)
