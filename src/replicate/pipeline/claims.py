"""Paper claims with our measured value, its error and a verdict.

A chapter opens a :class:`Ledger`, records each claim of the paper it replicates, shows the
table at the end and saves the ledger as JSON next to the executed notebook.  The book's
scorecard and the regression check (:mod:`replicate.pipeline.regress`) read those ledgers.

Verdicts
--------
``reproduced``      the measurement meets the paper's statement within the stated tolerance
                    and two standard errors;
``partly``          set explicitly by the chapter for a qualitative partial agreement;
``not reproduced``  the measurement contradicts the statement beyond tolerance and errors;
``not checked``     the claim cannot be checked in this profile (the reason is in ``note``).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
NOT_CHECKED = "not checked"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_CHECKED)
N_SIGMA = 2.0
LEDGER_SUFFIX = ".claims.json"


@dataclass(frozen=True)
class Claim:
    """One row of a claims table."""

    chapter: str
    figure: str
    claim: str
    paper: str
    measured: float | None
    error: float | None
    tolerance: str
    verdict: str
    profile: str
    note: str = ""


def _finite_or_none(x: Any, name: str) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3e}"


@dataclass
class Ledger:
    """The claims of one chapter.

    Parameters
    ----------
    chapter : the chapter id (e.g. ``"ferrari-fig2"``); names the JSON file.
    profile : ``"quick"`` or ``"paper"``; recorded with every claim.
    """

    chapter: str
    profile: str
    claims: list[Claim] = field(default_factory=list)

    def _add(self, **kw: Any) -> Claim:
        c = Claim(chapter=self.chapter, profile=self.profile, **kw)
        if c.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {c.verdict!r}")
        self.claims.append(c)
        return c

    def compare(self, figure: str, claim: str, paper: str, measured: float, error: float,
                target: float, tolerance: float, note: str = "") -> Claim:
        """Claim ``measured ≈ target``: reproduced when |measured − target| ≤ tolerance + 2·error."""
        m = _finite_or_none(measured, "measured")
        e = abs(_finite_or_none(error, "error") or 0.0)
        tol = abs(float(tolerance))
        ok = abs(m - float(target)) <= tol + N_SIGMA * e
        return self._add(figure=figure, claim=claim, paper=paper, measured=m, error=e,
                         tolerance=f"|x − {_fmt(float(target))}| ≤ {_fmt(tol)} + {N_SIGMA:g}σ",
                         verdict=REPRODUCED if ok else NOT_REPRODUCED, note=note)

    def bound(self, figure: str, claim: str, paper: str, measured: float, error: float,
              lower: float | None = None, upper: float | None = None, note: str = "") -> Claim:
        """Claim ``lower < measured < upper``, demanded at 2σ: reproduced only when the
        whole interval measured ± 2·error lies inside the bounds."""
        if lower is None and upper is None:
            raise ValueError("bound needs lower or upper")
        m = _finite_or_none(measured, "measured")
        e = abs(_finite_or_none(error, "error") or 0.0)
        ok = (lower is None or m - N_SIGMA * e > lower) and (upper is None or m + N_SIGMA * e < upper)
        lo = "" if lower is None else f"{_fmt(lower)} < "
        hi = "" if upper is None else f" < {_fmt(upper)}"
        return self._add(figure=figure, claim=claim, paper=paper, measured=m, error=e,
                         tolerance=f"{lo}x ± {N_SIGMA:g}σ{hi}",
                         verdict=REPRODUCED if ok else NOT_REPRODUCED, note=note)

    def record(self, figure: str, claim: str, paper: str, verdict: str,
               measured: float | None = None, error: float | None = None,
               tolerance: str = "judged", note: str = "") -> Claim:
        """Claim with an explicit verdict (qualitative statements; ``note`` says why)."""
        return self._add(figure=figure, claim=claim, paper=paper,
                         measured=_finite_or_none(measured, "measured"),
                         error=_finite_or_none(error, "error"), tolerance=tolerance,
                         verdict=verdict, note=note)

    def not_checked(self, figure: str, claim: str, paper: str, note: str) -> Claim:
        """A claim this profile cannot check; ``note`` says what would check it."""
        return self._add(figure=figure, claim=claim, paper=paper, measured=None, error=None,
                         tolerance="–", verdict=NOT_CHECKED, note=note)

    def counts(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.claims) for v in VERDICTS}

    def markdown(self) -> str:
        return claims_markdown(self.claims)

    def table(self):
        """The claims table as an IPython Markdown object (shown as the chapter's last cell)."""
        from IPython.display import Markdown

        return Markdown(self.markdown())

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write ``<chapter>.claims.json`` into ``directory`` (default: the working directory)."""
        path = Path(directory or ".") / f"{self.chapter}{LEDGER_SUFFIX}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(c) for c in self.claims], indent=1, ensure_ascii=False))
        tmp.replace(path)
        return path


def claims_markdown(claims: list[Claim], with_chapter: bool = False) -> str:
    """A Markdown table of claims (used per chapter and by the scorecard)."""
    head = ["figure", "paper says", "claim", "measured", "± error", "tolerance", "verdict", "note"]
    if with_chapter:
        head.insert(0, "chapter")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in claims:
        cells = [c.figure, c.paper, c.claim, _fmt(c.measured), _fmt(c.error), c.tolerance,
                 f"**{c.verdict}**", c.note]
        if with_chapter:
            cells.insert(0, c.chapter)
        rows.append("| " + " | ".join(str(x).replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
    return "\n".join(rows)


def load(path: str | os.PathLike) -> list[Claim]:
    """Read a ledger written by :meth:`Ledger.save`."""
    records = json.loads(Path(path).read_text())
    return [Claim(**r) for r in records]
