"""Wigner function of a Fock-diagonal (U(1)-symmetric) single-site state on a radial grid.

Convention (the TWA engine's, notes §1.4 and §2.1): the vacuum is W = (2/π) e^{−2|α|²}, so that
⟨|α|²⟩_W = n + ½. For ρ = Σ_n P(n)|n⟩⟨n| (notes §3.1, SI Eq. 48 and §2.6)

.. math::
    W(\\alpha)=\\sum_n P(n)\\,W_n(|\\alpha|^2),\\qquad
    W_n(u)=\\frac2\\pi(-1)^n e^{-2u}L_n(4u),\\qquad u=|\\alpha|^2 .

Because d²α = π du for a rotation-invariant function, the radial density in u is ρ(u) = π W(u)
(∫₀^∞ ρ du = 1), and the probability of the annulus u_k ≤ |α|² < u_{k+1} is integrated
**exactly**: with h_m(x) = (−1)^m e^{−x/2} L_m(x) one has d/dx(h_m + h_{m−1}) = −½(h_m − h_{m−1}),
which telescopes to the cumulative distribution of |n⟩,

.. math::
    F_n(u)=\\int_0^u\\pi W_n\\,du' = 1-2\\sum_{m<n}h_m(4u)-h_n(4u),

and for the mixture, with the tail sums Q_m = Σ_{n≥m} P(n),

.. math::
    F(u)=1-\\sum_m\\,(Q_m+Q_{m+1})\\,h_m(4u).

The h_m are evaluated by the three-term Laguerre recursion
(m+1)L_{m+1} = (2m+1−x)L_m − m L_{m−1}, carried with a running power-of-two scale so that
neither L_m(x) ~ x^m/m! (large x) nor e^{−x/2} overflows or underflows: stable at n ~ 10³
(|h_m| ≤ 1 for x ≥ 0). No factorials are formed.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..validate import finite_array

_RESCALE = 2.0 ** 500  # renormalise the recursion when |L_m| exceeds this


def _h_rows(n_max: int, x: np.ndarray) -> Iterator[np.ndarray]:
    """Yield h_m(x) = (−1)^m e^{−x/2} L_m(x) for m = 0..n_max (see :func:`laguerre_h`)."""
    log_scale = -0.5 * x  # h_m = (−1)^m L_m · exp(log_scale), L_m carried rescaled
    prev, cur = np.zeros_like(x), np.ones_like(x)
    yield np.exp(log_scale)
    for m in range(n_max):
        prev, cur = cur, ((2 * m + 1 - x) * cur - m * prev) / (m + 1)
        big = np.abs(cur) > _RESCALE
        if np.any(big):
            prev[big] /= _RESCALE
            cur[big] /= _RESCALE
            log_scale[big] += np.log(_RESCALE)
        sign = -1.0 if (m + 1) % 2 else 1.0
        with np.errstate(under="ignore", divide="ignore"):
            yield sign * np.sign(cur) * np.exp(np.log(np.abs(cur)) + log_scale)


def _x(x) -> np.ndarray:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if np.any(x < 0):
        raise ValueError("x must be >= 0")
    return x


def laguerre_h(n_max: int, x) -> np.ndarray:
    """h_m(x) = (−1)^m e^{−x/2} L_m(x) for m = 0..n_max, shape (n_max + 1, len(x)).

    Forward three-term recursion on L_m, rescaled by 2^{−500} whenever it grows past 2^{500}; the
    accumulated scale and e^{−x/2} are applied in log space, so each entry is exact to rounding
    even where L_m or e^{−x/2} alone would over/underflow.
    """
    x = _x(x)
    return np.stack(list(_h_rows(n_max, x)))


def laguerre_h_sum(coefficients: np.ndarray, x) -> np.ndarray:
    """Σ_m c_m h_m(x) without storing the rows (memory O(len(x)) for many points)."""
    x = _x(x)
    out = np.zeros_like(x)
    for c, row in zip(coefficients, _h_rows(len(coefficients) - 1, x)):
        out += c * row
    return out


def _populations(P) -> np.ndarray:
    P = finite_array("P", P, nonnegative=True)
    if P.ndim != 1 or P.size == 0:
        raise ValueError("P must be a non-empty 1-D array of populations P(n), n = 0..N")
    total = P.sum()
    if not np.isclose(total, 1.0, rtol=0, atol=1e-8):
        raise ValueError(f"P must sum to 1, got {total!r}")
    return P


def wigner_radial(P, u) -> np.ndarray:
    """W(u) = Σ_n P(n) (2/π)(−1)^n e^{−2u} L_n(4u) at u = |α|² (notes §3.1; SI Eq. 48).

    Parameters
    ----------
    P : array (N + 1,)
        Fock populations, summing to 1.
    u : array
        Points u = |α|² ≥ 0.

    Returns
    -------
    W at each u, same shape as ``u`` (a 2-D density in α: ∫ W d²α = 1).
    """
    P = _populations(P)
    u = finite_array("u", u, nonnegative=True)
    return (2.0 / np.pi * laguerre_h_sum(P, 4.0 * u.ravel())).reshape(u.shape)


def tail_sums(P: np.ndarray) -> np.ndarray:
    """Q_m = Σ_{n≥m} P(n) for m = 0..N+1 (Q_{N+1} = 0)."""
    return np.append(np.cumsum(P[::-1])[::-1], 0.0)


def cdf_weights(P: np.ndarray) -> np.ndarray:
    """c_m = Q_m + Q_{m+1}, so that F(u) = 1 − Σ_m c_m h_m(4u) (module docstring)."""
    Q = tail_sums(P)
    return Q[:-1] + Q[1:]


def radial_cdf(P, u) -> np.ndarray:
    """F(u) = ∫_{|α|²<u} W d²α, exactly: F(u) = 1 − Σ_m (Q_m + Q_{m+1}) h_m(4u).

    It is a probability only where W ≥ 0; for non-classical P(n) (e.g. a Fock state) it need not
    be monotone.
    """
    P = _populations(P)
    u = finite_array("u", u, nonnegative=True)
    return (1.0 - laguerre_h_sum(cdf_weights(P), 4.0 * u.ravel())).reshape(u.shape)


def _edges(u_edges) -> np.ndarray:
    e = finite_array("u_edges", u_edges, nonnegative=True)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("u_edges must be a 1-D increasing array of >= 2 bin edges in u = |α|²")
    return e


def annulus_probabilities(P, u_edges) -> np.ndarray:
    """Probability of each annulus u_k ≤ |α|² < u_{k+1}: ∫ W d²α = F(u_{k+1}) − F(u_k), exact.

    This is what a radial histogram of Wigner samples estimates (counts / samples). Entries can
    be negative where W < 0 (non-classical P(n)).
    """
    P = _populations(P)
    e = _edges(u_edges)
    return -np.diff(laguerre_h_sum(cdf_weights(P), 4.0 * e))


def annulus_mean_wigner(P, u_edges) -> np.ndarray:
    """Mean of W over each annulus, p_k / (π Δu_k): the rotation average of W on the bins, to
    compare with :func:`replicate.analysis.wigner_samples.radial_profile`."""
    e = _edges(u_edges)
    return annulus_probabilities(P, e) / (np.pi * np.diff(e))
