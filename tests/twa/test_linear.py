"""U = 0 oracles: the chain is linear, the NESS a product of coherent states."""
import numpy as np
import pytest
from scipy.linalg import expm, solve

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa.engine import Simulation
from systems import linear_drift


@pytest.mark.parametrize("params", [ChainParams(L=6, F=2.0, U=0.0),
                                    ChainParams(L=4, F=1.5, U=0.0, gamma_int=0.2),
                                    ChainParams(L=3, F=1.0, U=0.0, drive="uniform")])
def test_u0_ness_is_coherent(params):
    M, b = linear_drift(params)
    alpha_ss = solve(M, -b)
    ds = twa.ness(params, n_traj=400, t_relax=40.0, t_avg=20.0, sample_every=0.5, seed=1)
    z_n = (ds["n"].values - np.abs(alpha_ss) ** 2) / ds["n_err"].values
    z_dn = ds["delta_n"].values / ds["delta_n_err"].values
    z_re = (ds["field_re"].values - alpha_ss.real) / ds["field_re_err"].values
    # coherent state |β⟩: ⟨x̂²⟩ = 2(Re β)² + ½, ⟨p̂²⟩ = 2(Im β)² + ½ (x = (a + a†)/√2)
    z_x2 = (ds["x2"].values - 2 * alpha_ss.real**2 - 0.5) / ds["x2_err"].values
    z_p2 = (ds["p2"].values - 2 * alpha_ss.imag**2 - 0.5) / ds["p2_err"].values
    assert np.all(np.abs(z_x2) < 4), z_x2
    assert np.all(np.abs(z_p2) < 4), z_p2
    assert np.all(np.abs(z_n) < 4), z_n
    assert np.all(np.abs(z_dn) < 4), z_dn
    assert np.all(np.abs(z_re) < 4), z_re


def test_no_drive_stays_vacuum():
    p = ChainParams(L=5, F=0.0)  # U = 0.1: the vacuum is still the steady state
    ds = twa.ness(p, n_traj=256, t_relax=10.0, t_avg=10.0, sample_every=0.5, seed=3)
    z = ds["n"].values / ds["n_err"].values
    assert np.all(np.abs(z) < 4), z


def test_u0_second_moments_follow_exact_linear_sde():
    """⟨α_l α_m*⟩(t) = μ_l μ_m* + C_lm with μ' = Mμ + b, C' = MC + CM† + diag(γ_l/2), C(0) = ½."""
    p = ChainParams(L=3, F=2.0, U=0.0, J=1.0, Delta=0.5)
    M, b = linear_drift(p)
    a0 = np.array([0.5, -1.0j, 0.3])
    n = 20_000
    sim = Simulation(p, n_traj=n, dt=0.001, seed=8, classical=False, integrator="heun", alpha0=a0)
    # exact C(t): stationary C = ½ I solves the Lyapunov equation, so C(t) = ½ I at all t
    Q = np.diag(p.loss_profile() / 2)
    assert np.allclose(M * 0.5 + 0.5 * M.conj().T + Q, 0)
    Minv_b = solve(M, b)
    done = 0
    for t in (0.3, 1.0, 2.5):
        sim.run(round(t / 0.001) - done)
        done = round(t / 0.001)
        mu = expm(M * t) @ (a0 + Minv_b) - Minv_b
        exact = np.outer(mu, mu.conj()) + 0.5 * np.eye(p.L)
        a = sim.alpha()
        prod = a[:, None, :] * a[None, :, :].conj()  # α_l α_m*
        est = prod.mean(-1)
        se_re = prod.real.std(-1) / np.sqrt(n)
        se_im = prod.imag.std(-1) / np.sqrt(n)
        z_re = (est.real - exact.real) / se_re
        off = ~np.eye(p.L, dtype=bool)
        z_im = (est.imag - exact.imag)[off] / se_im[off]
        assert np.all(np.abs(z_re) < 4), (t, z_re)
        assert np.all(np.abs(z_im) < 4), (t, z_im)


def test_u0_coherence_is_full():
    """A product of coherent states has g1 = 1 between any two sites, Eq. (7)."""
    p = ChainParams(L=4, F=2.0, U=0.0)
    ds = twa.ness(p, n_traj=256, t_relax=40.0, t_avg=20.0, sample_every=0.5, seed=6, g1_centre=2)
    z = (ds["g1"].values - 1.0) / np.where(ds["g1_err"].values > 0, ds["g1_err"].values, 1.0)
    assert np.all(np.abs(z) < 4), z


def test_vacuum_wigner_histogram():
    """F = 0: the local Wigner function is W0 = (2/π) exp(-2|α|²), SI Eq. (33)."""
    from scipy.special import erf

    p = ChainParams(L=3, F=0.0)
    extent, bins = 1.5, 6
    ds = twa.ness(p, n_traj=512, t_relax=5.0, t_avg=20.0, sample_every=1.0, seed=2,
                  wigner_grid=(extent, bins))
    edges = np.linspace(-extent, extent, bins + 1)
    cdf = 0.5 * (1 + erf(edges * np.sqrt(2)))  # Re α ~ N(0, 1/4)
    pb = np.diff(cdf)
    area = (edges[1] - edges[0]) ** 2
    expected = np.outer(pb, pb) / area
    # lossy site 1: bin-count error bound from the independent trajectories only (the 20 time
    # samples of one trajectory are correlated; averaging them can only reduce the variance)
    w = ds["wigner"].isel(site=0).values
    n_eff = 512
    err = np.sqrt(expected * area / n_eff) / area
    assert np.all(np.abs(w - expected) < 4 * err + 1e-12)
