"""Input checks shared by the whole package: bad input raises ``ValueError`` naming the parameter,
never a numba crash or a silent NaN."""
from __future__ import annotations

import math

import numpy as np


def finite(name: str, value) -> float:
    """``value`` as a float; ``ValueError`` naming ``name`` unless it is a finite real number."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """``value`` as a float; ``ValueError`` naming ``name`` unless finite and > 0 (≥ 0 with
    ``allow_zero``)."""
    x = finite(name, value)
    if x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>=' if allow_zero else '>'} 0, got {value!r}")
    return x


def count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int; ``ValueError`` naming ``name`` unless an integer ≥ ``minimum``
    (an integral float such as 100.0 is accepted, a bool is not)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer, float, np.floating))
    if ok and isinstance(value, (float, np.floating)):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def chain_length(L) -> int:
    """``L`` as an int; ``ValueError`` unless an integer ≥ 2."""
    return count("L", L, minimum=2)


def finite_array(name: str, values, *, nonnegative: bool = False) -> np.ndarray:
    """``values`` as a float array; ``ValueError`` naming ``name`` on non-finite (or negative) entries."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of finite numbers") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    if nonnegative and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0")
    return a


def grid_edges(name: str, grid) -> np.ndarray:
    """Bin edges of a histogram grid given as ``(extent, bins)``: ``bins`` equal bins on
    [−extent, extent]."""
    try:
        extent, bins = grid
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (extent, bins)") from None
    extent = positive(f"{name} extent", extent)
    bins = count(f"{name} bins", bins)
    return np.linspace(-extent, extent, bins + 1)
