"""Fits of local models to radial Wigner histograms: recovery, rejection, inputs, bad input."""
import numpy as np
import pytest
import xarray as xr

from replicate.thermometry import fitting as ft
from replicate.thermometry import models as m
from replicate.thermometry.histogram import RadialHistogram, from_samples

GIBBS_RING = {"T": 1.0, "mu": 0.5}  # μ > 0: ring-shaped W, still positive at U = 0.1
TRUE_STATES = [
    ("gibbs", GIBBS_RING),
    ("gaussian", {"mu_over_T": m.thermal_mu_over_T(3.0)}),
    ("two_photon", {"kappa_p_over_kappa_d": 2.0, "kappa_2_over_kappa_d": 0.1}),
    ("scully_lamb", {"kappa_p_over_kappa_d": 2.0, "s_over_kappa_d": 0.2}),
]


@pytest.mark.parametrize("model, truth", TRUE_STATES, ids=[s[0] for s in TRUE_STATES])
def test_fit_recovers_the_true_parameters(model, truth, draw):
    res = ft.fit(draw(m.populations(model, truth).P, seed=11), model)
    assert res.converged and not res.at_bound
    for k, v in truth.items():
        assert abs(res.params[k] - v) < 4 * res.errors[k], k
    assert res.truncation < m.TAIL_TOL and res.P.size == res.n_cut + 1
    assert res.p_value > 1e-3
    assert res.norm < 2 * res.norm_noise


def test_thermal_state_seen_by_the_two_photon_model(draw):
    """Detailed balance (Eq. 11): κ_p/κ_d = n/(n+1) and no two-photon loss."""
    n_mean = 3.0
    res = ft.fit(draw(m.gaussian_populations(m.thermal_mu_over_T(n_mean)).P, seed=5), "two_photon")
    ratio, err = res.params["kappa_p_over_kappa_d"], res.errors["kappa_p_over_kappa_d"]
    assert abs(ratio - m.detailed_balance_ratio(m.thermal_mu_over_T(n_mean))) < 3 * err
    assert abs(ratio - n_mean / (n_mean + 1)) < 3 * err
    assert res.params["kappa_2_over_kappa_d"] < 3 * res.errors["kappa_2_over_kappa_d"]
    assert abs(res.params["mu_over_T"] - m.thermal_mu_over_T(n_mean)) < 3 * res.errors["mu_over_T"]


def test_thermal_state_seen_by_the_gibbs_model_recovers_mu_over_T(draw):
    n_mean = 3.0
    mu_over_T = m.thermal_mu_over_T(n_mean)
    res = ft.fit(draw(m.gaussian_populations(mu_over_T).P, seed=6), "gibbs", U=0.1)
    assert abs(res.params["mu_over_T"] - mu_over_T) < 3 * res.errors["mu_over_T"]
    # U = 0.1 is invisible at this density only if T ≫ U n: the fit runs to large T
    assert res.params["T"] > 30 * 0.1 * n_mean or "beta" in res.at_bound


def test_gaussian_ansatz_is_rejected_for_a_kerr_gibbs_state(draw):
    """U = 0 (Gaussian) cannot describe the U = 0.1 ring state: χ² and the norm reject it."""
    samples = draw(m.gibbs_populations(**GIBBS_RING).P, seed=3)
    right, wrong = ft.fit(samples, "gibbs", U=0.1), ft.fit(samples, "gaussian")
    assert right.p_value > 1e-3
    assert wrong.p_value < 1e-6
    assert wrong.norm > 3 * right.norm


def test_gibbs_populations_depend_on_u_over_t_only(draw):
    """P(n) ∝ exp[(μ/T) n − (U/2T) n(n−1)]: a wrong U > 0 is not rejected, it rescales T ∝ U
    at fixed μ/T with the same χ² (so T is in units of the U the fit assumes)."""
    samples = draw(m.gibbs_populations(**GIBBS_RING).P, seed=3)
    a, b = ft.fit(samples, "gibbs", U=0.1), ft.fit(samples, "gibbs", U=0.3)
    assert b.chi2 == pytest.approx(a.chi2, rel=1e-6)
    assert b.params["T"] == pytest.approx(3 * a.params["T"], rel=1e-5)
    assert b.params["mu_over_T"] == pytest.approx(a.params["mu_over_T"], rel=1e-5)
    assert b.errors["T"] == pytest.approx(3 * a.errors["T"], rel=1e-3)


def test_histogram_inputs_agree(draw):
    samples = draw(m.gibbs_populations(**GIBBS_RING).P, seed=4)
    h = from_samples(samples, bins=40, u_max=30.0)
    ref = ft.fit(samples, "gibbs", bins=40, u_max=30.0)
    centres = 0.5 * (h.u_edges[1:] + h.u_edges[:-1])
    da = xr.DataArray(h.counts, dims=("batch", "u"), coords={"u": centres})
    complex_da = xr.DataArray(samples, dims=("traj", "time"))
    for data in (h, (h.u_edges, h.counts), da, da.assign_attrs(u_edges=h.u_edges)):
        assert ft.fit(data, "gibbs").params == pytest.approx(ref.params, rel=1e-9)
    assert ft.fit(complex_da, "gibbs", bins=40, u_max=30.0).params == pytest.approx(ref.params)


def test_unequal_bins_and_overflow_are_handled(draw):
    """Edges growing like u^2, upper edge below the largest samples (fit conditions on N_in)."""
    samples = draw(m.gibbs_populations(**GIBBS_RING).P, seed=8)
    edges = 16.0 * np.linspace(0, 1, 31) ** 2
    res = ft.fit(samples, "gibbs", bins=edges)
    assert res.observed.sum() < samples.size
    for k, v in GIBBS_RING.items():
        assert abs(res.params[k] - v) < 4 * res.errors[k]


def test_fitted_density_for_plots(draw):
    res = ft.fit(draw(m.gibbs_populations(**GIBBS_RING).P, seed=9), "gibbs")
    w = res.wigner()
    assert w["data"].shape == w["fit"].shape == res.u_centres.shape
    pulls = (w["data"] - w["fit"]) / np.where(w["data_err"] > 0, w["data_err"], np.inf)
    assert np.mean(pulls**2) < 2.0
    assert np.sum(w["fit"] * np.pi * np.diff(res.u_edges)) == pytest.approx(1.0)


def test_non_convergence_is_flagged(draw):
    res = ft.fit(draw(m.gibbs_populations(**GIBBS_RING).P, seed=1), "gibbs", max_nfev=1)
    assert not res.converged and res.message


@pytest.mark.parametrize("make, name", [
    (lambda s: ft.fit(s, "laser"), "gibbs, gaussian, two_photon, scully_lamb"),
    (lambda s: ft.fit(s, "gibbs", U=-0.1), "U"),
    (lambda s: ft.fit(s, "gibbs", U=0.0), "gaussian"),
    (lambda s: ft.fit(s, "gibbs", errors="bootstrap"), "errors"),
    (lambda s: ft.fit(s, "gibbs", n_batches=4), "batches"),
    (lambda s: ft.fit(np.where(np.arange(s.size).reshape(s.shape) == 7, np.nan, s), "gibbs"),
     "samples"),
    (lambda s: ft.fit(s.real, "gibbs"), "complex Wigner samples"),
    (lambda s: ft.fit((np.linspace(0, 5, 11), np.zeros((20, 10))), "gibbs"), "counts is empty"),
    (lambda s: ft.fit((np.linspace(0, 5, 11), np.full((20, 10), 0.5)), "gibbs"), "integer"),
    (lambda s: ft.fit((np.linspace(0, 5, 11), np.ones((20, 9))), "gibbs"), "shape"),
    (lambda s: ft.fit((np.array([0.0, 2.0, 1.0]), np.ones((20, 2))), "gibbs"), "u_edges"),
    (lambda s: ft.fit(s, "gaussian", n_max=20), "n_max"),
    (lambda s: ft.fit(s, "gibbs", tail_tol=0.0), "tail_tol"),
])
def test_bad_input_raises(make, name, draw):
    samples = draw(m.gaussian_populations(m.thermal_mu_over_T(3.0)).P, 50, 20)
    with pytest.raises(ValueError, match=name):
        make(samples)


def test_radial_histogram_validates_and_resamples():
    h = RadialHistogram(np.linspace(0, 1, 3), [[1, 2], [3, 4]])
    assert h.n_batches == 2 and list(h.pooled) == [4, 6]
    assert h.resample([1, 1]).pooled.tolist() == [6, 8]
    with pytest.raises(ValueError, match="counts"):
        RadialHistogram(np.linspace(0, 1, 3), [[1, -2]])
