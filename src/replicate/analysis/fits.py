"""Straight-line fits: the one implementation behind every slope, exponential and power-law fit.

* :func:`ols` — ordinary least-squares slope and intercept of y(x) along the first axis of
  ``y``, for any trailing axes at once (jackknife resamples, sites):
  s = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², a = ȳ − s x̄; NaN where a column holds a NaN.
* :func:`line` — weighted least squares y = a + b x with weights 1/σ², parameter covariance
  (X^T W X)^{-1} (not rescaled by χ²) and χ²/dof; ``sigma=None`` fits unweighted and takes the
  parameter errors from the residual scatter (χ²/dof = 1 by construction).
* :func:`log_line` — the same on ln y (σ_ln y = σ_y / y): exponentials y = A e^{bx} and, with
  ln x, power laws.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LineFit:
    """y ≈ intercept + slope · x with standard errors and χ²/dof over ``n`` points."""

    slope: float
    intercept: float
    slope_err: float
    intercept_err: float
    chi2_dof: float
    n: int

    def __call__(self, x):
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    @property
    def slope_pair(self) -> tuple[float, float]:
        """(slope, slope_err): the estimate a claim checks."""
        return self.slope, self.slope_err


def _xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape[:1] != x.shape:
        raise ValueError(f"x must be 1-d and y must have len(x)={x.size} points on its first axis")
    if not np.all(np.isfinite(x)) or np.unique(x).size < 2:
        raise ValueError("x must be finite with at least two distinct values")
    return x, y


def ols(x, y) -> tuple:
    """(slope, intercept) of the OLS line of ``y`` against ``x`` along axis 0 (vectorised over
    trailing axes; floats for 1-d ``y``)."""
    x, y = _xy(x, y)
    dx = (x - x.mean()).reshape((-1,) + (1,) * (y.ndim - 1))
    s = (dx * (y - y.mean(0))).sum(0) / (dx * dx).sum(0)
    a = y.mean(0) - s * x.mean()
    return (float(s), float(a)) if np.ndim(s) == 0 else (s, a)


def line(x, y, sigma=None) -> LineFit:
    """Weighted least-squares line through 1-d ``y(x)`` (see the module docstring)."""
    x, y = _xy(x, y)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError("y must be a finite 1-d array")
    n = x.size
    if sigma is None:
        w = np.ones(n)
    else:
        s = np.asarray(sigma, dtype=float)
        if s.shape != y.shape or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError("sigma must be finite, > 0 and match y")
        w = 1.0 / s**2
    X = np.stack([np.ones(n), x], axis=1)
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    a, b = cov @ (X.T @ (w * y))
    dof = n - 2
    chi2 = float(np.sum(w * (y - a - b * x) ** 2) / dof) if dof > 0 else float("nan")
    if sigma is None:
        cov = cov * chi2 if dof > 0 else np.full((2, 2), np.nan)
        chi2 = 1.0 if dof > 0 else float("nan")
    return LineFit(float(b), float(a), float(np.sqrt(cov[1, 1])), float(np.sqrt(cov[0, 0])), chi2, n)


def log_line(x, y, sigma=None) -> LineFit:
    """:func:`line` of ln y (y > 0) with σ_ln y = σ_y / y: y ≈ e^{intercept} e^{slope · x}."""
    y = np.asarray(y, dtype=float)
    if np.any(~(y > 0)):
        raise ValueError("y must be > 0 to take its logarithm")
    s = None if sigma is None else np.asarray(sigma, dtype=float) / y
    return line(x, np.log(y), s)
