"""Regression check of the claims ledgers against a committed baseline: physics, not noise.

A row of the baseline and the same row (same chapter and key) of a new run are compared:

``changed``     the measured value moved by more than :data:`N_SIGMA` combined standard errors
                (stochastic rows; 5σ keeps the family-wise false-alarm rate of ~200 rows at a
                new seed below ~1 %), or beyond a floating-point allowance (exact rows);
``definition``  the declared test changed: kind, target, tolerance, bounds or control;
``verdict``     the verdict changed (in either direction) while neither run was within
                :data:`BORDER_SIGMA` errors of the test's decision boundary;
``missing``     the row is gone.

Figure values (:meth:`replicate.pipeline.claims.Ledger.value`) are compared the same way
(``changed``, ``missing``). These fail the check. Informational findings do not: ``borderline`` (a verdict flip of a row
that sits within :data:`BORDER_SIGMA` errors of its decision boundary, which a new seed may
flip) and ``new`` (a row not in the baseline). With the same seed the numbers are deterministic,
so any failing finding is a change of the computation; with a new seed only a change beyond
the statistics fails, which is what the seed job of CI demonstrates.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .claims import LEDGER_SUFFIX, Claim, Value, load, load_values
from .verdicts import N_SIGMA as TEST_SIGMA

N_SIGMA = 5.0
BORDER_SIGMA = 3.0
REL_TOL = 1e-6  # floating-point noise allowed between machines for deterministic numbers
FAILING = ("changed", "definition", "verdict", "missing")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of FAILING, or "borderline" | "new"
    key: str
    detail: str

    @property
    def fails(self) -> bool:
        return self.kind in FAILING


@dataclass(frozen=True)
class Records:
    """The claims and figure values of one or more ledgers."""

    claims: list[Claim]
    values: list[Value]


def collect(directory: Path) -> Records:
    """Claims and values of every ledger under ``directory`` (``ValueError`` if it is missing)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"no ledger folder {directory}")
    paths = sorted(directory.rglob(f"*{LEDGER_SUFFIX}"))
    return Records([c for p in paths for c in load(p)], [v for p in paths for v in load_values(p)])


def key(c: Claim | Value) -> str:
    return f"{c.chapter} · {c.key}"


def _moved(a: float | None, ea: float | None, b: float | None, eb: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    allowed = N_SIGMA * math.hypot(ea or 0.0, eb or 0.0) + REL_TOL * max(1.0, abs(a))
    return abs(b - a) > allowed


def moved(old: Claim, new: Claim) -> bool:
    """True when ``new.measured`` differs from ``old.measured`` by more than N_SIGMA combined
    standard errors plus a relative floating-point allowance."""
    return _moved(old.measured, old.error, new.measured, new.error)


def boundary_distance(c: Claim) -> float:
    """Distance of the measured value from the nearest decision boundary of its test, in units
    of its error (inf for exact rows away from the boundary, judged or unchecked rows)."""
    if c.measured is None or c.test == "judged":
        return math.inf
    k = TEST_SIGMA * (c.error or 0.0)
    if c.target is not None:
        dev = abs(c.measured - c.target)
        edges = [c.tolerance - k, c.tolerance + k]
        dist = min(abs(dev - b) for b in edges)
    else:
        edges = [b + s for b in (c.lower, c.upper) if b is not None for s in (-k, k)]
        dist = min(abs(c.measured - b) for b in edges)
    if not c.error:
        return math.inf if dist > REL_TOL * max(1.0, abs(c.measured)) else 0.0
    return dist / c.error


def _definition(c: Claim) -> tuple:
    return (c.kind, c.test, c.target, c.tolerance, c.lower, c.upper, c.control)


def compare(baseline: Records, current: Records, chapters: set[str] | None = None) -> list[Finding]:
    """Findings of ``current`` against ``baseline`` (restricted to ``chapters`` when given)."""
    keep = (lambda c: True) if chapters is None else (lambda c: c.chapter in chapters)
    out = _compare_values({key(v): v for v in baseline.values if keep(v)},
                          {key(v): v for v in current.values if keep(v)})
    base = {key(c): c for c in baseline.claims if keep(c)}
    cur = {key(c): c for c in current.claims if keep(c)}
    for k, old in base.items():
        new = cur.get(k)
        if new is None:
            out.append(Finding("missing", k, "claim no longer recorded"))
            continue
        if _definition(old) != _definition(new):
            out.append(Finding("definition", k, f"test {_definition(old)!r} -> {_definition(new)!r}"))
        if moved(old, new):
            out.append(Finding("changed", k, f"measured {old.measured!r} ± {old.error!r} -> "
                                             f"{new.measured!r} ± {new.error!r}"))
        if old.verdict != new.verdict:
            close = min(boundary_distance(old), boundary_distance(new)) < BORDER_SIGMA
            out.append(Finding("borderline" if close else "verdict", k,
                               f"verdict {old.verdict!r} -> {new.verdict!r}"))
    out += [Finding("new", k, "not in the baseline") for k in cur.keys() - base.keys()]
    return out


def _compare_values(base: dict[str, Value], cur: dict[str, Value]) -> list[Finding]:
    out = []
    for k, old in base.items():
        new = cur.get(k)
        if new is None:
            out.append(Finding("missing", k, "figure value no longer recorded"))
        elif _moved(old.value, old.error, new.value, new.error):
            out.append(Finding("changed", k, f"{old.what}: {old.value!r} ± {old.error!r} -> "
                                             f"{new.value!r} ± {new.error!r}"))
    return out + [Finding("new", k, "figure value not in the baseline") for k in cur.keys() - base.keys()]


def save_baseline(records: Records, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"claims": [asdict(c) for c in records.claims], "values": [asdict(v) for v in records.values]}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return path


def load_baseline(path: Path) -> Records:
    """The baseline written by :func:`save_baseline`; another layout is a ValueError saying how to
    regenerate it."""
    data = json.loads(Path(path).read_text())
    try:
        return Records([Claim(**r) for r in data["claims"]], [Value(**r) for r in data["values"]])
    except (TypeError, KeyError) as exc:
        raise ValueError(f"{path} is not a baseline of this version ({exc}); regenerate it with "
                         "'replicate execute --profile quick' then 'replicate regress --update'") from None
