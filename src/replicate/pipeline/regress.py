"""Regression check of the claims ledgers against a committed baseline.

A maintainer relies on CI to notice a changed figure: the quick profile is deterministic
(fixed seeds), so a measured value that moves by more than its combined statistical error, or
a claim that stops being reproduced, is reported and fails the check.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .claims import REPRODUCED, Claim

N_SIGMA = 3.0
REL_TOL = 1e-6  # floating-point noise allowed between machines for deterministic numbers


@dataclass(frozen=True)
class Finding:
    kind: str  # "regressed" | "changed" | "missing" | "new"
    key: str
    detail: str

    @property
    def fails(self) -> bool:
        return self.kind != "new"


def _key(c: Claim) -> str:
    return f"{c.chapter} · {c.figure} · {c.claim}"


def moved(old: Claim, new: Claim) -> bool:
    """True when ``new.measured`` differs from ``old.measured`` by more than N_SIGMA combined
    standard errors plus a relative floating-point allowance."""
    if old.measured is None or new.measured is None:
        return (old.measured is None) != (new.measured is None)
    sigma = math.hypot(old.error or 0.0, new.error or 0.0)
    allowed = N_SIGMA * sigma + REL_TOL * max(1.0, abs(old.measured))
    return abs(new.measured - old.measured) > allowed


def compare(baseline: list[Claim], current: list[Claim], chapters: set[str] | None = None) -> list[Finding]:
    """Findings of ``current`` against ``baseline`` (restricted to ``chapters`` when given)."""
    base = {_key(c): c for c in baseline if chapters is None or c.chapter in chapters}
    cur = {_key(c): c for c in current if chapters is None or c.chapter in chapters}
    out: list[Finding] = []
    for key, old in base.items():
        new = cur.get(key)
        if new is None:
            out.append(Finding("missing", key, "claim no longer recorded"))
            continue
        if old.verdict == REPRODUCED and new.verdict != REPRODUCED:
            out.append(Finding("regressed", key, f"verdict {old.verdict!r} -> {new.verdict!r}"))
        if moved(old, new):
            out.append(Finding("changed", key, f"measured {old.measured!r} ± {old.error!r} -> "
                                               f"{new.measured!r} ± {new.error!r}"))
    out += [Finding("new", k, "not in the baseline") for k in cur.keys() - base.keys()]
    return out


def save_baseline(claims: list[Claim], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(c) for c in claims], indent=1, ensure_ascii=False) + "\n")
    return path


def load_baseline(path: Path) -> list[Claim]:
    return [Claim(**r) for r in json.loads(Path(path).read_text())]
