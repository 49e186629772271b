"""Engine vs the plain-NumPy reference, and determinism across thread counts."""
import numba
import numpy as np
import pytest

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa import engine
from replicate.twa.engine import Simulation
from replicate.twa.reference import Reference


@pytest.mark.parametrize("params, kw", [
    (ChainParams(L=5, F=3.0), {}),
    (ChainParams(L=5, F=3.0), {"integrator": "euler"}),
    (ChainParams(L=4, F=2.0, gamma_int=0.3), {"noise_substeps": 3}),
    (ChainParams(L=3, F=1.0, drive="uniform"), {"alpha0": np.array([1, 1j, -1])}),
    (ChainParams(L=4, F=5.0), {"classical": True, "alpha0": np.array([0.1, 0, 0, 0.2j])}),
    (ChainParams(L=4, F=5.0), {"classical": True, "initial_noise": True}),
])
def test_engine_equals_reference_bitwise(params, kw):
    opts = {"classical": False, "integrator": "heun", **kw}
    sim = Simulation(params, n_traj=70, dt=0.01, seed=5, **opts)
    ref = Reference(params, n_traj=70, dt=0.01, seed=5, **{"integrator": "heun", **kw})
    sim.run(150)
    ref.run(150)
    assert np.array_equal(sim.alpha(), ref.alpha())


@pytest.mark.parametrize("params, kw", [
    (ChainParams(L=5, F=3.0), {}),
    (ChainParams(L=6, F=8.0, U=0.5), {"alpha0": np.full(6, 3.0 + 1j)}),  # large Kerr angles
    # Kerr angles beyond π/4 on some rows only: the range-reduced and the small-angle sin/cos
    (ChainParams(L=4, F=2.0, U=1.0), {"alpha0": np.array([6 + 2j, 0.1, 3j, -4])}),
    (ChainParams(L=4, F=2.0, gamma_int=0.3), {"noise_substeps": 3}),
    (ChainParams(L=3, F=1.0, drive="uniform"), {"alpha0": np.array([1, 1j, -1])}),
    (ChainParams(L=2, F=1.0, gamma=0.0), {}),  # no loss: bath steps without noise (g = 0)
    (ChainParams(L=4, F=5.0), {"classical": True, "alpha0": np.array([0.1, 0, 0, 0.2j])}),
    (ChainParams(L=4, F=5.0), {"classical": True, "initial_noise": True}),
])
def test_split_engine_equals_reference_bitwise(params, kw):
    opts = {"classical": False, **kw}
    sim = Simulation(params, n_traj=70, dt=0.05, seed=5, integrator="split", **opts)
    ref = Reference(params, n_traj=70, dt=0.05, seed=5, integrator="split", **kw)
    sim.run(150)
    ref.run(150)
    assert np.array_equal(sim.alpha(), ref.alpha())


def test_split_sincos_is_accurate():
    from replicate.twa.kernels.split import sincos_numpy

    phi = np.concatenate([np.linspace(-7.0, 7.0, 20001), [0.0, -0.0, 1e-300, np.pi / 4, 1e3]])
    c, s = sincos_numpy(phi)
    assert np.max(np.abs(c - np.cos(phi))) < 4e-16 * np.maximum(1, np.abs(phi)).max()
    assert np.max(np.abs(s - np.sin(phi))) < 4e-16 * np.maximum(1, np.abs(phi)).max()


@pytest.mark.parametrize("integrator", ["heun", "split"])
def test_trajectory_independent_of_n_traj(integrator):
    p = ChainParams(L=6, F=4.0)
    a = Simulation(p, n_traj=10, dt=0.01, seed=2, classical=False, integrator=integrator)
    b = Simulation(p, n_traj=200, dt=0.01, seed=2, classical=False, integrator=integrator)
    a.run(100)
    b.run(100)
    assert np.array_equal(a.alpha(), b.alpha()[:, :10])


def test_same_numbers_for_one_and_two_threads(monkeypatch):
    """Also the per-batch histograms: batches span blocks that different workers advance."""
    p = ChainParams(L=6, F=6.0)
    kw = dict(n_traj=300, t_relax=2.0, t_avg=2.0, seed=11, g1_centre=3, wigner_grid=(5.0, 8),
              p_grid=(6.0, 12), radial_grid=(30.0, 10), keep_batches=True)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = twa.ness(p, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = twa.ness(p, **kw)
        monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", 0)  # the prange kernel, not run_serial
        parallel = twa.ness(p, **kw)
    finally:
        numba.set_num_threads(old)
    assert one.identical(parallel)
    for name in one.data_vars:
        assert np.array_equal(one[name].values, two[name].values, equal_nan=True), name
    assert one.identical(two)


def test_evolve_and_otoc_thread_independent():
    p = ChainParams(L=5, F=6.0)
    old = numba.get_num_threads()
    out = []
    try:
        for k in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(k)
            out.append((twa.evolve(p, n_traj=200, times=[0.0, 1.0, 2.0], seed=3),
                        twa.otoc(p, n_traj=100, t_relax=1.0, times=[0.0, 2.0], seed=3)))
    finally:
        numba.set_num_threads(old)
    assert out[0][0].identical(out[1][0])
    assert out[0][1].identical(out[1][1])


def test_ness_statistics_match_reference():
    p = ChainParams(L=4, F=3.0)
    ds = twa.ness(p, n_traj=128, t_relax=3.0, t_avg=0.1, sample_every=0.1, dt=0.01, seed=4)
    ref = Reference(p, n_traj=128, dt=0.01, seed=4)
    ref.run(310)
    q = np.abs(ref.alpha()) ** 2
    assert np.allclose(ds["n"].values, q.mean(1) - 0.5, rtol=1e-12, atol=1e-12)
