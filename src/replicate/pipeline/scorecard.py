"""The book's scorecard: every claim of both papers in one table, with counts per verdict."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from . import catalogue
from .claims import CHECK, EXTENSION, LEDGER_SUFFIX, PAPER, VERDICTS, Claim, claims_markdown, load

_FIG = re.compile(r"Fig\.?\s*(\d+)", re.IGNORECASE)


def figure_id(claim: Claim) -> str | None:
    """The catalogue id of the figure a claim is about (``ferrari-fig2``), from the chapter's
    paper prefix and the ``Fig. N`` at the start of the claim's ``figure`` field."""
    m = _FIG.match(claim.figure.strip())
    return f"{claim.chapter.split('-')[0]}-fig{m.group(1)}" if m else None


def collect(directory: Path, *, stale: list[Path] | None = None) -> list[Claim]:
    """All claims in the ledgers under ``directory``, ordered by chapter.

    A ledger of an older format raises ``ValueError``, unless a list is passed as ``stale``:
    its path is then appended there and the ledger skipped."""
    out: list[Claim] = []
    for path in sorted(Path(directory).rglob(f"*{LEDGER_SUFFIX}")):
        try:
            out.extend(load(path))
        except ValueError:
            if stale is None:
                raise
            stale.append(path)
    return out


def summary(claims: list[Claim]) -> str:
    """``"3 reproduced, 1 partly (headline); 4 other rows"``: counts per verdict of the headline
    paper claims, in the fixed verdict order, and the number of other rows."""
    head = [c for c in claims if c.headline]
    counts = Counter(c.verdict for c in head)
    text = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) or "no headline claims"
    rest = len(claims) - len(head)
    return text + (f"; {rest} other rows" if rest else "")


def by_figure(claims: list[Claim]) -> dict[str, list[Claim]]:
    out: dict[str, list[Claim]] = {}
    for c in claims:
        fid = figure_id(c)
        if fid:
            out.setdefault(fid, []).append(c)
    return out


def _counts_row(label: str, cs: list[Claim]) -> str:
    counts = Counter(c.verdict for c in cs)
    return f"| {label} | " + " | ".join(str(counts[v]) for v in VERDICTS) + f" | {len(cs)} |"


def write(claims: list[Claim], path: Path, profile_note: str = "") -> Path:
    """Write ``book/scorecard.md``.

    The headline counts the paper's claims whose tests discriminate (they fail on a control
    where the property is absent, or compare with a number of the paper); paper claims with
    uncalibrated tests, our checks of the code (oracles, identities) and our extensions are
    counted and listed separately. Then a line per figure and every row in one table.
    """
    papers = {"ferrari": catalogue.FERRARI, "ribeiro": catalogue.RIBEIRO}
    head = "| " + " | ".join(VERDICTS) + " | total |"
    sep = "|---|" + "---|" * (len(VERDICTS) + 1)
    groups = (("Paper claims with a discriminating test (headline)", lambda c: c.headline),
              ("Paper claims whose test is not calibrated", lambda c: c.kind == PAPER and not c.discriminating),
              ("Checks of our code (oracles, identities)", lambda c: c.kind == CHECK),
              ("Our extensions", lambda c: c.kind == EXTENSION))
    lines = ["# Scorecard", "",
             "Every claim checked by the chapters of this book, with our measured value, its error, "
             "the declared test and the verdict. Generated at build time from the claims ledgers of "
             "the executed chapters." + (f" {profile_note}" if profile_note else ""), "",
             "A test is *discriminating* when the same test fails on a control where the property "
             "is absent (shown beside the claim), or when it compares with a number quoted in the "
             "paper within 20 %. *Inconclusive* means the errors are too large to decide, or the "
             "test also passes on its control. Oracles and identities of our own equations are "
             "*checks*: they test the code, not the paper, and are not counted in the headline.", ""]
    for title, keep in groups:
        lines += [f"## {title}", "", "| paper " + head, sep]
        for k, name in papers.items():
            lines.append(_counts_row(name, [c for c in claims if c.chapter.startswith(k + "-") and keep(c)]))
        lines.append("")
    figs = by_figure(claims)
    lines += ["## Paper claims by figure (headline)", "", "| figure | what | " + head[2:],
              "|---|---|" + "---|" * (len(VERDICTS) + 1)]
    for f in catalogue.FIGURES:
        cs = [c for c in figs.get(f.id, []) if c.headline]
        counts = Counter(c.verdict for c in cs)
        cells = " | ".join(str(counts[v]) for v in VERDICTS) if cs else " | ".join("–" for _ in VERDICTS)
        status = "" if f.chapter else " (no chapter yet)"
        lines.append(f"| {f.id} | {f.title}{status} | {cells} | {len(cs)} |")
    for title, keep in groups:
        cs = [c for c in claims if keep(c)]
        lines += ["", f"## All rows: {title.lower()}", "",
                  claims_markdown(cs, with_chapter=True) if cs else "None."]
    if not claims:
        lines += ["", "No chapter has been executed yet."]
    path.write_text("\n".join(lines) + "\n")
    return path
