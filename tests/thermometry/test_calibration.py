"""Calibration of the fit errors: pulls over seeds, bootstrap over batches, correlated samples."""
import numpy as np
import pytest

from replicate.thermometry import fitting as ft
from replicate.thermometry import models as m
from replicate.thermometry.histogram import from_samples
from replicate.thermometry.sampling import wigner_samples

GIBBS = {"T": 1.0, "mu": 0.5}
N_SEEDS = 20


@pytest.fixture(scope="module")
def pulls():
    """(fit − truth)/error of T, μ and μ/T over N_SEEDS independent Gibbs data sets."""
    P = m.gibbs_populations(**GIBBS).P
    truth = {**GIBBS, "mu_over_T": GIBBS["mu"] / GIBBS["T"]}
    out = {k: [] for k in truth}
    for seed in range(N_SEEDS):
        res = ft.fit(wigner_samples(P, (200, 20), np.random.default_rng(100 + seed)), "gibbs")
        for k, v in truth.items():
            out[k].append((res.params[k] - v) / res.errors[k])
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("name", ["T", "mu", "mu_over_T"])
def test_pulls_have_zero_mean_and_unit_spread(pulls, name):
    """Over 20 seeds: mean within 3/√20 of 0, std within ±3·(1/√38) (plus the t-tail of a
    20-batch covariance, std ≈ 1.06) of 1."""
    p = pulls[name]
    assert abs(p.mean()) < 3 / np.sqrt(N_SEEDS)
    assert 1 - 3 / np.sqrt(2 * (N_SEEDS - 1)) < p.std(ddof=1) < 1.06 + 3 / np.sqrt(2 * (N_SEEDS - 1))


def _bootstrap_std(h, model, rng, n_boot=150):
    values = []
    for _ in range(n_boot):
        res = ft.fit(h.resample(rng.integers(0, h.n_batches, h.n_batches)), model)
        values.append([res.params[k] for k in m.PARAMETERS[model]])
    return np.std(values, axis=0, ddof=1)


@pytest.mark.parametrize("model, truth", [
    ("gibbs", GIBBS),
    ("two_photon", {"kappa_p_over_kappa_d": 2.0, "kappa_2_over_kappa_d": 0.1}),
])
def test_covariance_errors_match_a_bootstrap_over_batches(model, truth, draw):
    h = from_samples(draw(m.populations(model, truth).P, 400, 25, seed=21), n_batches=40)
    boot = _bootstrap_std(h, model, np.random.default_rng(0))
    for errors in ("batches", "poisson"):
        res = ft.fit(h, model, errors=errors)
        ratio = np.array([res.errors[k] for k in m.PARAMETERS[model]]) / boot
        assert np.all((0.7 < ratio) & (ratio < 1.3)), (errors, ratio)
        assert not np.any((0.7 < ratio / 2) & (ratio / 2 < 1.3))  # halved errors would fail


def test_time_correlated_samples_need_batch_errors(draw):
    """Each trajectory repeats every sample 4 times (a caricature of time correlation): the counts
    are overdispersed by 4, Poisson errors are too small by 2, batch errors stay right."""
    base = draw(m.gibbs_populations(**GIBBS).P, 400, 10, seed=31)
    h = from_samples(np.repeat(base, 4, axis=1), n_batches=40)
    poisson, batches = ft.fit(h, "gibbs", errors="poisson"), ft.fit(h, "gibbs", errors="batches")
    assert batches.dispersion == pytest.approx(4.0, rel=0.25)
    boot = _bootstrap_std(h, "gibbs", np.random.default_rng(1), n_boot=100)
    for i, k in enumerate(m.PARAMETERS["gibbs"]):
        assert 0.7 < batches.errors[k] / boot[i] < 1.3
        assert poisson.errors[k] / boot[i] < 0.65
    assert batches.p_value > 1e-3  # χ²/dispersion is still a good-fit statistic
