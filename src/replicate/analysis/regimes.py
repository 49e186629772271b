"""Locate the three NESS regimes of Ferrari et al. (Fig. 2) from a cut n_L(F), not by hand.

Rules (fixed before looking at the data, §4 of the spec):

- the **leap** F_leap is the midpoint of the steepest increase of n_L between neighbouring drives;
  regime III (RNW) is every drive above it;
- the **I→II crossover** F_c is the midpoint of the steepest increase of ln n_L against ln F below
  the leap: in the quasilinear regime n_L ∝ F² (log-log slope 2), and the onset of chaos is where
  the photon number rises faster than that; regime I is below it, regime II between F_c and F_leap.

The other observables (δn_L, the OTOC D) are then tested *inside* these regimes, so the claims
about them are not built into the definition.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def classify(F, n_L) -> Regimes:
    """Regimes of a cut n_L(F) by the rules of the module docstring."""
    F, n = _check(F, n_L)
    if np.any(n <= 0) or np.any(F <= 0):
        raise ValueError("n_L and F must be positive to take their logarithms")
    i_leap, _ = steepest_step(F, n)
    F_leap = 0.5 * (F[i_leap] + F[i_leap + 1])
    i_c, _ = steepest_step(np.log(F[: i_leap + 1]), np.log(n[: i_leap + 1]))
    return Regimes(F, 0.5 * (F[i_c] + F[i_c + 1]), F_leap)


def steepest_slope_with_error(F, x, x_err, *, lo: float = -np.inf, hi: float = np.inf,
                              sign: int = 1) -> tuple[float, float, float]:
    """(F_mid, |slope|, error) of the steepest change of ``x`` in [lo, hi] (``sign`` = +1 for a
    rise, −1 for a fall); the error propagates the two points' independent errors."""
    F, x = _check(F, x)
    x_err = np.asarray(x_err, float)
    i, s = steepest_step(F, sign * x, lo=lo, hi=hi)
    h = F[i + 1] - F[i]
    return 0.5 * (F[i] + F[i + 1]), abs(s), float(np.hypot(x_err[i], x_err[i + 1]) / h)
