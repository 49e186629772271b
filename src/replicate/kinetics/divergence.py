"""How far the steady state is from its approximations: Kullback–Leibler divergence (Eq. 17),
the ratio R (Eq. B1) and their maps over (Δ, κ) (Figs. 2c, 5a, 5b), the largest relative
deviation of the occupations (Figs. 2a, 3c).

Logarithms are natural (nats); the paper does not state the base.  R does not depend on it.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm import tqdm

from .. import __version__
from ..validate import chain_length, finite_array, positive
from .solve import steady_state
from .spectrum import beta0
from .thermal import perturbative_steady_state


def kl_divergence(n_ref, n) -> float:
    """D_KL(p_ref ‖ p) = Σ_k p_ref,k ln(p_ref,k/p_k), p = n/Σn (Eq. 17, natural log).

    NaN when ``n`` has a non-positive or NaN entry (e.g. Eq. 15 outside its validity)."""
    n_ref = finite_array("n_ref", n_ref, nonnegative=True)
    n = np.asarray(n, dtype=float)
    if n.shape != n_ref.shape:
        raise ValueError("n and n_ref must have the same shape")
    if not np.all(np.isfinite(n)) or np.any(n <= 0):
        return float("nan")
    p_ref, p = n_ref / n_ref.sum(), n / n.sum()
    mask = p_ref > 0
    return float(np.sum(p_ref[mask] * np.log(p_ref[mask] / p[mask])))


def max_relative_deviation(n, n_ref) -> float:
    """max_k |n_k/n_ref,k − 1|: the largest relative deviation of the occupations ``n`` from a
    reference distribution (0 when they coincide), e.g. the steady state against Bose–Einstein
    at β0 (Fig. 2a) or n_{+Δ}(ω) against n_{−Δ}(−ω) (Fig. 3c)."""
    n, n_ref = finite_array("n", n), finite_array("n_ref", n_ref)
    if n.shape != n_ref.shape:
        raise ValueError("n and n_ref must have the same shape")
    if np.any(n_ref == 0):
        raise ValueError("n_ref must be non-zero")
    return float(np.max(np.abs(n / n_ref - 1.0)))


def kl_ratio(n_ss, n_be, n_pert) -> float:
    """R = D_KL(p∞ ‖ p_BE)/D_KL(p∞ ‖ p) (Eq. B1); R > 1 when Eq. (15) beats Bose–Einstein."""
    return kl_divergence(n_ss, n_be) / kl_divergence(n_ss, n_pert)


def divergence_map(Deltas, kappas, *, N: float = 50, L: int = 100, J: float = 1.0,
                   exact_overlap: bool = True, progress: bool = False) -> xr.Dataset:
    """Steady states over a (Δ, κ) grid and their distances to n_BE and to Eq. (15).

    Returns a Dataset with dims (Delta, kappa): ``kl_pert`` (Fig. 2c), ``kl_be`` (Fig. 5a),
    ``ratio`` R (Fig. 5b; NaN where Eq. 15 is invalid), ``valid`` (Eq. 15 positive
    everywhere), ``beta0_J`` (β0J), the steady-state ``residual`` and ``kl_flat``, the divergence
    from the uniform (infinite-temperature) distribution: a null model that ignores the bath.
    """
    Deltas = finite_array("Deltas", np.atleast_1d(Deltas))
    kappas = finite_array("kappas", np.atleast_1d(kappas))
    if np.any(kappas <= 0):
        raise ValueError("kappas must be > 0")
    N, L, J = positive("N", N), chain_length(L), positive("J", J)
    shape = (len(Deltas), len(kappas))
    out = {name: np.full(shape, np.nan) for name in ("kl_pert", "kl_be", "kl_flat", "ratio", "beta0_J",
                                                    "residual")}
    valid = np.zeros(shape, dtype=bool)
    grid = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
    for i, j in tqdm(grid, disable=not progress, desc="(Δ, κ) map", mininterval=5.0):
        D, k = Deltas[i], kappas[j]
        ss = steady_state(D, k, N=N, L=L, J=J, exact_overlap=exact_overlap)
        pert = perturbative_steady_state(D, k, N=N, L=L, J=J)
        n = ss["n"].values
        valid[i, j] = bool(pert.attrs["valid"])
        out["kl_be"][i, j] = kl_divergence(n, pert["n_be"].values)
        out["kl_flat"][i, j] = kl_divergence(n, np.ones_like(n))
        out["kl_pert"][i, j] = kl_divergence(n, pert["n_raw"].values) if valid[i, j] else np.nan
        out["ratio"][i, j] = out["kl_be"][i, j] / out["kl_pert"][i, j]
        out["beta0_J"][i, j] = beta0(D, k) * J
        out["residual"][i, j] = ss.attrs["residual"]
    ds = xr.Dataset({name: (("Delta", "kappa"), v) for name, v in out.items()},
                    coords={"Delta": Deltas, "kappa": kappas})
    ds["valid"] = (("Delta", "kappa"), valid)
    ds.attrs = {"N": float(N), "L": L, "J": J, "exact_overlap": int(exact_overlap), "log": "natural",
                "equation": "Ribeiro & Marquardt Eqs. (17), (B1)", "version": __version__}
    return ds
