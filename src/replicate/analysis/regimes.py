"""Locate the three NESS regimes of Ferrari et al. (Fig. 2) from a cut n_L(F), and the statistics
the paper's statements about them are tested with.

Rules (fixed before looking at the data, §4 of the spec):

- the **leap** F_leap is the midpoint of the steepest increase of n_L between neighbouring drives;
  regime III (RNW) is every drive above it;
- the **I→II crossover** F_c is the midpoint of the steepest increase of ln n_L against ln F below
  the leap: in the quasilinear regime n_L ∝ F² (log-log slope 2), and the onset of chaos is where
  the photon number rises faster than that; regime I is below it, regime II between F_c and F_leap.
  *Amended after the first bootstrap:* the search for F_c stops ``margin`` below the leap. The
  shoulder of the leap (the metastable mixture of chaotic and RNW trajectories) rises almost as
  steeply in ln n_L as the I→II crossover, and on some resamples the rule put F_c there; the
  margin is the one that already keeps that mixture out of every regime.

The other observables (δn_L, the OTOC D) are then tested *inside* these regimes, on drives at least
a margin away from both boundaries, so the claims about them are not built into the definition.
:func:`cut_statistics` computes every number the Fig. 2 claims use, each with the number the same
test gives on its control (another regime, or a window without a transition); its errors come
from :func:`replicate.analysis.compare.bootstrap`, which reclassifies every resample, so the
uncertainty of the regime boundaries is part of every error.

:func:`current_balance` checks a NESS in any regime against the conservation of the photon
number (the "uniform DC photon current" of Fig. 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import stats
from .fits import ols

if TYPE_CHECKING:
    import xarray as xr

    from ..chain import ChainParams


@dataclass(frozen=True)
class Regimes:
    """Drives of a cut split into regimes I, II, III (boolean masks over ``F``)."""

    F: np.ndarray
    F_c: float
    F_leap: float

    @property
    def I(self) -> np.ndarray:  # noqa: E743 - the paper's name
        return self.F < self.F_c

    @property
    def II(self) -> np.ndarray:
        return (self.F > self.F_c) & (self.F < self.F_leap)

    @property
    def III(self) -> np.ndarray:
        return self.F > self.F_leap

    def label(self) -> np.ndarray:
        """'I', 'II' or 'III' for every drive."""
        return np.where(self.III, "III", np.where(self.II, "II", "I"))

    def inside(self, margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks of regimes I, II, III restricted to drives at least ``margin`` from both
        boundaries (the metastable mixture near the leap belongs to none of them)."""
        if not (np.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be finite and >= 0, got {margin!r}")
        F = self.F
        return (F < self.F_c - margin, (F > self.F_c + margin) & (F < self.F_leap - margin),
                F > self.F_leap + margin)


def _check(F, x) -> tuple[np.ndarray, np.ndarray]:
    F, x = np.asarray(F, float), np.asarray(x, float)
    if F.ndim != 1 or F.shape != x.shape or F.size < 3:
        raise ValueError("F and the observable must be 1-d arrays of the same length >= 3")
    if np.any(np.diff(F) <= 0) or not np.all(np.isfinite(F)) or not np.all(np.isfinite(x)):
        raise ValueError("F must be finite and increasing, the observable finite")
    return F, x


def steepest_step(F, x, *, lo: float = -np.inf, hi: float = np.inf) -> tuple[int, float]:
    """(i, slope): the neighbouring pair (F_i, F_{i+1}) inside [lo, hi] with the largest
    (x_{i+1} − x_i)/(F_{i+1} − F_i)."""
    F, x = _check(F, x)
    slope = np.diff(x) / np.diff(F)
    inside = (F[:-1] >= lo) & (F[1:] <= hi)
    if not inside.any():
        raise ValueError(f"no pair of drives inside [{lo}, {hi}]")
    i = int(np.flatnonzero(inside)[np.argmax(slope[inside])])
    return i, float(slope[i])


def steepest_change(F, x, centre: float, window: float) -> float:
    """max |x_{i+1} − x_i| / (F_{i+1} − F_i) over neighbouring drives inside
    [centre − window, centre + window] (the steepness of a transition at ``centre``)."""
    F, x = _check(F, x)
    slope = np.abs(np.diff(x) / np.diff(F))
    inside = (F[:-1] >= centre - window) & (F[1:] <= centre + window)
    if not inside.any():
        raise ValueError(f"no pair of drives inside {centre} ± {window}")
    return float(slope[inside].max())


def classify(F, n_L, margin: float = 0.0) -> Regimes:
    """Regimes of a cut n_L(F) by the rules of the module docstring (F_c searched among drives
    at least ``margin`` below the leap)."""
    F, n = _check(F, n_L)
    if np.any(n <= 0) or np.any(F <= 0):
        raise ValueError("n_L and F must be positive to take their logarithms")
    i_leap, _ = steepest_step(F, n)
    F_leap = 0.5 * (F[i_leap] + F[i_leap + 1])
    below = F <= F_leap - margin
    if below.sum() < 2:
        raise ValueError(f"fewer than two drives {margin} below the leap at F = {F_leap}")
    i_c, _ = steepest_step(np.log(F[below]), np.log(n[below]))
    return Regimes(F, 0.5 * (F[i_c] + F[i_c + 1]), F_leap)


def _median(x, mask) -> float:
    return float(np.median(x[mask])) if mask.any() else np.nan


def _max(x, mask) -> float:
    return float(np.max(x[mask])) if mask.any() else np.nan


def _loglog_slope(F, n, mask) -> float:
    return ols(np.log(F[mask]), np.log(n[mask]))[0] if mask.sum() >= 2 else np.nan


#: Keys of :func:`cut_statistics` that are positions on the F grid (they get a quantization error).
POSITIONS = ("F_c", "F_leap", "peak_minus_leap", "Fc_minus_leap")


def cut_statistics(F, n, dn, D, *, margin: float, window: float = 1.0,
                   dn_sites=None) -> dict[str, float]:
    """Every number the Fig. 2 claims test, from one cut (n_L, δn_L, D_{1,L} over drives ``F``).

    Regimes by :func:`classify` with ``margin``, restricted by ``margin`` (:meth:`Regimes.inside`).
    Keys, with
    the regime they are evaluated in (a key ending in the name of another regime is the same
    statistic on the test's control):

    - ``n_max_I``, ``n_max_II``: largest n_L; ``dn_med_*``: median δn_L; ``D_max_*``: largest
      D; ``D_med_*``: median D; ``thermal_*``: median δn_L/n_L (1 for thermal light, Eq. 5:
      δn = n); ``slope_III``, ``slope_II``: OLS slope of ln n_L against ln F;
    - ``abrupt_n``: steepest |Δn_L/ΔF| within ``window`` of F_leap ÷ the same within ``window``
      of F_c; ``abrupt_n_control``: the same with the numerator's window centred in the middle
      of regime II (no transition there); ``abrupt_dn``, ``abrupt_dn_control``: the same for δn_L;
    - ``peak_minus_leap``: F of the largest δn_L − F_leap; ``Fc_minus_leap``: F_c − F_leap
      (its control: a feature that is not at the leap);
    - with ``dn_sites`` (drives × sites, δn at every site of the chain): ``sites_dn_II_min``,
      the smallest over sites of the median δn_ℓ over regime II, and ``sites_dn_I_min`` (control);
      ``sites_dn_III_max``, the largest over sites of the median δn_ℓ over III, and
      ``sites_dn_II_max`` (control).

    A statistic of an empty regime is NaN.
    """
    F, n = _check(F, n)
    dn, D = np.asarray(dn, float), np.asarray(D, float)
    reg = classify(F, n, margin)
    masks = dict(zip(("I", "II", "III"), reg.inside(margin)))
    out = {"F_c": reg.F_c, "F_leap": reg.F_leap}
    for name, m in masks.items():
        out[f"n_max_{name}"] = _max(n, m)
        out[f"dn_med_{name}"] = _median(dn, m)
        out[f"D_max_{name}"] = _max(D, m)
        out[f"D_med_{name}"] = _median(D, m)
        out[f"thermal_{name}"] = _median(dn / n, m)
        out[f"slope_{name}"] = _loglog_slope(F, n, m)
    middle = 0.5 * (reg.F_c + reg.F_leap)
    for key, x in (("n", n), ("dn", dn)):
        at_c = steepest_change(F, x, reg.F_c, window)
        out[f"abrupt_{key}"] = steepest_change(F, x, reg.F_leap, window) / at_c
        out[f"abrupt_{key}_control"] = steepest_change(F, x, middle, window) / at_c
    out["peak_minus_leap"] = float(F[np.argmax(dn)]) - reg.F_leap
    out["Fc_minus_leap"] = reg.F_c - reg.F_leap
    if dn_sites is not None:
        ds = np.asarray(dn_sites, float)
        if ds.ndim != 2 or ds.shape[0] != F.size:
            raise ValueError("dn_sites must have shape (drives, sites)")
        med = {k: np.array([_median(ds[:, s], m) for s in range(ds.shape[1])]) for k, m in masks.items()}
        out.update(sites_dn_II_min=float(med["II"].min()), sites_dn_I_min=float(med["I"].min()),
                   sites_dn_III_max=float(med["III"].max()), sites_dn_II_max=float(med["II"].max()))
    return out


def otoc_site_statistics(D_first, D_middle, D_last, *, chaotic: float = 0.5) -> dict[str, float]:
    """SI Fig. 11 over a map: ``D_first_max`` (largest D_{1,1}) and ``D_last_max`` (its control),
    ``middle_minus_last`` (median of D_{1,L/2} − D_{1,L} over the chaotic points, D_{1,L} >
    ``chaotic``) and ``first_minus_last`` (the same for D_{1,1}, its control)."""
    first, mid, last = (np.asarray(x, float) for x in (D_first, D_middle, D_last))
    if not (first.shape == mid.shape == last.shape):
        raise ValueError("the three OTOC maps must have the same shape")
    c = last > chaotic
    return {"D_first_max": float(np.nanmax(first)), "D_last_max": float(np.nanmax(last)),
            "middle_minus_last": _median(mid - last, c), "first_minus_last": _median(first - last, c)}


def region_width(F, mask) -> float:
    """F_max − F_min of the drives in ``mask`` (0 if fewer than one)."""
    F = np.asarray(F, float)
    return float(F[mask].max() - F[mask].min()) if np.any(mask) else 0.0


def spread_around(F, mask, F0: float) -> float:
    """Largest |F − F0| over the drives in ``mask`` (0 if none): how far from F0 a property
    reaches."""
    F = np.asarray(F, float)
    return float(np.abs(F[mask] - F0).max()) if np.any(mask) else 0.0


def three_regime_fraction(F, n, dn, D, *, margin: float, chaotic: float = 0.5,
                          regular: float = 0.1) -> float:
    """Fraction of the rows (chain lengths) of a map (rows × drives ``F``) that show all three
    regimes: :func:`classify` with ``margin`` finds drives in I, II and III, the median D over
    II exceeds ``chaotic``, the largest D over I and over III stays below ``regular`` and the
    median δn over III is negative. A row the rules cannot classify counts as not showing them."""
    F = np.asarray(F, float)
    n, dn, D = (np.atleast_2d(np.asarray(x, float)) for x in (n, dn, D))
    shown = []
    for row_n, row_dn, row_D in zip(n, dn, D):
        try:
            I, II, III = classify(F, row_n, margin).inside(margin)
        except ValueError:
            shown.append(False)
            continue
        shown.append(bool(I.any() and II.any() and III.any() and np.median(row_D[II]) > chaotic
                          and row_D[I].max() < regular and row_D[III].max() < regular
                          and np.median(row_dn[III]) < 0))
    return float(np.mean(shown))


def current_balance(ness: xr.Dataset, params: ChainParams) -> tuple[float, float]:
    """Photons injected at site 1 over photons leaving at site L in the NESS ``ness`` of the
    boundary-driven chain ``params``, (−2F Im⟨a_1⟩ − γ n_1) / (γ n_L), with its jackknife error
    over trajectory batches (``ness`` from ``twa.ness(..., keep_batches=True)``; n_ℓ = ⟨|α_ℓ|²⟩_W − ½).

    Hopping and the Kerr term conserve Σ_ℓ n_ℓ, so in a steady state of Eq. (1), and of the Wigner
    equations (4), the drive's input minus the loss at site 1 leaves through site L: the ratio is 1
    up to the sampling error (and the time-step error of the integration)."""
    def stat(m):
        n1, nL = m["m2"][0] - 0.5, m["m2"][-1] - 0.5
        return {"r": (-2 * params.F * m["im"][0] - params.gamma * n1) / (params.gamma * nL)}

    value, error = stats.jackknife_dataset(ness, stat)
    return float(value["r"]), float(error["r"])
