"""Bootstrap statistics of map points and map-vs-map comparisons (replicate.analysis.compare)."""
import numpy as np
import pytest
import xarray as xr

from replicate.analysis import compare

F = np.arange(1.0, 12.01, 0.5)


def test_bootstrap_of_a_mean_is_the_standard_error():
    """Mean of N points with independent errors σ_i: error sqrt(Σσ_i²)/N (to sampling noise)."""
    v, e = np.linspace(0, 1, 50), np.full(50, 0.2)
    value, err = compare.bootstrap(lambda d: {"mean": d["x"].mean(), "max": d["x"].max()},
                                   {"x": (v, e)}, n_resamples=2000, seed=1)
    assert value["mean"] == pytest.approx(0.5)
    assert err["mean"] == pytest.approx(0.2 / np.sqrt(50), rel=0.1)
    assert err["max"] > 0


def test_bootstrap_exact_data_and_failures():
    value, err = compare.bootstrap(lambda d: {"s": d["x"].sum()}, {"x": (np.ones(3), None)})
    assert value["s"] == 3.0 and err["s"] == 0.0

    def fragile(d):
        if d["x"][0] < 0:
            raise ValueError("undefined")
        return {"x": d["x"][0]}

    with pytest.raises(ValueError, match="undefined on"):
        compare.bootstrap(fragile, {"x": (np.zeros(1), np.ones(1))})
    _, err = compare.bootstrap(lambda d: {"x": np.nan if d["x"][0] < 0 else d["x"][0]},
                               {"x": (np.zeros(1), np.ones(1))})
    assert np.isnan(err["x"])  # NaN on half the resamples
    with pytest.raises(ValueError, match="errors of 'x'"):
        compare.bootstrap(lambda d: {"x": 0.0}, {"x": (np.zeros(2), np.ones(3))})
    with pytest.raises(ValueError, match="n_resamples"):
        compare.bootstrap(lambda d: {"x": 0.0}, {"x": (np.zeros(2), None)}, n_resamples=5)


def test_quantized():
    assert compare.quantized(0.0, 1.0) == pytest.approx(1 / np.sqrt(12))
    assert compare.quantized(0.3, 0.5, positions=2) == pytest.approx(np.sqrt(0.09 + 2 * 0.25 / 12))
    with pytest.raises(ValueError, match="spacing"):
        compare.quantized(0.1, 0.0)


def test_crossing_interpolates_and_flags_missing():
    x = np.stack([2 * F, -F, np.full(F.size, 30.0)])
    c = compare.crossing(F, x, 5.0)
    assert c[0] == pytest.approx(2.5) and np.isnan(c[1]) and c[2] == F[0]
    assert compare.crossing(F, -F, -4.25, rising=False)[0] == pytest.approx(4.25)
    with pytest.raises(ValueError, match="increasing"):
        compare.crossing(F[::-1], F, 1.0)


def test_onset_mismatch():
    a, b = np.stack([F, F]), np.stack([F + 1.0, F])
    assert compare.onset_mismatch(F, a, b, 6.0) == pytest.approx(1.0)
    never = np.zeros_like(a)
    assert compare.onset_mismatch(F, never, a, 6.0) == pytest.approx(12.5 - 6.0)  # one step past
    assert compare.onset_mismatch(F, never, never, 6.0) == 0.0


def test_median_relative_deviation():
    a, b = np.array([1.1, 2.0, 3.6, np.nan]), np.array([1.0, 2.0, 3.0, 1.0])
    assert compare.median_relative_deviation(a, b, np.ones(4, bool)) == pytest.approx(0.1)
    assert np.isnan(compare.median_relative_deviation(a, b, np.zeros(4, bool)))


def _maps():
    """Two L rows: regime I (n ∝ F², δn = 0), an onset at F = 4 into II (δn = n, D = 1), a leap
    at F = 9.25 to III (plateau 48, δn < 0)."""
    n = 0.1 * F**2 * (1 + 3 / (1 + np.exp(-(F - 4) / 0.3)))
    n = np.stack([np.where(F > 9.25, 48.0, n)] * 2)
    D = np.where((F > 4) & (F < 9.25), 1.0, 0.0) * np.ones_like(n)
    dn = np.where(D > 0.5, n, np.where(n > 45, -0.3, 0.0))
    return n, dn, D


def test_method_comparison_identical_maps_agree_and_the_linear_control_does_not():
    n, dn, D = _maps()
    twa = {"n": n, "dn": dn, "D": D}
    qce = {"n": 1.5 * n, "dn": dn, "rel_std": 0.3 * D}
    s = compare.method_comparison(F, qce, twa, 0.5 * F**2 * np.ones_like(n), D_chaos=0.5, dn_super=3.0, n_rnw=45.0)
    assert s["onset_II"] == 0.0 and s["onset_II_control"] > 5
    assert s["onset_III"] > 0  # the QCE plateau 72 crosses 45 earlier
    assert s["dev_n"] == pytest.approx(0.5) and s["dev_dn"] == 0.0 and s["dev_n_control"] == pytest.approx(0.5)
    assert s["nonstationary"] == pytest.approx(0.3) and s["nonstationary_control"] == 0.0
    assert s["rnw_dn"] == pytest.approx(-0.3) and s["rnw_dn_control"] > 3


def test_drive_comparison():
    n, dn, D = _maps()
    uniform = {"n": n[0], "dn": np.where(np.abs(F - 9.25) < 0.3, 5.0, 0.0), "D": np.zeros(F.size)}
    boundary = {"n": n[0], "dn": dn[0], "D": D[0]}
    s = compare.drive_comparison(F, boundary, uniform, large_dn=3.0, chaotic_D=0.5)
    assert s["leap_difference"] == 0.0 and s["leap_difference_control"] > 1
    assert s["dn_spread"] == pytest.approx(0.25) and s["dn_spread_control"] > 4
    assert s["D_width"] > 4 and s["D_width_control"] == 0.0 and s["dn_width_control"] == 0.5
    assert s["D_max"] == 0.0 and s["D_max_control"] == 1.0


def test_summaries_on_datasets():
    n, dn, D = _maps()
    err = lambda x: 0.01 * np.abs(x) + 1e-3  # noqa: E731
    cut = xr.Dataset({k: (("F", "site"), np.stack([x[0]] * 3, 1)) for k, x in (("n", n), ("delta_n", dn), ("D_sat", D))},
                     coords={"F": F, "site": [1, 2, 3]})
    for k in ("n", "delta_n", "D_sat"):
        cut[k + "_err"] = err(cut[k])
    value, error = compare.regime_summary(cut, margin=1.0, n_resamples=50, seed=2)
    assert value["F_leap"] == pytest.approx(9.25) and error["F_leap"] >= 0.5 / np.sqrt(12) - 1e-12
    assert error["peak_minus_leap"] >= 0.5 / np.sqrt(6) - 1e-12
    assert value["thermal_II"] == pytest.approx(1.0) and error["thermal_II"] > 0
    chain = xr.Dataset({k: ("F", x[0]) for k, x in (("n_L", n), ("delta_n_L", dn), ("D_last", D))}, coords={"F": F})
    for k in ("n_L", "delta_n_L", "D_last"):
        chain[k + "_err"] = err(chain[k])
    value, error = compare.drive_summary(chain, chain, large_dn=3.0, chaotic_D=0.5, n_resamples=50)
    assert value["leap_difference"] == 0.0 and error["leap_difference"] >= 0.5 / np.sqrt(6) - 1e-12
    assert error["D_max"] < 0.1


def test_twa_minus_exact_adds_the_truncation_error_in_quadrature():
    twa = xr.Dataset({"n": 10.2, "n_err": 0.03, "delta_n": -0.35, "delta_n_err": 0.01})
    converged = xr.Dataset({"n": 10.0, "delta_n": -0.40})
    d = compare.twa_minus_exact(twa, converged)
    assert d["n"] == pytest.approx((0.02, 0.003)) and d["dn"] == pytest.approx((0.05, 0.01))
    ladder = converged.assign(n_trunc=0.04, delta_n_trunc=0.02)
    d = compare.twa_minus_exact(twa, ladder)
    assert d["n"][1] == pytest.approx(0.005) and d["dn"][1] == pytest.approx(np.hypot(0.01, 0.02))
