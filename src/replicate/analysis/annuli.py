"""The steady states of Fig. 4 and SI Figs. 15/17 as the results store keeps them: each site's
radial histogram on the annuli its fits use (Ferrari et al. 2025, Fig. 4; notes §3).

:func:`replicate.twa.ness` with ``radial_grid=(u_max, bins)`` histograms u = |α_ℓ|² per batch of
trajectories at every site on one fine grid (800 bins in the chapters: 8.4 MB at L = 80, over
the store's 2 MB budget). The fits never read that grid as it is: :func:`fit_histogram` first
cuts each site after its last filled bin and merges bins to at most ``bins`` annuli
(:func:`replicate.thermometry.coarsen`). :func:`reduce` keeps exactly those annuli, so every fit,
entropy and norm computed from the reduced Dataset equals the one from the full run. The fine
counts stay only at ``fine_sites``, for the check of the engine's histograms against raw samples
(:func:`replicate.analysis.thermo.histogram_mismatch`).

Reduced Dataset: the moments of the run unchanged, and

- ``annulus_counts(site, batch, annulus)``: counts on the site's annuli, zero-padded;
- ``annulus_edges(site, annulus_edge)``: their edges in u, NaN-padded; ``n_annuli(site)``;
- ``fine_counts(fine_site, batch, u)``: the engine's counts on its grid (``attrs["u_edges"]``);
- attribute ``annuli_bins`` (the ``bins`` of the fits).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from .. import thermometry as th, twa
from ..validate import count

FINE_SITES = tuple(range(1, 9))
"""Sites whose fine engine counts :func:`reduce` keeps by default (the first sites after the
drive, where SI Fig. 15 compares the engine with raw samples)."""


def fit_histogram(h: th.RadialHistogram, bins: int) -> th.RadialHistogram:
    """The histogram a site's fits read: ``h`` itself if it has at most ``bins`` bins, else
    :func:`replicate.thermometry.coarsen` ``(h, bins)``."""
    bins = count("bins", bins)
    return th.coarsen(h, bins) if h.u_edges.size - 1 > bins else h


def reduce(ness: xr.Dataset, *, bins: int, fine_sites: Sequence[int] = FINE_SITES) -> xr.Dataset:
    """``ness`` (:func:`replicate.twa.ness` with ``radial_grid``) with its ``radial_counts``
    replaced by each site's :func:`fit_histogram` on ``bins`` annuli, and the fine counts kept
    at ``fine_sites`` only (see the module docstring for the variables)."""
    if "radial_counts" not in ness:
        raise ValueError("ness has no radial_counts: run twa.ness with radial_grid=(u_max, bins)")
    bins = count("bins", bins)
    counts = ness["radial_counts"]
    sites = [int(s) for s in ness["site"].values]
    fine = [int(s) for s in fine_sites]
    if not set(fine) <= set(sites):
        raise ValueError(f"fine_sites must be sites of the chain 1..{max(sites)}, got {fine}")
    hs = [fit_histogram(th.from_xarray(counts.sel(site=s)), bins) for s in sites]
    width = max(h.u_edges.size - 1 for h in hs)
    c = np.zeros((len(sites), counts.sizes["batch"], width), dtype=np.int64)
    e = np.full((len(sites), width + 1), np.nan)
    for i, h in enumerate(hs):
        c[i, :, : h.counts.shape[1]] = h.counts
        e[i, : h.u_edges.size] = h.u_edges
    small = np.int32 if counts.values.max(initial=0) < np.iinfo(np.int32).max else np.int64
    out = ness.drop_vars("radial_counts")
    out["annulus_counts"] = (("site", "batch", "annulus"), c.astype(small))
    out["annulus_edges"] = (("site", "annulus_edge"), e)
    out["n_annuli"] = ("site", np.array([h.u_edges.size - 1 for h in hs]))
    out["fine_counts"] = xr.Variable(("fine_site", "batch", "u"), counts.sel(site=fine).values.astype(small),
                                     attrs={"u_edges": counts.attrs["u_edges"]})
    out = out.assign_coords(fine_site=fine)
    out.attrs["annuli_bins"] = bins
    return out


def histogram(ds: xr.Dataset, site: int) -> th.RadialHistogram:
    """The radial histogram of ``site`` in a :func:`reduce` Dataset (its annuli), or in a full
    :func:`replicate.twa.ness` Dataset (the engine's grid)."""
    if "annulus_counts" not in ds:
        return th.from_xarray(ds["radial_counts"].sel(site=site))
    k = int(ds["n_annuli"].sel(site=site))
    return th.RadialHistogram(ds["annulus_edges"].sel(site=site).values[: k + 1],
                              ds["annulus_counts"].sel(site=site).values[:, :k])


def engine_counts(ds: xr.Dataset, site: int) -> np.ndarray:
    """The engine's counts (batch, u) of ``site`` on its fine grid, from a full or a
    :func:`reduce` Dataset (which holds them at its ``fine_site`` only)."""
    if "annulus_counts" not in ds:
        return ds["radial_counts"].sel(site=site).values
    kept = [int(s) for s in ds["fine_site"].values]
    if site not in kept:
        raise ValueError(f"site {site} has no fine counts in this reduced steady state (fine sites {kept})")
    return ds["fine_counts"].sel(fine_site=site).values


def steady_state(params, *, u_grid: tuple[float, int], bins: int, fine_sites: Sequence[int] = FINE_SITES,
                 **run) -> xr.Dataset:
    """:func:`reduce` of :func:`replicate.twa.ness` ``(params, radial_grid=u_grid,
    keep_batches=True, **run)``, in one call so that the results store keeps the reduction."""
    full = twa.ness(params, radial_grid=u_grid, keep_batches=True, **run)
    return reduce(full, bins=bins, fine_sites=fine_sites)
