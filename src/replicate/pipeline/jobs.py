"""CI jobs that show the regression check catches physics and not noise.

* :func:`seed_job` reruns chapters with another seed: the regression check against the committed
  baseline must report **no** failing finding (every stochastic number carries an honest error,
  and verdict flips of borderline rows are informational).
* :func:`sensitivity_job` reruns each Ferrari chapter twice: with the Kerr nonlinearity U × 1.5,
  which must be **flagged** (at least one failing finding per chapter), and with the drive
  F → −F (``F_sign = -1``), an exact symmetry of Eq. (4) (α → −α), which must **not** be.

Each run goes into its own folder under ``workdir``; a job returns one :class:`JobResult` per
run, and passes when every result has ``ok``.
"""
from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from . import catalogue, regress
from .execute import last_seconds, run_chapter
from .notebooks import chapter_parameters, chapter_source, load_notebook
from .parallel import run_all

SEED_OFFSET = 1000  # the seed job uses seed + SEED_OFFSET in every chapter
U_FACTOR = 1.5


@dataclass(frozen=True)
class JobResult:
    chapter: str
    change: str
    expect_flagged: bool
    failing: tuple[regress.Finding, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.failing) == self.expect_flagged

    def line(self) -> str:
        want = "flagged" if self.expect_flagged else "not flagged"
        got = f"{len(self.failing)} failing finding(s)"
        first = f" — first: {self.failing[0].kind} {self.failing[0].key}" if self.failing else ""
        return (f"{'ok ' if self.ok else 'BAD'} {self.chapter:<26} {self.change:<16} want {want:<11} "
                f"got {got}{first} ({self.seconds:.0f} s)")


def _defaults(chapter: str, root: Path) -> dict:
    return chapter_parameters(load_notebook(chapter_source(chapter, root)))


def _run(chapter: str, change: str, params: dict, expect: bool, baseline: regress.Records,
         root: Path, workdir: Path) -> JobResult:
    out = workdir / f"{chapter.replace('/', '-')}-{change.replace(' ', '').replace('×', 'x')}"
    ex = run_chapter(chapter, out, root=root, parameters=params)
    findings = regress.compare(baseline, regress.collect(out), {_ledger_chapter(out)})
    return JobResult(chapter, change, expect, tuple(f for f in findings if f.fails), ex.seconds)


def _ledger_chapter(out: Path) -> str:
    records = regress.collect(out)
    names = {c.chapter for c in records.claims} | {v.chapter for v in records.values}
    if len(names) != 1:
        raise ValueError(f"{out}: expected the ledger of one chapter, found {sorted(names)}")
    return names.pop()


def _say(line: str) -> None:
    print(line, flush=True)


def _run_calls(runs: list[tuple[str, str, dict, bool]], baseline: regress.Records, root: Path,
               workdir: Path, report: Callable[[str], None], jobs: int) -> list[JobResult]:
    calls = [functools.partial(_run, ch, change, params, expect, baseline, root, workdir)
             for ch, change, params, expect in runs]
    costs = [last_seconds(ch, root) for ch, _, _, _ in runs]  # the chapters' last quick runs
    return run_all(calls, jobs, lambda i, r: report(r.line()), costs=costs)


def seed_job(baseline: regress.Records, *, root: Path, chapters: Iterable[str] | None = None,
             workdir: Path | None = None, report: Callable[[str], None] = _say,
             jobs: int = 1) -> list[JobResult]:
    """Rerun ``chapters`` (default: all with a ``seed`` parameter) at seed + SEED_OFFSET,
    ``jobs`` at a time."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="replicate-seed-"))
    runs = []
    for chapter in chapters or catalogue.chapters():
        defaults = _defaults(chapter, root)
        if "seed" not in defaults:
            report(f"--  {chapter:<26} no seed parameter (deterministic): skipped")
            continue
        seed = defaults["seed"] + SEED_OFFSET
        runs.append((chapter, f"seed {seed}", {"seed": seed}, False))
    return _run_calls(runs, baseline, root, workdir, report, jobs)


def sensitivity_job(baseline: regress.Records, *, root: Path, chapters: Iterable[str] | None = None,
                    workdir: Path | None = None, report: Callable[[str], None] = _say,
                    jobs: int = 1) -> list[JobResult]:
    """U × 1.5 must be flagged and F → −F must not, in every chapter with ``U`` and ``F_sign``
    parameters (default: all such chapters), ``jobs`` at a time."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="replicate-sensitivity-"))
    runs = []
    for chapter in chapters or catalogue.chapters():
        defaults = _defaults(chapter, root)
        if not {"U", "F_sign"} <= defaults.keys():
            continue
        runs += [(chapter, f"U × {U_FACTOR:g}", {"U": defaults["U"] * U_FACTOR}, True),
                 (chapter, "F → −F", {"F_sign": -defaults["F_sign"]}, False)]
    return _run_calls(runs, baseline, root, workdir, report, jobs)
