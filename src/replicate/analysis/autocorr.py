"""The steady-state autocorrelation C_ℓ(τ) of the Wigner field and its Eq. (47) fit (SI Fig. 16).

C_ℓ(τ) = ⟨α*_ℓ(t) α_ℓ(t + τ)⟩_t / ⟨|α_ℓ|²⟩_t (SI Eq. 46, reconstructed, notes §2.7), from NESS
samples of whole trajectories: the time average along each trajectory (all pairs of samples τ
apart, by FFT), then the mean over trajectories, normalised by the same mean at τ = 0. Same
estimator as :func:`replicate.twa.autocorrelation` (which keeps a ring buffer instead of the
samples); keeping per-batch sums here gives jackknife errors of anything fitted to C.

Eq. (47), reconstructed (notes §2.7: "real-valued amplitudes, decay rates ..., frequencies that
capture early-time oscillations"), applied to the complex C:

.. math:: C(\\tau)\\simeq\\sum_{j=1}^{n}A_j\\,e^{-\\Gamma_j\\tau}\\,e^{-i\\omega_j\\tau},

whose real part is the paper's Σ A_j e^{−Γ_j τ} cos(ω_j τ). Fitted by least squares to Re C and
Im C on τ ≤ τ_fit (the "initial decay"), weighted by their jackknife errors; Γ_j ≥ 0, A_j ≥ 0.
Terms are ordered by amplitude (A₁ ≥ A₂). With two terms the split between them is often
ill-determined; the amplitude-weighted rate Γ̄ = Σ A_j Γ_j / Σ A_j (the initial slope
−d ln|C|/dτ at τ = 0 for Σ A_j = 1) is stable, and is what we compare.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

from .. import stats
from ..validate import count, positive


def autocorrelation_sums(samples, n_lags: int, *, n_batches: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Per-batch sums of the per-trajectory time averages ⟨α*(t) α(t + τ_k)⟩_t, k = 0..n_lags.

    ``samples``: complex (traj, time), equally spaced in time. Returns (sums (n_lags + 1, nb)
    complex, trajectories per batch (nb,)).
    """
    a = np.asarray(samples, complex)
    if a.ndim != 2:
        raise ValueError("samples must be a (traj, time) array of complex samples")
    n_lags = count("n_lags", n_lags, minimum=0)
    n_t = a.shape[1]
    if n_t <= n_lags:
        raise ValueError(f"n_lags={n_lags} needs more than {n_lags} samples per trajectory, got {n_t}")
    f = np.fft.fft(a, 2 * n_t, axis=1)
    corr = np.fft.ifft(np.conj(f) * f, axis=1)[:, : n_lags + 1]  # Σ_t α*(t) α(t + k)
    per_traj = corr / (n_t - np.arange(n_lags + 1))
    return stats.batch_sums(per_traj.T, n_batches)


def normalised(m: np.ndarray) -> np.ndarray:
    """C(τ_k) from (leave-one-out) means of ⟨α*(t) α(t + τ_k)⟩: divided by the τ = 0 value."""
    return m / m[:1].real


def autocorrelation(samples, dt_sample: float, n_lags: int, *, n_batches: int = 20) -> xr.Dataset:
    """C(τ) of Eq. (46) with jackknife errors over batches of trajectories: ``C_re``, ``C_im``,
    ``C_abs`` and ``*_err`` over ``tau`` = k·``dt_sample``, plus ``sums``/``counts`` for
    :func:`eq47_rates`."""
    dt_sample = positive("dt_sample", dt_sample)
    sums, counts = autocorrelation_sums(samples, n_lags, n_batches=n_batches)

    def stat(m):
        c = normalised(m["c"])
        return {"C_re": c.real, "C_im": c.imag, "C_abs": np.abs(c)}

    value, err = stats.jackknife(stat, {"c": sums}, counts)
    data = {k: ("tau", v) for k, v in value.items()}
    data.update({k + "_err": ("tau", v) for k, v in err.items()})
    data["sums"] = (("tau", "batch"), sums)
    data["counts"] = ("batch", counts)
    return xr.Dataset(data, coords={"tau": dt_sample * np.arange(sums.shape[0])})


@dataclass(frozen=True)
class Eq47Fit:
    """A fit of Eq. (47): amplitudes A_j, rates Γ_j, frequencies ω_j (A₁ ≥ A₂ ≥ ...)."""

    amplitudes: np.ndarray
    rates: np.ndarray
    frequencies: np.ndarray
    chi2_dof: float
    tau_fit: float

    @property
    def mean_rate(self) -> float:
        """Γ̄ = Σ A_j Γ_j / Σ A_j."""
        return float(self.amplitudes @ self.rates / self.amplitudes.sum())

    def __call__(self, tau) -> np.ndarray:
        return model(np.asarray(tau, float), self.amplitudes, self.rates, self.frequencies)


def model(tau: np.ndarray, A, G, w) -> np.ndarray:
    """Σ_j A_j e^{−(Γ_j + iω_j)τ} (complex)."""
    A, G, w = (np.asarray(x, float)[:, None] for x in (A, G, w))
    return (A * np.exp(-(G + 1j * w) * tau[None, :])).sum(0)


def _start(tau, C, n_terms: int) -> np.ndarray:
    """Start: one term from the initial slopes of ln|C| and of arg C, split over ``n_terms``
    rates spread by factors of 2 around it."""
    k = max(2, int(np.searchsorted(tau, 0.5 * tau[-1])))
    good = np.abs(C[:k]) > 0
    G0 = max(1e-3, -np.polyfit(tau[:k][good], np.log(np.abs(C[:k][good])), 1)[0])
    w0 = -np.polyfit(tau[:k], np.unwrap(np.angle(C[:k])), 1)[0]
    x = []
    for j in range(n_terms):
        x += [1.0 / n_terms, G0 * 2.0 ** (j - (n_terms - 1) / 2), w0]
    return np.array(x)


def fit_eq47(tau, C, C_err=None, *, tau_fit: float, n_terms: int = 2) -> Eq47Fit:
    """Least-squares fit of Eq. (47) to the complex ``C(τ)`` on τ ≤ ``tau_fit``: unweighted
    (``C_err=None``), or weighted by ``C_err`` = (error of Re C, error of Im C) or one array for
    both."""
    tau, C = np.asarray(tau, float), np.asarray(C, complex)
    n_terms = count("n_terms", n_terms)
    sel = tau <= positive("tau_fit", tau_fit)
    if sel.sum() < 3 * n_terms + 1:
        raise ValueError(f"tau_fit={tau_fit} leaves {sel.sum()} lags for {3 * n_terms} parameters")
    if C_err is None:
        C_err = np.ones(tau.shape)
    e_re, e_im = (np.broadcast_to(np.asarray(e, float), tau.shape) for e in
                  (C_err if isinstance(C_err, tuple) else (C_err, C_err)))
    # C(0) = 1 exactly (zero error): weight it by the smallest error of the fitted lags
    floor = max(np.min(np.r_[e_re[sel][1:], e_im[sel][1:]]), 1e-6)
    s_re, s_im = np.maximum(e_re[sel], floor), np.maximum(e_im[sel], floor)
    t, y = tau[sel], C[sel]

    def resid(x):
        A, G, w = x[0::3], x[1::3], x[2::3]
        r = model(t, A, G, w) - y
        return np.r_[r.real / s_re, r.imag / s_im]

    x0 = _start(t, y, n_terms)
    lo = np.tile([0.0, 0.0, -np.inf], n_terms)
    res = least_squares(resid, x0, bounds=(lo, np.inf), x_scale="jac")
    A, G, w = res.x[0::3], res.x[1::3], res.x[2::3]
    order = np.argsort(-A)
    dof = max(2 * t.size - res.x.size, 1)
    return Eq47Fit(A[order], G[order], w[order], float(2 * res.cost / dof), float(tau_fit))


def _fit_summary(f: Eq47Fit) -> dict[str, float]:
    out = {"mean_rate": f.mean_rate}
    for j in range(f.rates.size):
        out.update({f"G{j + 1}": f.rates[j], f"A{j + 1}": f.amplitudes[j], f"w{j + 1}": f.frequencies[j]})
    return out


def eq47_rates(ds: xr.Dataset, *, tau_fit: float, n_terms: int = 2) -> tuple[dict, dict]:
    """Eq. (47) fitted (unweighted) to :func:`autocorrelation`'s C and to each
    leave-one-batch-out C: ``G1``, ``G2``, ... (rates ordered by amplitude), ``A1``, ...,
    ``w1``, ... and ``mean_rate`` with jackknife errors."""
    return eq47_table({0: ds}, tau_fit=tau_fit, n_terms=n_terms, suffix=False)


def eq47_table(by_site, *, tau_fit: float, n_terms: int = 2, suffix: bool = True) -> tuple[dict, dict]:
    """:func:`eq47_rates` at several sites of the same trajectories in one jackknife (the same
    batches dropped at every site), so that the averages over the sites, ``<key>_mean``, get
    errors that keep the correlations between sites. Keys ``<key>_<site>`` (``suffix``)."""
    sites = list(by_site)
    first = by_site[sites[0]]
    tau, counts = first["tau"].values, first["counts"].values
    if any(not np.array_equal(by_site[s]["counts"].values, counts) for s in sites):
        raise ValueError("every site must have the same batches of trajectories")

    def stat(m):
        out = {}
        for s in sites:
            f = _fit_summary(fit_eq47(tau, normalised(m[f"c{s}"]), tau_fit=tau_fit, n_terms=n_terms))
            out.update({(f"{k}_{s}" if suffix else k): v for k, v in f.items()})
        if suffix:
            for k in _fit_summary(fit_eq47(tau, normalised(m[f"c{sites[0]}"]), tau_fit=tau_fit, n_terms=n_terms)):
                out[f"{k}_mean"] = float(np.mean([out[f"{k}_{s}"] for s in sites]))
        return out

    sums = {f"c{s}": by_site[s]["sums"].values for s in sites}
    value, error = stats.jackknife(stat, sums, counts, vectorized=False)
    return {k: float(v) for k, v in value.items()}, {k: float(v) for k, v in error.items()}


def log10_ratio(a: float, a_err: float, b: float, b_err: float) -> tuple[float, float]:
    """log₁₀(a/b) of two estimates and its first-order error (:func:`replicate.stats.ratio`:
    independent estimates, e.g. a rate from C(τ) and one from the static W)."""
    r, e = stats.ratio(a, a_err, b, b_err)
    if r <= 0:
        raise ValueError("log10_ratio needs a positive ratio")
    return float(np.log10(r)), float(e / (r * np.log(10.0)))


def impurity_rate(result, tau, *, tau_fit: float, n_terms: int = 2, U: float, kappa_d: float = 1.0,
                  kappa_phi_over_kappa_d: float = 0.0) -> tuple[float, float]:
    """Γ̄ of Eq. (47) fitted, as for the chain, to the coherence C(τ) of the impurity model of a
    :class:`replicate.thermometry.FitResult` (2-photon or Scully–Lamb) with the given rate scale,
    dephasing and Kerr U (:func:`replicate.thermometry.dynamics.coherence`); its error propagates
    the fit covariance of the two rate ratios by forward differences."""
    from ..thermometry import dynamics
    from ..thermometry.models import PARAMETERS

    tau = np.asarray(tau, float)
    names = PARAMETERS[result.model]

    def rate(theta):
        C = dynamics.coherence(result.model, dict(zip(names, theta)), tau, U=U, kappa_d=kappa_d,
                               kappa_phi_over_kappa_d=kappa_phi_over_kappa_d)
        return fit_eq47(tau, C, tau_fit=tau_fit, n_terms=n_terms).mean_rate

    theta = np.asarray(result.internal, float)
    value = rate(theta)
    grad = np.empty(theta.size)
    for j in range(theta.size):
        step = 1e-3 * abs(theta[j]) + 1e-9
        up = theta.copy()
        up[j] += step
        grad[j] = (rate(up) - value) / step
    return value, float(np.sqrt(grad @ result.covariance @ grad))


def site_summary(params, sites, *, n_traj: int, t_relax: float, t_avg: float, sample_every: float,
                 n_lags: int, bins: int, seed: int = 0, dt: float | None = None,
                 dtype: str = "complex64") -> xr.Dataset:
    """NESS samples of a few sites (:func:`replicate.twa.site_samples`) reduced to what SI Fig. 16
    needs, small enough for the results store: per site the autocorrelation of
    :func:`autocorrelation` (``C_re``, ``C_im``, ``C_abs``, their ``*_err``, ``sums``,
    ``counts`` over ``tau``, n_lags + 1 lags) and the radial Wigner histogram per batch of
    trajectories of :func:`replicate.thermometry.histogram.from_samples` with ``bins`` bins
    (``radial_counts``, ``u_edges``). :func:`site_correlation` and :func:`site_histogram` read
    one site back; a fit of the histogram equals the fit of the samples with the same ``bins``."""
    from .. import twa
    from ..thermometry.histogram import from_samples

    raw = twa.site_samples(params, sites, n_traj=n_traj, t_relax=t_relax, t_avg=t_avg,
                           sample_every=sample_every, seed=seed, dt=dt, dtype=np.dtype(dtype))
    corr, hists = [], []
    for s in raw.site.values:
        x = raw.sel(site=s).values
        corr.append(autocorrelation(x, sample_every, n_lags))
        h = from_samples(x, bins=bins)
        hists.append(xr.Dataset({"radial_counts": (("hist_batch", "u_bin"), h.counts),
                                 "u_edges": ("u_edge", h.u_edges)}))
    out = xr.merge([xr.concat(corr, dim="site"), xr.concat(hists, dim="site")])
    out = out.assign_coords(site=raw.site.values)
    out.attrs = dict(raw.attrs, sample_every=float(sample_every))
    return out


def site_correlation(summary: xr.Dataset, site: int) -> xr.Dataset:
    """The :func:`autocorrelation` Dataset of one site of a :func:`site_summary`."""
    return summary.sel(site=site)[["C_re", "C_im", "C_abs", "C_re_err", "C_im_err", "C_abs_err",
                                   "sums", "counts"]].drop_vars("site")


def site_histogram(summary: xr.Dataset, site: int):
    """The radial histogram (:class:`replicate.thermometry.histogram.RadialHistogram`) of one
    site of a :func:`site_summary`."""
    from ..thermometry.histogram import RadialHistogram

    one = summary.sel(site=site)
    return RadialHistogram(one.u_edges.values, one.radial_counts.values)
