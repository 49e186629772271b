"""Local Wigner functions W_ℓ (SI Eq. 33) from raw Wigner samples of single sites
(:func:`replicate.twa.site_samples`, :func:`replicate.analysis.spatial.chain_samples`).

* :func:`radial_profile`, :func:`radial_contrast` — the rotation average of W_ℓ on equal-area
  annuli with jackknife errors over batches of trajectories, and its ring/bell contrast;
* :func:`wigner_histogram` — the 2-d histogram of W_ℓ;
* :func:`circular_variance_floor` — the sampling floor of the circular variance V for N uniform
  phases (what "the phase is uniformly distributed" looks like with N samples).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from .. import stats
from ..twa.ness import N_BATCHES
from ..validate import count, grid_edges, positive


def circular_variance_floor(n_samples) -> float:
    """Expected V = 1 − |⟨e^{iφ}⟩| for ``n_samples`` independent uniform phases, large-N
    (Rayleigh) limit: E|mean| = sqrt(π/(4N)), so V ≈ 1 − sqrt(π/(4N)) (§2.3 of the notes)."""
    n = positive("n_samples", n_samples)
    return float(1.0 - np.sqrt(np.pi / (4.0 * n)))


def radial_profile(samples, *, bins_per_mean: int = 8, n_bins: int = 24,
                   n_batches: int = N_BATCHES) -> xr.Dataset:
    """Rotation average of W_ℓ on equal-area annuli, with jackknife errors and a ring contrast.

    For u = |α|² the annulus u_k ≤ u < u_{k+1} has area π Δu in the α-plane, so
    W̄_k = P(u_k ≤ u < u_{k+1}) / (π Δu) is the mean of W over it (SI Eq. 33). Δu = ⟨u⟩/
    ``bins_per_mean`` with ⟨u⟩ the sample mean. Ring contrast
    C = (max_{k≥1} W̄_k − W̄_0) / max_{k≥0} W̄_k ∈ [−1, 1]: C > 0 when W has a dip at the origin
    (ring; C = 1 for an empty centre), C < 0 when W peaks at the origin (bell); for a thermal
    (Gaussian) W, C = e^{−1/bins_per_mean} − 1.

    Parameters
    ----------
    samples : complex array (traj, time)
        Wigner samples of one site (e.g. one site of :func:`replicate.analysis.spatial.chain_samples`).

    Returns
    -------
    xarray.Dataset over ``u`` (annulus centres): ``W``, ``W_err``; scalars ``contrast``,
    ``contrast_err``, ``u_mean``, ``du``.
    """
    a = np.asarray(samples)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError("samples must be a (traj, time) array with >= 2 trajectories")
    count("bins_per_mean", bins_per_mean)
    count("n_bins", n_bins, minimum=2)
    u = np.abs(a).astype(float) ** 2
    u_mean = float(u.mean())
    du = u_mean / bins_per_mean
    k = np.floor(u / du).astype(np.int64)
    n_traj, n_t = k.shape
    inside = k < n_bins
    flat = (np.arange(n_traj)[:, None] * n_bins + k)[inside]
    per_traj = np.bincount(flat, minlength=n_traj * n_bins).reshape(n_traj, n_bins).T / n_t
    sums, counts = stats.batch_sums(per_traj, n_batches)

    def stat(m):
        W = m["p"] / (np.pi * du)
        off = W[1:].max(axis=0)
        return {"W": W, "contrast": (off - W[0]) / np.maximum(off, W[0])}

    value, err = stats.jackknife(stat, {"p": sums}, counts)
    centres = du * (np.arange(n_bins) + 0.5)
    return xr.Dataset({"W": ("u", value["W"]), "W_err": ("u", err["W"]),
                       "contrast": ((), float(value["contrast"])),
                       "contrast_err": ((), float(err["contrast"])),
                       "u_mean": ((), u_mean), "du": ((), du)}, coords={"u": centres})


def radial_contrast(samples: xr.DataArray, **kw) -> xr.Dataset:
    """Ring contrast C_ℓ of :func:`radial_profile` (with its jackknife error) at every site of
    ``samples(site, traj, time)``; keyword arguments go to :func:`radial_profile`."""
    prof = [radial_profile(samples.sel(site=s).values, **kw) for s in samples["site"].values]
    return xr.Dataset({"contrast": ("site", [float(p["contrast"]) for p in prof]),
                       "contrast_err": ("site", [float(p["contrast_err"]) for p in prof])},
                      coords={"site": samples["site"].values})


def wigner_histogram(samples, extent: float, bins: int) -> np.ndarray:
    """W_ℓ (SI Eq. 33) as a normalised 2-d histogram of complex samples on [−extent, extent]²
    with ``bins`` × ``bins`` bins, indexed [Re, Im]; it integrates to the fraction of samples
    inside the square."""
    a = np.asarray(samples).ravel()
    edges = grid_edges("wigner grid", (extent, bins))
    h, _, _ = np.histogram2d(a.real, a.imag, bins=(edges, edges))
    return h / (a.size * (edges[1] - edges[0]) ** 2)
