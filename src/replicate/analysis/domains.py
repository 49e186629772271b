"""Sizes of the nonthermal, prethermal and thermal domains along the chain and their growth
with L (Ferrari et al. 2025, Fig. 4(e)).

* :func:`domain_sizes` — the number of sites in each domain
  (:func:`replicate.analysis.local.classify_domains`) with jackknife errors over trajectory batches;
* :func:`length_scan` runs the chains of Fig. 4(e), :func:`domain_scaling` fits the sizes
  against L, :func:`domain_series` lists one domain along L, :func:`domain_share` gives the
  fraction of a chain in some domains, :func:`domain_summary` prints them.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from .. import stats
from ..twa import observables as obs
from ..validate import count
from . import fits, local
from .compare import quantized


def domain_sizes(ness: xr.Dataset, *, V_sym: float = 0.9,
                 kappa_c: float = local.KAPPA_RING) -> tuple[dict[str, float], dict[str, float]]:
    """Number of sites in each of :data:`replicate.analysis.local.DOMAINS` and its error.

    Sites are labelled by :func:`replicate.analysis.local.classify_domains` from V_ℓ and the
    rotation-invariant excess kurtosis κ_ℓ of p (:func:`replicate.analysis.local.kurtosis_u1` of
    n, δn), recomputed on every leave-one-batch-out resample of ``ness`` (``keep_batches=True``):
    the jackknife error of the count. A domain boundary is only known to within one site, so each
    count also carries the quantization error of its two boundaries (2/12 in variance).
    """
    def stat(m):
        o = obs.standard(m)
        kappa = local.kurtosis_u1(o["n"], o["delta_n"])
        labels, _ = local.classify_domains(o["circular_variance"], kappa, V_sym=V_sym, kappa_c=kappa_c)
        return {d: (labels == d).sum(axis=0).astype(float) for d in local.DOMAINS}

    value, error = stats.jackknife_dataset(ness, stat)
    return ({d: float(value[d]) for d in local.DOMAINS},
            {d: quantized(float(error[d]), 1.0, positions=2) for d in local.DOMAINS})


def domain_scaling(sizes: Mapping[int, tuple[Mapping[str, float], Mapping[str, float]]]) -> dict:
    """Weighted straight-line fits of each domain's size against L (Fig. 4(e)) from
    ``{L: domain_sizes(...)}``: ``{domain: LineFit}``. A size that does not follow a line makes
    χ²/dof > 1; the slope's error is then scaled by √(χ²/dof) (the Birge ratio), so that a poor
    line gives a wide slope, not a precise wrong one."""
    Ls = sorted(sizes)
    if len(Ls) < 2:
        raise ValueError("domain_scaling needs at least two chain lengths")
    out = {}
    for d in local.DOMAINS:
        f = fits.line(Ls, [sizes[L][0][d] for L in Ls], [sizes[L][1][d] for L in Ls])
        scale = math.sqrt(f.chi2_dof) if len(Ls) > 2 and f.chi2_dof > 1 else 1.0
        out[d] = fits.LineFit(f.slope, f.intercept, f.slope_err * scale, f.intercept_err * scale, f.chi2_dof, f.n)
    return out


def length_scan(params, lengths, *, n_traj: int, t_relax: float, t_avg: float, seed: int = 0,
                reuse: Mapping[int, xr.Dataset] | None = None, engine: Callable | None = None, **kw) -> dict:
    """``{L': NESS run}`` of the chain ``params`` at every length L' of ``lengths`` (Fig. 4(e)):
    :func:`replicate.twa.ness` with ``keep_batches=True`` (for :func:`domain_sizes`), relaxed for
    ``t_relax``·max(1, (L'/L)²) with L = ``params.L`` (the filling of a longer chain is diffusive,
    its time grows as L'²; shorter chains keep ``t_relax``), seed ``seed`` + L'. A length in
    ``reuse`` takes that run instead (e.g. the main run at L); ``kw`` go to the engine.
    ``engine``: the function called in place of ``twa.ness`` (e.g. ``cached(twa.ness)``, to keep
    the runs in the results store)."""
    from .. import twa

    engine = twa.ness if engine is None else engine
    reuse = reuse or {}
    out = {}
    for Lx in lengths:
        if Lx in reuse:
            out[Lx] = reuse[Lx]
            continue
        out[Lx] = engine(params.with_(L=Lx), n_traj=n_traj, t_avg=t_avg, keep_batches=True,
                           t_relax=t_relax * max(1.0, (Lx / params.L) ** 2), seed=seed + Lx, **kw)
    return out


def domain_series(sizes: Mapping[int, tuple[Mapping[str, float], Mapping[str, float]]],
                  domain: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L, size, error) of one domain over the chain lengths of ``{L: domain_sizes(...)}``, in
    increasing L (the points of Fig. 4(e))."""
    if domain not in local.DOMAINS:
        raise ValueError(f"domain must be one of {local.DOMAINS}, got {domain!r}")
    Ls = sorted(sizes)
    return (np.array(Ls), np.array([sizes[L][0][domain] for L in Ls], dtype=float),
            np.array([sizes[L][1][domain] for L in Ls], dtype=float))


def domain_share(sizes: tuple[Mapping[str, float], Mapping[str, float]], L: int,
                 domains: Sequence[str] = ("nonthermal", "thermal")) -> tuple[float, float]:
    """Fraction of the L sites of a chain that lie in ``domains`` (one ``domain_sizes`` result),
    with the errors of the counts added in quadrature (the counts' errors are treated as
    independent)."""
    value, error = sizes
    L = count("L", L)
    if not domains:
        raise ValueError("domains must name at least one domain")
    return (float(sum(value[d] for d in domains) / L),
            float(functools.reduce(np.hypot, [error[d] for d in domains]) / L))


def domain_summary(sizes: Mapping[int, tuple[Mapping[str, float], Mapping[str, float]]]) -> str:
    """One line per chain length: the size ± error of every domain of ``{L: domain_sizes(...)}``."""
    return "\n".join(f"L = {L}: " + ", ".join(f"{d} {v[d]:.0f} ± {e[d]:.1f}" for d in local.DOMAINS)
                     for L, (v, e) in sizes.items())
