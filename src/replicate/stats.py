"""Error bars of stochastic estimates: batch sums and the jackknife over batches of trajectories.

The one resampling implementation of the package. A driver reduces its per-trajectory values to
sums over ``n_batches`` contiguous batches of whole trajectories (:func:`batch_sums`); any
statistic of the pooled means then gets the leave-one-batch-out jackknife error
(:func:`jackknife`), which for a linear statistic is exactly the batch-means standard error and
for a nonlinear one (a ratio, a maximum, an argmax, a fitted slope) is the standard
delete-a-group jackknife. Derived quantities of a Dataset that carries its batch means (from
``replicate.twa.ness(..., keep_batches=True)`` or an OTOC) go through :func:`jackknife_dataset`.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

def batch_index(n: int, n_batches: int) -> np.ndarray:
    """Batch (0..nb−1) of each of ``n`` samples in the contiguous batches of :func:`batch_sums`
    (n_batches capped at n): the one partition every histogram and sum of the package uses."""
    nb = max(1, min(int(n_batches), int(n)))
    return np.repeat(np.arange(nb), np.diff(np.append((np.arange(nb) * n) // nb, n)))


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
              counts: np.ndarray, *, vectorized: bool = True,
              circular: tuple[str, ...] = ("mean_phase",)) -> tuple[dict, dict]:
    """Value and jackknife error of ``stat(means)`` over batches.

    ``sums[k]`` has shape (..., nb) (sum over the batch's trajectories of per-trajectory means),
    ``counts`` (nb,) trajectories per batch. The value is ``stat`` of the full means; the error
    is sqrt((nb−1)/nb Σ_i (θ_{−i} − θ̄)²) over the leave-one-batch-out estimates θ_{−i} (NaN if
    nb < 2, and NaN where a resample is NaN, e.g. a threshold that one resample never reaches).

    ``vectorized=True`` calls ``stat`` once with every leave-one-out mean stacked on a trailing
    batch axis (fast; ``stat`` must broadcast over it); ``vectorized=False`` calls it once per
    batch with arrays of the pooled shape (for statistics that are not array functions: fits,
    crossings, maxima). Entries named in ``circular`` are angles: their deviations are wrapped to
    (−π, π].
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    full = {k: np.asarray(v) for k, v in stat({k: v.sum(-1) / total for k, v in sums.items()}).items()}
    nb = counts.size
    if nb < 2:
        return full, {k: np.full(np.shape(v), np.nan) for k, v in full.items()}
    if vectorized:
        loo = stat({k: (v.sum(-1, keepdims=True) - v) / (total - counts) for k, v in sums.items()})
        loo = {k: np.asarray(v) for k, v in loo.items()}
    else:
        each = [stat({k: (v.sum(-1) - v[..., b]) / (total - counts[b]) for k, v in sums.items()})
                for b in range(nb)]
        loo = {k: np.stack([np.asarray(e[k], dtype=float) for e in each], axis=-1) for k in full}
    err = {}
    for k, v in loo.items():
        if k in circular:  # deviations wrapped to (−π, π]
            dev = np.angle(np.exp(1j * (v - full[k][..., None])))
            dev = dev - dev.mean(-1, keepdims=True)
        else:
            dev = v - v.mean(-1, keepdims=True)
        err[k] = np.sqrt((nb - 1) / nb * (dev * dev).sum(-1))
    return full, err


def jackknife_dataset(ds, stat: Callable[[dict], Mapping[str, np.ndarray]]) -> tuple[dict, dict]:
    """Value and jackknife error of ``stat(means)`` for a Dataset carrying per-batch moment means,
    ``batch_means(moment, site, batch)`` with ``batch_count(batch)`` (from
    ``replicate.twa.ness(..., keep_batches=True)``).

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


def median_with_error(values, errors) -> tuple[float, float]:
    """Median over points with independent errors, and its standard error.

    For N points with typical error σ̄ = sqrt(mean σ²) the median of N values scatters by
    sqrt(π/2) σ̄ / √N (the asymptotic efficiency of the median of a Gaussian sample); that is
    the error returned. Raises ``ValueError`` on an empty selection.
    """
    v, e = np.asarray(values, float).ravel(), np.asarray(errors, float).ravel()
    if v.size == 0 or v.shape != e.shape:
        raise ValueError("median_with_error needs a non-empty selection with one error per value")
    return float(np.median(v)), float(np.sqrt(np.pi / 2) * np.sqrt(np.mean(e * e) / v.size))


def difference(a: float, a_err: float, b: float, b_err: float) -> tuple[float, float]:
    """a − b of two *independent* estimates (different trajectories or seeds) and its error
    sqrt(σ_a² + σ_b²). Estimates from the same trajectories are correlated: resample them
    together with :func:`jackknife` instead."""
    return float(a - b), float(np.hypot(a_err, b_err))


def ratio(a: float, a_err: float, b: float, b_err: float) -> tuple[float, float]:
    """a / b of two *independent* estimates and its first-order error
    |a/b| sqrt((σ_a/a)² + (σ_b/b)²) (valid while σ_b ≪ |b|; ``ValueError`` if b = 0)."""
    if b == 0:
        raise ValueError("ratio: the denominator estimate is 0")
    r = a / b
    return float(r), float(np.hypot(a_err / b, r * b_err / b))
