"""Single-site statistics of the steady state: momentum distributions, kurtosis, spatial domains.

Used by SI Figs. 13 (TWA vs Gross-Pitaevskii) and 14 (equipartition) of Ferrari et al. (2025).

Quadratures (SI §2.9 of the notes): x = (a + a†)/√2, p = (a − a†)/(i√2). Their Weyl symbols are
x = √2 Re α and p = √2 Im α, and so are those of every power p̂^k (a single quadrature is
symmetrically ordered by construction). Hence the p-marginal of the local Wigner function
(SI Eq. 33) is the exact distribution P(p) of p̂ within the TWA, and the moments of the Wigner
samples of √2 Im α are the quantum moments ⟨p̂^k⟩ (vacuum: ⟨p̂²⟩ = ½, excess kurtosis 0).

:func:`local_ness` samples the NESS like :func:`replicate.twa.ness` (same trajectories for the
same seed) but also keeps what the SI figures need and ``ness`` does not return: per-batch
momentum histograms (so P(p) carries an error band) and ⟨p̂³⟩, ⟨p̂⁴⟩ (so the excess kurtosis has a
jackknife error and no binning error).

Domains (main text §II.3.3). A rotation-invariant Wigner function of a classical Gibbs state
W ∝ exp[(μ|α|² − U|α|⁴/2)/T] is ring-shaped (maximum at |α| > 0) when μ > 0 and bell-shaped when
μ < 0. For a rotation-invariant W the excess kurtosis of p is κ = (3/2)(⟨I²⟩/⟨I⟩² − 2), I = |α|²
(:func:`kurtosis_u1`); at μ = 0 the intensity distribution is a half-Gaussian, ⟨I²⟩/⟨I⟩² = π/2,
which gives the boundary :data:`KAPPA_RING` = (3/2)(π/2 − 2) ≈ −0.644 between the prethermal
(ring, μ > 0) and thermal (bell, μ < 0) domains, for any T and U. :func:`classify_domains` uses it.
"""
from __future__ import annotations


import numpy as np
import xarray as xr
from scipy.special import erf


KAPPA_RING = 1.5 * (np.pi / 2 - 2)
"""Excess kurtosis of p at the ring/bell boundary (μ = 0 classical Gibbs state), ≈ −0.644."""

DOMAINS = ("nonthermal", "prethermal", "thermal")


def kurtosis_u1(n, delta_n):
    """Excess kurtosis of p for a rotation-invariant local state from n and δn (Eq. 5).

    With I = |α|² (Wigner), ⟨I⟩ = n + ½ and Var(I) = (δn + 1) n + ¼, and a uniform phase gives
    κ = (3/2)[Var(I)/⟨I⟩² − 1]: 0 for any thermal state (δn = n) and the vacuum, → −3/2 for a
    phase-randomised coherent state (δn = 0, n → ∞).
    """
    n, delta_n = np.asarray(n, float), np.asarray(delta_n, float)
    return 1.5 * (((delta_n + 1.0) * n + 0.25) / (n + 0.5) ** 2 - 1.0)


def momentum_marginal(wigner: xr.DataArray) -> xr.DataArray:
    """P(p) from a Wigner histogram W(..., re, im) of :func:`replicate.twa.ness` (``wigner_grid``).

    P(p) = ∫ W(re, p/√2) d(re) / √2 on the points p = √2·im (a density in p); it integrates to the
    fraction of samples inside the histogram square.
    """
    if "re" not in wigner.dims or "im" not in wigner.dims:
        raise ValueError("wigner must have dims 're' and 'im'")
    d_re = float(wigner["re"][1] - wigner["re"][0])
    out = wigner.sum("re") * d_re / np.sqrt(2.0)
    out = out.rename(im="p").assign_coords(p=np.sqrt(2.0) * wigner["im"].values)
    return out


def density_moments(p: np.ndarray, density: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, variance and excess kurtosis of a binned density on equally spaced bin centres ``p``.

    The density is renormalised to 1 along its last axis. Sheppard's corrections for bins of width
    h remove the binning bias: μ₂ = μ₂' − h²/12, μ₄ = μ₄' − h²μ₂'/2 + 7h⁴/240.
    """
    p = np.asarray(p, float)
    d = np.asarray(density, float)
    h = p[1] - p[0]
    w = d / d.sum(-1, keepdims=True)
    mean = (w * p).sum(-1)
    c = p - mean[..., None]
    m2 = (w * c ** 2).sum(-1)
    m4 = (w * c ** 4).sum(-1)
    var = m2 - h * h / 12.0
    mu4 = m4 - 0.5 * h * h * m2 + 7.0 * h ** 4 / 240.0
    return {"p_mean": mean, "p_var": var, "p_kurtosis": mu4 / (var * var) - 3.0}


def gaussian_density(p: np.ndarray, mean: float, var: float, width: float | None = None) -> np.ndarray:
    """Gaussian of the given mean and variance on the bin centres ``p``, averaged over each bin
    (of width ``width``, default the spacing of ``p``), to compare with a histogram."""
    p = np.asarray(p, float)
    h = (p[1] - p[0]) if width is None else width
    s = np.sqrt(2.0 * var)
    return 0.5 * (erf((p + h / 2 - mean) / s) - erf((p - h / 2 - mean) / s)) / h


def classify_domains(V, kappa, *, V_sym: float = 0.9, kappa_c: float = KAPPA_RING,
                     V_err=None, kappa_err=None, n_sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Label each site nonthermal, prethermal or thermal (main text §II.3.3).

    - ``nonthermal``: the U(1) symmetry is still broken by the drive, V < ``V_sym``
      (|⟨e^{iφ}⟩| > 1 − V_sym);
    - ``prethermal``: symmetric and ring-shaped, κ < ``kappa_c`` (Gibbs μ > 0);
    - ``thermal``: symmetric and bell-shaped, κ ≥ ``kappa_c`` (Gibbs μ < 0).

    Returns (labels, ambiguous): ``ambiguous`` marks sites whose V or κ lies within ``n_sigma``
    errors of its threshold (when errors are given).
    """
    V, kappa = np.asarray(V, float), np.asarray(kappa, float)
    if V.shape != kappa.shape:
        raise ValueError("V and kappa must have the same shape")
    if not 0.0 < V_sym <= 1.0:
        raise ValueError(f"V_sym must be in (0, 1], got {V_sym!r}")
    labels = np.where(V < V_sym, DOMAINS[0], np.where(kappa < kappa_c, DOMAINS[1], DOMAINS[2]))
    amb = np.zeros(V.shape, bool)
    if V_err is not None:
        amb |= np.abs(V - V_sym) < n_sigma * np.asarray(V_err, float)
    if kappa_err is not None:
        amb |= (V >= V_sym) & (np.abs(kappa - kappa_c) < n_sigma * np.asarray(kappa_err, float))
    return labels, amb


def domain_sites(labels, sites=None) -> dict[str, np.ndarray]:
    """The sites (1-based unless ``sites`` is given) carrying each label of :data:`DOMAINS`."""
    labels = np.asarray(labels)
    sites = np.arange(1, labels.size + 1) if sites is None else np.asarray(sites)
    return {d: sites[labels == d] for d in DOMAINS}


def log_slope(sites, n, mask=None):
    """Least-squares slope s = d ln n_ℓ / dℓ over ``mask``; the amplitude relaxation length is
    ξ_n = −1/s (s ≥ 0: no decay). The slope, not ξ_n, is returned because it stays finite for a
    flat profile (jackknife-friendly). ``n`` has sites on its first axis (trailing axes, e.g.
    jackknife batches, give one slope each) and must be positive on ``mask``.
    """
    sites, n = np.asarray(sites, float), np.asarray(n, float)
    m = np.ones(sites.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.sum() < 2:
        raise ValueError("log_slope needs at least 2 sites in mask")
    if np.any(n[m] <= 0):
        raise ValueError("n must be positive on mask")
    y = np.log(n[m])
    s = np.polyfit(sites[m], y.reshape(y.shape[0], -1), 1)[0]
    return s.reshape(y.shape[1:]) if y.ndim > 1 else float(s[0])
