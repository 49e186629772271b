"""Physics oracles for replicate.kinetics (Ribeiro & Marquardt 2020)."""
import numpy as np
import pytest

from replicate import kinetics as kin
from replicate.kinetics.solve import RESIDUAL_TOL

L, N = 40, 20


def test_overlap_matches_mode_functions():
    """Eq. (A1) equals Σ_r |φ_r(k)|²|φ_r(k')|² (Eq. 6) for k ≠ k'."""
    phi2 = kin.mode_functions(L) ** 2
    g = phi2 @ phi2.T
    np.testing.assert_allclose(kin.overlap(L), g, atol=1e-14)


def test_particle_number_conserved():
    n0 = np.random.default_rng(1).uniform(0.1, 1.0, 30)
    ds = kin.evolve(-0.5, 0.1, n0=n0, times=np.linspace(0, 20, 11), L=30)
    tot = ds["n"].sum("omega").values
    assert np.max(np.abs(tot - n0.sum())) < 1e-7 * n0.sum()  # integrator rtol 1e-9 × L steps


def test_rhs_sums_to_zero():
    _, W = kin.cavity_rates(-1.0, 2.0, L=L)
    n = np.random.default_rng(2).uniform(0, 3, L)
    assert abs(kin.kinetic_rhs(n, W).sum()) < 1e-14 * np.abs(kin.kinetic_rhs(n, W)).sum() * L


def test_jacobian_matches_finite_differences():
    _, W = kin.cavity_rates(-1.0, 2.0, L=12)
    n = np.random.default_rng(3).uniform(0.1, 2, 12)
    h = 1e-6
    fd = np.array([(kin.kinetic_rhs(n + h * e, W) - kin.kinetic_rhs(n - h * e, W)) / (2 * h)
                   for e in np.eye(12)]).T
    np.testing.assert_allclose(kin.kinetic_jacobian(n, W), fd, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("beta", [0.7, -1.3])
def test_detailed_balance_gives_bose_einstein(beta):
    """A thermal spectrum S(ω)/S(−ω) = e^{βω} has the BE state at β as its steady state."""
    omega = kin.band_energies(L)
    W = kin.rate_matrix(omega, kin.overlap(L), lambda w: kin.thermal_spectrum(w, beta))
    n_be = kin.bose_einstein(omega, beta, N)
    assert np.max(np.abs(kin.kinetic_rhs(n_be, W))) < 1e-12
    n, _, _ = kin.steady_state_rates(W, N, [np.full(L, N / L)])
    np.testing.assert_allclose(n, n_be, rtol=1e-8)
    n_t = kin.evolve_rates(W, np.full(L, N / L), np.array([0.0, 2e4]))[-1]
    np.testing.assert_allclose(n_t, n_be, rtol=1e-5)


def test_beta_of_omega_special_point():
    kappa = 2.0
    for Delta in (-np.sqrt(3) * kappa / 2, np.sqrt(3) * kappa / 2):
        b = kin.beta_of_omega(kin.band_energies(L), Delta, kappa)
        np.testing.assert_allclose(b, kin.beta0(Delta, kappa), rtol=1e-13)
    # curvature sign flips across the special point (cooling branch)
    w = np.array([0.0, 2.0])
    assert np.diff(kin.beta_of_omega(w, -1.0, 3.0))[0] < 0   # |Δ| < √3κ/2: edges hotter
    assert np.diff(kin.beta_of_omega(w, -4.0, 3.0))[0] > 0   # |Δ| > √3κ/2: edges colder


def test_beta_eff_series():
    w = np.linspace(-0.05, 0.05, 5)
    exact, series = kin.beta_eff(w, -3.0, 2.0), kin.beta_eff_series(w, -3.0, 2.0)
    np.testing.assert_allclose(exact, series, rtol=1e-6)


def test_perturbative_tends_to_bose_einstein():
    errs = []
    for kappa in (10.0, 40.0, 160.0):
        p = kin.perturbative_steady_state(-1.0, kappa, N=N, L=L)
        assert p.attrs["valid"]
        assert abs(p["n"].sum() - N) < 1e-10
        errs.append(np.max(np.abs(p["n"] / p["n_be"] - 1)))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4


def test_perturbative_flags_negative_occupations():
    p = kin.perturbative_steady_state(-0.5, 0.5, N=50, L=100)
    assert not p.attrs["valid"]
    assert np.isnan(p["n"]).any() and (p["n_raw"] <= 0).any()


def test_blue_mirrors_red():
    red = kin.steady_state(-1.0, 3.0, N=N, L=L)["n"].values
    blue = kin.steady_state(+1.0, 3.0, N=N, L=L)["n"].values
    np.testing.assert_allclose(blue, red[::-1], rtol=1e-9)


@pytest.mark.parametrize("Delta,kappa", [(-1.0, 3.0), (-0.5, 0.3), (2.0, 1.0)])
def test_steady_state_equals_long_time_evolve(Delta, kappa):
    ss = kin.steady_state(Delta, kappa, N=N, L=L)
    assert ss.attrs["residual"] < RESIDUAL_TOL and abs(ss.attrs["number_error"]) < 1e-9
    ev = kin.evolve(Delta, kappa, n0=N / L, times=[0.0, 1e6], L=L)
    np.testing.assert_allclose(ev["n"].values[-1], ss["n"].values, rtol=1e-5, atol=1e-8)


def test_steady_state_independent_of_clock():
    a = kin.steady_state(-2.0, 1.0, N=N, L=L, Omega0=0.1, chi=1e-3)["n"].values
    b = kin.steady_state(-2.0, 1.0, N=N, L=L, Omega0=0.7, chi=1e-2)["n"].values
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_kl_divergence():
    p = np.array([1.0, 2.0, 3.0])
    assert kin.kl_divergence(p, 2 * p) == pytest.approx(0.0, abs=1e-15)
    q = np.array([3.0, 2.0, 1.0])
    assert kin.kl_divergence(p, q) == pytest.approx(np.sum(p / 6 * np.log(p / q)))
    assert np.isnan(kin.kl_divergence(p, np.array([1.0, -1.0, 2.0])))


def test_max_relative_deviation():
    n_ref = np.array([1.0, 2.0, 4.0])
    assert kin.max_relative_deviation(n_ref, n_ref) == 0.0
    assert kin.max_relative_deviation([1.1, 2.0, 3.0], n_ref) == pytest.approx(0.25)   # |3/4 − 1| wins over 0.1
    with pytest.raises(ValueError, match="shape"):
        kin.max_relative_deviation([1.0, 2.0], n_ref)


def test_divergence_map_shape_and_special_line():
    ds = kin.divergence_map([-3.0, -np.sqrt(3) * 2.0], [2.0, 4.0], N=N, L=L)
    assert ds["ratio"].dims == ("Delta", "kappa")
    assert float(ds["residual"].max()) < RESIDUAL_TOL
    # on Δ = −√3κ/2 Eq. (15) reduces to BE (up to its constant) so R is of order one
    assert ds["ratio"].sel(Delta=-np.sqrt(3) * 2.0, kappa=4.0) < 3


@pytest.mark.parametrize("call,name", [
    (lambda: kin.steady_state(-1.0, 0.0), "kappa"),
    (lambda: kin.steady_state(-1.0, -2.0), "kappa"),
    (lambda: kin.steady_state(-1.0, 1.0, N=0), "N"),
    (lambda: kin.steady_state(-1.0, 1.0, L=1), "L"),
    (lambda: kin.steady_state(np.nan, 1.0), "Delta"),
    (lambda: kin.steady_state(-1.0, 1.0, J=np.inf), "J"),
    (lambda: kin.evolve(-1.0, 1.0, n0=0.5, times=[0, 1], chi=-1), "chi"),
    (lambda: kin.steady_state(-1.0, 1.0, chi=0.0), "chi"),
    (lambda: kin.evolve(-1.0, 1.0, n0=np.nan, times=[0, 1]), "n0"),
    (lambda: kin.evolve(-1.0, 1.0, n0=0.5, times=[0, np.inf]), "times"),
    (lambda: kin.perturbative_steady_state(-1.0, 1.0, N=-5), "N"),
    (lambda: kin.divergence_map([-1.0], [0.0]), "kappas"),
])
def test_bad_input_names_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_steady_state_fallback_high_density():
    """Newton from BE fails at high density; the pseudo-transient fallback must still land on
    the state long-time evolution reaches."""
    ss = kin.steady_state(-1.0, 3.0, N=285.0, L=100)
    assert ss.attrs["residual"] < RESIDUAL_TOL
    ev = kin.evolve(-1.0, 3.0, n0=2.85, times=[0.0, 1e6], L=100)
    np.testing.assert_allclose(ev["n"].values[-1], ss["n"].values, rtol=1e-5)
