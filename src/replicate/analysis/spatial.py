"""Spatial-relaxation estimators for the chaotic NESS (Ferrari et al. 2025, Fig. 3).

The paper describes a two-stage relaxation along the chain: the amplitude (photon number n_ℓ)
relaxes over a long length ξ_n, the phase over a microscopic length ξ_φ, seen in the circular
variance V_ℓ (§2.3 of the notes), in g^(1) (Eq. 7) and in the local Wigner functions W_ℓ
(SI Eq. 33). None of these lengths is defined by a formula in the text we have; the estimators
below are our operational definitions:

* :func:`relaxation_length` — ξ_n, the distance from the driven site at which n_ℓ first falls
  below a fraction of its maximum (linear interpolation between sites, :func:`half_decay_distance`);
* :func:`drop_fraction` — how much of the fall of n_ℓ happens in the right half of the chain
  (decay "just past the drive" vs "only near the right end", :func:`right_half_drop`);
* :func:`exponential_fit`, :func:`phase_length` — ξ_φ from g^(1)_{c,c±r} ∝ e^{−r/ξ_φ};
* :func:`site_samples`, :func:`radial_profile` — the rotation average of W_ℓ with jackknife
  errors and a ring/bell contrast;
* :func:`anisotropy`, :func:`circular_variance_floor` — rotation invariance and the sampling
  floor of V for uniform phases;

ξ_n and f₂ carry jackknife errors over batches of whole trajectories (they need the batch means
of ``twa.ness(..., keep_batches=True)``), so the strong correlations between neighbouring sites
are kept; the ξ_φ fit weights the g^(1) points with their own errors as independent (its χ²/dof
is reported). Wigner-sample errors are jackknife errors too, as in :mod:`replicate.twa.observables`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import stats
from ..twa import observables as obs
from ..validate import count, positive
from ..twa.ness import N_BATCHES


@dataclass(frozen=True)
class Length:
    """A length in sites with its standard error; ``censored`` if only a lower bound."""

    value: float
    error: float
    censored: bool = False


def _profile(n) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if n.ndim != 1 or n.size < 2 or not np.all(np.isfinite(n)):
        raise ValueError("n must be a finite 1-d profile of length >= 2")
    return n


def half_decay_distance(n, fraction: float = 0.5) -> float:
    """Distance (sites) from the driven site ℓ = 1 at which the profile ``n`` first drops below
    ``fraction`` · max n after its maximum, linearly interpolated between sites: with a the last
    site (0-based) above h = f·n_max and b = a + 1, a + (n_a − h)/(n_a − n_b). ``inf`` if n never
    drops below h (the length is then at least L − 1)."""
    n = _profile(n)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    i_max = int(np.argmax(n))
    h = fraction * n[i_max]
    below = np.flatnonzero(n[i_max:] < h)
    if below.size == 0:
        return float("inf")
    b = i_max + int(below[0])
    a = b - 1
    return float(a + (n[a] - h) / (n[a] - n[b]))


def right_half_drop(n) -> float:
    """Share of the fall of ``n`` (from its maximum to the last site) that lies in the right half:
    f₂ = (n_mid − n_L)/(n_max − n_L), n_mid at ℓ = (L + 1)/2 (mean of the two central sites for
    even L). f₂ < ½: most of the decay is on the drive side; f₂ > ½: the profile stays high and
    falls near the right end."""
    n = _profile(n)
    L = n.size
    if int(np.argmax(n)) == L - 1:
        raise ValueError("n must not peak at the last site")
    n_mid = n[L // 2] if L % 2 else 0.5 * (n[L // 2 - 1] + n[L // 2])
    return float((n_mid - n[-1]) / (n.max() - n[-1]))


def relaxation_length(ds: xr.Dataset, fraction: float = 0.5) -> Length:
    """ξ_n of a NESS Dataset with batch means (``twa.ness(..., keep_batches=True)``): the
    :func:`half_decay_distance` of its photon-number profile, with the jackknife error over
    trajectory batches (which keeps the correlations between sites). Censored at L − 1 if n
    never falls below the threshold."""
    classical = bool(ds.attrs.get("classical", 0))
    val, err = stats.jackknife_dataset(ds, lambda m: {"xi": stats.columnwise(
        lambda n: half_decay_distance(n, fraction))(obs.n_photons(m["m2"], classical))})
    L = ds.sizes["site"]
    if not np.isfinite(val["xi"]):
        return Length(float(L - 1), 0.0, True)
    return Length(float(val["xi"]), float(err["xi"]) if np.isfinite(err["xi"]) else float("nan"))


def drop_fraction(ds: xr.Dataset) -> tuple[float, float]:
    """(f₂, jackknife error) of :func:`right_half_drop` for a NESS Dataset with batch means."""
    classical = bool(ds.attrs.get("classical", 0))
    val, err = stats.jackknife_dataset(ds, lambda m: {"f2": stats.columnwise(right_half_drop)(
        obs.n_photons(m["m2"], classical))})
    return float(val["f2"]), float(err["f2"])


@dataclass(frozen=True)
class ExpFit:
    """y ≈ A e^{−r/ξ}: ξ, A with standard errors, χ²/dof and the points used."""

    xi: float
    xi_err: float
    amplitude: float
    amplitude_err: float
    chi2_dof: float
    r: np.ndarray

    def __call__(self, r):
        return self.amplitude * np.exp(-np.asarray(r, dtype=float) / self.xi)


def exponential_fit(r, y, y_err) -> ExpFit:
    """Weighted least squares of ln y = ln A − r/ξ with σ_ln y = σ_y/y (points independent).

    Needs at least two points with y > 0 at two distinct r. Parameter errors from the
    covariance of the weighted fit (not rescaled by χ²).
    """
    r = np.asarray(r, dtype=float)
    y = np.asarray(y, dtype=float)
    s = np.asarray(y_err, dtype=float)
    if not (r.shape == y.shape == s.shape and r.ndim == 1):
        raise ValueError("r, y and y_err must be 1-d arrays of equal length")
    if np.any(y <= 0) or np.any(s <= 0) or not np.all(np.isfinite(y / s)):
        raise ValueError("y and y_err must be finite and > 0")
    if np.unique(r).size < 2:
        raise ValueError("exponential_fit needs points at two distinct r")
    w = (y / s) ** 2
    X = np.stack([np.ones_like(r), -r], axis=1)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * np.log(y)))
    lnA, k = beta
    if k <= 0:
        raise ValueError("y does not decay with r (fitted rate <= 0)")
    res = np.log(y) - X @ beta
    dof = r.size - 2
    chi2 = float(np.sum(w * res**2) / dof) if dof > 0 else float("nan")
    A = float(np.exp(lnA))
    return ExpFit(xi=float(1 / k), xi_err=float(np.sqrt(cov[1, 1]) / k**2), amplitude=A,
                  amplitude_err=float(A * np.sqrt(cov[0, 0])), chi2_dof=chi2, r=r)


def fold_by_distance(values, errors, centre: int) -> dict[str, np.ndarray]:
    """Site profile (sites 1..L) → points at distance r = |m − centre| ≥ 1 on both sides.

    Returns ``r``, ``value``, ``error`` and ``side`` (−1: towards the drive, +1: away from it).
    """
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    L = v.size
    centre = count("centre", centre)
    if centre > L or e.shape != v.shape:
        raise ValueError(f"centre must be a site in 1..{L} and errors match values")
    m = np.arange(1, L + 1)
    keep = m != centre
    return {"r": np.abs(m - centre)[keep], "value": v[keep], "error": e[keep],
            "side": np.sign(m - centre)[keep]}


def phase_length(values, errors, centre: int, *, floor_from: int,
                 above_floor: float = 2.0) -> tuple[ExpFit, float]:
    """ξ_φ from g^(1)_{c,m} (Eq. 7) of a centre site c: fit of e^{−r/ξ_φ} (both sides together).

    The floor is the median of g^(1) at r ≥ ``floor_from``; the fit uses every r ≥ 1 from 1 up
    to (not including) the first r at which a point on either side is ≤ ``above_floor`` × floor
    or non-finite. Returns (fit, floor).
    """
    pts = fold_by_distance(values, errors, centre)
    r, g, s = pts["r"], pts["value"], pts["error"]
    far = np.isfinite(g) & (r >= floor_from)
    if not far.any():
        raise ValueError(f"no finite g1 at r >= floor_from={floor_from}")
    floor = float(np.median(g[far]))
    r_stop = r.max() + 1
    for rr in np.unique(r):
        sel = r == rr
        if not np.all(np.isfinite(g[sel]) & (g[sel] > above_floor * floor) & (s[sel] > 0)):
            r_stop = rr
            break
    use = r < r_stop
    return exponential_fit(r[use], g[use], s[use]), floor


def circular_variance_floor(n_samples) -> float:
    """Expected V = 1 − |⟨e^{iφ}⟩| for ``n_samples`` independent uniform phases, large-N
    (Rayleigh) limit: E|mean| = sqrt(π/(4N)), so V ≈ 1 − sqrt(π/(4N)) (§2.3 of the notes)."""
    n = positive("n_samples", n_samples)
    return float(1.0 - np.sqrt(np.pi / (4.0 * n)))


def anisotropy(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Coherent fraction A_ℓ = |⟨α_ℓ⟩| / sqrt(⟨|α_ℓ|²⟩_W) (0 for a rotation-invariant W_ℓ).

    ``ds`` is a :func:`replicate.twa.ness` Dataset (⟨|α|²⟩_W = n + ½). Errors propagate the
    errors of Re⟨α⟩, Im⟨α⟩ and n as independent. Note the sampling bias of |⟨α⟩| for zero mean.
    """
    re, im, n = (ds[k].values for k in ("field_re", "field_im", "n"))
    sre, sim_, sn = (ds[k + "_err"].values for k in ("field_re", "field_im", "n"))
    m2 = n + 0.5
    amp = np.hypot(re, im)
    A = amp / np.sqrt(m2)
    safe = np.where(amp > 0, amp, 1.0)
    var_amp = np.where(amp > 0, ((re * sre) ** 2 + (im * sim_) ** 2) / safe**2,
                       0.5 * (sre**2 + sim_**2))
    sA = np.sqrt(var_amp / m2 + (0.5 * A * sn / m2) ** 2)
    return A, sA


def isotropy_chi2(ds: xr.Dataset) -> np.ndarray:
    """χ² = (Re⟨α⟩/σ)² + (Im⟨α⟩/σ)² per site: ~χ²₂ (mean 2) if W_ℓ has zero mean field."""
    re, im = ds["field_re"].values, ds["field_im"].values
    return (re / ds["field_re_err"].values) ** 2 + (im / ds["field_im_err"].values) ** 2


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
        Wigner samples of one site (e.g. one site of :func:`site_samples`).

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
