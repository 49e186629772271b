"""The ``replicate`` command.

    replicate list                                   every figure, its chapter, its last verdict
    replicate run ID [--profile P] [-p k=v] [--output DIR]    one chapter via papermill
    replicate execute [--profile P] [-p k=v] [--only ID]      chapters into book/executed/
    replicate build [--profile P] [-p k=v]           execute + scorecard + Jupyter Book
    replicate render                                 scorecard + Jupyter Book (no execution)
    replicate regress [--update]                     claims vs the committed baseline
    replicate bench                                  TWA engine throughput vs the NumPy reference
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import catalogue, regress, scorecard
from .execute import EXECUTED_DIR, parse_assignments, project_root, run_chapter

BASELINE = Path("tests") / "baseline" / "claims-quick.json"


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="quick", choices=["quick", "paper"])
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", default=[],
                   help="override a parameter of the chapter's parameters cell (repeatable)")


def cmd_list(args: argparse.Namespace) -> int:
    root = project_root()
    figs = scorecard.by_figure(scorecard.collect(root / EXECUTED_DIR))
    width = max(len(f.id) for f in catalogue.FIGURES)
    for f in catalogue.FIGURES:
        chapter = f.chapter or "(not built yet)"
        verdict = scorecard.summary(figs[f.id]) if f.id in figs else (
            "not executed" if f.chapter else "–")
        print(f"{f.id:<{width}}  {chapter:<28}  {verdict:<36}  {f.title}")
    return 0


def _chapter_of(fig_id: str) -> str:
    fig = catalogue.figure(fig_id)
    if fig.chapter is None:
        built = ", ".join(f.id for f in catalogue.FIGURES if f.chapter)
        raise ValueError(f"figure {fig_id!r} has no chapter yet; figures with a chapter: {built}")
    return fig.chapter


def cmd_run(args: argparse.Namespace) -> int:
    root = project_root()
    chapter = _chapter_of(args.figure)
    out = Path(args.output) if args.output else Path.cwd() / "replicate-runs" / chapter.replace("/", "-")
    params = {"profile": args.profile, **parse_assignments(args.parameter)}
    ex = run_chapter(chapter, out, root=root, parameters=params, log_output=args.verbose)
    print(f"{args.figure}: executed {chapter} in {ex.seconds:.1f} s -> {ex.notebook}")
    for ledger in sorted(out.glob("*.claims.json")):
        print(f"claims: {ledger}  ({scorecard.summary(scorecard.collect(out))})")
    return 0


def cmd_execute(args: argparse.Namespace) -> int:
    from .build import execute_all

    only = [_chapter_of(i) for i in args.only] if args.only else None
    execute_all(project_root(), args.profile, parse_assignments(args.parameter), only)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .build import execute_all, render

    root = project_root()
    execute_all(root, args.profile, parse_assignments(args.parameter))
    render(root)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .build import render

    render(project_root())
    return 0


def cmd_regress(args: argparse.Namespace) -> int:
    root = project_root()
    current = scorecard.collect(Path(args.ledgers) if args.ledgers else root / EXECUTED_DIR)
    baseline = Path(args.baseline) if args.baseline else root / BASELINE
    if args.update:
        regress.save_baseline(current, baseline)
        print(f"baseline written: {baseline} ({len(current)} claims)")
        return 0
    chapters = {c.chapter for c in current} if args.present_only else None
    findings = regress.compare(regress.load_baseline(baseline), current, chapters)
    for f in findings:
        print(f"[{f.kind}] {f.key}: {f.detail}")
    failing = [f for f in findings if f.fails]
    print(f"regress: {len(current)} claims checked, {len(failing)} regression(s)")
    return 1 if failing else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..twa.bench import run

    run(args)
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="replicate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every figure of both papers").set_defaults(func=cmd_list)
    p = sub.add_parser("run", help="run one figure's chapter via papermill")
    p.add_argument("figure", help="figure id, e.g. ferrari-fig2 (see `replicate list`)")
    p.add_argument("--output", help="directory for the executed notebook, figures and claims")
    p.add_argument("-v", "--verbose", action="store_true", help="stream the notebook's output")
    _add_run_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("execute", help="execute chapters into book/executed/")
    p.add_argument("--only", action="append", metavar="FIGURE_ID", help="only this figure's chapter")
    _add_run_options(p)
    p.set_defaults(func=cmd_execute)
    p = sub.add_parser("build", help="execute every chapter, then render the book")
    _add_run_options(p)
    p.set_defaults(func=cmd_build)
    sub.add_parser("render", help="scorecard + Jupyter Book from executed chapters").set_defaults(func=cmd_render)
    p = sub.add_parser("regress", help="compare claims ledgers with the committed baseline")
    p.add_argument("--baseline", help=f"baseline file (default {BASELINE})")
    p.add_argument("--ledgers", help="folder with *.claims.json (default book/executed)")
    p.add_argument("--update", action="store_true", help="write the current claims as the baseline")
    p.add_argument("--present-only", action="store_true", help="only chapters present in --ledgers")
    p.set_defaults(func=cmd_regress)
    from ..twa.bench import add_arguments as bench_arguments

    p = bench_arguments(sub.add_parser("bench", help="TWA throughput vs the NumPy reference"))
    p.set_defaults(func=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `replicate list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"replicate {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
