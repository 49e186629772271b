"""The compiled cumulant integrator (replicate.cumulants_fast) against replicate.cumulants."""
import numpy as np
import pytest

from replicate import cumulants
from replicate import cumulants_fast as cf
from replicate.chain import ChainParams
from replicate.exact import chain_rates, linear_field


def _physical_state(L, rng):
    """Random α, Hermitian N and symmetric M (the manifold the equations preserve)."""
    a = rng.normal(size=L) + 1j * rng.normal(size=L)
    X = rng.normal(size=(L, L)) + 1j * rng.normal(size=(L, L))
    return a, X.conj().T @ X + np.outer(a.conj(), a), 0.3 * X.T @ X + np.outer(a, a)


@pytest.mark.parametrize("kw", [dict(L=2, F=1.5), dict(L=5, F=3.0), dict(L=7, F=6.0, U=0.4),
                                dict(L=4, F=2.0, gamma_int=0.3), dict(L=3, F=0.7, drive="uniform")])
def test_rhs_equals_reference_to_roundoff(kw):
    p = chain_rates(ChainParams(**kw))
    L = p["L"]
    a, N, M = _physical_state(L, np.random.default_rng(L))
    y = cf.pack(a, N, M)
    out = np.empty_like(y)
    scratch = (np.empty((L, L), complex), np.empty((L, L), complex))
    cf.rhs(y, out, L, p["Delta"], p["J"], p["U"], p["gamma_site"], p["F_site"], *scratch)
    da, dN, dM = cf.unpack(out, L)
    ref = cumulants.rhs_factory(p)(0.0, np.concatenate([a, N.ravel(), M.ravel()]))
    got = np.concatenate([da, dN.ravel(), dM.ravel()])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_pack_roundtrip():
    a, N, M = _physical_state(4, np.random.default_rng(0))
    a2, N2, M2 = cf.unpack(cf.pack(a, N, M), 4)
    np.testing.assert_array_equal(a2, a)
    np.testing.assert_allclose(N2, N, atol=1e-14)
    np.testing.assert_allclose(M2, M, atol=1e-14)
    assert cf.packed_size(4) == cf.pack(a, N, M).size


@pytest.mark.parametrize("kw", [dict(L=3, F=1.0), dict(L=5, F=2.0), dict(L=4, F=1.5, U=0.3)])
def test_steady_state_matches_reference(kw):
    """Stationary NESS (weak drive): the same fixed point as the scipy DOP853 reference."""
    p = ChainParams(**kw)
    opts = dict(t_relax=120, t_avg=20, n_samples=21, rtol=1e-9, atol=1e-11)
    ref = cumulants.steady_state(p, **opts)
    got = cf.steady_state(p, **opts)
    np.testing.assert_allclose(got.n, ref.n, rtol=1e-7)
    np.testing.assert_allclose(got.delta_n, ref.delta_n, atol=1e-7)
    np.testing.assert_allclose(got.field, ref.field, atol=1e-7)
    assert float(got.n_window_std.max()) < 1e-6


def test_exact_at_u0():
    p = ChainParams(L=6, F=2.0, U=0.0)
    ds = cf.steady_state(p, t_relax=600, t_avg=10, n_samples=11)
    alpha = linear_field(p)
    np.testing.assert_allclose(ds.n, np.abs(alpha) ** 2, rtol=1e-6)
    np.testing.assert_allclose(ds.delta_n, 0.0, atol=1e-6)


def test_phase_map_matches_reference_and_flags_failures():
    base = ChainParams(L=2, F=1.0)
    opts = dict(t_relax=80, t_avg=20, n_samples=21, progress=False)
    ref = cumulants.phase_map(base, [2, 3], [0.5, 1.0], **opts)
    got = cf.phase_map(base, [2, 3], [0.5, 1.0], **opts)
    assert bool(got.ok.all()) and got.n_L.dims == ("L", "F")
    np.testing.assert_allclose(got.n_L, ref.n_L, rtol=1e-5)
    np.testing.assert_allclose(got.delta_n_L, ref.delta_n_L, atol=1e-5)
    np.testing.assert_allclose(got.n_L_series.isel(sample=-1), got.n_L, rtol=1e-3)
    short = cf.phase_map(base, [3], [1.0], max_steps=5, **opts)  # cannot finish: flagged
    assert not bool(short.ok.any()) and int(short.status.item()) == cf.MAX_STEPS
    assert np.isnan(short.n_L.item())
    with pytest.raises(RuntimeError, match="max_steps"):
        cf.steady_state(base, t_relax=80, t_avg=20, n_samples=21, max_steps=5)


def test_window_errors():
    """Stationary samples: zero error; independent samples: error ≈ σ/√N (batch means)."""
    flat = np.full((400, 2), 3.0)
    e_n, e_dn = cf.window_errors(flat, flat**2 + 0.5, 8)
    np.testing.assert_allclose(e_n, 0.0, atol=1e-12)
    np.testing.assert_allclose(e_dn, 0.0, atol=1e-12)
    rng = np.random.default_rng(3)
    n = 10.0 + rng.normal(size=(4000, 1))
    e_n, _ = cf.window_errors(n, n**2, 40)
    assert 0.7 < float(e_n[0]) / (1 / np.sqrt(4000)) < 1.3


def test_bad_input():
    p = ChainParams(L=2, F=1.0)
    with pytest.raises(ValueError, match="rtol"):
        cf.steady_state(p, rtol=0.0)
    with pytest.raises(ValueError, match="t_avg"):
        cf.phase_map(p, [2], [1.0], t_avg=-1.0)
    with pytest.raises(ValueError, match="F_values"):
        cf.phase_map(p, [2], [])
    with pytest.raises(ValueError, match="n_blocks"):
        cf.phase_map(p, [2], [1.0], n_blocks=1)
