"""Local Wigner functions from raw samples (replicate.analysis.wigner_samples)."""
import numpy as np
import pytest
import xarray as xr

from replicate.analysis import wigner_samples


def test_circular_variance_floor_matches_uniform_phases():
    rng = np.random.default_rng(3)
    N = 200
    V = [1 - abs(np.exp(1j * rng.uniform(0, 2 * np.pi, N)).mean()) for _ in range(3000)]
    assert np.mean(V) == pytest.approx(wigner_samples.circular_variance_floor(N), abs=0.003)


def _vacuum(rng, n_traj, n_t):
    return (rng.standard_normal((n_traj, n_t)) + 1j * rng.standard_normal((n_traj, n_t))) / 2


def test_radial_profile_of_the_vacuum_is_the_vacuum_wigner_function():
    """W_0(α) = (2/π) e^{−2|α|²}; bell-shaped: contrast e^{−1/8} − 1."""
    rng = np.random.default_rng(4)
    prof = wigner_samples.radial_profile(_vacuum(rng, 256, 400))
    u, du = prof["u"].values, float(prof["du"])
    exact = (np.exp(-2 * (u - du / 2)) - np.exp(-2 * (u + du / 2))) / (np.pi * du)
    pull = (prof["W"].values - exact) / prof["W_err"].values
    assert np.all(np.abs(pull[:12]) < 4.5) and np.mean(pull[:12] ** 2) < 3
    assert abs(float(prof["contrast"]) - (np.exp(-1 / 8) - 1)) < 3 * float(prof["contrast_err"])


def test_radial_contrast_ring_and_bell_by_site():
    """Phase-diffused coherent state |α| = 5 (+ vacuum noise): a ring (C > 0); the vacuum: a bell."""
    rng = np.random.default_rng(5)
    ring = 5 * np.exp(1j * rng.uniform(0, 2 * np.pi, (128, 200))) + _vacuum(rng, 128, 200)
    smp = xr.DataArray(np.stack([ring, _vacuum(rng, 128, 200)]), dims=("site", "traj", "time"), coords={"site": [1, 2]})
    c = wigner_samples.radial_contrast(smp)
    assert float(c.contrast[0]) > 0.9 and float(c.contrast[0] - 2 * c.contrast_err[0]) > 0
    assert float(c.contrast[1] + 2 * c.contrast_err[1]) < 0


def test_wigner_histogram_is_a_density():
    rng = np.random.default_rng(6)
    W = wigner_samples.wigner_histogram(_vacuum(rng, 64, 100), 4.0, 40)
    assert W.shape == (40, 40) and W.sum() * 0.2 ** 2 == pytest.approx(1.0)
    assert W[20, 20] == pytest.approx(2 / np.pi, rel=0.15)  # W_0(0) = 2/π
