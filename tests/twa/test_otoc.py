"""Phase OTOC, Eqs. (6)/(15)."""
import numpy as np

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa import kernels
from replicate.twa.kernels import BLOCK

P = ChainParams(L=6, F=6.0)


def test_zero_kick_gives_zero_and_replicas_share_noise():
    ds = twa.otoc(P, eps=0.0, n_traj=50, t_relax=2.0, times=np.arange(0, 5.01, 0.5), seed=1)
    assert np.all(ds["D"].values == 0.0)  # identical replicas under identical noise


def test_kick_at_tau_zero_and_growth():
    eps = 1e-3
    ds = twa.otoc(P, site=2, eps=eps, n_traj=40, t_relax=2.0, times=[0.0, 3.0], seed=2)
    d0 = ds["D"].isel(tau=0).values
    assert np.allclose(d0[1], 1 - np.cos(eps), rtol=1e-6)
    assert np.all(d0[[0, 2, 3, 4, 5]] == 0.0)
    assert np.all(ds["D"].isel(tau=1).values > 0)


def test_independent_uniform_phases_give_one():
    rng = np.random.default_rng(0)
    nb, L = 40, 3
    phase = rng.uniform(0, 2 * np.pi, (nb, L + 2, BLOCK))
    r = rng.uniform(0.5, 2.0, (nb, L + 2, BLOCK))
    out = np.empty((L, nb * BLOCK // 2))
    kernels.pair_decorrelation(r * np.cos(phase), r * np.sin(phase), out)
    d = out
    assert np.all(np.abs(d.mean(1) - 1) < 4 * d.std(1) / np.sqrt(d.shape[1]))


def test_saturation_window():
    ds = twa.otoc(P, n_traj=64, t_relax=1.0, times=np.arange(0, 10.01, 0.5), seed=3)
    sat = twa.otoc_saturation(ds, window=4.0)
    manual = ds["D"].sel(tau=slice(6.0, None)).mean("tau")
    assert np.allclose(sat["D_sat"].values, manual.values)
    assert np.all(sat["D_sat_err"].values > 0)


def test_decorrelation_is_exact_for_tiny_and_opposite_angles():
    """1 − cos θ to full relative precision at θ = 1e-9 (the naive form gives 0) and at θ = π."""
    L = 2
    theta = np.zeros((1, L + 2, BLOCK))
    theta[0, 1, BLOCK // 2:] = 1e-9
    theta[0, 2, BLOCK // 2:] = np.pi
    r = np.full((1, L + 2, BLOCK), 3.0)
    out = np.empty((L, BLOCK // 2))
    kernels.pair_decorrelation(r * np.cos(theta), r * np.sin(theta), out)
    assert np.allclose(out[0], 0.5e-18, rtol=1e-6)
    assert np.allclose(out[1], 2.0, rtol=1e-15)
