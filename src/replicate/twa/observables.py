"""Estimators of quantum observables from truncated-Wigner samples (Ferrari et al. 2025, Methods table).

Symmetric ordering gives (§2.1 of the notes) ⟨a†a⟩ = ⟨|α|²⟩_W − ½, ⟨a†_c a_m⟩ = ⟨α*_c α_m⟩_W − ½δ_cm,
⟨a†²a²⟩ = ⟨|α|⁴⟩_W − 2⟨|α|²⟩_W + ½. The estimators below take Wigner *means* (``m2`` = ⟨|α|²⟩_W,
``m4`` = ⟨|α|⁴⟩_W, ``cos``/``sin`` = ⟨cos φ⟩/⟨sin φ⟩, ...), so that they can be applied to
leave-one-batch-out means; :func:`replicate.stats.jackknife` turns batch sums into a value and an
error (for a linear estimator it is exactly the batch-means standard error).

``classical=True`` reads the samples as a classical field (the Gross-Pitaevskii limit, SI Eq. 35)
through the Glauber P representation, a mixture of coherent states: ⟨a†a⟩ = ⟨|α|²⟩,
⟨a†²a²⟩ = ⟨|α|⁴⟩, ⟨a†_c a_m⟩ = ⟨α*_c α_m⟩, with no ordering corrections. A field of fixed amplitude is
then Poissonian (δn = 0) and a Gaussian field thermal (δn = n), as for light.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

MOMENTS = ("m2", "m4", "re", "im", "cos", "sin")


def n_photons(m2, classical: bool = False):
    """Photon number n = ⟨|α|²⟩_W − ½ (classical field: ⟨|α|²⟩)."""
    return np.asarray(m2) - (0.0 if classical else 0.5)


def delta_n(m2, m4, classical: bool = False):
    """Mandel Q, Eq. (5): δn = [Var_W(|α|²) − ¼] / (⟨|α|²⟩_W − ½) − 1 (0 for a coherent state);
    classical field: Var(|α|²)/⟨|α|²⟩."""
    m2 = np.asarray(m2)
    if classical:
        return (np.asarray(m4) - m2 * m2) / m2
    return (np.asarray(m4) - m2 * m2 - 0.25) / (m2 - 0.5) - 1.0


def circular_variance(cos, sin):
    """Circular variance V = 1 − |⟨e^{iφ}⟩| (0: sharp phase, 1: uniform phase), §2.3."""
    return 1.0 - np.hypot(cos, sin)


def mean_phase(cos, sin):
    """Mean phase arg⟨e^{iφ}⟩ in (−π, π]."""
    return np.arctan2(sin, cos)


def g1(corr_re, corr_im, m2_centre, m2, same, classical: bool = False):
    """First-order coherence, Eq. (7): |⟨α*_c α_m⟩_W − ½δ_cm| / sqrt(n_c n_m).

    ``corr_re + i corr_im`` = ⟨α*_c α_m⟩_W, ``same`` = δ_cm (bool array or 0/1); classical field:
    no −½δ_cm.
    """
    c = np.asarray(corr_re) - (0.0 if classical else 0.5) * np.asarray(same, dtype=float)
    with np.errstate(invalid="ignore"):  # NaN when a sampled n is negative
        return np.hypot(c, corr_im) / np.sqrt(n_photons(m2_centre, classical) * n_photons(m2, classical))


def quadrature_second_moments(re2, im2):
    """⟨x̂²⟩ and ⟨p̂²⟩ of x = (a + a†)/√2, p = (a − a†)/(i√2) from the Wigner means ⟨(Re α)²⟩_W and
    ⟨(Im α)²⟩_W: x̂² and p̂² are symmetric, so their Weyl symbols are 2(Re α)², 2(Im α)² (SI §2.9).
    The vacuum gives ½ each. For a classical field these are the moments of x = √2 Re α,
    p = √2 Im α themselves (what SI Figs. 13-14 compare)."""
    return 2.0 * np.asarray(re2), 2.0 * np.asarray(im2)


def sample_means(alpha: np.ndarray, axis: int = -1) -> dict[str, np.ndarray]:
    """Wigner means of the moments in :data:`MOMENTS` from complex samples ``alpha``."""
    alpha = np.asarray(alpha)
    q = np.abs(alpha) ** 2
    phase = np.exp(1j * np.angle(alpha))
    return {"m2": q.mean(axis), "m4": (q * q).mean(axis), "re": alpha.real.mean(axis),
            "im": alpha.imag.mean(axis), "cos": phase.real.mean(axis), "sin": phase.imag.mean(axis)}


def standard(means: Mapping[str, np.ndarray], classical: bool = False) -> dict[str, np.ndarray]:
    """The standard observables from Wigner means: n, delta_n, circular_variance, mean_phase, field
    (``classical``: the P-representation reading of a classical field, see the module docstring)."""
    return {"n": n_photons(means["m2"], classical), "delta_n": delta_n(means["m2"], means["m4"], classical),
            "circular_variance": circular_variance(means["cos"], means["sin"]),
            "mean_phase": mean_phase(means["cos"], means["sin"]),
            "field_re": np.asarray(means["re"]), "field_im": np.asarray(means["im"])}


LOCAL_MOMENTS = MOMENTS + ("re2", "im2", "pm3", "pm4")
"""Per-trajectory Wigner means kept by :func:`replicate.twa.ness` with ``keep_batches=LOCAL_MOMENTS``: those of :data:`replicate.twa.observables.MOMENTS`,
⟨(Re α)²⟩, ⟨(Im α)²⟩, ⟨p³⟩, ⟨p⁴⟩."""


def momentum_stats(means: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean, variance and excess kurtosis of p = √2 Im α from Wigner means (``im``, ``im2``, ``pm3``, ``pm4``).

    Central moments from raw ones: μ₂ = ⟨p²⟩ − ⟨p⟩², μ₄ = ⟨p⁴⟩ − 4⟨p⟩⟨p³⟩ + 6⟨p⟩²⟨p²⟩ − 3⟨p⟩⁴;
    excess kurtosis κ = μ₄/μ₂² − 3 (0 for a Gaussian, −1.5 for a thin ring, −1.2 for a uniform P(p)).
    """
    p1 = np.sqrt(2.0) * np.asarray(means["im"])
    p2 = 2.0 * np.asarray(means["im2"])
    p3, p4 = np.asarray(means["pm3"]), np.asarray(means["pm4"])
    var = p2 - p1 * p1
    mu4 = p4 - 4.0 * p1 * p3 + 6.0 * p1 * p1 * p2 - 3.0 * p1 ** 4
    return {"p_mean": p1, "p_var": var, "p_kurtosis": mu4 / (var * var) - 3.0}


def local_observables(means: Mapping[str, np.ndarray], classical: bool = False) -> dict[str, np.ndarray]:
    """All site observables of :func:`replicate.twa.ness` with ``keep_batches=LOCAL_MOMENTS`` from the Wigner means in :data:`LOCAL_MOMENTS`.

    ``n``, ``delta_n`` (Eq. 5), ``circular_variance``, ``mean_phase``, ``field_re``, ``field_im``
    as in :func:`replicate.twa.observables.standard`; ``x2`` = ⟨x̂²⟩, ``p2`` = ⟨p̂²⟩; and
    :func:`momentum_stats`.
    """
    out = standard(means, classical)
    out["x2"], out["p2"] = quadrature_second_moments(means["re2"], means["im2"])
    out.update(momentum_stats(means))
    return out
