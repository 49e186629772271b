"""The book's scorecard: every claim of both papers in one table, with counts per verdict."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from . import catalogue
from .claims import LEDGER_SUFFIX, VERDICTS, Claim, claims_markdown, load

_FIG = re.compile(r"Fig\.?\s*(\d+)", re.IGNORECASE)


def figure_id(claim: Claim) -> str | None:
    """The catalogue id of the figure a claim is about (``ferrari-fig2``), from the chapter's
    paper prefix and the ``Fig. N`` at the start of the claim's ``figure`` field."""
    m = _FIG.match(claim.figure.strip())
    return f"{claim.chapter.split('-')[0]}-fig{m.group(1)}" if m else None


def collect(directory: Path) -> list[Claim]:
    """All claims in the ledgers under ``directory``, ordered by chapter."""
    out: list[Claim] = []
    for path in sorted(Path(directory).rglob(f"*{LEDGER_SUFFIX}")):
        out.extend(load(path))
    return out


def summary(claims: list[Claim]) -> str:
    """``"3 reproduced, 1 partly"``: counts per verdict, in the fixed verdict order."""
    counts = Counter(c.verdict for c in claims)
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) or "no claims"


def by_figure(claims: list[Claim]) -> dict[str, list[Claim]]:
    out: dict[str, list[Claim]] = {}
    for c in claims:
        fid = figure_id(c)
        if fid:
            out.setdefault(fid, []).append(c)
    return out


def write(claims: list[Claim], path: Path, profile_note: str = "") -> Path:
    """Write ``book/scorecard.md``: counts per paper, a line per figure, then every claim of
    both papers in one table."""
    papers = {"ferrari": catalogue.FERRARI, "ribeiro": catalogue.RIBEIRO}
    head = "| " + " | ".join(VERDICTS) + " | total |"
    lines = ["# Scorecard", "",
             "Every claim checked by the chapters of this book, with our measured value, its error "
             "and the verdict. Generated at build time from the claims ledgers of the executed "
             "chapters." + (f" {profile_note}" if profile_note else ""), "",
             "| paper " + head, "|---|" + "---|" * (len(VERDICTS) + 1)]
    for key, title in papers.items():
        cs = [c for c in claims if c.chapter.startswith(key + "-")]
        counts = Counter(c.verdict for c in cs)
        lines.append(f"| {title} | " + " | ".join(str(counts[v]) for v in VERDICTS) + f" | {len(cs)} |")
    figs = by_figure(claims)
    lines += ["", "## By figure", "", "| figure | what | " + head[2:], "|---|---|" + "---|" * (len(VERDICTS) + 1)]
    for f in catalogue.FIGURES:
        cs = figs.get(f.id, [])
        counts = Counter(c.verdict for c in cs)
        cells = " | ".join(str(counts[v]) for v in VERDICTS) if cs else " | ".join("–" for _ in VERDICTS)
        status = "" if f.chapter else " (no chapter yet)"
        lines.append(f"| {f.id} | {f.title}{status} | {cells} | {len(cs)} |")
    lines += ["", "## All claims", "", claims_markdown(claims, with_chapter=True) if claims
              else "No chapter has been executed yet.", ""]
    path.write_text("\n".join(lines))
    return path
