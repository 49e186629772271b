"""Paper claims with our measured value, its error, a calibrated test and a verdict.

A chapter opens a :class:`Ledger` and **declares** every test before it computes anything
(:meth:`Ledger.declare`: the claim, its kind, the test's target and tolerance or bounds, the
control on which the test must fail). After the run it **checks** each declared test with the
measured value and error (:meth:`Ledger.check`), or judges it (:meth:`Ledger.judge`), or marks it
not checkable in this profile (:meth:`Ledger.skip`). The verdicts come from the declared test,
never from the chapter: thresholds live in one place and are set before the data exist; a
threshold changed after seeing data is declared with ``posthoc="why"`` and the row says so.

Verdicts: :mod:`.verdicts` (the declared tests and how a measurement ± error is judged).

Kinds
-----
``paper``      a statement of the paper;
``check``      an oracle or identity of our equations or engine (U = 0 exactness, τ = 0, a
               conservation law): it tests the code, not the paper;
``extension``  a statement of ours that the paper does not make.

Figure values
-------------
:meth:`Ledger.value` records a number the figure shows (a photon number, a rate) with its error
and no verdict: not a claim, but what the regression check compares so that a change of the
physics (a factor in U) is caught even in a chapter whose claims are identities.

A paper claim's test is **discriminating** when it was shown to fail where the property is
absent (its declared control gives ``not reproduced``), or when it compares with a number
quoted in the paper (``source="paper"``) within a tolerance of at most 20 % of that number (a
point prediction). The scorecard's headline counts discriminating paper claims only.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .verdicts import (INCONCLUSIVE, NOT_CHECKED, NOT_REPRODUCED, PARTLY, POINT_PREDICTION,
                       REPRODUCED, VERDICTS, Criterion, finite_or_none, fmt)

PAPER, CHECK, EXTENSION = "paper", "check", "extension"
KINDS = (PAPER, CHECK, EXTENSION)

LEDGER_SUFFIX = ".claims.json"


@dataclass(frozen=True)
class Claim:
    """One row of a claims table (what the JSON ledger stores)."""

    chapter: str
    key: str
    figure: str
    claim: str
    paper: str
    kind: str
    test: str
    target: float | None
    tolerance: float | None
    lower: float | None
    upper: float | None
    measured: float | None
    error: float | None
    verdict: str
    profile: str
    control: str = ""
    control_measured: float | None = None
    control_error: float | None = None
    control_verdict: str = ""
    discriminating: bool = False
    posthoc: str = ""
    note: str = ""

    @property
    def headline(self) -> bool:
        """Counted in the scorecard's headline: a paper claim with a discriminating test."""
        return self.kind == PAPER and self.discriminating


@dataclass(frozen=True)
class Value:
    """A number a figure shows, with its error (``None`` if exact): compared by the regression
    check, not judged."""

    chapter: str
    key: str
    what: str
    value: float
    error: float | None
    profile: str


@dataclass(frozen=True)
class _Declared:
    figure: str
    claim: str
    paper: str
    kind: str
    test: Criterion
    control: str
    source: str
    exact: bool
    posthoc: str
    note: str


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
    declared: dict[str, _Declared] = field(default_factory=dict)
    values: list[Value] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self) -> None:
        from ..provenance import reset

        reset()  # a chapter starts with its ledger: its figures' provenance is what runs from here

    def declare_from(self, chapter: str, **context) -> Ledger:
        """Declare every claim of the chapter's YAML file ``chapters/<chapter>.claims.yml``
        (format: :mod:`.declarations`); ``context`` fills the templates (``L=L, sites=sites``).
        Returns the ledger, so that ``ledger = Ledger(...).declare_from(...)`` reads as one step."""
        from .declarations import claims_file, load

        for key, kw in load(claims_file(chapter), context):
            self.declare(key, **kw)
        return self

    def elapsed(self) -> float:
        """Seconds since the ledger was opened (the chapter's wall time; saved with it)."""
        return time.perf_counter() - self.started

    def provenance(self) -> str:
        """One line for a figure's caption: the profile, every TWA run behind the chapter's numbers
        so far (integrator, dt, trajectories; :mod:`replicate.provenance`), the code version and
        the wall time since the ledger was opened."""
        from ..provenance import summary

        return summary(self.profile, self.elapsed())

    def declare(self, key: str, *, figure: str, claim: str, paper: str, kind: str = PAPER,
                target: float | None = None, tolerance: float | None = None,
                lower: float | None = None, upper: float | None = None, judged: bool = False,
                control: str = "", source: str = "ours", exact: bool = False,
                posthoc: str = "", note: str = "") -> None:
        """Declare the test of one claim before the run.

        ``key`` names the row (stable across runs: the regression check matches on it).
        ``control`` describes where the property is absent (the same test must fail there).
        ``source="paper"`` marks a ``target`` quoted from the paper. ``exact=True`` marks a
        deterministic quantity (no statistical error). ``posthoc`` says why a threshold was set
        or changed after seeing data.
        """
        if key in self.declared:
            raise ValueError(f"claim {key!r} is declared twice")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if source not in ("ours", "paper"):
            raise ValueError(f"source must be 'ours' or 'paper', got {source!r}")
        if not figure.strip().startswith("Fig"):
            raise ValueError(f"figure must start with 'Fig. N', got {figure!r}")
        test = Criterion(target, tolerance, lower, upper, judged)
        self.declared[key] = _Declared(figure, claim, paper, kind, test, control, source, exact,
                                       posthoc, note)

    def _take(self, key: str) -> _Declared:
        if key not in self.declared:
            raise ValueError(f"claim {key!r} was not declared; declared: {', '.join(self.declared)}")
        if any(c.key == key for c in self.claims):
            raise ValueError(f"claim {key!r} was already checked")
        return self.declared[key]

    def _error(self, d: _Declared, key: str, error: float | None) -> float:
        e = finite_or_none(error, f"error of {key!r}")
        if d.exact:
            if e not in (None, 0.0):
                raise ValueError(f"claim {key!r} is declared exact but has an error {e!r}")
            return 0.0
        if e is None or e <= 0:
            raise ValueError(f"claim {key!r} is stochastic and needs an error > 0 (a resampled "
                             f"error), got {error!r}; declare exact=True for a deterministic number")
        return e

    def check(self, key: str, measured: float, error: float | None = None, *,
              control: tuple[float, float | None] | None = None, note: str = "") -> Claim:
        """Apply the declared test of ``key`` to ``measured`` ± ``error`` (and to the control's
        ``(value, error)`` if one was declared)."""
        d = self._take(key)
        if d.test.judged:
            raise ValueError(f"claim {key!r} is judged: use judge()")
        m = finite_or_none(measured, f"measured value of {key!r}")
        if m is None:
            raise ValueError(f"claim {key!r} needs a measured value")
        e = self._error(d, key, error)
        verdict = d.test.verdict(m, e)
        c_val = c_err = None
        c_verdict = ""
        if d.control and control is None:
            raise ValueError(f"claim {key!r} declares the control {d.control!r}: pass control=(value, error)")
        if control is not None:
            if not d.control:
                raise ValueError(f"claim {key!r} has no declared control")
            c_val = finite_or_none(control[0], f"control value of {key!r}")
            c_err = self._error(d, key + " (control)", control[1])
            c_verdict = d.test.verdict(c_val, c_err)
        notes = [note or d.note]
        if c_verdict == REPRODUCED and verdict == REPRODUCED:
            verdict = INCONCLUSIVE
            notes.append("the test also passes on its control: it does not discriminate")
        discriminating = c_verdict == NOT_REPRODUCED or (
            d.source == "paper" and d.test.target is not None
            and d.test.tolerance <= POINT_PREDICTION * abs(d.test.target))
        return self._add(key, d, m, None if d.exact else e, verdict, c_val, c_err, c_verdict,
                         discriminating, " ".join(n for n in notes if n))

    def judge(self, key: str, verdict: str, *, measured: float | None = None,
              error: float | None = None, note: str) -> Claim:
        """Record the verdict of a declared ``judged`` test; ``note`` must say why."""
        d = self._take(key)
        if not d.test.judged:
            raise ValueError(f"claim {key!r} has a declared test: use check()")
        if verdict not in (REPRODUCED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE):
            raise ValueError(f"verdict must be one of {VERDICTS[:4]}, got {verdict!r}")
        if not note.strip():
            raise ValueError(f"a judged verdict needs a note saying why ({key!r})")
        m = finite_or_none(measured, f"measured value of {key!r}")
        e = None if error is None else self._error(d, key, error)
        return self._add(key, d, m, e, verdict, None, None, "", False, note)

    def skip(self, key: str, note: str) -> Claim:
        """A declared claim this profile cannot check; ``note`` says what would check it."""
        d = self._take(key)
        return self._add(key, d, None, None, NOT_CHECKED, None, None, "", False, note)

    def _add(self, key, d, m, e, verdict, c_val, c_err, c_verdict, discriminating, note) -> Claim:
        t = d.test
        c = Claim(chapter=self.chapter, key=key, figure=d.figure, claim=d.claim, paper=d.paper,
                  kind=d.kind, test=t.describe(), target=t.target, tolerance=t.tolerance,
                  lower=t.lower, upper=t.upper, measured=m, error=e, verdict=verdict,
                  profile=self.profile, control=d.control, control_measured=c_val,
                  control_error=c_err, control_verdict=c_verdict,
                  discriminating=bool(discriminating), posthoc=d.posthoc, note=note)
        self.claims.append(c)
        return c

    def value(self, key: str, what: str, value: float, error: float | None) -> Value:
        """Record a number the figure shows (``error=None`` for an exact number)."""
        if any(v.key == key for v in self.values):
            raise ValueError(f"value {key!r} is recorded twice")
        v = finite_or_none(value, f"value {key!r}")
        e = finite_or_none(error, f"error of value {key!r}")
        if v is None or (e is not None and e < 0):
            raise ValueError(f"value {key!r} needs a finite value and an error >= 0 or None")
        rec = Value(self.chapter, key, what, v, e, self.profile)
        self.values.append(rec)
        return rec

    def counts(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.claims) for v in VERDICTS}

    def missing(self) -> list[str]:
        """Declared claims that have no result yet."""
        done = {c.key for c in self.claims}
        return [k for k in self.declared if k not in done]

    def markdown(self) -> str:
        return claims_markdown(self.claims)

    def table(self):
        """The claims table as an IPython Markdown object (shown as the chapter's last cell)."""
        from IPython.display import Markdown

        return Markdown(self.markdown())

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write ``<chapter>.claims.json`` into ``directory`` (default: the working directory).

        Every declared claim must have a result (checked, judged or skipped)."""
        if self.missing():
            raise ValueError(f"declared claims without a result: {', '.join(self.missing())}")
        path = Path(directory or ".") / f"{self.chapter}{LEDGER_SUFFIX}"
        tmp = path.with_suffix(".tmp")
        record = {"chapter": self.chapter, "profile": self.profile,
                  "wall_seconds": round(self.elapsed(), 1),
                  "claims": [asdict(c) for c in self.claims], "values": [asdict(v) for v in self.values]}
        tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False))
        tmp.replace(path)
        return path


def _value(m: float | None, e: float | None) -> str:
    if m is None:
        return "–"
    return fmt(m) if e is None else f"{fmt(m)} ± {fmt(e)}"


def claims_markdown(claims: list[Claim], with_chapter: bool = False) -> str:
    """A Markdown table of claims (used per chapter and by the scorecard)."""
    head = ["figure", "paper says", "our test", "kind", "measured", "control", "test", "verdict", "note"]
    if with_chapter:
        head.insert(0, "chapter")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in claims:
        control = "–" if not c.control else (
            f"{c.control}: {_value(c.control_measured, c.control_error)}"
            + (f" ({c.control_verdict})" if c.control_verdict else ""))
        note = c.note + (f" **Post-hoc:** {c.posthoc}" if c.posthoc else "")
        kind = c.kind + ("" if c.kind != PAPER else (" ✓" if c.discriminating else " (uncalibrated)"))
        cells = [c.figure, c.paper, c.claim, kind, _value(c.measured, c.error), control, c.test,
                 f"**{c.verdict}**", note]
        if with_chapter:
            cells.insert(0, c.chapter)
        rows.append("| " + " | ".join(str(x).replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
    return "\n".join(rows)


def _records(path, key: str, cls) -> list:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"{path}: not a ledger of this version (no {key!r})")
    names = {f.name for f in fields(cls)}
    unknown = {k for r in data[key] for k in r} - names
    if unknown:
        raise ValueError(f"{path}: not a ledger of this version (unknown fields {sorted(unknown)})")
    return [cls(**r) for r in data[key]]


def load(path: str | os.PathLike) -> list[Claim]:
    """The claims of a ledger written by :meth:`Ledger.save`."""
    return _records(path, "claims", Claim)


def load_values(path: str | os.PathLike) -> list[Value]:
    """The figure values of a ledger written by :meth:`Ledger.save`."""
    return _records(path, "values", Value)
