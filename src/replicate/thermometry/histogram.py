"""Radial histograms of single-site Wigner samples: counts per batch in annuli of u = |α|².

A rotation-invariant local state is fully described by the distribution of u = |α|² (SI Eq. 33
averaged over the phase). :class:`RadialHistogram` holds integer counts per batch of whole
trajectories, ``counts[batch, bin]`` on bins ``u_edges`` (equal or not, starting at u ≥ 0), which
is what the TWA engine accumulates per site (``radial_counts(site, batch, u)``), and what
:func:`as_histogram` builds from raw complex samples or reads from an xarray slice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import stats
from ..validate import count, finite_array, positive

DEFAULT_BINS = 50
DEFAULT_BATCHES = 20


@dataclass(frozen=True, eq=False)
class RadialHistogram:
    """Counts of Wigner samples in annuli u_k ≤ |α|² < u_{k+1}, per batch of trajectories.

    Attributes
    ----------
    u_edges : array (n_bins + 1,)
        Increasing bin edges in u = |α|², u_edges[0] ≥ 0.
    counts : array (n_batches, n_bins)
        Non-negative integer counts (samples outside the edges are simply not counted: the fit
        conditions on the in-range total).
    """

    u_edges: np.ndarray
    counts: np.ndarray

    def __post_init__(self):
        e = finite_array("u_edges", self.u_edges, nonnegative=True)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError("u_edges must be a 1-D increasing array of >= 2 edges in u = |α|²")
        c = finite_array("counts", self.counts, nonnegative=True)
        if c.ndim == 1:
            c = c[None, :]
        if c.ndim != 2 or c.shape[1] != e.size - 1:
            raise ValueError(f"counts must have shape (n_batches, {e.size - 1}) for these u_edges, "
                             f"got {np.shape(self.counts)}")
        if np.any(c != np.round(c)):
            raise ValueError("counts must be integer counts of samples (not normalised densities)")
        if c.sum() == 0:
            raise ValueError("counts is empty: the histogram holds no samples")
        object.__setattr__(self, "u_edges", e)
        object.__setattr__(self, "counts", c)

    @property
    def n_batches(self) -> int:
        return self.counts.shape[0]

    @property
    def pooled(self) -> np.ndarray:
        """Counts per bin summed over batches."""
        return self.counts.sum(axis=0)

    @property
    def u_centres(self) -> np.ndarray:
        return 0.5 * (self.u_edges[1:] + self.u_edges[:-1])

    def resample(self, batches) -> RadialHistogram:
        """The histogram of the given batch indices (with repetition: a bootstrap resample)."""
        return RadialHistogram(self.u_edges, self.counts[np.asarray(batches)])


def from_samples(samples, *, bins: int | np.ndarray = DEFAULT_BINS, u_max: float | None = None,
                 n_batches: int = DEFAULT_BATCHES) -> RadialHistogram:
    """Radial histogram of complex Wigner samples α of one site.

    Parameters
    ----------
    samples : complex array, any shape
        Axis 0 indexes trajectories (for a 1-D array every sample is its own trajectory); the
        other axes (times) are pooled within a trajectory.
    bins : int or array
        Number of equal bins on [0, u_max), or the edges themselves.
    u_max : float, optional
        Upper edge for ``bins`` as an int; default just above the largest sample.
    n_batches : int
        Contiguous batches of whole trajectories (capped at the number of trajectories).
    """
    a = np.asarray(samples)
    if a.size == 0:
        raise ValueError("samples is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError("samples must be finite")
    u = np.abs(a.astype(complex)) ** 2
    u = u.reshape(u.shape[0], -1) if u.ndim > 1 else u[:, None]
    if np.ndim(bins) == 0:
        top = float(u.max()) * (1.0 + 1e-9) + 1e-12 if u_max is None else positive("u_max", u_max)
        edges = np.linspace(0.0, top, count("bins", bins) + 1)
    else:
        edges = np.asarray(bins, dtype=float)
    n_traj = u.shape[0]
    nb = min(count("n_batches", n_batches), n_traj)
    batch_of_traj = stats.batch_index(n_traj, nb)  # the engine's batches (replicate.stats.batch_sums)
    k = np.searchsorted(edges, u, side="right") - 1
    inside = (k >= 0) & (k < edges.size - 1)
    b = np.broadcast_to(batch_of_traj[:, None], u.shape)[inside]
    flat = b * (edges.size - 1) + k[inside]
    counts = np.bincount(flat, minlength=nb * (edges.size - 1)).reshape(nb, edges.size - 1)
    return RadialHistogram(edges, counts)


def from_xarray(counts) -> RadialHistogram:
    """A histogram from an xarray ``DataArray`` with dims (batch, u) or (u,), e.g.
    ``ds["radial_counts"].sel(site=l)`` from the TWA engine.

    The edges come from ``attrs["u_edges"]`` if present; otherwise the ``u`` coordinate must hold
    the centres of equal bins starting at u = 0.
    """
    if "u" not in counts.dims or not set(counts.dims) <= {"batch", "u"}:
        raise ValueError(f"counts must have dims (batch, u) or (u,), got {counts.dims}")
    c = counts.transpose(*[d for d in ("batch", "u") if d in counts.dims]).values
    if "u_edges" in counts.attrs:
        edges = np.asarray(counts.attrs["u_edges"], dtype=float)
    else:
        centres = np.asarray(counts["u"].values, dtype=float)
        if centres.size < 2:
            raise ValueError("counts needs attrs['u_edges'] when it has a single u bin")
        du = centres[1] - centres[0]
        edges = np.append(centres - du / 2, centres[-1] + du / 2)
        if not (np.allclose(np.diff(centres), du) and abs(edges[0]) <= 1e-9 * du):
            raise ValueError("the u coordinate must be the centres of equal bins from u = 0; "
                             "otherwise give attrs['u_edges']")
        edges[0] = 0.0
    return RadialHistogram(edges, c)


def coarsen(h: RadialHistogram, bins: int) -> RadialHistogram:
    """``h`` cut after its last non-empty bin and with consecutive bins merged (an integer
    factor) so that at most ``bins`` remain: one fine engine grid serves every site, each fitted
    on ~``bins`` annuli spanning its own range of |α|². Counts are only summed, never split."""
    bins = count("bins", bins)
    filled = np.flatnonzero(h.pooled > 0)
    if filled.size == 0:
        raise ValueError("the histogram is empty")
    top = int(filled[-1]) + 1
    f = -(-top // bins)
    n_new = -(-top // f)
    pad = n_new * f - top
    c = h.counts[:, :top]
    if pad and top + pad <= h.counts.shape[1]:
        c = h.counts[:, : top + pad]
    elif pad:
        c = np.pad(c, ((0, 0), (0, pad)))
    edges = h.u_edges[: c.shape[1] + 1][::f] if c.shape[1] + 1 <= h.u_edges.size else None
    if edges is None or edges.size != n_new + 1:
        w = np.diff(h.u_edges)
        ext = np.append(h.u_edges, h.u_edges[-1] + np.cumsum(np.full(pad, w[-1])))
        edges = ext[: n_new * f + 1][::f]
    return RadialHistogram(edges, c.reshape(c.shape[0], n_new, f).sum(axis=2))


def is_samples(data) -> bool:
    """True for complex Wigner samples (an array or an xarray ``DataArray`` of complex dtype)."""
    if isinstance(data, (RadialHistogram, tuple)):
        return False
    values = data.values if hasattr(data, "dims") else data
    return np.iscomplexobj(np.asarray(values))


def as_histogram(data, *, bins: int | np.ndarray = DEFAULT_BINS, u_max: float | None = None,
                 n_batches: int = DEFAULT_BATCHES) -> RadialHistogram:
    """``data`` as a :class:`RadialHistogram`: one already, a ``(u_edges, counts)`` pair, an
    xarray ``DataArray`` of counts (:func:`from_xarray`) or complex samples, as an array or a
    ``DataArray`` such as ``site_samples(...).sel(site=l)`` with dims (traj, time)
    (:func:`from_samples`)."""
    if isinstance(data, RadialHistogram):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        return RadialHistogram(*data)
    if is_samples(data):
        values = data.values if hasattr(data, "dims") else data
        return from_samples(values, bins=bins, u_max=u_max, n_batches=n_batches)
    if hasattr(data, "dims") and hasattr(data, "coords"):
        return from_xarray(data)
    raise ValueError("data must be complex Wigner samples, a RadialHistogram, (u_edges, counts) "
                     "or an xarray DataArray with dims (batch, u)")
