"""Declared tests of a claim and the verdict on a measurement with its error.

Verdicts (σ: the standard error of the measurement, resampled for every stochastic number)
-------------------------------------------------------------------------------------
``reproduced``      the test passes beyond the errors: for a bound, the whole interval
                    measured ± 2σ is inside the bounds; for a comparison with a target, the
                    interval lies within the tolerance band (an equivalence test, |x − t| + 2σ ≤ tol);
``not reproduced``  the measurement contradicts the claim beyond the errors (measured ± 2σ is
                    entirely outside the bounds, or |x − t| − 2σ > tol);
``inconclusive``    neither: the errors are too large to decide, or the test also passes on
                    its control (it does not discriminate);
``partly``          a judged, qualitative partial agreement (the note says why);
``not checked``     the claim cannot be checked in this profile (the note says what would).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_CHECKED = "not checked"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE, NOT_CHECKED)
N_SIGMA = 2.0
POINT_PREDICTION = 0.2  # relative tolerance up to which a comparison with a paper number discriminates


@dataclass(frozen=True)
class Criterion:
    """A declared test: a comparison ``|x − target| ≤ tolerance`` or bounds ``lower < x < upper``,
    or ``judged`` (a qualitative statement whose verdict the chapter gives with a reason)."""

    target: float | None = None
    tolerance: float | None = None
    lower: float | None = None
    upper: float | None = None
    judged: bool = False

    def __post_init__(self) -> None:
        for name in ("target", "tolerance", "lower", "upper"):
            finite_or_none(getattr(self, name), name)
        compare = self.target is not None or self.tolerance is not None
        bound = self.lower is not None or self.upper is not None
        if self.judged and (compare or bound):
            raise ValueError("a judged test has no target, tolerance or bounds")
        if not self.judged and compare == bound:
            raise ValueError("a test needs either target and tolerance, or lower and/or upper")
        if compare and (self.target is None or self.tolerance is None or self.tolerance < 0):
            raise ValueError("a comparison needs a target and a tolerance >= 0")
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"lower={self.lower!r} must be below upper={self.upper!r}")

    def verdict(self, measured: float, error: float) -> str:
        """The verdict of the module docstring for ``measured`` ± ``error``."""
        if self.judged:
            raise ValueError("a judged test has no automatic verdict")
        k = N_SIGMA * error
        if self.target is not None:
            dev = abs(measured - self.target)
            if dev + k <= self.tolerance:
                return REPRODUCED
            return NOT_REPRODUCED if dev - k > self.tolerance else INCONCLUSIVE
        inside = ((self.lower is None or measured - k > self.lower)
                  and (self.upper is None or measured + k < self.upper))
        outside = ((self.lower is not None and measured + k < self.lower)
                   or (self.upper is not None and measured - k > self.upper))
        return REPRODUCED if inside else NOT_REPRODUCED if outside else INCONCLUSIVE

    def describe(self) -> str:
        if self.judged:
            return "judged"
        if self.target is not None:
            return f"|x − {fmt(self.target)}| ± {N_SIGMA:g}σ ≤ {fmt(self.tolerance)}"
        lo = "" if self.lower is None else f"{fmt(self.lower)} < "
        hi = "" if self.upper is None else f" < {fmt(self.upper)}"
        return f"{lo}x ± {N_SIGMA:g}σ{hi}"


def finite_or_none(x: Any, name: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3e}"
