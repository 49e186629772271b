"""Exact Lindblad steady states and dynamics of small chains (QuTiP), for validation only.

Model: the Bose–Hubbard chain of Ferrari et al., Eq. (2),

.. math::
    \\hat H=\\sum_\\ell\\big[-\\Delta\\hat n_\\ell+\\tfrac U2\\hat a_\\ell^{\\dagger2}\\hat a_\\ell^2\\big]
    -J\\sum_\\ell(\\hat a_\\ell^\\dagger\\hat a_{\\ell+1}+{\\rm h.c.})+F(\\hat a_1+\\hat a_1^\\dagger),

with the Lindblad equation (1)/(3) (loss :math:`\\sqrt\\gamma\\,\\hat a` on sites 1 and L), the
intrinsic loss of SI Eq. (49) (:math:`\\sqrt{\\gamma_{\\rm int}}\\,\\hat a` on every site) and the
uniformly driven chain of SI Eqs. (38)–(39) (``drive="uniform"``: F and γ on every site).

The Fock space is truncated at ``n_max`` photons per site.  To keep that cutoff small at
larger drives the problem is solved in a *displaced frame*: with :math:`\\hat a_\\ell=\\beta_\\ell+
\\hat b_\\ell` (an exact unitary change of variables) the Hamiltonian and the jump operators are
written in terms of the truncated :math:`\\hat b_\\ell`; the truncation then only has to hold the
fluctuations around :math:`\\beta`.  The steady state is the null vector of the Liouvillian with
the trace condition, found by GMRES preconditioned with the exact inverse of the no-jump part
(dense d×d algebra, d = (n_max+1)^L).  The cost grows like
:math:`d^3` per GMRES iteration: this is for L = 2, 3 at weak to moderate drive.

QuTiP is imported lazily; without it the functions raise a ``RuntimeError`` saying how to
install it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import xarray as xr

from replicate import __version__
from replicate.chain import as_chain

INSTALL_HINT = "replicate.exact needs QuTiP: pip install 'replicate[test]' (or pip install qutip)"


def _qutip():
    try:
        import qutip
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(INSTALL_HINT) from exc
    return qutip


def chain_rates(params: Any) -> dict[str, Any]:
    """Validated parameters of a chain given as a ``ChainParams`` or any object with the same
    attributes (``gamma_int`` and ``drive`` optional), as a dict with the per-site drive
    amplitudes ``F_site`` and total loss rates ``gamma_site`` added.

    Validation is :class:`replicate.chain.ChainParams`'s: a bad value raises ``ValueError``
    naming it.
    """
    params = as_chain(params)
    p = params.as_dict()
    p["F_site"], p["gamma_site"] = params.drive_profile(), params.loss_profile()
    return p


def linear_field(params: Any) -> np.ndarray:
    """The U = 0 steady-state field ⟨a_ℓ⟩ (exact: the U = 0 NESS is a coherent product state).

    Solves :math:`0=-i[-\\Delta\\alpha_\\ell-J(\\alpha_{\\ell+1}+\\alpha_{\\ell-1})+F_\\ell]
    -\\tfrac{\\gamma_\\ell}{2}\\alpha_\\ell` (Eq. (34) at U = 0).
    """
    p = chain_rates(params)
    L = p["L"]
    hop = np.diag(np.ones(L - 1), 1) + np.diag(np.ones(L - 1), -1)
    K = -p["Delta"] * np.eye(L) - p["J"] * hop - 0.5j * np.diag(p["gamma_site"])
    return np.linalg.solve(K, -p["F_site"].astype(complex))


def _operators(p: dict, n_max: int, beta: np.ndarray):
    """Displaced site operators a_ℓ = β_ℓ + b_ℓ, Hamiltonian and jump operators."""
    qt = _qutip()
    L, N = p["L"], n_max + 1
    eye = qt.qeye(N).to("CSR")
    one = qt.tensor([eye] * L)
    a = []
    for site in range(L):
        b = qt.tensor([qt.destroy(N).to("CSR") if k == site else eye for k in range(L)])
        a.append(b + complex(beta[site]) * one)
    H = 0 * one
    for site, x in enumerate(a):
        xd = x.dag()
        H += -p["Delta"] * xd * x + 0.5 * p["U"] * xd * xd * x * x + p["F_site"][site] * (x + xd)
    for site in range(L - 1):
        H += -p["J"] * (a[site].dag() * a[site + 1] + a[site + 1].dag() * a[site])
    c_ops = [np.sqrt(g) * a[site] for site, g in enumerate(p["gamma_site"]) if g > 0]
    return a, H, c_ops


def _solve_null(H, c_ops, shift: float = 0.1) -> np.ndarray:
    """ρ with L[ρ] = 0 and Tr ρ = 1, by preconditioned GMRES on dense d×d matrices.

    Solves the non-singular system L[X] + w·Tr(X)·P = w·P (P = projector on the first basis
    state; Tr L[X] = 0 makes X = ρ_ss its unique solution), right-preconditioned with the
    inverse of the no-jump part S[X] = −i(H_eff X − X H_eff†) − σX, applied exactly through
    the eigendecomposition of H_eff = H − (i/2)Σ c†c.  Each iteration costs a few d³ matrix
    products, far cheaper than a sparse LU of the d²×d² Liouvillian.
    """
    from scipy.sparse.linalg import LinearOperator, gmres

    Hm = H.full()
    cs = [c.full() for c in c_ops]
    d = Hm.shape[0]
    heff = Hm - 0.5j * sum(c.conj().T @ c for c in cs)
    lam, V = np.linalg.eig(heff)
    Vinv = np.linalg.inv(V)
    denom = -1j * (lam[:, None] - lam[None, :].conj()) - shift
    w = float(np.mean(np.abs(Hm[Hm != 0]))) if np.any(Hm) else 1.0

    def lindblad(X):
        out = -1j * (heff @ X - X @ heff.conj().T)
        for c in cs:
            out += c @ X @ c.conj().T
        out[0, 0] += w * np.trace(X)
        return out

    def precond(Y):
        return V @ ((Vinv @ Y @ Vinv.conj().T) / denom) @ V.conj().T

    shape = (d * d, d * d)
    A = LinearOperator(shape, matvec=lambda y: lindblad(precond(y.reshape(d, d))).ravel(),
                       dtype=complex)
    rhs = np.zeros((d, d), complex)
    rhs[0, 0] = w
    y, info = gmres(A, rhs.ravel(), rtol=1e-11, atol=0.0, restart=80, maxiter=30)
    if info != 0:
        raise RuntimeError(f"exact steady state: GMRES did not converge (info={info}, d={d})")
    rho = precond(y.reshape(d, d))
    rho = 0.5 * (rho + rho.conj().T)
    return rho / np.trace(rho).real


def _observables(rho, a, n_max: int, L: int) -> dict[str, np.ndarray]:
    qt = _qutip()
    dims = [[n_max + 1] * L, [n_max + 1] * L]
    r = qt.Qobj(rho, dims=dims)
    n = np.array([qt.expect(x.dag() * x, r) for x in a]).real
    n2 = np.array([qt.expect(x.dag() * x.dag() * x * x, r) for x in a]).real
    field = np.array([qt.expect(x, r) for x in a])
    top = []
    for site in range(L):
        proj = qt.tensor([qt.fock_dm(n_max + 1, n_max) if k == site else qt.qeye(n_max + 1)
                          for k in range(L)])
        top.append(qt.expect(proj, r).real)
    return {"n": n, "n2": n2, "field": field, "p_top": np.array(top)}


def mandel_q(n: np.ndarray, n2: np.ndarray, n_floor: float = 1e-12) -> np.ndarray:
    """δn = (⟨a†²a²⟩ − n²)/n, Eq. (5) (equal to (⟨n̂²⟩ − n²)/n − 1).

    Set to 0 (its n → 0 limit) where n < ``n_floor``: a site in the vacuum, where the ratio
    is 0/0 at round-off level.
    """
    n = np.asarray(n, float)
    out = np.zeros_like(n)
    np.divide(np.asarray(n2, float) - n**2, n, out=out, where=n >= n_floor)
    return out


def _solve_at(p: dict, n_max: int, beta: np.ndarray) -> dict[str, Any]:
    a, H, c_ops = _operators(p, n_max, beta)
    rho = _solve_null(H, c_ops)
    return _observables(rho, a, n_max, p["L"])


def steady_state(params: Any, *, n_max: int | None = None, frame: str | Sequence[complex] | None = "auto",
                 atol: float = 1e-3, rtol: float = 1e-3, n_start: int = 4,
                 max_dim: int = 400) -> xr.Dataset:
    """Exact Lindblad steady state of a small chain, with an automatic Fock cutoff.

    Parameters
    ----------
    params : duck-typed ``ChainParams`` (``L, F, Delta, J, U, gamma[, gamma_int, drive]``).
    n_max : Fock cutoff per site (photons in the displaced frame).  ``None`` (default): start
        at ``n_start`` and raise the cutoff by one until two successive cutoffs give n_ℓ and
        δn_ℓ that differ by less than ``atol + rtol·|x|`` on every site.
    frame : displacement β_ℓ of the frame.  ``"auto"``: the U = 0 coherent field for the first
        cutoff, then the field ⟨a_ℓ⟩ of the previous cutoff; ``None``: no displacement; or an
        explicit array of L complex numbers.  The converged result does not depend on it.
    atol, rtol : convergence tolerance on n_ℓ and δn_ℓ between successive cutoffs.
    n_start : first cutoff tried when ``n_max`` is None.
    max_dim : budget on the Hilbert-space dimension (n_max+1)^L (time ∝ d³, memory ∝ d²);
        the search stops with a ``RuntimeError`` when the next cutoff would exceed it.

    Returns
    -------
    xarray.Dataset over ``site`` (1..L): ``n`` = ⟨a†a⟩, ``delta_n`` (Mandel Q, Eq. 5),
    ``field`` = ⟨a⟩, ``p_top`` (population of the highest kept Fock level, a truncation
    diagnostic); attrs: the parameters, ``n_max`` used, ``converged``, ``convergence_change``
    (largest change between the last two cutoffs), ``frame_re``/``frame_im``. No wall time: the
    Dataset is a pure function of its arguments (the results store records how long it took).
    """
    p = chain_rates(params)
    L = p["L"]
    if atol < 0 or rtol < 0:
        raise ValueError("atol and rtol must be >= 0")
    if isinstance(frame, str):
        if frame != "auto":
            raise ValueError(f"frame must be 'auto', None or an array of L values, got {frame!r}")
        beta = linear_field(params)
    elif frame is None:
        beta = np.zeros(L, complex)
    else:
        beta = np.asarray(frame, complex)
        if beta.shape != (L,) or not np.all(np.isfinite(beta)):
            raise ValueError(f"frame must hold L = {L} finite values")
    auto_frame = isinstance(frame, str)

    if n_max is not None:
        if int(n_max) != n_max or n_max < 1:
            raise ValueError(f"n_max must be an integer >= 1, got {n_max!r}")
        if (int(n_max) + 1) ** L > max_dim:
            raise ValueError(f"n_max={int(n_max)} with L={L} gives a Hilbert space of dimension "
                             f"(n_max+1)^L = {(int(n_max) + 1) ** L}, above max_dim={max_dim}; "
                             "lower n_max or raise max_dim")
        res = _solve_at(p, int(n_max), beta)
        return _dataset(p, res, int(n_max), beta, converged=None, change=np.nan)
    if int(n_start) != n_start or n_start < 1:
        raise ValueError(f"n_start must be an integer >= 1, got {n_start!r}")
    prev, cut, change = None, int(n_start), np.inf
    while True:
        if (cut + 1) ** L > max_dim:
            raise RuntimeError(
                f"exact steady state not converged within max_dim={max_dim} (L={L}, F={p['F']}, "
                f"last cutoff {cut - 1}, last change {change:.3g} > atol={atol}, rtol={rtol}); "
                "lower the drive, raise max_dim, or loosen the tolerance")
        res = _solve_at(p, cut, beta)
        if prev is not None:
            dn = np.abs(res["n"] - prev["n"]) - rtol * np.abs(res["n"])
            dq = np.abs(mandel_q(res["n"], res["n2"]) - mandel_q(prev["n"], prev["n2"]))
            dq -= rtol * np.abs(mandel_q(res["n"], res["n2"]))
            change = float(max(dn.max(), dq.max()))
            if change <= atol:
                return _dataset(p, res, cut, beta, converged=True, change=change + 0.0)
        prev = res
        if auto_frame:
            beta = res["field"]
        cut += 1


def _dataset(p: dict, res: dict, n_max: int, beta: np.ndarray, *, converged,
             change: float) -> xr.Dataset:
    site = np.arange(1, p["L"] + 1)
    attrs = {k: v for k, v in p.items() if k not in ("F_site", "gamma_site")}
    attrs.update(method="exact Lindblad steady state (QuTiP operators, preconditioned GMRES)", n_max=n_max,
                 converged=str(converged), convergence_change=float(change),
                 frame_re=beta.real.tolist(),
                 frame_im=beta.imag.tolist(), version=__version__)
    return xr.Dataset(
        {"n": ("site", res["n"]), "delta_n": ("site", mandel_q(res["n"], res["n2"])),
         "field": ("site", res["field"]), "p_top": ("site", res["p_top"])},
        coords={"site": site}, attrs=attrs)


def cutoff_ladder(params: Any, cutoffs: Sequence[int], *, frame: Sequence[complex]) -> xr.Dataset:
    """Exact steady state at several Fock cutoffs in one displaced frame, with its truncation error.

    For the coherent regime (tens of photons per site), where the search of
    :func:`steady_state` would need cutoffs beyond its budget: the frame ``frame`` (e.g. the TWA
    steady-state field ⟨a_ℓ⟩) leaves only the fluctuations to the truncated operators, and the
    answer is followed over the increasing ``cutoffs`` (each solved with
    ``steady_state(..., n_max=k)``).

    Returns the Dataset of :func:`steady_state` at the largest cutoff plus, over the new dimension
    ``n_max``, ``n_ladder`` and ``delta_n_ladder`` (every cutoff), and ``n_trunc``,
    ``delta_n_trunc``: the change between the last two cutoffs, our estimate of the remaining
    truncation error. It is an upper bound when the change shrinks at least geometrically with
    ratio ≤ 1/2 from one cutoff to the next (check it on the ladder: the chapter plots it).
    """
    cuts = [int(k) for k in cutoffs]
    if len(cuts) < 2 or any(b <= a for a, b in zip(cuts, cuts[1:])) or cuts[0] < 1:
        raise ValueError(f"cutoffs must be at least two increasing integers >= 1, got {cutoffs!r}")
    L = chain_rates(params)["L"]
    runs = [steady_state(params, n_max=k, frame=frame, max_dim=(k + 1) ** L) for k in cuts]
    out = runs[-1].copy()
    for var in ("n", "delta_n"):
        ladder = xr.concat([r[var] for r in runs], dim="n_max").assign_coords(n_max=cuts)
        out[f"{var}_ladder"] = ladder
        out[f"{var}_trunc"] = np.abs(ladder.isel(n_max=-1) - ladder.isel(n_max=-2))
    return out


def kerr_oscillator(F: float, Delta: float, U: float, gamma: float, n_terms: int = 3000) -> tuple[float, float]:
    """Exact NESS of one driven Kerr mode, H = −Δa†a + (U/2)a†²a² + F(a + a†), loss γ:
    (n, δn) from the complex-P solution of Drummond & Walls, J. Phys. A 13, 725 (1980),

    ⟨a†^j a^j⟩ = g^{2j} S(j)/S(0),  S(j) = Σ_n z^n / (n! |Γ(c + j + n)|²),
    c = −(2Δ + iγ)/U,  g = 2F/U,  z = 2g²,

    and δn = (⟨a†²a²⟩ − n²)/n (Eq. 5). An oracle independent of any Fock truncation.
    """
    from scipy.special import gammaln, loggamma, logsumexp

    for name, v in (("F", F), ("Delta", Delta), ("U", U), ("gamma", gamma)):
        if not np.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v!r}")
    if U <= 0 or gamma <= 0:
        raise ValueError("U and gamma must be > 0")
    c, g = -(2 * Delta + 1j * gamma) / U, 2 * F / U
    n = np.arange(n_terms)

    def log_s(j: int) -> float:
        return logsumexp(n * np.log(2 * g * g) - gammaln(n + 1) - 2 * loggamma(c + j + n).real)

    m1, m2 = (g ** (2 * j) * np.exp(log_s(j) - log_s(0)) for j in (1, 2))
    return float(m1), float((m2 - m1**2) / m1)


def evolve(params: Any, times: Sequence[float], *, n_max: int,
           alpha0: Sequence[complex] | None = None) -> xr.Dataset:
    """Exact Lindblad dynamics (QuTiP ``mesolve``) from the vacuum or a coherent product state.

    Parameters
    ----------
    params : duck-typed ``ChainParams``.
    times : output times (increasing, starting at the initial time).
    n_max : Fock cutoff per site (no displacement: check convergence by rerunning).
    alpha0 : coherent amplitudes of the initial product state; ``None`` = vacuum.

    Returns
    -------
    xarray.Dataset over (``time``, ``site``) with ``n``, ``delta_n``, ``field``.
    """
    qt = _qutip()
    p = chain_rates(params)
    L = p["L"]
    if int(n_max) != n_max or n_max < 1:
        raise ValueError(f"n_max must be an integer >= 1, got {n_max!r}")
    times = np.asarray(times, float)
    if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError("times must be an increasing 1-d sequence of at least two values")
    alpha0 = np.zeros(L, complex) if alpha0 is None else np.asarray(alpha0, complex)
    if alpha0.shape != (L,) or not np.all(np.isfinite(alpha0)):
        raise ValueError(f"alpha0 must hold L = {L} finite values")
    a, H, c_ops = _operators(p, int(n_max), np.zeros(L, complex))
    psi0 = qt.tensor([qt.coherent(int(n_max) + 1, complex(z)) for z in alpha0])
    e_ops = [x.dag() * x for x in a] + [x.dag() * x.dag() * x * x for x in a] + list(a)
    out = qt.mesolve(H, psi0, times, c_ops, e_ops=e_ops,
                     options={"atol": 1e-9, "rtol": 1e-7, "nsteps": 100000})
    ex = np.array(out.expect)
    n, n2, field = ex[:L].real.T, ex[L:2 * L].real.T, ex[2 * L:].T
    attrs = {k: v for k, v in p.items() if k not in ("F_site", "gamma_site")}
    attrs.update(method="exact Lindblad dynamics (QuTiP mesolve)", n_max=int(n_max),
                 alpha0_re=alpha0.real.tolist(), alpha0_im=alpha0.imag.tolist(),
                 version=__version__)
    return xr.Dataset({"n": (("time", "site"), n), "delta_n": (("time", "site"), mandel_q(n, n2)),
                       "field": (("time", "site"), field)},
                      coords={"time": times, "site": np.arange(1, L + 1)}, attrs=attrs)
