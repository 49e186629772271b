"""Statistics of site profiles, vectorised over trailing (resample) axes (used by the RNW
chapters, Ferrari et al. 2025, Fig. 6 and SI Fig. 18).

:func:`change_across` (the OLS change of a profile across the bulk), :func:`smallest_step` (the
smallest increase between consecutive blocks of the bulk: a monotonicity test robust to
site-to-site noise), :func:`g1_drop` (1 − ḡ(r_max)/ḡ(1), ḡ(r) the mean of the two sides at
distance r from the centre c), :func:`g1_decay_length` (ξ = −1/slope of ln g^(1) against r, both
sides), :func:`wrapped_rms` and :func:`relative_rms` (agreement of two profiles).
"""
from __future__ import annotations

import numpy as np

from ..validate import count
from .fits import ols


def bulk(y, edges) -> np.ndarray:
    """The rows of ``y`` (site, ...) without ``edges`` = (left, right) boundary sites."""
    y = np.asarray(y, dtype=float)
    left, right = (count("edges", e, minimum=0) for e in edges)
    if y.shape[0] - left - right < 2:
        raise ValueError(f"edges {edges!r} leave fewer than 2 of the {y.shape[0]} sites")
    return y[left:y.shape[0] - right]


def change_across(y, edges=(5, 5), relative: bool = False):
    """Change of the profile ``y`` (site, ...) across the bulk: the OLS slope over the bulk sites
    times (N_bulk − 1); ``relative``: divided by the bulk mean."""
    b = bulk(y, edges)
    slope, _ = ols(np.arange(b.shape[0], dtype=float), b)
    change = slope * (b.shape[0] - 1)
    return change / b.mean(0) if relative else change


def smallest_step(y, edges=(5, 5), parts: int = 4):
    """The smallest increase of the block means of ``y`` (site, ...) between consecutive blocks
    when the bulk is cut into ``parts`` contiguous blocks (> 0 for a profile that grows
    monotonically on the scale of a block)."""
    b = bulk(y, edges)
    parts = count("parts", parts, minimum=2)
    if b.shape[0] < parts:
        raise ValueError(f"the bulk has fewer than parts={parts} sites")
    blocks = np.stack([x.mean(0) for x in np.array_split(b, parts, axis=0)])
    return np.diff(blocks, axis=0).min(0)


def _sides(g, centre: int):
    g = np.asarray(g, dtype=float)
    L = g.shape[0]
    centre = count("centre", centre)
    r_max = min(centre - 1, L - centre)
    if r_max < 2:
        raise ValueError(f"centre {centre} leaves fewer than 2 sites on one side of the chain of {L}")
    r = np.arange(1, r_max + 1)
    return r, g[centre - 1 - r], g[centre - 1 + r]


def g1_drop(g, centre: int):
    """1 − ḡ(r_max)/ḡ(1), ḡ(r) = mean of g^(1)_{c,c±r} over the two sides, r_max = the largest
    distance on both sides (0 for a uniform g^(1), → 1 for a short-ranged one)."""
    _, left, right = _sides(g, centre)
    gbar = 0.5 * (left + right)
    return 1.0 - gbar[-1] / gbar[0]


def g1_decay_length(g, centre: int):
    """ξ = −1/s, s the OLS slope of ln g^(1)_{c,c±r} against r over r = 1..r_max on both sides
    (vectorised over trailing axes; ξ < 0 or huge when g^(1) does not decay)."""
    r, left, right = _sides(g, centre)
    x = np.concatenate([r, r]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.concatenate([left, right]))
        slope, _ = ols(x, y)
        return -1.0 / slope


def wrapped_rms(a, b):
    """√(mean over sites of the wrapped difference of two angle profiles²) (site, ...)."""
    d = np.angle(np.exp(1j * (np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))
    return np.sqrt((d * d).mean(0))


def relative_rms(a, b):
    """√(mean over sites of (a/b − 1)²) of two positive profiles (site, ...)."""
    d = np.asarray(a, dtype=float) / np.asarray(b, dtype=float) - 1.0
    return np.sqrt((d * d).mean(0))


def bulk_max(y, edges):
    """Largest value of ``y`` (site, ...) over the bulk sites."""
    return bulk(y, edges).max(0)
