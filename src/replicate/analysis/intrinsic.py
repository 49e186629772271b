"""Intrinsic loss on every site (Ferrari et al. 2025, SI Eq. 49, SI Fig. 19).

SI Fig. 19 follows the chaotic prethermal profile (Fig. 3) and the RNW (Fig. 5) as an intrinsic
loss γ_int is switched on at every site: at small γ_int nothing changes, at larger γ_int the
prethermal domain shrinks and the flat RNW acquires a gradient and is destroyed, at the largest
the bulk ends near the vacuum. The paper judges this by eye; these are the statistics we test,
each with a jackknife error over batches of trajectories (one joint resampling per run, from
``replicate.twa.ness(..., keep_batches=True)``):

* ``xi_n`` — the extent of the high-density domain: :func:`spatial.half_decay_distance`, the
  distance from the driven site at which n_ℓ first falls below half its maximum;
* ``n_median`` — the median of n_ℓ over the bulk sites ("most sites near the vacuum": < 1);
* ``n_mean``, ``relative_change`` — the bulk mean and the least-squares change of n_ℓ across the
  bulk relative to it (as :func:`rnw.bulk_density`: flat ≈ 0, a gradient falling from the drive
  < 0);
* ``V_bulk`` — the circular variance 1 − |⟨e^{iφ_ℓ}⟩| averaged over the bulk (≈ 0.1 in the RNW,
  which has a phase; near its uniform-phase value ≈ 1 once the RNW is destroyed).

The bulk is the chain without ``edges`` boundary sites at each end. :func:`profile_statistics`
returns them as a :class:`ProfileStatistics` (``s["xi_n"]`` is (value, error));
:meth:`ProfileStatistics.relative_to` compares two runs (ξ_n(γ_int) ÷ ξ_n(0) − 1).
:func:`loss_run` is the NESS run of one panel, reduced to what the figure shows (small enough
for the results store).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

import xarray as xr

from .. import stats, twa
from ..twa import observables as obs
from ..validate import count
from .fits import ols
from .spatial import half_decay_distance

__all__ = ["PROFILE_MOMENTS", "ProfileStatistics", "loss_run", "profile_statistics"]

PROFILE_MOMENTS = ("m2", "cos", "sin")
"""Batch moments :func:`profile_statistics` needs (``keep_batches=PROFILE_MOMENTS``)."""


@dataclass(frozen=True)
class ProfileStatistics:
    """The statistics of the module docstring of one run by name, with their jackknife errors.
    ``s[name]`` is (value, error); ``value, error = s`` unpacks the two dicts."""

    value: dict[str, float]
    error: dict[str, float]

    def __getitem__(self, name: str) -> tuple[float, float]:
        return self.value[name], self.error[name]

    def __iter__(self) -> Iterator[dict[str, float]]:
        return iter((self.value, self.error))

    def relative_to(self, reference: ProfileStatistics, name: str = "xi_n") -> tuple[float, float]:
        """a/b − 1 for the statistic ``name`` here (a) and in ``reference`` (b), e.g.
        ξ_n(γ_int) ÷ ξ_n(0) − 1, with the first-order error of two independent runs
        |a/b| √((σ_a/a)² + (σ_b/b)²)."""
        r, err = stats.ratio(*self[name], *reference[name])
        return r - 1, err


def profile_statistics(ds, *, edges: tuple[int, int] = (5, 5)) -> ProfileStatistics:
    """The statistics of the module docstring, with their jackknife errors, for one NESS Dataset
    of :func:`replicate.twa.ness` run with ``keep_batches`` (at least :data:`PROFILE_MOMENTS`)."""
    left, right = (count("edges", e, minimum=0) for e in edges)
    L = int(ds.sizes["site"])
    if L - left - right < 3:
        raise ValueError(f"edges {edges!r} leave fewer than 3 bulk sites of {L}")
    classical = bool(ds.attrs.get("classical", 0))
    bulk = slice(left, L - right)

    def one(m2, c, s):
        n = obs.n_photons(m2, classical)
        nb = n[bulk]
        x = np.arange(nb.size, dtype=float)
        slope, _ = ols(x, nb)
        return np.array([half_decay_distance(n), np.median(nb), nb.mean(), slope * (nb.size - 1) / nb.mean(),
                         np.mean(obs.circular_variance(c, s)[bulk])])

    names = ("xi_n", "n_median", "n_mean", "relative_change", "V_bulk")

    def stat(m):
        m2, c, s = (np.asarray(m[k]) for k in PROFILE_MOMENTS)
        if m2.ndim == 1:
            v = one(m2, c, s)
        else:
            v = np.stack([one(m2[:, b], c[:, b], s[:, b]) for b in range(m2.shape[1])], axis=-1)
        return {k: v[i] for i, k in enumerate(names)}

    value, err = stats.jackknife_dataset(ds, stat)
    return ProfileStatistics({k: float(v) for k, v in value.items()}, {k: float(v) for k, v in err.items()})


def loss_run(params, *, wigner_site: int, wigner_grid: tuple[float, int], **ness_kwargs) -> xr.Dataset:
    """:func:`replicate.twa.ness` of ``params`` with its Wigner histogram kept at one site:
    ``wigner(re, im)`` at ``wigner_site`` (attribute ``wigner_site``) instead of ``wigner(site,
    re, im)``. SI Fig. 19 shows one site per run, and the histograms of every site of the L = 80
    chain (60² bins each) are 2.3 MB, over the committed store's budget. Everything else is the
    Dataset of ``twa.ness(params, wigner_grid=wigner_grid, **ness_kwargs)``."""
    L = int(params.L)
    site = count("wigner_site", wigner_site)
    if site > L:
        raise ValueError(f"wigner_site must be a site of the chain (1..{L}), got {wigner_site!r}")
    ds = twa.ness(params, wigner_grid=wigner_grid, **ness_kwargs)
    out = ds.assign(wigner=ds["wigner"].sel(site=site, drop=True))
    out.attrs["wigner_site"] = site
    return out
