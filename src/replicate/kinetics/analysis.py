"""Reading the Ribeiro & Marquardt figures off the kinetic distributions.

* features of n(ω_k) near the band edges (Figs. 2b, 4): the local extremum of a curve within a
  window of a target energy, and its prominence;
* temperature profiles read off a distribution (Fig. 2b): how flat and how curved the local
  inverse temperature β_loc(ω) = d ln(1 + 1/n)/dω is;
* the special line Δ = −√3κ/2 (Eq. 16, Fig. 5): position r = −Δ/(√3κ/2) relative to it, points at
  fixed β0J along r, where the numerical curvature of β changes sign, where BE fits best;
* cooling and stability (Figs. 1, 3): energy per particle, δn = n_GS − n_high over densities, the
  linear stability margin of a steady state;
* masks and medians over the (Δ, κ) maps of :func:`~replicate.kinetics.divergence_map`.

Everything is deterministic: the numbers carry the solver tolerance (scaled residual < 1e-10),
not a statistical error; results that depend on the mode grid say so in their docstring.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import brentq, minimize_scalar
from scipy.signal import find_peaks

from .. import __version__
from ..analysis import fits
from ..validate import chain_length, finite, finite_array, positive
from .divergence import kl_divergence
from .equation import kinetic_jacobian
from .solve import steady_state
from .spectrum import cavity_spectrum
from .thermal import beta_extracted, bose_einstein

SQRT3_2 = np.sqrt(3.0) / 2.0


# --------------------------------------------------------------------------- the special line
def line_ratio(Delta, kappa) -> np.ndarray | float:
    """r = −Δ/(√3κ/2): 1 on the line Δ = −√3κ/2 where β(ω_k) ≡ β0 (Eq. 16); r < 1 below it
    (|Δ| < √3κ/2, band edges hotter), r > 1 above it (edges colder)."""
    Delta, kappa = np.asarray(Delta, dtype=float), np.asarray(kappa, dtype=float)
    if np.any(kappa <= 0) or not np.all(np.isfinite(kappa)):
        raise ValueError("kappa must be finite and > 0")
    r = -Delta / (SQRT3_2 * kappa)
    return float(r) if r.ndim == 0 else r


def iso_beta0(beta0J: float, r: float, J: float = 1.0) -> tuple[float, float]:
    """(Δ, κ) with β0J = ``beta0J`` (Eq. 13) and −Δ/(√3κ/2) = ``r`` (red detuning).

    From β0 = −4Δ/(Δ² + κ²/4) and κ²/4 = Δ²/(3r²): Δ = −4/[β0(1 + 1/(3r²))], κ = −2Δ/(√3 r);
    on the line (r = 1) Δ = −3/β0."""
    beta0J, r, J = positive("beta0J", beta0J), positive("r", r), positive("J", J)
    b0 = beta0J / J
    Delta = -4.0 / (b0 * (1.0 + 1.0 / (3.0 * r * r)))
    return Delta, -2.0 * Delta / (np.sqrt(3.0) * r)


# --------------------------------------------------------------------------- temperature profiles
def _beta_ratio(omega, n, beta0: float) -> np.ndarray:
    """β_loc(ω_k)/β0 on the interior modes (the two end modes use one-sided differences)."""
    beta0 = finite("beta0", beta0)
    if beta0 == 0:
        raise ValueError("beta0 must be non-zero")
    return beta_extracted(omega, n)[1:-1] / beta0


def temperature_flatness(omega, n, beta0: float) -> float:
    """max_k |β_loc(ω_k)/β0 − 1| over the interior modes: 0 for Bose–Einstein at β0.

    β_loc = d ln(1 + 1/n)/dω (finite differences on the modes), exact for any BE distribution."""
    omega = finite_array("omega", omega)
    return float(np.max(np.abs(_beta_ratio(omega, n, beta0) - 1.0)))


def temperature_curvature(omega, n, beta0: float) -> float:
    """Even curvature of the temperature profile: the slope b of the least-squares line
    β_loc(ω_k)/β0 ≈ a + b ω_k² over the interior modes (units 1/J²).  Eq. (16) predicts
    b = 3β0(3 + β0Δ)/(36Δ) for β_loc (sign change at Δ = ±√3κ/2); an odd part of β_loc does not
    enter (the modes are symmetric about ω = 0)."""
    omega = finite_array("omega", omega)
    return fits.line(omega[1:-1] ** 2, _beta_ratio(omega, n, beta0)).slope


def _iso_state(beta0J: float, r: float, N: float, L: int, J: float) -> xr.Dataset:
    Delta, kappa = iso_beta0(beta0J, r, J)
    return steady_state(Delta, kappa, N=N, L=L, J=J)


def curvature_flip_ratio(beta0J: float, *, N: float = 50, L: int = 100, J: float = 1.0,
                         bracket: tuple[float, float] = (0.5, 2.0), xtol: float = 1e-4) -> float:
    """r* = −Δ*/(√3κ*/2) at which the curvature of the *numerical* steady state's temperature
    profile (:func:`temperature_curvature`) changes sign, along the curve of fixed β0J.

    Eq. (16) puts the sign change on the line, r* = 1; higher orders in β0J move it.  Raises
    ``ValueError`` if the curvature has the same sign at both ends of ``bracket``."""
    beta0J = positive("beta0J", beta0J)

    def curvature(r: float) -> float:
        s = _iso_state(beta0J, r, N, L, J)
        return temperature_curvature(s["omega"].values, s["n"].values, s.attrs["beta0"])

    lo, hi = (positive("bracket", b) for b in bracket)
    f_lo, f_hi = curvature(lo), curvature(hi)
    if np.sign(f_lo) == np.sign(f_hi):
        raise ValueError(f"bracket {bracket} does not enclose a sign change of the curvature")
    return float(brentq(curvature, lo, hi, xtol=xtol))


def iso_beta0_scan(beta0J: float, rs, *, N: float = 50, L: int = 100, J: float = 1.0) -> xr.Dataset:
    """Steady states along the curve of fixed β0J (:func:`iso_beta0`) at the positions ``rs``
    relative to the special line: ``kl_be`` = D_KL(p∞ ‖ p_BE) (Eq. 17), ``flatness`` and
    ``curvature`` of the temperature profile, with ``Delta`` and ``kappa`` as coordinates over ``r``."""
    rs = finite_array("rs", np.atleast_1d(rs))
    out = {k: np.empty(len(rs)) for k in ("Delta", "kappa", "kl_be", "flatness", "curvature")}
    for i, r in enumerate(rs):
        s = _iso_state(beta0J, float(r), N, L, J)
        w, n, b0 = s["omega"].values, s["n"].values, s.attrs["beta0"]
        out["Delta"][i], out["kappa"][i] = s.attrs["Delta"], s.attrs["kappa"]
        out["kl_be"][i] = kl_divergence(n, bose_einstein(w, b0, N))
        out["flatness"][i], out["curvature"][i] = temperature_flatness(w, n, b0), temperature_curvature(w, n, b0)
    return xr.Dataset({k: ("r", out[k]) for k in ("kl_be", "flatness", "curvature")},
                      coords={"r": rs, "Delta": ("r", out["Delta"]), "kappa": ("r", out["kappa"])},
                      attrs={"beta0J": float(beta0J), "N": float(N), "L": int(L), "J": float(J), "version": __version__})


def be_divergence_minimum(beta0J: float, *, N: float = 50, L: int = 100, J: float = 1.0,
                          bounds: tuple[float, float] = (0.5, 2.0), xtol: float = 1e-3) -> tuple[float, float]:
    """(r_min, D_min): where along the curve of fixed β0J the steady state is closest to
    Bose–Einstein at β0, D_KL(p∞ ‖ p_BE) (Eq. 17) minimised over r = −Δ/(√3κ/2) in ``bounds``
    (bounded Brent search in ln r, tolerance ``xtol`` in ln r)."""
    beta0J = positive("beta0J", beta0J)

    def log_kl(x: float) -> float:
        s = _iso_state(beta0J, float(np.exp(x)), N, L, J)
        n = s["n"].values
        return float(np.log(kl_divergence(n, bose_einstein(s["omega"].values, s.attrs["beta0"], N))))

    lo, hi = (np.log(positive("bounds", b)) for b in bounds)
    res = minimize_scalar(log_kl, bounds=(lo, hi), method="bounded", options={"xatol": xtol})
    return float(np.exp(res.x)), float(np.exp(res.fun))


def series_order(omega, approx, exact) -> float:
    """Order p of an approximation's error, |approx/exact − 1| ∝ ω^p: the OLS slope of
    ln|approx/exact − 1| against ln ω (e.g. p = 4 for the O(ω⁴) remainder of Eq. 13)."""
    omega, approx, exact = (finite_array(n, v) for n, v in (("omega", omega), ("approx", approx), ("exact", exact)))
    err = np.abs(approx / exact - 1.0)
    if np.any(omega <= 0) or np.any(err == 0):
        raise ValueError("omega must be > 0 and the approximation must differ from exact")
    return fits.ols(np.log(omega), np.log(err))[0]


# --------------------------------------------------------------------------- features of n(ω)
def mode_spacing(omega, L: int, J: float = 1.0):
    """Local spacing of the band energies ω_k = 2J cos k at ω: 2J sin k · π/(L + 1)."""
    L, J = chain_length(L), positive("J", J)
    w = finite_array("omega", omega)
    if np.any(np.abs(w) > 2 * J):
        raise ValueError("omega must lie inside the band |omega| <= 2J")
    d = 2.0 * J * np.sqrt(1.0 - (w / (2.0 * J)) ** 2) * np.pi / (L + 1)
    return float(d) if d.ndim == 0 else d


def feature_near(omega, y, target: float, half_width: float, kind: str = "max") -> tuple[float, float]:
    """(position, prominence) of the most prominent interior local maximum (``kind="max"``) or
    minimum (``"min"``) of y(ω) within |ω − target| ≤ half_width; (NaN, 0) if there is none.

    The prominence (scipy.signal.peak_prominences) is measured on the whole curve.  The answer
    depends on the mode grid: a feature narrower than the window is resolved, a shoulder
    without a local extremum counts as no feature."""
    omega, y = finite_array("omega", omega), finite_array("y", y)
    if kind not in ("max", "min"):
        raise ValueError(f"kind must be 'max' or 'min', got {kind!r}")
    target, half_width = finite("target", target), positive("half_width", half_width)
    idx, props = find_peaks(y if kind == "max" else -y, prominence=0.0)
    inside = np.abs(omega[idx] - target) <= half_width
    if not inside.any():
        return float("nan"), 0.0
    j = int(np.argmax(props["prominences"][inside]))
    return float(omega[idx[inside][j]]), float(props["prominences"][inside][j])


def band_edge_features(omega, n, Delta: float, *, L: int, J: float = 1.0, width: float = 1.5,
                       log: bool = False) -> dict[str, tuple[float, float]]:
    """The transient features of Fig. 4 as ``{name: (position, prominence)}``:

    ``peak``   accumulation (local max) near ω = 2J + Δ,
    ``dip``    depletion (local min) near ω = −2J − Δ,
    ``second`` the second accumulation near ω = 2J + 2Δ (NaN, 0 if outside the band),

    each searched within ``width`` mode spacings of its target (:func:`feature_near`), on n or,
    with ``log=True``, on ln n (relative heights)."""
    Delta = finite("Delta", Delta)
    n = finite_array("n", n)
    y = np.log(n) if log else n
    out = {}
    for name, target, kind in (("peak", 2 * J + Delta, "max"), ("dip", -2 * J - Delta, "min"),
                               ("second", 2 * J + 2 * Delta, "max")):
        if abs(target) >= 2 * J:
            out[name] = (float("nan"), 0.0)
            continue
        out[name] = feature_near(omega, y, target, width * mode_spacing(target, L, J), kind)
    return out


def dos_features(omega, n, Delta: float, beta0: float, *, L: int, J: float = 1.0,
                 width: float = 1.5) -> dict[str, tuple[float, float]]:
    """The density-of-states features of a steady state for κ ≪ J (Fig. 2b): the most prominent
    local extremum (maximum or minimum) of β_loc(ω)/β0 within ``width`` mode spacings of
    ω = ±(2J + Δ), as ``{"upper": (position, prominence), "lower": (...)}`` ((NaN, 0) if none).
    β_loc = d ln(1 + 1/n)/dω is flat for Bose–Einstein; the features are where the band-edge
    divergence of the density of states meets the peak of S(±ω)."""
    omega, Delta = finite_array("omega", omega), finite("Delta", Delta)
    y = beta_extracted(omega, n) / finite("beta0", beta0)
    out = {}
    for name, target in (("upper", 2 * J + Delta), ("lower", -2 * J - Delta)):
        if abs(target) >= 2 * J:
            out[name] = (float("nan"), 0.0)
            continue
        hw = width * mode_spacing(target, L, J)
        out[name] = max((feature_near(omega[1:-1], y[1:-1], target, hw, kind) for kind in ("max", "min")),
                        key=lambda f: f[1])
    return out


# --------------------------------------------------------------------------- cooling, stability
def energy_per_particle(omega, n) -> float:
    """Σ_k ω_k n_k / Σ_k n_k (band centre = 0 = the infinite-temperature value): < 0 when the
    reservoir cools the array."""
    omega, n = finite_array("omega", omega), finite_array("n", n, nonnegative=True)
    return float(np.sum(omega * n) / np.sum(n))


def stability_margin(n, W) -> float:
    """Largest real part of the spectrum of the Jacobian of Eq. (7) at ``n`` (in units of max W),
    with the zero mode of particle-number conservation removed: < 0 for a linearly stable state."""
    n, W = finite_array("n", n, nonnegative=True), finite_array("W", W, nonnegative=True)
    ev = np.linalg.eigvals(kinetic_jacobian(n, W / W.max()))
    return float(ev[np.argsort(np.abs(ev))][1:].real.max())


def density_scan(Deltas, kappa: float, densities, *, L: int = 100, J: float = 1.0,
                 bose: bool = True) -> xr.Dataset:
    """Ground-state cooling over the density N/L (Fig. 3b): steady states at N = ρL for every
    detuning; returns ``n_gs`` (mode j = L, ω ≈ −2J), ``n_high`` (j = 1, ω ≈ +2J) and
    ``delta_n = n_gs − n_high`` (the caption's sign: > 0 for cooling) over dims (Delta, density).
    ``bose=False`` drops the Bose factor (the classical control)."""
    Deltas = finite_array("Deltas", np.atleast_1d(Deltas))
    densities = finite_array("densities", np.atleast_1d(densities))
    if np.any(densities <= 0):
        raise ValueError("densities must be > 0")
    L = chain_length(L)
    gs = np.empty((len(Deltas), len(densities)))
    hi = np.empty_like(gs)
    for i, D in enumerate(Deltas):
        for j, rho in enumerate(densities):
            n = steady_state(D, kappa, N=rho * L, L=L, J=J, bose=bose)["n"].values
            gs[i, j], hi[i, j] = n[-1], n[0]
    dims = ("Delta", "density")
    return xr.Dataset({"n_gs": (dims, gs), "n_high": (dims, hi), "delta_n": (dims, gs - hi)},
                      coords={"Delta": Deltas, "density": densities},
                      attrs={"kappa": float(kappa), "L": L, "J": float(J), "bose": int(bose),
                             "version": __version__})


def spectrum_peak(Delta: float, kappa: float, Omega0: float = 0.1) -> float:
    """Position of the maximum of S_c(ω) (Eq. 12), found numerically (a grid, then a bounded
    Brent search around its best point)."""
    Delta, kappa = finite("Delta", Delta), positive("kappa", kappa)
    span = 10.0 * (abs(Delta) + kappa)
    w = np.linspace(-span, span, 4001)
    i = int(np.argmax(cavity_spectrum(w, Delta, kappa, Omega0)))
    lo, hi = w[max(i - 1, 0)], w[min(i + 1, len(w) - 1)]
    res = minimize_scalar(lambda x: -cavity_spectrum(x, Delta, kappa, Omega0), bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-10})
    return float(res.x)


# --------------------------------------------------------------------------- (Δ, κ) maps
def region_masks(ds: xr.Dataset, *, small: float = 0.3, large: float = 1.0,
                 band: float = 0.2) -> dict[str, np.ndarray]:
    """Boolean masks over a :func:`divergence_map`: ``valid`` (Eq. 15 positive), ``small``
    (β0J < small: the perturbative regime), ``large`` (β0J > large), ``near`` (|r − 1| < band,
    r = −Δ/(√3κ/2): close to the special line) and ``far`` (not near)."""
    small, large, band = positive("small", small), positive("large", large), positive("band", band)
    D, K = np.meshgrid(ds["Delta"].values, ds["kappa"].values, indexing="ij")
    b, near = ds["beta0_J"].values, np.abs(line_ratio(D, K) - 1.0) < band
    return {"valid": ds["valid"].values.astype(bool), "small": b < small, "large": b > large,
            "near": near, "far": ~near}


def masked_median(values, mask) -> float:
    """Median of the finite ``values`` where ``mask`` holds (``ValueError`` if there are none)."""
    v = np.asarray(values, dtype=float)[np.asarray(mask, dtype=bool)]
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite values under the mask")
    return float(np.median(v))


def masked_fraction(values, mask, *, above: float | None = None, below: float | None = None) -> float:
    """Fraction of the finite ``values`` under ``mask`` that are > ``above`` (and/or < ``below``)."""
    v = np.asarray(values, dtype=float)[np.asarray(mask, dtype=bool)]
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite values under the mask")
    ok = np.ones(v.size, dtype=bool)
    if above is not None:
        ok &= v > finite("above", above)
    if below is not None:
        ok &= v < finite("below", below)
    return float(ok.mean())
