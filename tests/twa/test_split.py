"""Oracles of the split-step (Strang) integrator, ``integrator="split"`` (kernels/split.py).

Weak order 2 on the same Brownian paths, the U = 0 (linear) and F = 0 (vacuum) exact steady
states, the classical limit against solve_ivp, the exact Lindblad dimer, input checks and the
OTOC replicas' shared noise. The bitwise twin is in test_reference.py.
"""
import numba
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import solve

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa.engine import Simulation
from replicate.twa.kernels import split
from systems import gp_rhs, linear_drift

SPLIT = dict(integrator="split")


# --- weak order on the same Brownian paths -------------------------------------------------
# (h, noise_substeps = h/FINE) uses exactly the Brownian paths of (FINE, 1): each half bath step
# combines the OU increments of its sub-intervals exactly (kernels/split.py)
T = 2.0
N = 20_000
FINE = 1 / 160
DTS = np.array([0.2, 0.1, 0.05, 0.025])


def _moments(p, dt, nsub):
    sim = Simulation(p, n_traj=N, dt=dt, seed=21, classical=False, noise_substeps=nsub, **SPLIT)
    sim.run(round(T / dt))
    q = np.abs(sim.alpha()) ** 2
    return q.mean(1), q


def _slopes(p, exact=None):
    fine, samples = _moments(p, FINE, 1)
    fine2, _ = _moments(p, 2 * FINE, 2)
    ref = fine + (fine - fine2) / 3  # Richardson on the same paths (order 2)
    if exact is not None:
        assert abs(ref[0] - exact) < 4 * samples[0].std() / np.sqrt(N)
    errs = np.array([np.abs(_moments(p, dt, round(dt / FINE))[0] - ref) for dt in DTS])
    return np.array([np.polyfit(np.log(DTS), np.log(errs[:, k]), 1)[0] for k in range(p.L)]), errs


def test_weak_order_two_linear_mode_against_exact():
    """J = 0, U = 0: site 1 is an isolated driven, lossy, detuned mode (as test_convergence)."""
    p = ChainParams(L=2, F=1.0, Delta=1.0, J=0.0, U=0.0)
    k = 1j * p.Delta - 0.5 * p.gamma
    mu = (-1j * p.F / k) * (np.exp(k * T) - 1)
    slopes, errs = _slopes(p, exact=abs(mu) ** 2 + 0.5)
    assert slopes[0] >= 1.7, (slopes, errs)


def test_weak_order_two_nonlinear_chain():
    """Kerr, hopping, drive and both baths: ⟨|α_1|²⟩ and ⟨|α_L|²⟩ at t = 2."""
    p = ChainParams(L=3, F=2.0, Delta=1.0, J=1.0, U=0.3)
    slopes, errs = _slopes(p)
    assert slopes[0] >= 1.7 and slopes[-1] >= 1.7, (slopes, errs)


# --- exact steady states ------------------------------------------------------------------
@pytest.mark.parametrize("params", [ChainParams(L=6, F=2.0, U=0.0),
                                    ChainParams(L=4, F=1.5, U=0.0, gamma_int=0.2),
                                    ChainParams(L=3, F=1.0, U=0.0, drive="uniform")])
def test_u0_ness_is_coherent(params):
    """U = 0: TWA is exact and the NESS a product of coherent states (as test_linear). dt = 0.02:
    the step's own bias of n is ≈ 0.4 (dt/0.01)² per mille here (0.9 % at dt = 0.05, L = 6)."""
    M, b = linear_drift(params)
    alpha_ss = solve(M, -b)
    ds = twa.ness(params, n_traj=400, t_relax=40.0, t_avg=20.0, sample_every=0.5, seed=1, dt=0.02,
                  **SPLIT)
    z_n = (ds["n"].values - np.abs(alpha_ss) ** 2) / ds["n_err"].values
    z_dn = ds["delta_n"].values / ds["delta_n_err"].values
    z_re = (ds["field_re"].values - alpha_ss.real) / ds["field_re_err"].values
    z_im = (ds["field_im"].values - alpha_ss.imag) / ds["field_im_err"].values
    z_x2 = (ds["x2"].values - 2 * alpha_ss.real**2 - 0.5) / ds["x2_err"].values
    for z in (z_n, z_dn, z_re, z_im, z_x2):
        assert np.all(np.abs(z) < 4), z


def test_no_drive_is_vacuum_at_any_step():
    """F = 0 (U = 0.1): every piece keeps the vacuum Wigner function, even at the largest dt."""
    p = ChainParams(L=5, F=0.0)
    dt = 0.1
    assert split.linear_phase(p, dt) <= split.MAX_PHASE
    ds = twa.ness(p, n_traj=256, t_relax=10.0, t_avg=20.0, sample_every=0.5, seed=3, dt=dt, **SPLIT)
    for name, value in (("n", 0.0), ("x2", 0.5), ("p2", 0.5), ("field_re", 0.0)):
        z = (ds[name].values - value) / ds[f"{name}_err"].values
        assert np.all(np.abs(z) < 4), (name, z)


def test_classical_limit_second_order():
    """classical=True (Eq. 35, no noise, no −1) against solve_ivp: error ∝ dt²."""
    p = ChainParams(L=4, F=3.0, gamma_int=0.05)
    a0 = np.array([0.5, 1.0j, -0.3, 0.2 + 0.1j])
    times = np.array([0.0, 0.5, 1.0, 2.0])
    sol = solve_ivp(gp_rhs(p), (0, 2.0), np.concatenate([a0.real, a0.imag]), t_eval=times,
                    method="DOP853", rtol=1e-12, atol=1e-12)
    exact = (sol.y[:p.L] + 1j * sol.y[p.L:]).T
    errs = []
    for dt in (0.02, 0.01, 0.005):
        ds = twa.evolve(p, n_traj=1, times=times, dt=dt, classical=True, alpha0=a0, **SPLIT)
        got = ds["field_re"].values + 1j * ds["field_im"].values
        errs.append(np.max(np.abs(got - exact)))
    assert errs[-1] < 1e-3, errs
    assert 3.5 < errs[0] / errs[1] < 4.5 and 3.5 < errs[1] / errs[2] < 4.5, errs


def test_dimer_matches_exact_lindblad():
    """The oracle of tests/oracles/test_twa_vs_exact.py (L = 2, F = 2.5, same run and tolerances:
    2 % of n and 0.05 in δn plus 3 TWA errors on the sites with n ≥ 0.5) at dt = 0.05."""
    pytest.importorskip("qutip")
    from replicate import exact

    p = ChainParams(L=2, F=2.5)
    ex = exact.steady_state(p, atol=1e-3, rtol=1e-3)
    tw = twa.ness(p, n_traj=2000, t_relax=30.0, t_avg=100.0, seed=2, dt=0.05, **SPLIT)
    occupied = ex.n.values >= 0.5
    ok_n = (np.abs(tw.n - ex.n) <= 0.02 * ex.n + 3 * tw.n_err).values
    ok_dn = (np.abs(tw.delta_n - ex.delta_n) <= 0.05 + 3 * tw.delta_n_err).values
    assert occupied.sum() >= 2
    assert ok_n[occupied].all() and ok_dn[occupied].all(), (tw.n.values, ex.n.values)


# --- checks and shared noise -------------------------------------------------------------
P = ChainParams(L=6, F=6.0)


@pytest.mark.parametrize("run", [
    lambda dt: twa.ness(P, n_traj=4, t_relax=0.0, t_avg=dt, sample_every=dt, dt=dt, **SPLIT),
    lambda dt: twa.evolve(P, n_traj=4, times=[0.0, dt], dt=dt, **SPLIT),
    lambda dt: twa.otoc(P, n_traj=4, t_relax=0.0, times=[0.0], dt=dt, **SPLIT),
    lambda dt: twa.evolve(P, n_traj=4, times=[0.0, dt], dt=dt, classical=True, alpha0=np.ones(6),
                          **SPLIT),
])
def test_step_beyond_accurate_range_is_rejected(run):
    dmax = split.MAX_PHASE / split.linear_phase(P, 1.0)
    run(0.5 * dmax)
    with pytest.raises(ValueError, match="dt"):
        run(1.01 * dmax)


def test_otoc_replicas_share_noise():
    ds = twa.otoc(P, eps=0.0, n_traj=50, t_relax=2.0, times=np.arange(0, 5.01, 0.5), seed=1,
                  dt=0.05, **SPLIT)
    assert np.all(ds["D"].values == 0.0)
    kicked = twa.otoc(P, eps=1e-3, n_traj=50, t_relax=2.0, times=[0.0, 3.0], seed=1, dt=0.05,
                      **SPLIT)
    assert np.all(kicked["D"].isel(tau=1).values > 0)


def test_same_numbers_for_one_and_two_threads(monkeypatch):
    from replicate.twa import engine

    kw = dict(n_traj=300, t_relax=2.0, t_avg=2.0, seed=11, dt=0.05, **SPLIT)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = twa.ness(P, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = twa.ness(P, **kw)
        monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", 0)  # the prange kernel
        monkeypatch.setattr(engine, "CHUNK_WORK", 1e4)  # and many chunks
        parallel = twa.ness(P, **kw)
    finally:
        numba.set_num_threads(old)
    assert one.identical(two)
    assert one.identical(parallel)


def test_fused_steps_independent_of_chunks_and_sampling(monkeypatch):
    """The fused Kerr rotations (A(h/2) A(h/2) = A(h) between the steps of one run) leave the
    trajectories independent of how Simulation.run cuts the run into kernel calls (which depends
    on n_traj) and of the sampling interval; samples are taken at whole-step states."""
    from replicate.twa import engine
    from replicate.twa.kernels import sample

    p = ChainParams(L=6, F=4.0)

    def sampled(every, steps=60):
        sim = Simulation(p, n_traj=70, dt=0.05, seed=2, classical=False, **SPLIT)
        acc = sample.Accumulators(p.L, sim.n_traj, sim.nblocks, sim.nworkers, centre=1,
                                  wigner_edges=None, p_edges=None, u_edges=None, n_batches=4)
        if every:
            sim.run(steps, sampler=acc, every=every)
        else:
            sim.run(steps)
        return sim.alpha(), acc.trajectory_sums()[sample.NAMES.index("m2")]

    whole, _ = sampled(0)
    for every in (1, 3, 20):
        assert np.array_equal(sampled(every)[0], whole), every
    monkeypatch.setattr(engine, "CHUNK_WORK", 1.0)  # one sample or one step per kernel call
    assert np.array_equal(sampled(0)[0], whole)
    got = sampled(20)
    monkeypatch.undo()
    assert np.array_equal(got[0], whole)
    # the three samples are the whole-step states at steps 20, 40, 60 (up to rounding: separate
    # runs close and reopen the Kerr rotation in place)
    sim = Simulation(p, n_traj=70, dt=0.05, seed=2, classical=False, **SPLIT)
    m2 = 0.0
    for _ in range(3):
        sim.run(20)
        m2 = m2 + np.abs(sim.alpha()) ** 2
    assert np.allclose(got[1], m2, rtol=1e-11, atol=1e-12)


def _first_variable(x) -> np.ndarray:
    """The values of a DataArray, or of the first data variable of a Dataset."""
    return np.asarray(x.values if not hasattr(x, "data_vars") else x[list(x.data_vars)[0]].values)


@pytest.mark.parametrize("driver", ["autocorrelation", "site_samples", "otoc_eps_scan", "steady_point"])
def test_every_driver_takes_the_integrator(driver):
    """The drivers that used to hard-code Heun run the split step and reject an unknown scheme."""
    p = ChainParams(L=3, F=1.0)
    call = {
        "autocorrelation": lambda i: twa.autocorrelation(p, sites=[1], n_lags=2, n_traj=4, t_relax=1.0,
                                                         t_avg=2.0, sample_every=0.5, integrator=i),
        "site_samples": lambda i: twa.site_samples(p, [1], n_traj=4, t_relax=1.0, t_avg=1.0,
                                                   sample_every=0.5, integrator=i),
        "otoc_eps_scan": lambda i: twa.otoc_eps_scan(p, [1e-3], n_traj=4, t_relax=1.0,
                                                     times=[0.0, 1.0], integrator=i),
        "steady_point": lambda i: twa.steady_point(p, n_traj=4, t_relax=1.0, t_avg=1.0, tau_max=1.0,
                                                   window=0.5, integrator=i),
    }[driver]
    heun, spl = call("heun"), call("split")
    assert heun.attrs["integrator"] == "heun" and spl.attrs["integrator"] == "split"
    a, b = (_first_variable(x) for x in (heun, spl))
    assert np.all(np.isfinite(b)) and not np.array_equal(a, b)
    with pytest.raises(ValueError, match="integrator"):
        call("rk4")


def test_site_samples_are_the_trajectories_of_ness_in_a_chaotic_chain():
    """The window of site_samples is one split run, as ness's: ending a run at every sample
    would round A(h/2)A(h/2) ≠ A(h) and, in a chaotic chain, decorrelate the trajectories."""
    from replicate.analysis import thermo

    p = ChainParams(L=10, F=6.0)
    kw = dict(n_traj=40, t_relax=100.0, t_avg=20.0, sample_every=0.5, seed=2, integrator="split")  # 40: not a multiple of the 32 batches
    steady = twa.ness(p, radial_grid=(400.0, 200), **kw)
    raw = twa.site_samples(p, [1, 5, 10], **kw)
    assert thermo.histogram_mismatch(raw, steady, [1, 5, 10], (400.0, 200)) == 0
    n = (np.abs(raw.values) ** 2).mean(axis=(1, 2)) - 0.5
    np.testing.assert_allclose(n, steady["n"].sel(site=[1, 5, 10]).values, rtol=1e-10)
