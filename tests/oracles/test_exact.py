"""Oracles for the exact small-chain Lindblad solver (replicate.exact)."""
import sys

import numpy as np
import pytest
from scipy.linalg import expm

pytest.importorskip("qutip")
from replicate import exact  # noqa: E402
from replicate.chain import ChainParams  # noqa: E402


@pytest.mark.parametrize("kw", [dict(L=2, F=1.5), dict(L=3, F=1.0),
                                dict(L=2, F=1.0, gamma_int=0.2),
                                dict(L=3, F=0.7, drive="uniform")])
def test_u0_is_coherent_product(kw):
    """U = 0: the NESS is the product of coherent states α_ℓ of the linear equations."""
    p = ChainParams(U=0.0, **kw)
    alpha = exact.linear_field(p)
    ds = exact.steady_state(p, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(ds.n, np.abs(alpha) ** 2, atol=1e-8)
    np.testing.assert_allclose(ds.field, alpha, atol=1e-8)
    np.testing.assert_allclose(ds.delta_n, 0.0, atol=1e-8)
    assert ds.attrs["converged"] == "True" and ds.attrs["n_max"] >= 1


@pytest.mark.parametrize("F,U", [(1.0, 0.1), (1.0, 0.5), (0.5, 1.0)])
def test_single_kerr_site_drummond_walls(F, U):
    """L = 2 with J = 0: site 1 is the driven Kerr oscillator, site 2 stays in the vacuum."""
    p = ChainParams(L=2, F=F, J=0.0, U=U)
    ds = exact.steady_state(p, atol=1e-5, rtol=1e-5)
    n, q = exact.kerr_oscillator(F, p.Delta, U, p.gamma)
    assert ds.n.values[0] == pytest.approx(n, rel=1e-4)
    assert ds.delta_n.values[0] == pytest.approx(q, abs=1e-4)
    assert abs(ds.n.values[1]) < 1e-10


def test_frame_does_not_change_the_answer():
    """The displaced frame is an exact change of variables: same NESS with and without it."""
    p = ChainParams(L=2, F=1.0, U=0.1)
    a = exact.steady_state(p, n_max=10, frame=None)
    b = exact.steady_state(p, n_max=10)
    # the two frames truncate differently: agreement to the truncation error at n_max = 10
    np.testing.assert_allclose(a.n, b.n, rtol=1e-5)
    np.testing.assert_allclose(a.delta_n, b.delta_n, atol=1e-4)


def test_evolve_u0_matches_linear_dynamics():
    """U = 0 from a coherent start: α(t) = α_ss + e^{At}(α0 − α_ss), n = |α|², δn = 0."""
    p = ChainParams(L=2, F=0.8, U=0.0)
    alpha0 = np.array([0.3 + 0.2j, -0.4j])
    t = np.linspace(0.0, 4.0, 9)
    ds = exact.evolve(p, t, n_max=8, alpha0=alpha0)
    A = 1j * p.Delta * np.eye(2) + 1j * p.J * np.array([[0, 1], [1, 0]]) - 0.5 * np.diag(p.loss_profile())
    a_ss = exact.linear_field(p)
    alpha_t = np.array([a_ss + expm(A * s) @ (alpha0 - a_ss) for s in t])
    np.testing.assert_allclose(ds.field, alpha_t, atol=1e-5)
    np.testing.assert_allclose(ds.n, np.abs(alpha_t) ** 2, atol=1e-5)
    np.testing.assert_allclose(ds.delta_n.isel(time=slice(1, None)), 0.0, atol=1e-4)


def test_not_converged_raises():
    with pytest.raises(RuntimeError, match="not converged"):
        exact.steady_state(ChainParams(L=2, F=3.0, U=0.3), max_dim=50)


def test_bad_input():
    p = ChainParams(L=2, F=1.0)
    with pytest.raises(ValueError, match="n_max"):
        exact.steady_state(p, n_max=0)
    with pytest.raises(ValueError, match="frame"):
        exact.steady_state(p, frame=[1.0])
    with pytest.raises(ValueError, match="times"):
        exact.evolve(p, [1.0, 0.5], n_max=4)


def test_missing_qutip_gives_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "qutip", None)  # makes `import qutip` raise ImportError
    with pytest.raises(RuntimeError, match="pip install"):
        exact.steady_state(ChainParams(L=2, F=1.0), n_max=3)


def test_cutoff_ladder_converges_to_the_coherent_u0_state_and_reports_the_change():
    p = ChainParams(L=2, F=3.0, Delta=2.5, J=2.0, U=0.0, gamma=1.0)
    beta = exact.linear_field(p)
    ds = exact.cutoff_ladder(p, (2, 3), frame=beta)   # U = 0: the exact frame leaves the vacuum
    np.testing.assert_allclose(ds.n, np.abs(beta) ** 2, rtol=1e-8)
    assert ds.n_ladder.sizes["n_max"] == 2 and float(ds.n_trunc.max()) < 1e-8
    wrong = exact.cutoff_ladder(p, (2, 4), frame=0.5 * beta)   # a poor frame: truncation shows
    assert float(wrong.n_trunc.max()) > 1e-3
    with pytest.raises(ValueError, match="cutoffs"):
        exact.cutoff_ladder(p, (3,), frame=beta)
