"""Estimators of quantum observables from truncated-Wigner samples (Ferrari et al. 2025, Methods table).

Symmetric ordering gives (§2.1 of the notes) ⟨a†a⟩ = ⟨|α|²⟩_W − ½, ⟨a†_c a_m⟩ = ⟨α*_c α_m⟩_W − ½δ_cm,
⟨a†²a²⟩ = ⟨|α|⁴⟩_W − 2⟨|α|²⟩_W + ½. The estimators below take Wigner *means* (``m2`` = ⟨|α|²⟩_W,
``m4`` = ⟨|α|⁴⟩_W, ``cos``/``sin`` = ⟨cos φ⟩/⟨sin φ⟩, ...), so that they can be applied to
leave-one-batch-out means; :func:`jackknife` turns batch sums into a value and an error
(for a linear estimator it is exactly the batch-means standard error).

``classical=True`` reads the samples as a classical field (the Gross-Pitaevskii limit, SI Eq. 35)
through the Glauber P representation, a mixture of coherent states: ⟨a†a⟩ = ⟨|α|²⟩,
⟨a†²a²⟩ = ⟨|α|⁴⟩, ⟨a†_c a_m⟩ = ⟨α*_c α_m⟩, with no ordering corrections. A field of fixed amplitude is
then Poissonian (δn = 0) and a Gaussian field thermal (δn = n), as for light.
"""
from __future__ import annotations

from typing import Callable, Mapping

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


def batch_sums(values: np.ndarray, n_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``values`` (..., n) over contiguous batches along the last axis.

    Returns (sums (..., n_batches), counts (n_batches,)); n_batches is capped at n.
    """
    n = values.shape[-1]
    nb = max(1, min(int(n_batches), n))
    starts = (np.arange(nb) * n) // nb
    sums = np.add.reduceat(values, starts, axis=-1)
    counts = np.diff(np.append(starts, n))
    return sums, counts


def jackknife(stat: Callable[[dict], Mapping[str, np.ndarray]], sums: Mapping[str, np.ndarray],
              counts: np.ndarray) -> tuple[dict, dict]:
    """Value and jackknife error of ``stat(means)`` over batches.

    ``sums[k]`` has shape (..., nb) (sum over the batch's trajectories of per-trajectory means),
    ``counts`` (nb,) trajectories per batch. The value is ``stat`` of the full means; the error
    is sqrt((nb−1)/nb Σ_i (θ_{−i} − θ̄)²) over leave-one-batch-out estimates (NaN if nb < 2).
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    full = stat({k: v.sum(-1) / total for k, v in sums.items()})
    nb = counts.size
    if nb < 2:
        return dict(full), {k: np.full(np.shape(v), np.nan) for k, v in full.items()}
    loo = stat({k: (v.sum(-1, keepdims=True) - v) / (total - counts) for k, v in sums.items()})
    err = {}
    for k, v in loo.items():
        v = np.asarray(v)
        if k == "mean_phase":  # circular quantity: deviations wrapped to (−π, π]
            dev = np.angle(np.exp(1j * (v - np.asarray(full[k])[..., None])))
            dev = dev - dev.mean(-1, keepdims=True)
        else:
            dev = v - v.mean(-1, keepdims=True)
        err[k] = np.sqrt((nb - 1) / nb * (dev * dev).sum(-1))
    return dict(full), err


def jackknife_dataset(ds, stat: Callable[[dict], Mapping[str, np.ndarray]]) -> tuple[dict, dict]:
    """Value and jackknife error of ``stat(means)`` for a Dataset carrying per-batch moment means,
    ``batch_means(moment, site, batch)`` with ``batch_count(batch)`` (from
    ``replicate.twa.ness(..., keep_batches=True)`` or ``replicate.local_stats.local_ness``).

    ``means`` maps each moment name to an array over sites (pooled) or (site, batch)
    (leave-one-batch-out); see :func:`columnwise` for statistics of a whole site profile.
    """
    counts = ds["batch_count"].values
    sums = {str(m): ds["batch_means"].sel(moment=m).values * counts for m in ds["moment"].values}
    return jackknife(stat, sums, counts)


def columnwise(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], np.ndarray]:
    """Lift a function of one site profile (1-d) to the (site,) or (site, batch) arrays that
    :func:`jackknife` passes to a statistic."""
    def lifted(x):
        x = np.asarray(x)
        return func(x) if x.ndim == 1 else np.array([func(c) for c in x.T])
    return lifted
