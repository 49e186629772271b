"""Oracles for the second-order cumulant expansion (replicate.cumulants): exact limits, the
exact NESS at weak drive, and a dense NumPy oracle of the right-hand side.

The oracle below writes the closed equations of the ``replicate.cumulants`` docstring as dense
matrix products, dy/dt for y = (α, N, M) with N and M stored as full L×L matrices, integrated
with ``scipy.integrate.solve_ivp``.  It shares no code with the package's numba right-hand side
(tridiagonal loops on packed upper triangles), so agreement to round-off tests both.
"""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from replicate import cumulants as cu
from replicate.chain import ChainParams
from replicate.exact import chain_rates, linear_field, mandel_q


# ---- dense oracle ---------------------------------------------------------------------------

def rhs_factory(p: dict):
    """dy/dt of the closed equations (``p`` from :func:`replicate.exact.chain_rates`)."""
    L, U = p["L"], p["U"]
    hop = np.diag(np.ones(L - 1), 1) + np.diag(np.ones(L - 1), -1)
    A = 1j * p["Delta"] * np.eye(L) + 1j * p["J"] * hop - 0.5 * np.diag(p["gamma_site"])
    Ac, At = A.conj(), A.T
    f = p["F_site"].astype(complex)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        a, N, M = y[:L], y[L:L + L * L].reshape(L, L), y[L + L * L:].reshape(L, L)
        nd, md = np.diag(N).real, np.diag(M)
        a2 = np.abs(a) ** 2
        da = A @ a - 1j * f - 1j * U * (2 * nd * a + md * a.conj() - 2 * a2 * a)
        Hk = md.conj()[:, None] * M + 2 * nd[:, None] * N - 2 * np.outer(a2 * a.conj(), a)
        G = 2 * nd[:, None] * M + md[:, None] * N - 2 * np.outer(a2 * a, a)
        fa = np.outer(f, a)
        dN = Ac @ N + N @ At + 1j * (fa - fa.conj().T) + 1j * U * (Hk - Hk.conj().T)
        dM = A @ M + M @ At - 1j * (fa + fa.T) - 1j * U * (G + G.T + np.diag(md))
        return np.concatenate([da, dN.ravel(), dM.ravel()])

    return rhs


def site_moments(y: np.ndarray, L: int):
    """n_ℓ = N_ℓℓ, the Gaussian Kerr moment ⟨a†²a²⟩_ℓ = |M_ℓℓ|² + 2N_ℓℓ² − 2|α_ℓ|⁴ and α_ℓ."""
    a, N, M = y[:L], y[L:L + L * L], y[L + L * L:]
    nd, md = N[:: L + 1].real, M[:: L + 1]
    return nd, np.abs(md) ** 2 + 2 * nd**2 - 2 * np.abs(a) ** 4, a


def steady_state_dense(params, *, t_relax: float, t_avg: float, n_samples: int,
                       rtol: float = 1e-8, atol: float = 1e-10) -> dict[str, np.ndarray]:
    """Window averages n, δn (Eq. 37 from the averaged moments), field, std_t(n) per site."""
    p = chain_rates(params)
    L = p["L"]
    t_eval = np.linspace(t_relax, t_relax + t_avg, n_samples)
    sol = solve_ivp(rhs_factory(p), (0.0, t_relax + t_avg), np.zeros(L + 2 * L * L, complex),
                    method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
    assert sol.success and np.all(np.isfinite(sol.y)), sol.message
    n, n2, a = site_moments(sol.y, L)
    return {"n": n.mean(1), "delta_n": mandel_q(n.mean(1), n2.mean(1)), "field": a.mean(1),
            "n_window_std": n.std(1)}


# ---- tests ----------------------------------------------------------------------------------

def _physical_state(L, rng):
    """Random α, Hermitian N and symmetric M (the manifold the equations preserve)."""
    a = rng.normal(size=L) + 1j * rng.normal(size=L)
    X = rng.normal(size=(L, L)) + 1j * rng.normal(size=(L, L))
    return a, X.conj().T @ X + np.outer(a.conj(), a), 0.3 * X.T @ X + np.outer(a, a)


@pytest.mark.parametrize("kw", [dict(L=2, F=1.5), dict(L=5, F=3.0), dict(L=7, F=6.0, U=0.4),
                                dict(L=4, F=2.0, gamma_int=0.3), dict(L=3, F=0.7, drive="uniform")])
def test_rhs_equals_dense_oracle_to_roundoff(kw):
    p = chain_rates(ChainParams(**kw))
    L = p["L"]
    a, N, M = _physical_state(L, np.random.default_rng(L))
    y = cu.pack(a, N, M)
    out = np.empty_like(y)
    scratch = (np.empty((L, L), complex), np.empty((L, L), complex))
    cu.rhs(y, out, L, p["Delta"], p["J"], p["U"], p["gamma_site"], p["F_site"], *scratch)
    da, dN, dM = cu.unpack(out, L)
    ref = rhs_factory(p)(0.0, np.concatenate([a, N.ravel(), M.ravel()]))
    got = np.concatenate([da, dN.ravel(), dM.ravel()])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_pack_roundtrip():
    a, N, M = _physical_state(4, np.random.default_rng(0))
    a2, N2, M2 = cu.unpack(cu.pack(a, N, M), 4)
    np.testing.assert_array_equal(a2, a)
    np.testing.assert_allclose(N2, N, atol=1e-14)
    np.testing.assert_allclose(M2, M, atol=1e-14)
    assert cu.packed_size(4) == cu.pack(a, N, M).size


def test_coherent_moments_give_poissonian_kerr_moment():
    """Gaussian Kerr moment ⟨a†²a²⟩ = |M|² + 2N² − 2|α|⁴ equals |α|⁴ on a coherent state."""
    L, a = 3, np.array([0.3 + 1j, -2.0, 0.5j])
    n, n2, _ = site_moments(np.concatenate([a, np.outer(a.conj(), a).ravel(), np.outer(a, a).ravel()]), L)
    np.testing.assert_allclose(n, np.abs(a) ** 2)
    np.testing.assert_allclose(n2, np.abs(a) ** 4)


def test_kerr_conserves_photon_number_and_keeps_hermiticity():
    """With F = γ = J = 0 the Kerr term alone: d⟨a†a⟩/dt = 0 and dN/dt stays Hermitian."""
    p = chain_rates(ChainParams(L=3, F=0.0, J=0.0, gamma=0.0, U=0.7))
    a, N, M = _physical_state(3, np.random.default_rng(1))
    y = cu.pack(a, N, M)
    out = np.empty_like(y)
    cu.rhs(y, out, 3, p["Delta"], p["J"], p["U"], p["gamma_site"], p["F_site"],
           np.empty((3, 3), complex), np.empty((3, 3), complex))
    _, dN, _ = cu.unpack(out, 3)
    np.testing.assert_allclose(np.diag(dN), 0.0, atol=1e-12)
    ref = rhs_factory(p)(0.0, np.concatenate([a, N.ravel(), M.ravel()]))[3:12].reshape(3, 3)
    np.testing.assert_allclose(ref, ref.conj().T, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(L=2, F=1.5), dict(L=5, F=2.0), dict(L=3, F=1.0, gamma_int=0.3),
                                dict(L=4, F=0.7, drive="uniform"), dict(L=6, F=2.0)])
def test_exact_at_u0(kw):
    """U = 0: the equations are exact; NESS = coherent product state of the linear equations."""
    p = ChainParams(U=0.0, **kw)
    alpha = linear_field(p)
    ds = cu.steady_state(p, t_relax=600, t_avg=10, n_samples=11)
    np.testing.assert_allclose(ds.n, np.abs(alpha) ** 2, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ds.field, alpha, atol=1e-6)
    np.testing.assert_allclose(ds.delta_n, 0.0, atol=1e-6)


@pytest.mark.parametrize("kw", [dict(L=3, F=1.0), dict(L=5, F=2.0), dict(L=4, F=1.5, U=0.3)])
def test_steady_state_matches_dense_oracle(kw):
    """Stationary NESS (weak drive): the same fixed point as the dense scipy integration."""
    p = ChainParams(**kw)
    opts = dict(t_relax=120, t_avg=20, n_samples=21, rtol=1e-9, atol=1e-11)
    ref = steady_state_dense(p, **opts)
    got = cu.steady_state(p, **opts)
    np.testing.assert_allclose(got.n, ref["n"], rtol=1e-7)
    np.testing.assert_allclose(got.delta_n, ref["delta_n"], atol=1e-7)
    np.testing.assert_allclose(got.field, ref["field"], atol=1e-7)
    assert float(got.n_window_std.max()) < 1e-6


@pytest.mark.parametrize("L,F,U", [(2, 1.0, 0.1), (3, 1.0, 0.1), (2, 0.5, 0.3)])
def test_close_to_exact_at_weak_drive(L, F, U):
    """Weak drive, small U: Gaussian closure vs the exact NESS.

    The closure drops the third and fourth cumulants, which the Kerr term generates at rate
    ~U; at n ≲ 1 and U ≤ 0.3 (U·n ≪ Δ) we allow 0.5 % on n and 3·10⁻³ on δn (δn itself is
    ~10⁻²–10⁻¹ here).  Reference values: exact.steady_state (QuTiP operators), tolerance 1e-6.
    """
    pytest.importorskip("qutip")
    from replicate import exact

    p = ChainParams(L=L, F=F, U=U)
    c = cu.steady_state(p, t_relax=80, t_avg=20, n_samples=21)
    e = exact.steady_state(p, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(c.n, e.n, rtol=5e-3)
    np.testing.assert_allclose(c.delta_n, e.delta_n, atol=3e-3)
    assert float(c.n_window_std.max()) < 1e-4  # stationary at weak drive


def test_phase_map_matches_point_solver_and_flags_failures():
    base = ChainParams(L=2, F=1.0)
    opts = dict(t_relax=80, t_avg=20, n_samples=21)
    got = cu.phase_map(base, [2, 3], [0.5, 1.0], progress=False, **opts)
    assert bool(got.ok.all()) and got.n_L.dims == ("L", "F")
    for L in (2, 3):
        ref = steady_state_dense(base.with_(L=L, F=1.0), rtol=1e-7, atol=1e-9, **opts)
        assert float(got.n_L.sel(L=L, F=1.0)) == pytest.approx(ref["n"][-1], rel=1e-5)
        assert float(got.delta_n_L.sel(L=L, F=1.0)) == pytest.approx(ref["delta_n"][-1], abs=1e-5)
    np.testing.assert_allclose(got.n_L_series.isel(sample=-1), got.n_L, rtol=1e-3)
    assert set(got.data_vars) >= {"n_L_err", "delta_n_L_err", "n_L_window_std", "n_L_window_std_err"}
    short = cu.phase_map(base, [3], [1.0], max_steps=5, progress=False, **opts)  # cannot finish
    assert not bool(short.ok.any()) and int(short.status.item()) == cu.MAX_STEPS
    assert np.isnan(short.n_L.item())
    with pytest.raises(RuntimeError, match="max_steps"):
        cu.steady_state(base, max_steps=5, **opts)


def test_window_errors():
    """Stationary samples: zero errors; independent samples: the error of the mean ≈ σ/√N and
    the error of the std ≈ σ/√(2N) (batch means, Gaussian samples)."""
    flat = np.full((400, 2), 3.0)
    for e in cu.window_errors(flat, flat**2 + 0.5, 8):
        np.testing.assert_allclose(e, 0.0, atol=1e-12)
    rng = np.random.default_rng(3)
    n = 10.0 + rng.normal(size=(4000, 1))
    e_n, _, e_std = cu.window_errors(n, n**2, 40)
    assert 0.7 < float(e_n[0]) / (1 / np.sqrt(4000)) < 1.3
    assert 0.7 < float(e_std[0]) / (1 / np.sqrt(8000)) < 1.3


def test_bad_input():
    p = ChainParams(L=2, F=1.0)
    with pytest.raises(ValueError, match="t_avg"):
        cu.steady_state(p, t_avg=0.0)
    with pytest.raises(ValueError, match="t_relax"):
        cu.steady_state(p, t_relax=float("nan"))
    with pytest.raises(ValueError, match="rtol"):
        cu.steady_state(p, rtol=0.0)
    with pytest.raises(ValueError, match="t_avg"):
        cu.phase_map(p, [2], [1.0], t_avg=-1.0)
    with pytest.raises(ValueError, match="F_values"):
        cu.phase_map(p, [2], [])
    with pytest.raises(ValueError, match="n_blocks"):
        cu.phase_map(p, [2], [1.0], n_blocks=1)
