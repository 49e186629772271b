"""Data-driven regime location and the Fig. 2 statistics (replicate.analysis.regimes)."""
import numpy as np
import pytest

from replicate.analysis.regimes import (classify, cut_statistics, otoc_site_statistics, region_width,
                                        spread_around, steepest_change, steepest_step,
                                        three_regime_fraction)

F = np.arange(1.0, 12.01, 0.5)


def _synthetic():
    """Quasilinear n ∝ F², a smooth exponential onset at F = 4, a step to a plateau at F = 9.25."""
    n = 0.1 * F**2 * (1 + 3 / (1 + np.exp(-(F - 4) / 0.3)))
    return np.where(F > 9.25, 48.0, n)


def _cut():
    """n_L, δn_L, D of a cut with the paper's three regimes: coherent light and D = 0 in I,
    thermal light (δn = n) and D = 1 in II, sub-Poissonian light on a flat plateau in III."""
    n = _synthetic()
    reg = classify(F, n)
    dn = np.where(reg.I, 0.0, np.where(reg.II, n, -0.3))
    D = np.where(reg.II, 1.0, 0.0)
    return n, dn, D


def test_classify_finds_onset_and_leap():
    r = classify(F, _synthetic())
    assert r.F_leap == pytest.approx(9.25)
    assert 3.5 <= r.F_c <= 4.5
    assert list(r.label()[[0, 10, 20]]) == ["I", "II", "III"]
    assert not np.any(r.I & r.II) and not np.any(r.II & r.III)


def test_margin_keeps_the_shoulder_of_the_leap_out_of_the_crossover():
    """A log-log shoulder just below the leap, steeper than the onset, wins without a margin."""
    n = np.where(F > 9.25, 150.0, _synthetic())
    n = np.where((F > 8.6) & (F < 9.25), n * np.exp(F - 8.5), n)  # ln n rises by 0.5 from 8.5 to 9
    assert classify(F, n).F_leap == pytest.approx(9.25)
    assert classify(F, n).F_c > 8.0
    assert 3.5 <= classify(F, n, margin=1.0).F_c <= 4.5


def test_inside_drops_drives_near_the_boundaries():
    r = classify(F, _synthetic())
    I, II, III = r.inside(1.0)
    assert np.all(F[I] < r.F_c - 1) and np.all(F[III] > r.F_leap + 1)
    assert np.all((F[II] > r.F_c + 1) & (F[II] < r.F_leap - 1))
    with pytest.raises(ValueError, match="margin"):
        r.inside(-1.0)


def test_steepest_step_and_change():
    x = np.array([0.0, 1.0, 5.0, 6.0])
    assert steepest_step([0, 1, 2, 3], x) == (1, 4.0)
    assert steepest_change([0, 1, 2, 3], -x, centre=0.5, window=0.5) == 1.0  # only the pair (0, 1)
    assert steepest_change([0, 1, 2, 3], -x, centre=1.5, window=1.5) == 4.0  # a fall counts
    with pytest.raises(ValueError, match="no pair"):
        steepest_change([0, 1, 2, 3], x, centre=10.0, window=0.5)


def test_cut_statistics_on_the_paper_picture():
    n, dn, D = _cut()
    s = cut_statistics(F, n, dn, D, margin=1.0, dn_sites=np.stack([dn, 2 * dn], axis=1))
    assert s["F_leap"] == pytest.approx(9.25)
    assert s["thermal_II"] == pytest.approx(1.0) and s["thermal_I"] == 0.0
    assert s["dn_med_I"] == 0.0 and s["dn_med_III"] == -0.3 and s["dn_med_II"] > 3
    assert s["D_med_II"] == 1.0 and s["D_max_I"] == 0.0 and s["D_max_III"] == 0.0
    assert s["slope_III"] == pytest.approx(0.0, abs=1e-12) and s["slope_II"] > 2
    assert s["n_max_I"] < 5 < s["n_max_II"]
    assert s["peak_minus_leap"] == pytest.approx(9.0 - 9.25)  # δn = n peaks on the last drive of II
    assert s["Fc_minus_leap"] == pytest.approx(s["F_c"] - 9.25)
    assert s["abrupt_n"] > 2 > s["abrupt_n_control"]  # a step at the leap, a smooth rise inside II
    assert s["sites_dn_II_min"] == s["dn_med_II"] and s["sites_dn_III_max"] == -0.3
    assert s["sites_dn_I_min"] == 0.0


def test_cut_statistics_empty_regime_is_nan():
    n, dn, D = _cut()
    s = cut_statistics(F, n, dn, D, margin=3.0)  # no drive 3 away from both boundaries
    assert all(np.isnan(s[f"dn_med_{r}"]) for r in ("I", "II", "III")) and np.isnan(s["slope_III"])
    with pytest.raises(ValueError, match="dn_sites"):
        cut_statistics(F, n, dn, D, margin=1.0, dn_sites=dn)


def test_otoc_site_statistics():
    last = np.array([[0.0, 0.9, 1.0], [0.0, 0.2, 0.95]])
    s = otoc_site_statistics(0.7 * last, last + 0.01, last)
    assert s["D_first_max"] == pytest.approx(0.7) and s["D_last_max"] == 1.0
    assert s["middle_minus_last"] == pytest.approx(0.01)
    assert s["first_minus_last"] == pytest.approx(np.median(-0.3 * np.array([0.9, 1.0, 0.95])))
    with pytest.raises(ValueError, match="same shape"):
        otoc_site_statistics(last, last[0], last)


def test_region_width_and_spread():
    x = np.arange(6.0)
    m = np.array([0, 1, 1, 0, 1, 0], bool)
    assert region_width(x, m) == 3.0 and region_width(x, np.zeros(6, bool)) == 0.0
    assert spread_around(x, m, 2.0) == 2.0 and spread_around(x, np.zeros(6, bool), 2.0) == 0.0


def test_three_regime_fraction():
    n, dn, D = _cut()
    chaotic_only = np.where(F > 4, 1.0, 0.0)  # regime III not regular
    assert three_regime_fraction(F, np.stack([n, n]), np.stack([dn, dn]), np.stack([D, chaotic_only]),
                                 margin=1.0) == 0.5


@pytest.mark.parametrize("F_, x", [([1, 2], [1, 2]), ([1, 3, 2], [1, 2, 3]), ([1, 2, 3], [1, np.nan, 2])])
def test_bad_input(F_, x):
    with pytest.raises(ValueError):
        steepest_step(F_, x)


def _ness(m2, im, counts=(10, 10, 10, 10)):
    """A NESS Dataset with per-batch means of |α_ℓ|² (``m2``, site × batch) and Im α_ℓ (``im``)."""
    import xarray as xr

    data = np.stack([np.asarray(m2, float), np.asarray(im, float)])
    return xr.Dataset({"batch_means": (("moment", "site", "batch"), data)},
                      coords={"moment": ["m2", "im"], "site": np.arange(1, data.shape[1] + 1),
                              "batch_count": ("batch", np.asarray(counts, float))})


def test_current_balance_is_one_when_the_input_leaves_at_the_last_site():
    from replicate.analysis.regimes import current_balance
    from replicate.chain import ChainParams

    p = ChainParams(L=3, F=2.0, Delta=2.5, J=2.0, U=0.1, gamma=1.0)
    # n_1 = 1, Im α_1 = −1: input 2F − γ n_1 = 3 photons per unit time; n_L = 3 carries them out
    m2, im = np.tile([[1.5], [9.0], [3.5]], 4), np.tile([[-1.0], [0.3], [0.0]], 4)
    assert current_balance(_ness(m2, im), p) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-12))
    m2[2] = 2.0                                  # n_L = 1.5: half the input leaves
    assert current_balance(_ness(m2, im), p)[0] == pytest.approx(2.0)
    m2[2] = [3.0, 4.0, 3.5, 3.5]                 # batches scatter around n_L = 3
    value, error = current_balance(_ness(m2, im), p)
    assert value == pytest.approx(1.0) and error > 0.05
