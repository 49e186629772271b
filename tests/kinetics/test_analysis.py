"""Oracles for replicate.kinetics.analysis and the classical / thermal controls."""
import numpy as np
import pytest

from replicate import kinetics as kin

L, N = 40, 20


@pytest.mark.parametrize("beta0J,r", [(0.3, 1.0), (0.5, 0.4), (1.2, 3.0)])
def test_iso_beta0_round_trip(beta0J, r):
    D, k = kin.iso_beta0(beta0J, r)
    assert D < 0 < k
    assert kin.beta0(D, k) == pytest.approx(beta0J, rel=1e-13)
    assert kin.line_ratio(D, k) == pytest.approx(r, rel=1e-13)
    assert kin.iso_beta0(beta0J, 1.0)[0] == pytest.approx(-3 / beta0J)      # on the line Δ = −3/β0


def test_flatness_and_curvature_of_bose_einstein_vanish():
    w = kin.band_energies(L)
    n = kin.bose_einstein(w, 0.7, N)
    assert kin.temperature_flatness(w, n, 0.7) < 1e-12
    assert abs(kin.temperature_curvature(w, n, 0.7)) < 1e-12


def test_curvature_of_a_known_profile():
    """ln(1 + 1/n) = β0(ω + cω³)  ⇒  β_loc/β0 = 1 + 3cω²: slope 3c (finite-difference error O(h²))."""
    w = kin.band_energies(200)
    c, b0 = 0.05, 0.8
    n = 1.0 / np.expm1(b0 * (w + c * w**3) + 3.0)
    assert kin.temperature_curvature(w, n, b0) == pytest.approx(3 * c, rel=1e-3)
    assert kin.temperature_flatness(w, n, b0) == pytest.approx(3 * c * w[1] ** 2, rel=1e-2)


def test_curvature_sign_flips_near_the_special_line_for_small_beta0J():
    """Eq. (16): β(ω) ≡ β0 on Δ = −√3κ/2; the numerical curvature changes sign close to it when
    β0J ≪ 1 (higher orders shift it by O(β0J))."""
    assert kin.curvature_flip_ratio(0.2, N=N, L=L) == pytest.approx(1.0, abs=0.1)
    r_min, d_min = kin.be_divergence_minimum(0.2, N=N, L=L)
    assert r_min == pytest.approx(1.0, abs=0.1) and d_min > 0
    with pytest.raises(ValueError, match="bracket"):
        kin.curvature_flip_ratio(0.2, N=N, L=L, bracket=(2.0, 4.0))


def test_series_order():
    w = np.geomspace(0.01, 0.1, 6)
    exact = 1.0 + w
    assert kin.series_order(w, exact * (1 + 3 * w**4), exact) == pytest.approx(4.0, abs=1e-3)
    assert kin.series_order(w, kin.beta_eff_series(w, -1.0, 0.5), kin.beta_eff(w, -1.0, 0.5)) == pytest.approx(4.0, abs=0.05)
    with pytest.raises(ValueError, match="differ"):
        kin.series_order(w, exact, exact)


def test_mode_spacing_matches_band():
    w = kin.band_energies(L)
    mid, inner = 0.5 * (w[1:] + w[:-1]), slice(5, -5)          # the chord ≈ the tangent away from the edges
    np.testing.assert_allclose(kin.mode_spacing(mid, L)[inner], -np.diff(w)[inner], rtol=5e-3)  # O(h²) chord error
    with pytest.raises(ValueError, match="omega"):
        kin.mode_spacing(2.5, L)


def test_feature_near():
    w = np.linspace(-2, 2, 401)
    y = np.exp(-((w - 0.5) / 0.05) ** 2) - 0.3 * np.exp(-((w + 1.0) / 0.05) ** 2)
    pos, prom = kin.feature_near(w, y, 0.52, 0.1)
    assert pos == pytest.approx(0.5, abs=0.011) and prom == pytest.approx(1.0, rel=1e-3)
    pos, prom = kin.feature_near(w, y, -1.0, 0.1, kind="min")
    assert pos == pytest.approx(-1.0, abs=0.011) and prom == pytest.approx(0.3, rel=1e-2)
    assert kin.feature_near(w, y, 1.5, 0.1) == (pytest.approx(np.nan, nan_ok=True), 0.0)
    with pytest.raises(ValueError, match="kind"):
        kin.feature_near(w, y, 0.5, 0.1, kind="peak")


def test_transient_features_and_their_mirror():
    """Fig. 4(b): from a uniform start, accumulation at 2J+Δ and depletion at −2J−Δ for red
    detuning; blue detuning mirrors them (n_{+Δ}(ω) = n_{−Δ}(−ω)), so no peak at 2J+Δ."""
    red = kin.evolve(-0.5, 0.1, n0=0.5, times=[0.0, 10.0], L=100)["n"].values[-1]
    blue = kin.evolve(+0.5, 0.1, n0=0.5, times=[0.0, 10.0], L=100)["n"].values[-1]
    w = kin.band_energies(100)
    f = kin.band_edge_features(w, red, -0.5, L=100)
    assert abs(f["peak"][0] - 1.5) < 1.5 * kin.mode_spacing(1.5, 100) and f["peak"][1] > 0.1
    assert abs(f["dip"][0] + 1.5) < 1.5 * kin.mode_spacing(1.5, 100) and f["dip"][1] > 0.1
    assert kin.band_edge_features(w, blue, -0.5, L=100)["peak"][1] == 0.0
    np.testing.assert_allclose(blue, red[::-1], rtol=1e-6)
    assert kin.band_edge_features(w, red, -1.5, L=100)["second"] == (pytest.approx(np.nan, nan_ok=True), 0.0)


def test_energy_per_particle_and_stability():
    red, blue = (kin.steady_state(D, 3.0, N=N, L=L) for D in (-1.0, 1.0))
    assert kin.energy_per_particle(red["omega"], red["n"]) < 0 < kin.energy_per_particle(blue["omega"], blue["n"])
    for s, D in ((red, -1.0), (blue, 1.0)):
        _, W = kin.cavity_rates(D, 3.0, L=L)
        assert kin.stability_margin(s["n"].values, W) < 0


def test_classical_steady_state():
    """Without the Bose factor a thermal spectrum gives Boltzmann weights e^{−βω}, independent of N."""
    w = kin.band_energies(L)
    W = kin.rate_matrix(w, kin.overlap(L), lambda x: kin.thermal_spectrum(x, 0.9))
    n = kin.classical_steady_state_rates(W, N)
    boltzmann = np.exp(-0.9 * w)
    np.testing.assert_allclose(n, N * boltzmann / boltzmann.sum(), rtol=1e-10)
    a = kin.steady_state(-1.0, 3.0, N=10, L=L, bose=False)
    b = kin.steady_state(-1.0, 3.0, N=100, L=L, bose=False)
    np.testing.assert_allclose(a["n"] / 10, b["n"] / 100, rtol=1e-10)
    assert a.attrs["residual"] < 1e-10 and abs(a.attrs["number_error"]) < 1e-10


def test_thermal_steady_state_is_bose_einstein():
    s = kin.thermal_steady_state(-0.6, N=N, L=L)
    np.testing.assert_allclose(s["n"], kin.bose_einstein(s["omega"].values, -0.6, N), rtol=1e-9)


def test_density_scan_bose_enhancement():
    bose = kin.density_scan([-1.0], 3.0, [0.2, 1.0], L=L)
    classical = kin.density_scan([-1.0], 3.0, [0.2, 1.0], L=L, bose=False)
    eff_b = (bose["delta_n"] / (bose["density"] * L)).values[0]
    eff_c = (classical["delta_n"] / (classical["density"] * L)).values[0]
    assert eff_b[1] > 1.2 * eff_b[0] > 0
    assert eff_c[1] == pytest.approx(eff_c[0], rel=1e-9)


def test_spectrum_peak():
    for D in (-1.0, 0.7):
        assert kin.spectrum_peak(D, 0.5) == pytest.approx(-D, abs=1e-6)


def test_map_masks_and_flat_divergence():
    ds = kin.divergence_map([-2.0 * np.sqrt(3), -0.5], [4.0, 1.0], N=N, L=L)
    m = kin.region_masks(ds, small=0.5, large=1.0, band=0.05)
    assert m["near"][0, 0] and m["near"].sum() == 1 and (m["far"] == ~m["near"]).all()
    assert m["small"][0, 0] == (ds["beta0_J"].values[0, 0] < 0.5)
    assert ds["kl_flat"][0, 0] > 100 * ds["kl_be"][0, 0]    # β0J = 0.87: BE far better than "no bath"
    np.testing.assert_allclose(ds["kl_flat"][1, 0], kin.kl_divergence(kin.steady_state(-0.5, 4.0, N=N, L=L)["n"].values, np.ones(L)))
    assert kin.masked_median(ds["kl_be"], m["valid"]) > 0
    assert kin.masked_fraction(np.array([1.0, 2.0, 3.0, np.nan]), np.ones(4, bool), above=1.5) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no finite"):
        kin.masked_median(np.array([np.nan]), np.array([True]))


@pytest.mark.parametrize("call,name", [
    (lambda: kin.iso_beta0(0.3, -1.0), "r"),
    (lambda: kin.iso_beta0(0.0, 1.0), "beta0J"),
    (lambda: kin.line_ratio(-1.0, 0.0), "kappa"),
    (lambda: kin.temperature_flatness([0.0, 1.0, 2.0], [1.0, 1.0, 1.0], 0.0), "beta0"),
    (lambda: kin.density_scan([-1.0], 3.0, [0.0]), "densities"),
    (lambda: kin.thermal_steady_state(np.nan), "beta"),
])
def test_bad_input_names_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_dos_features_need_a_narrow_line():
    """Fig. 2(b): for κ ≪ J the steady state's β_loc has features at ±(2J + Δ); a broad line has none."""
    narrow = kin.steady_state(-0.5, 0.1, N=50, L=100)
    broad = kin.steady_state(-0.5, 1.0, N=50, L=100)
    f = kin.dos_features(narrow["omega"], narrow["n"], -0.5, narrow.attrs["beta0"], L=100)
    for name, target in (("upper", 1.5), ("lower", -1.5)):
        assert abs(f[name][0] - target) <= 1.5 * kin.mode_spacing(target, 100) and f[name][1] > 0.5
    g = kin.dos_features(broad["omega"], broad["n"], -0.5, broad.attrs["beta0"], L=100)
    assert g["upper"][1] == g["lower"][1] == 0.0
    bose = kin.bose_einstein(narrow["omega"].values, 2.0, 50)
    assert kin.dos_features(narrow["omega"], bose, -0.5, 2.0, L=100)["upper"][1] < 1e-9


def test_iso_beta0_scan():
    scan = kin.iso_beta0_scan(0.3, [0.5, 1.0, 2.0], N=N, L=L)
    np.testing.assert_allclose([kin.beta0(D, k) for D, k in zip(scan["Delta"].values, scan["kappa"].values)], 0.3, rtol=1e-12)
    assert np.argmin(scan["flatness"].values) == 1 and np.argmin(scan["kl_be"].values) == 1       # BE is best on the line
    assert scan["curvature"][0] < 0 < scan["curvature"][2]                       # and the curvature flips across it
