"""Weak convergence order on the same Brownian paths (coarse increments = sums of fine ones)."""
import numpy as np
import pytest

from replicate.chain import ChainParams
from replicate.twa.engine import Simulation

# J = 0: site 1 is an isolated lossy, driven, detuned mode with a known second moment
P = ChainParams(L=2, F=1.0, Delta=1.0, J=0.0, U=0.0)
T = 2.0
N = 100_000
FINE = 1 / 80


def _second_moment(dt, integrator, nsub):
    sim = Simulation(P, n_traj=N, dt=dt, seed=21, classical=False, integrator=integrator,
                     noise_substeps=nsub)
    sim.run(round(T / dt))
    return np.mean(np.abs(sim.alpha()[0]) ** 2), np.abs(sim.alpha()[0]) ** 2


def _exact():
    k = 1j * P.Delta - 0.5 * P.gamma  # dμ/dt = k μ - iF, μ(0) = 0
    mu = (-1j * P.F / k) * (np.exp(k * T) - 1)
    return abs(mu) ** 2 + 0.5


@pytest.mark.parametrize("integrator, order", [("heun", 2), ("euler", 1)])
def test_weak_order(integrator, order):
    dts = np.array([0.2, 0.1, 0.05, 0.025])
    fine, fine_samples = _second_moment(FINE, integrator, 1)
    fine2, _ = _second_moment(2 * FINE, integrator, 2)
    ref = fine + (fine - fine2) / (2 ** order - 1)  # Richardson: same paths, bias removed
    # the extrapolated moment agrees with the exact one within the Monte-Carlo error
    assert abs(ref - _exact()) < 4 * fine_samples.std() / np.sqrt(N)
    errs = []
    for dt in dts:
        m, _ = _second_moment(dt, integrator, round(dt / FINE))
        errs.append(abs(m - ref))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert slope >= order - 0.35, (slope, errs)
