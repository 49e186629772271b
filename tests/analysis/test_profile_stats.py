"""Site-profile statistics (replicate.analysis.profile_stats)."""
import numpy as np
import pytest

from replicate.analysis import profile_stats as ps


def test_profile_statistics():
    L = 30
    ell = np.arange(L, dtype=float)
    y = 0.01 * ell
    assert ps.change_across(y, (5, 5)) == pytest.approx(0.01 * 19)
    assert ps.change_across(1 + y, (0, 0), relative=True) == pytest.approx(0.29 / (1 + 0.145))
    assert ps.smallest_step(y, (5, 5), parts=4) == pytest.approx(0.05)
    wiggle = y + 0.02 * np.sin(ell)                     # non-monotonic site to site ...
    assert ps.smallest_step(wiggle, (5, 5), parts=4) > 0  # ... but monotonic block to block
    assert ps.smallest_step(np.r_[y[:15], y[15:][::-1]], (0, 0)) < 0
    g = np.exp(-np.abs(np.arange(1, 42) - 21) / 150.0)  # centre 21, ξ = 150
    assert ps.g1_decay_length(g, 21) == pytest.approx(150.0)
    assert ps.g1_drop(g, 21) == pytest.approx(1 - np.exp(-19 / 150.0))
    assert ps.g1_drop(np.ones(41), 21) == 0.0
    cols = np.stack([g, g**2], axis=1)                  # vectorised over resamples
    assert np.allclose(ps.g1_decay_length(cols, 21), [150.0, 75.0])
    a = np.array([0.1, 3.1, -3.1])
    assert ps.wrapped_rms(a, a - 2 * np.pi) == pytest.approx(0.0, abs=1e-12)
    assert ps.wrapped_rms(np.array([3.1]), np.array([-3.1])) == pytest.approx(2 * np.pi - 6.2)
    assert ps.relative_rms(np.array([1.1, 0.9]), np.ones(2)) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="edges"):
        ps.change_across(np.ones(5), (2, 2))
