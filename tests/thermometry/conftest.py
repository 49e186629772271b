"""Shared helpers of the thermometry tests: exact Wigner samples of known states."""
import numpy as np
import pytest

from replicate.thermometry import sampling


@pytest.fixture
def draw():
    """draw(P, n_traj, n_times, seed) -> complex Wigner samples of shape (n_traj, n_times)."""
    def _draw(P, n_traj=200, n_times=50, seed=0):
        return sampling.wigner_samples(P, (n_traj, n_times), np.random.default_rng(seed))
    return _draw
