"""Local U(1)-symmetric models of one site: Fock populations P(n), n = 0..n_cut.

Every model commutes with n̂, so its state is Fock-diagonal and fixed by P(n) (notes §3.1–3.3).
Rates are in units of the one-photon loss κ_d; the overall rate scale, the dephasing κ_φ and the
local Hamiltonian drop out of the impurity steady states (notes §3.2).

``gibbs`` (Eqs. 8, 9, 48)
    ρ ∝ exp[−(Ĥ − μ n̂)/T] with Ĥ = (U/2) â†â†ââ, so P(n) ∝ exp{[μ n − (U/2) n(n−1)]/T}
    (the quadratic −Δ n̂ is absorbed into μ; U is fixed to the simulation value, default 0.1).
    P(n) depends on μ/T and U/T only: the fixed U sets the unit of T and μ (a fit with U → cU
    returns cT, cμ and the same μ/T and χ²). As T → ∞ at fixed μ/T < 0 it tends to the thermal
    state, so a thermal W is fitted at T → ∞ (``beta`` on its bound 0).
``gaussian``
    The U = 0 Gibbs state, a thermal (geometric) P(n) ∝ e^{n μ/T}, μ/T < 0: its Wigner function is
    a Gaussian of variance n̄ + ½ with n̄ = 1/(e^{−μ/T} − 1). Only μ/T is identifiable; T and μ
    separately are not (they enter only through their ratio when U = 0).
``two_photon`` (Eqs. 10, 41)
    Jumps √κ_p â†, √κ_d â, √κ_φ n̂, √κ_2 â²: a birth–death chain n → n+1 at κ_p(n+1),
    n → n−1 at κ_d n and n → n−2 at κ_2 n(n−1). The two-photon jump skips a rung, so detailed
    balance between neighbours does **not** hold; what holds exactly (no up-jump is longer than
    one rung) is zero net probability flux through every cut between n and n+1:

    .. math:: \\kappa_p(n+1)p_n=[\\kappa_d+\\kappa_2 n](n+1)p_{n+1}+\\kappa_2(n+2)(n+1)p_{n+2},

    which is global balance rewritten. It is solved downward from the cutoff as a continued
    fraction for r_n = p_n/p_{n+1} (all terms positive: no cancellation, no overflow). With the
    cutoff's up-jump removed this is the exact null vector of the truncated rate matrix.
``scully_lamb`` (Eq. 42; the pump operator is a guess, notes §3.3)
    Jumps √κ_d â, √κ_φ n̂ and the saturated pump

    .. math:: \\hat L_p=\\sqrt{\\kappa_p}\\,\\hat a^\\dagger\\big[1+\\tfrac{s}{\\kappa_p}\\hat a\\hat a^\\dagger\\big]^{-1/2},

    whose gain rate n → n+1 is κ_p(n+1)/[1 + s(n+1)/κ_p] (:func:`scully_lamb_gain`), the
    all-orders Scully–Lamb gain; to first order in s it is (n+1)[κ_p − s(n+1)], the form the notes
    reconstruct. **Why this choice:** the first-order rate turns negative above n+1 = κ_p/s, and
    the notes' operator √κ_p â†(1 − s â â†/2κ_p) has gain κ_p(n+1)(1 − s(n+1)/2κ_p)², which
    vanishes there and then grows ∝ n³, so it has no normalisable steady state (the Fock cutoff
    would decide the answer). The saturated form is a genuine Lindblad operator, bounded gain,
    unique NESS for every s > 0, and equal to both at weak saturation, s(n̄+1) ≪ κ_p (Eq. 43). It is
    a one-step chain, so neighbour detailed balance is exact:
    p_{n+1}/p_n = (κ_p/κ_d)/[1 + s(n+1)/κ_p].

Cutoff: P(n) is evaluated on 0..N with N doubling from 64 until the tail mass beyond the
returned cutoff n_cut (the mass above n_cut inside the window, plus a geometric extrapolation of
the last ratio beyond it) is below ``tail_tol`` and n_cut ≤ N/2 (so a truncated chain's top
boundary is far from the mass). The returned :class:`Populations` carries n_cut and that tail
mass (``truncation``); ``truncation = inf`` means the tail did not decay by ``n_max``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..validate import count, finite, positive

MODELS = ("gibbs", "gaussian", "two_photon", "scully_lamb")
PARAMETERS: dict[str, tuple[str, ...]] = {
    "gibbs": ("T", "mu"),
    "gaussian": ("mu_over_T",),
    "two_photon": ("kappa_p_over_kappa_d", "kappa_2_over_kappa_d"),
    "scully_lamb": ("kappa_p_over_kappa_d", "s_over_kappa_d"),
}
"""Fitted parameters of each model (rates in units of κ_d)."""

U_SIMULATION = 0.1
"""The Kerr U of the paper (γ = 1), used by the Gibbs ansatz (U fixed, notes §3.1)."""

TAIL_TOL = 1e-12
N_MAX = 5000
_N_START = 64


@dataclass(frozen=True)
class Populations:
    """Fock populations P(n), n = 0..n_cut (normalised), and the neglected tail mass."""

    P: np.ndarray
    n_cut: int
    truncation: float

    @property
    def n_mean(self) -> float:
        """⟨n̂⟩ = Σ n P(n)."""
        return float(np.arange(self.P.size) @ self.P)


def check_model(model: str) -> str:
    """``model`` if it is one of :data:`MODELS`; ``ValueError`` listing them otherwise."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    return model


def _adaptive(log_weights: Callable[[int], np.ndarray], tail_tol: float, n_max: int) -> Populations:
    """Grow the window 0..N until the tail beyond n_cut ≤ N/2 is below ``tail_tol``."""
    N = min(_N_START, n_max)
    while True:
        lw = log_weights(N)
        p = np.exp(lw - lw.max())
        p /= p.sum()
        ratio = p[-1] / p[-2] if p[-2] > 0 else 0.0
        beyond = p[-1] * ratio / (1.0 - ratio) if ratio < 1.0 else math.inf
        tail = np.append(np.cumsum(p[::-1])[::-1][1:], 0.0) + beyond  # mass above each n
        ok = np.flatnonzero(tail < tail_tol)
        if ok.size and ok[0] <= N // 2:
            n_cut = int(ok[0])
            break
        if N >= n_max:
            n_cut = N
            break
        N = min(2 * N, n_max)
    P = p[: n_cut + 1] / p[: n_cut + 1].sum()
    return Populations(P=P, n_cut=n_cut, truncation=float(tail[n_cut]))


def _options(tail_tol: float, n_max: int) -> tuple[float, int]:
    return positive("tail_tol", tail_tol), count("n_max", n_max, minimum=2)


def gibbs_populations(T: float, mu: float, *, U: float = U_SIMULATION, tail_tol: float = TAIL_TOL,
                      n_max: int = N_MAX) -> Populations:
    """Gibbs state of the Kerr site, Eqs. (8, 9, 48): P(n) ∝ exp{[μ n − (U/2) n(n−1)]/T}.

    T > 0; U ≥ 0 (for U = 0 this is the thermal state and needs μ < 0).
    """
    return gibbs_populations_beta(finite("mu", mu) / positive("T", T), 1.0 / T, U=U,
                                  tail_tol=tail_tol, n_max=n_max)


def gibbs_populations_beta(mu_over_T: float, beta: float, *, U: float = U_SIMULATION,
                           tail_tol: float = TAIL_TOL, n_max: int = N_MAX) -> Populations:
    """Gibbs populations in the fit's variables (μ/T, β = 1/T ≥ 0): log P(n) = (μ/T) n −
    β (U/2) n(n−1) + const. β = 0 is the T → ∞ limit at fixed μ/T (the thermal state)."""
    a, beta = finite("mu_over_T", mu_over_T), positive("beta", beta, allow_zero=True)
    half_u = 0.5 * positive("U", U, allow_zero=True)

    def log_w(N: int) -> np.ndarray:
        n = np.arange(N + 1, dtype=float)
        return a * n - beta * half_u * n * (n - 1.0)

    return _adaptive(log_w, *_options(tail_tol, n_max))


def gaussian_populations(mu_over_T: float, *, tail_tol: float = TAIL_TOL,
                         n_max: int = N_MAX) -> Populations:
    """Thermal state (the U = 0 Gibbs state): P(n) = (1 − q) qⁿ, q = e^{μ/T} < 1."""
    a = finite("mu_over_T", mu_over_T)
    if a >= 0:
        raise ValueError(f"mu_over_T must be < 0 for the U = 0 (gaussian) model, got {mu_over_T!r}")
    return _adaptive(lambda N: a * np.arange(N + 1, dtype=float), *_options(tail_tol, n_max))


def thermal_mu_over_T(n_mean: float) -> float:
    """μ/T of the thermal state with ⟨n̂⟩ = n_mean: μ/T = −ln(1 + 1/n̄)."""
    return -math.log1p(1.0 / positive("n_mean", n_mean))


def two_photon_log_weights(a: float, b: float, N: int) -> np.ndarray:
    """log p_n (unnormalised) of the 2-photon chain truncated at N, a = κ_p/κ_d, b = κ_2/κ_d.

    Cut balance (module docstring) divided by κ_p(n+1): r_n = p_n/p_{n+1} =
    [1 + b n + b (n+2)/r_{n+1}]/a, with 1/r_N = 0 (no level above N).
    """
    log_r = np.empty(N)
    inv_r = 0.0
    for n in range(N - 1, -1, -1):
        r = (1.0 + b * n + b * (n + 2) * inv_r) / a
        log_r[n] = math.log(r)
        inv_r = 1.0 / r
    return np.append(np.cumsum(log_r[::-1])[::-1], 0.0)


def two_photon_populations(kappa_p_over_kappa_d: float, kappa_2_over_kappa_d: float, *,
                           tail_tol: float = TAIL_TOL, n_max: int = N_MAX) -> Populations:
    """NESS of the 2-photon-decay impurity model, Eqs. (10, 41) (module docstring).

    κ_p = 0 gives the vacuum. κ_2 = 0 is the thermal state with e^{μ/T} = κ_p/κ_d (Eq. 11), which
    needs κ_p < κ_d; for κ_p ≥ κ_d the photon number saturates only through κ_2 > 0.
    """
    a = positive("kappa_p_over_kappa_d", kappa_p_over_kappa_d, allow_zero=True)
    b = positive("kappa_2_over_kappa_d", kappa_2_over_kappa_d, allow_zero=True)
    tail_tol, n_max = _options(tail_tol, n_max)
    if a == 0.0:
        return Populations(P=np.ones(1), n_cut=0, truncation=0.0)
    return _adaptive(lambda N: two_photon_log_weights(a, b, N), tail_tol, n_max)


def scully_lamb_gain(n, kappa_p: float, s: float):
    """Gain rate n → n+1 of the saturated pump (module docstring): κ_p(n+1)/[1 + s(n+1)/κ_p].

    Equals |⟨n+1|L̂_p|n⟩|² for L̂_p = √κ_p â†[1 + (s/κ_p) â â†]^{−1/2}; (n+1)[κ_p − s(n+1)] to
    first order in s.
    """
    m = np.asarray(n, dtype=float) + 1.0
    return kappa_p * m / (1.0 + s * m / kappa_p)


def scully_lamb_populations(kappa_p_over_kappa_d: float, s_over_kappa_d: float, *,
                            tail_tol: float = TAIL_TOL, n_max: int = N_MAX) -> Populations:
    """NESS of the generalized Scully–Lamb model, Eq. (42), saturated pump (module docstring):
    P(n) ∝ Π_{k=1}^{n} (κ_p/κ_d)/(1 + s k/κ_p) (exact neighbour detailed balance).

    s = 0 is the thermal state (needs κ_p < κ_d); s > 0 saturates at any κ_p.
    """
    a = positive("kappa_p_over_kappa_d", kappa_p_over_kappa_d, allow_zero=True)
    s = positive("s_over_kappa_d", s_over_kappa_d, allow_zero=True)
    tail_tol, n_max = _options(tail_tol, n_max)
    if a == 0.0:
        return Populations(P=np.ones(1), n_cut=0, truncation=0.0)

    def log_w(N: int) -> np.ndarray:
        k = np.arange(1, N + 1, dtype=float)
        steps = np.log(scully_lamb_gain(k - 1.0, a, s) / k)  # gain(k−1)/(κ_d k), κ_d = 1
        return np.append(0.0, np.cumsum(steps))

    return _adaptive(log_w, tail_tol, n_max)


def populations(model: str, params: Mapping[str, float], *, U: float = U_SIMULATION,
                tail_tol: float = TAIL_TOL, n_max: int = N_MAX) -> Populations:
    """P(n) of ``model`` (one of :data:`MODELS`) at ``params`` keyed by :data:`PARAMETERS`."""
    check_model(model)
    missing = [k for k in PARAMETERS[model] if k not in params]
    if missing:
        raise ValueError(f"params for {model!r} must have {PARAMETERS[model]}; missing {missing}")
    opts = {"tail_tol": tail_tol, "n_max": n_max}
    if model == "gibbs":
        return gibbs_populations(params["T"], params["mu"], U=U, **opts)
    if model == "gaussian":
        return gaussian_populations(params["mu_over_T"], **opts)
    if model == "two_photon":
        return two_photon_populations(params["kappa_p_over_kappa_d"],
                                      params["kappa_2_over_kappa_d"], **opts)
    return scully_lamb_populations(params["kappa_p_over_kappa_d"], params["s_over_kappa_d"], **opts)


def detailed_balance_ratio(mu_over_T: float) -> float:
    """κ_p/κ_d = e^{μ/T}, Eqs. (11, 44): the one-photon bath (κ_p, κ_d) at temperature T and
    chemical potential μ (Kerr shift of the photon energy neglected, notes §3.4)."""
    return math.exp(finite("mu_over_T", mu_over_T))


def detailed_balance_mu_over_T(kappa_p_over_kappa_d: float) -> float:
    """μ/T = ln(κ_p/κ_d), the inverse of :func:`detailed_balance_ratio` (Eqs. 11, 44).

    For the Scully–Lamb model this is the quantity compared in Fig. 4(d) (a guess, notes §3.4):
    its pump is not the adjoint of the loss, so no temperature follows from detailed balance.
    """
    return math.log(positive("kappa_p_over_kappa_d", kappa_p_over_kappa_d))
