"""Second-order cumulant expansion (Gaussian closure, M = 2) of the chain's Lindblad dynamics.

Ferrari et al., SI Eqs. (34) and (37).  The variables are the field α_ℓ = ⟨a_ℓ⟩ and the
normally ordered second moments N_ℓm = ⟨a_ℓ† a_m⟩ and M_ℓm = ⟨a_ℓ a_m⟩.  With
A = iΔ𝟙 + iJT − Γ/2 (T the nearest-neighbour adjacency matrix, Γ = diag γ_ℓ) and the drive
vector f_ℓ (F on site 1, or on every site for ``drive="uniform"``), the exact equations are

.. math::
    \\dot\\alpha = A\\alpha - i f - iU\\,\\langle a_\\ell^\\dagger a_\\ell a_\\ell\\rangle,\\qquad
    \\dot N = A^*N + NA^T + i(f\\alpha^T - \\alpha^* f^T) + iU(H - H^\\dagger),\\\\
    \\dot M = AM + MA^T - i(f\\alpha^T + \\alpha f^T) - iU(G + G^T + {\\rm diag}\\,M_{\\ell\\ell}),

with H_ℓm = ⟨a_ℓ†a_ℓ†a_ℓ a_m⟩ and G_ℓm = ⟨a_ℓ†a_ℓ a_ℓ a_m⟩ (the diag M term is the
commutator a_ℓ a_ℓ† = a_ℓ†a_ℓ + 1 in d(a_ℓ a_ℓ)).  Zero-temperature losses add no source
terms to normally ordered moments.  The Gaussian closure sets the third and fourth joint
cumulants to zero, so for normally ordered products

.. math::
    \\langle x_1x_2x_3\\rangle = \\sum_{\\rm 3\\ pairs}\\langle x_ix_j\\rangle\\mu_k - 2\\mu_1\\mu_2\\mu_3,\\qquad
    \\langle x_1x_2x_3x_4\\rangle = \\sum_{\\rm 3\\ pairings}\\langle x_ix_j\\rangle\\langle x_kx_l\\rangle
    - 2\\mu_1\\mu_2\\mu_3\\mu_4,

giving ⟨a†aa⟩ = 2N_ℓℓα_ℓ + M_ℓℓα_ℓ* − 2|α_ℓ|²α_ℓ, G_ℓm = 2N_ℓℓM_ℓm + M_ℓℓN_ℓm − 2|α_ℓ|²α_ℓα_m,
H_ℓm = M_ℓℓ*M_ℓm + 2N_ℓℓN_ℓm − 2|α_ℓ|²α_ℓ*α_m, and the Kerr moment of spec §1.6,
⟨a†²a²⟩ = |M_ℓℓ|² + 2N_ℓℓ² − 2|α_ℓ|⁴.  δn is Eq. (37): (⟨a†²a²⟩ − n²)/n.
At U = 0 the equations are exact.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp
from tqdm.auto import tqdm

from replicate import __version__
from replicate.chain import as_chain
from replicate.exact import chain_rates, mandel_q


def _drift_matrix(p: dict) -> np.ndarray:
    L = p["L"]
    hop = np.diag(np.ones(L - 1), 1) + np.diag(np.ones(L - 1), -1)
    return 1j * p["Delta"] * np.eye(L) + 1j * p["J"] * hop - 0.5 * np.diag(p["gamma_site"])


def _split(y: np.ndarray, L: int):
    return y[:L], y[L:L + L * L].reshape(L, L), y[L + L * L:].reshape(L, L)


def rhs_factory(p: dict):
    """The right-hand side dy/dt of the closed equations for y = (α, N, M) (complex)."""
    L, U = p["L"], p["U"]
    A = _drift_matrix(p)
    Ac, At = A.conj(), A.T
    f = p["F_site"].astype(complex)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        a, N, M = _split(y, L)
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


def site_moments(y: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n_ℓ = N_ℓℓ, the Gaussian Kerr moment ⟨a†²a²⟩_ℓ and the field α_ℓ (y has time last)."""
    a, N, M = y[:L], y[L:L + L * L], y[L + L * L:]
    nd = N[:: L + 1].real
    md = M[:: L + 1]
    n2 = np.abs(md) ** 2 + 2 * nd**2 - 2 * np.abs(a) ** 4
    return nd, n2, a


def _integrate(p: dict, t_relax: float, t_avg: float, n_samples: int, rtol: float,
               atol: float, method: str) -> dict[str, np.ndarray]:
    L = p["L"]
    y0 = np.zeros(L + 2 * L * L, complex)  # vacuum: all moments zero
    t_eval = np.linspace(t_relax, t_relax + t_avg, n_samples)
    sol = solve_ivp(rhs_factory(p), (0.0, t_relax + t_avg), y0, method=method, t_eval=t_eval,
                    rtol=rtol, atol=atol)
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise RuntimeError(f"cumulant integration failed for L={L}, F={p['F']}: {sol.message}")
    n, n2, a = site_moments(sol.y, L)
    n_bar, n2_bar = n.mean(axis=1), n2.mean(axis=1)
    return {"n": n_bar, "delta_n": mandel_q(n_bar, n2_bar), "field": a.mean(axis=1),
            "n_window_std": n.std(axis=1)}


def _check_times(t_relax: float, t_avg: float, n_samples: int) -> None:
    if not (np.isfinite(t_relax) and t_relax >= 0):
        raise ValueError(f"t_relax must be finite and >= 0, got {t_relax!r}")
    if not (np.isfinite(t_avg) and t_avg > 0):
        raise ValueError(f"t_avg must be finite and > 0, got {t_avg!r}")
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")


def _attrs(p: dict, **kw: Any) -> dict:
    attrs = {k: v for k, v in p.items() if k not in ("F_site", "gamma_site", "L", "F")}
    attrs.update(method="second-order cumulant expansion (Gaussian closure, M = 2), from vacuum",
                 version=__version__, **kw)
    return attrs


def steady_state(params: Any, *, t_relax: float = 200.0, t_avg: float = 200.0,
                 n_samples: int = 2001, rtol: float = 1e-8, atol: float = 1e-10,
                 method: str = "DOP853") -> xr.Dataset:
    """Cumulant-expansion NESS: integrate from vacuum, then average over a time window.

    Parameters
    ----------
    params : duck-typed ``ChainParams`` (``L, F, Delta, J, U, gamma[, gamma_int, drive]``).
    t_relax : transient discarded (units of 1/γ).
    t_avg : averaging window after ``t_relax``; the moments ⟨a†a⟩ and ⟨a†²a²⟩ are averaged
        over ``n_samples`` equally spaced times and δn is formed from the averages (as in
        SI Eq. (36)), because the closed dynamics may keep oscillating.
    rtol, atol, method : passed to :func:`scipy.integrate.solve_ivp`.

    Returns
    -------
    xarray.Dataset over ``site``: ``n``, ``delta_n`` (Eq. 37), ``field`` (time-averaged ⟨a⟩),
    ``n_window_std`` (standard deviation of n_ℓ(t) over the window: 0 for a stationary state).
    """
    p = chain_rates(params)
    _check_times(t_relax, t_avg, n_samples)
    r = _integrate(p, t_relax, t_avg, int(n_samples), rtol, atol, method)
    return xr.Dataset({k: ("site", v) for k, v in r.items()},
                      coords={"site": np.arange(1, p["L"] + 1)},
                      attrs=_attrs(p, L=p["L"], F=p["F"], t_relax=t_relax, t_avg=t_avg,
                                   n_samples=int(n_samples), rtol=rtol, atol=atol))


def phase_map(params: Any, L_values: Sequence[int], F_values: Sequence[float], *,
              t_relax: float = 500.0, t_avg: float = 500.0, n_samples: int = 2001,
              rtol: float = 1e-7, atol: float = 1e-9, progress: bool = True) -> xr.Dataset:
    """n_L and δn_L of the cumulant NESS over the (L, F) plane (SI Fig. 10).

    ``params`` supplies Δ, J, U, γ (and γ_int, drive); its L and F are ignored.  Points where
    the closed equations blow up are NaN and flagged ``ok = False`` (never silently).

    Returns
    -------
    xarray.Dataset with dims (``L``, ``F``): ``n_L``, ``delta_n_L``, ``n_L_window_std``, ``ok``.
    """
    _check_times(t_relax, t_avg, n_samples)
    Ls = np.asarray(L_values, int)
    Fs = np.asarray(F_values, float)
    if Ls.ndim != 1 or Fs.ndim != 1 or Ls.size == 0 or Fs.size == 0:
        raise ValueError("L_values and F_values must be non-empty 1-d sequences")
    out = {k: np.full((Ls.size, Fs.size), np.nan) for k in ("n_L", "delta_n_L", "n_L_window_std")}
    ok = np.zeros((Ls.size, Fs.size), bool)
    grid = [(i, j) for i in range(Ls.size) for j in range(Fs.size)]
    for i, j in tqdm(grid, desc="cumulant (L, F) map", disable=not progress):
        p = chain_rates(as_chain(params).with_(L=int(Ls[i]), F=float(Fs[j])))
        try:
            r = _integrate(p, t_relax, t_avg, int(n_samples), rtol, atol, "DOP853")
        except RuntimeError:
            continue
        out["n_L"][i, j], out["delta_n_L"][i, j] = r["n"][-1], r["delta_n"][-1]
        out["n_L_window_std"][i, j] = r["n_window_std"][-1]
        ok[i, j] = True
    p0 = chain_rates(as_chain(params).with_(L=int(Ls[0]), F=float(Fs[0])))
    data = {k: (("L", "F"), v) for k, v in out.items()}
    data["ok"] = (("L", "F"), ok)
    return xr.Dataset(data, coords={"L": Ls, "F": Fs},
                      attrs=_attrs(p0, t_relax=t_relax, t_avg=t_avg, n_samples=int(n_samples),
                                   rtol=rtol, atol=atol))
