"""Input checks shared by the kinetics modules: bad input raises ``ValueError`` naming it."""
from __future__ import annotations

import math

import numpy as np


def finite(name: str, value: float) -> float:
    """``value`` as a float; ``ValueError`` naming ``name`` when it is not a finite number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def positive(name: str, value: float) -> float:
    """``value`` as a float; ``ValueError`` naming ``name`` unless finite and > 0."""
    x = finite(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def chain_length(L: int) -> int:
    """``L`` as an int; ``ValueError`` unless an integer ≥ 2."""
    if isinstance(L, bool) or not float(finite("L", L)).is_integer() or int(L) < 2:
        raise ValueError(f"L must be an integer >= 2, got {L!r}")
    return int(L)


def finite_array(name: str, values, *, nonnegative: bool = False) -> np.ndarray:
    """``values`` as a float array; ``ValueError`` naming ``name`` on non-finite (or negative) entries."""
    a = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    if nonnegative and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0")
    return a
