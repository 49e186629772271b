"""The ``replicate`` command.

    replicate list [--profile P]                     every figure, its chapter, its last verdict
                                                     (--profile: its results in the store)
    replicate run ID [--profile P] [-p k=v] [--seed N] [--output DIR] [-v] [--dry-run]
                                                     one chapter via papermill
    replicate execute [--profile P] [-p k=v] [--seed N] [--only ID] [-j N]  chapters into book/executed/
    replicate build [--profile P] [-p k=v] [--seed N] [-j N]                execute + scorecard + book
    replicate render                                 scorecard + Jupyter Book (no execution)
    replicate regress [--update]                     claims vs the committed baseline
    replicate check seed|sensitivity [--only ID] [-j N]  CI: a new seed must not regress; U × 1.5 must
    replicate cache info|verify|clear [--cache DIR]  the on-disk cache of sweep points
    replicate cache recompute [--cache DIR] [--sample N]  recompute N entries, require bitwise equality
    replicate cache prune [--cache DIR] [--delete]   entries no chapter manifest lists (a store)
    replicate bench                                  TWA engine throughput vs the NumPy reference

run, execute and build also take
    --cache [DIR]        keep every finished sweep point on disk and reuse it (an interrupted
                         sweep resumes); DIR defaults to ~/.cache/replicate; $REPLICATE_CACHE
                         works too. Without either, nothing is cached, except that
                         --profile paper reads and fills the committed store results/paper/
                         (--no-cache: not even that).
    --dask local|ADDR    run sweep points on Dask: a LocalCluster of one single-threaded worker
                         process per core, or the scheduler at ADDR (tcp://host:port).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Iterator

from .. import simd
from . import catalogue, regress, scorecard
from .build import PAPER_STORE, STORED
from .dryrun import dry_run_chapter, print_plan
from .execute import EXECUTED_DIR, RunOptions, run_chapter
from .notebooks import (chapter_parameters, chapter_source, check_chapter_parameters, load_notebook,
                        parse_assignments, project_root)
from .outputs import check_output

BASELINE = Path("tests") / "baseline" / "claims-quick.json"


def _add_run_options(p: argparse.ArgumentParser, *, stored: bool = False) -> None:
    p.add_argument("--profile", default="quick", choices=["quick", "paper"] + ([STORED] if stored else []),
                   help="quick (CI), paper (the paper's statistics)" + (
                       f", or {STORED}: paper for every chapter whose paper results are complete in "
                       f"{PAPER_STORE}/, quick for the rest" if stored else ""))
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", default=[],
                   help="override a parameter of the chapter's parameters cell (repeatable)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="seed=N for every chapter that has a 'seed' parameter (recorded in run.json)")
    p.add_argument("--cache", nargs="?", const="", metavar="DIR",
                   help="cache finished sweep points in DIR (default ~/.cache/replicate; "
                        f"--profile paper uses the committed store {PAPER_STORE}/ unless given)")
    p.add_argument("--no-cache", action="store_true",
                   help="cache nothing (also not in the committed paper store)")
    p.add_argument("--dask", metavar="local|ADDRESS",
                   help="run sweep points on Dask: 'local' (a LocalCluster) or a scheduler address")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="stream the notebook's output and papermill's cell log to stderr")


def cmd_list(args: argparse.Namespace) -> int:
    root = project_root()
    stale: list[Path] = []
    figs = scorecard.by_figure(scorecard.collect(root / EXECUTED_DIR, stale=stale))
    stale_chapters = {p.parent.relative_to(root / EXECUTED_DIR).as_posix() for p in stale}
    width = max(len(f.id) for f in catalogue.FIGURES)
    store = None
    if args.profile is not None:
        from ..cache import manifest

        store = (Path(args.cache).expanduser() if args.cache else
                 root / PAPER_STORE if args.profile == "paper" else None)
        if store is None:
            from .. import cache

            store = cache.location() or cache.default_location()
        print(f"results of the {args.profile} profile in {store}:")
    for f in catalogue.FIGURES:
        chapter = f.chapter or "(not built yet)"
        verdict = scorecard.summary(figs[f.id]) if f.id in figs else (
            "stale ledger: rerun `replicate execute`" if f.chapter in stale_chapters
            else "not executed" if f.chapter else "–")
        if store is not None:
            state = "–"
            if f.chapter:
                state, k, n, big = manifest.status(store, args.profile, f.chapter)
                wall = manifest.wall_seconds(store, args.profile, f.chapter)
                ran = f", last run {wall:.0f} s" if wall is not None else ""
                listed = "" if wall is not None else " listed so far"
                unfinished = "" if wall is not None else "; the run did not finish"
                over = f", {big} over the size budget: recomputed" if big else ""
                state = f"partial ({k} of {n} entries{listed}{over}{unfinished})" if state == "partial" else (
                    f"complete ({n} entr{'y' if n == 1 else 'ies'}{over}{ran})" if state == "complete" else state)
            verdict = state
        print(f"{f.id:<{width}}  {chapter:<28}  {verdict:<36}  {f.title}")
    return 0


def _chapter_of(fig_id: str) -> str:
    fig = catalogue.figure(fig_id)
    if fig.chapter is None:
        built = ", ".join(f.id for f in catalogue.FIGURES if f.chapter)
        raise ValueError(f"figure {fig_id!r} has no chapter yet; figures with a chapter: {built}")
    return fig.chapter


def _cache_dir(args: argparse.Namespace) -> Path | None:
    """--cache DIR, --cache (the default folder), --no-cache (None), else for the paper profile
    the committed store, else $REPLICATE_CACHE, else None. Checked now: a file or a foreign
    non-empty folder is an error before anything runs."""
    from .. import cache

    if getattr(args, "no_cache", False):
        if getattr(args, "cache", None) is not None:
            raise ValueError("--cache and --no-cache contradict each other")
        return None
    if getattr(args, "cache", None) is not None:
        location = Path(args.cache).expanduser() if args.cache else cache.default_location()
    elif getattr(args, "profile", None) == "paper":
        location = project_root() / PAPER_STORE
    else:
        location = cache.location()
    if location is not None:
        c = cache.Cache(location)
        c._prepare()
        return c.root
    return None


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[str | None]:
    """The ``REPLICATE_EXECUTOR`` value for the chapters. ``--dask local`` starts one
    LocalCluster here for the whole command (every chapter's kernel joins it by address)."""
    from .. import executors

    spec = getattr(args, "dask", None)
    if not spec:
        env = os.environ.get(executors.EXECUTOR_ENV) or None
        if env:
            with _env(executors.EXECUTOR_ENV, env):
                executors.executor_spec()  # a bad value is an error now, not in a chapter
        yield env
        return
    address = "local" if spec == "local" else spec
    if address != "local" and "://" not in address:
        address = f"tcp://{address}"
    client = executors.dask_client(address)
    try:
        workers = client.nthreads()
        where = client.scheduler.address
        kind = "LocalCluster" if address == "local" else "scheduler"
        print(f"[dask] {kind} at {where}: {len(workers)} worker(s), "
              f"{sum(workers.values())} thread(s)", file=sys.stderr, flush=True)
        yield f"dask:{where}"
    finally:
        if address == "local":
            executors.close_clients()


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def cmd_run(args: argparse.Namespace) -> int:
    root = project_root()
    chapter = _chapter_of(args.figure)
    out = Path(args.output) if args.output else Path.cwd() / "replicate-runs" / chapter.replace("/", "-")
    params = {"profile": args.profile, **parse_assignments(args.parameter)}
    if args.seed is not None:
        declared = chapter_parameters(load_notebook(chapter_source(chapter, root)))
        if "seed" not in declared:
            raise ValueError(f"--seed: chapter {chapter!r} has no 'seed' parameter")
        if "seed" in params and params["seed"] != args.seed:
            raise ValueError(f"--seed {args.seed} and -p seed={params['seed']!r} disagree")
        params["seed"] = args.seed
    check_chapter_parameters(chapter, root, params)  # before any folder, cluster or kernel
    if not args.dry_run:
        check_output(out)
    cache_dir = _cache_dir(args)
    with _executor(args) as executor:
        opts = RunOptions(executor=executor, cache=cache_dir, verbose=args.verbose,
                          seed=params.get("seed"), extra={"figure": args.figure})
        if args.dry_run:
            dr = dry_run_chapter(chapter, root=root, parameters=params, options=opts,
                                 cell_timeout=args.dry_run_limit)
            print_plan(args.figure, chapter, args.profile, dr, executor)
            return 0
        ex = run_chapter(chapter, out, root=root, parameters=params, options=opts)
    print(f"{args.figure}: executed {chapter} in {ex.seconds:.1f} s -> {ex.notebook}")
    for ledger in sorted(out.glob("*.claims.json")):
        print(f"claims: {ledger}  ({scorecard.summary(scorecard.collect(out))})")
    return 0


def _execute(args: argparse.Namespace, only: list[str] | None) -> None:
    from .build import execute_all

    root = project_root()
    given = parse_assignments(args.parameter)
    cache_dir = _cache_dir(args)
    with _executor(args) as executor:
        opts = RunOptions(executor=executor, cache=cache_dir, verbose=args.verbose)
        execute_all(root, args.profile, given, only, seed=args.seed, options=opts, jobs=args.jobs)


def cmd_execute(args: argparse.Namespace) -> int:
    _execute(args, [_chapter_of(i) for i in args.only] if args.only else None)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .build import render

    _execute(args, None)
    render(project_root())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .build import render

    render(project_root())
    return 0


def _overrides(ledgers: Path) -> list[str]:
    """The parameter overrides recorded in the run.json files under ``ledgers``."""
    from .execute import RUN_JSON

    out = []
    for path in sorted(ledgers.rglob(RUN_JSON)):
        rec = json.loads(path.read_text())
        params = {k: v for k, v in rec.get("parameters", {}).items() if k != "profile"}
        if params:
            out.append(f"{rec.get('chapter', path.parent.name)}: {params}")
    return out


def cmd_regress(args: argparse.Namespace) -> int:
    root = project_root()
    ledgers = Path(args.ledgers) if args.ledgers else root / EXECUTED_DIR
    if not ledgers.is_dir():
        hint = "" if args.ledgers else " (run `replicate execute` first)"
        raise ValueError(f"ledgers folder {ledgers} does not exist{hint}")
    current = regress.collect(ledgers)
    if not current.claims:
        raise ValueError(f"no claims ledgers (*.claims.json) in {ledgers}")
    baseline = Path(args.baseline) if args.baseline else root / BASELINE
    other = sorted({c.chapter for c in current.claims if c.profile != "quick"})
    if other:  # the baseline holds the quick profile (what CI runs)
        raise ValueError(f"{len(other)} ledger(s) in {ledgers} are not of the quick profile "
                         f"({', '.join(other[:4])}{', …' if len(other) > 4 else ''}; e.g. from a "
                         "stored or paper build): the baseline is the quick profile's, run "
                         "`replicate execute --profile quick` first")
    overrides = _overrides(ledgers)
    if args.update:
        if overrides:
            raise ValueError("refusing to write a baseline from runs with parameter overrides: "
                             + "; ".join(overrides))
        regress.save_baseline(current, baseline)
        print(f"baseline written: {baseline} ({len(current.claims)} claims, {len(current.values)} values)")
        return 0
    if not baseline.is_file():
        raise ValueError(f"baseline {baseline} does not exist (write one with --update)")
    for line in overrides:
        print(f"note: run with parameter overrides, {line}")
    chapters = {c.chapter for c in current.claims} if args.present_only else None
    findings = regress.compare(regress.load_baseline(baseline), current, chapters)
    for f in findings:
        print(f"[{f.kind}] {f.key}: {f.detail}")
    failing = [f for f in findings if f.fails]
    print(f"regress: {len(current.claims)} claims and {len(current.values)} values checked, "
          f"{len(failing)} regression(s)")
    return 1 if failing else 0


def cmd_check(args: argparse.Namespace) -> int:
    from . import jobs

    root = project_root()
    baseline = regress.load_baseline(Path(args.baseline) if args.baseline else root / BASELINE)
    only = [_chapter_of(i) for i in args.only] if args.only else None
    work = Path(args.workdir) if args.workdir else None
    job = jobs.seed_job if args.job == "seed" else jobs.sensitivity_job
    results = job(baseline, root=root, chapters=only, workdir=work, jobs=args.jobs)
    bad = [r for r in results if not r.ok]
    print(f"check {args.job}: {len(results)} runs, {len(bad)} not as expected")
    return 1 if bad or not results else 0


def cmd_cache(args: argparse.Namespace) -> int:
    from .. import cache

    if args.cache:
        root = Path(args.cache).expanduser()
    else:
        root = cache.location() or cache.default_location()
    c = cache.Cache(root)
    if not c.root.exists():
        print(f"cache {c.root}: does not exist (nothing cached)")
        return 0
    if not c.is_cache():
        raise ValueError(f"{c.root} is not a replicate cache (no {cache.TAG})")
    if args.action == "info":
        sweeps = c.sweeps()
        n = sum(s["points"] for s in sweeps)
        size = sum(s["bytes"] for s in sweeps)
        print(f"cache {c.root}: {n} point(s) in {len(sweeps)} sweep(s), {size / 1e6:.2f} MB; "
              f"kernel version now {cache.KERNEL_VERSION}")
        for s in sweeps:
            stale = "" if s["kernel_version"] == cache.KERNEL_VERSION else "  (older kernel version: never read)"
            print(f"  {s['dir'].name}  {s['points']:>6} points  {s['desc'] or '-'}  [{s['function']}]"
                  f"  kernel {s['kernel_version']}{stale}")
        if c.leftovers():
            print(f"  {len(c.leftovers())} leftover temporary file(s) of interrupted writes "
                  "(`replicate cache verify --delete` removes them)")
        return 0
    if args.action == "verify":
        good, bad = c.verify(delete=args.delete)
        for path, problem in bad:
            print(f"corrupt: {path}: {problem}" + ("  (deleted)" if args.delete else ""))
        print(f"cache {c.root}: {good} good entr{'y' if good == 1 else 'ies'}, {len(bad)} corrupt"
              + ("" if args.delete or not bad else " (they are recomputed when needed; "
                 "--delete removes them now)"))
        return 1 if bad and not args.delete else 0
    if args.action == "prune":
        unused = c.unlisted()
        size = sum(f.stat().st_size for f in unused)
        for f in unused:
            print(f"unlisted: {f.relative_to(c.root)}" + ("  (deleted)" if args.delete else ""))
            if args.delete:
                f.unlink()
        print(f"cache {c.root}: {len(unused)} entr{'y' if len(unused) == 1 else 'ies'} ({size / 1e6:.2f} MB) "
              "that no chapter manifest lists" + ("" if args.delete or not unused else "; --delete removes them"))
        return 0
    if args.action == "recompute":
        from ..cache.recompute import recompute

        results = recompute(c, args.sample)
        if not results:
            raise ValueError(f"cache {c.root}: no current entry can be recomputed (none records "
                             "its call, or all are from an older kernel version)")
        for r in results:
            print(f"{r.status if r.equal else 'DIFFERENT'}  {r.desc or '-'}  ({r.seconds:.1f} s now, "
                  f"{r.stored_seconds:.1f} s stored)  {r.path.relative_to(c.root)}"
                  + (f": {r.detail}" if r.detail else ""))
        bad = sum(not r.equal for r in results)
        print(f"cache {c.root}: {len(results)} entr{'y' if len(results) == 1 else 'ies'} recomputed, "
              f"{bad} different")
        return 1 if bad else 0
    n = c.clear()
    print(f"cache {c.root}: removed {n} point(s)")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..twa.bench import main as bench

    bench(args.bench_args)
    return 0


def _positive(flag: str):
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer >= 1, got {text!r}")
        return n
    return parse


_jobs = _positive("--jobs")


def _add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                   help="chapters run at once, each in its own process with cores/N numba "
                        "threads (default 1; results do not depend on it)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="replicate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="every figure of both papers")
    p.add_argument("--profile", choices=["quick", "paper"],
                   help="show whether each figure's results of this profile are in the store: "
                        "complete, partial (k of n entries) or none")
    p.add_argument("--cache", metavar="DIR", help=f"the store (default: {PAPER_STORE}/ for paper, "
                   "else $REPLICATE_CACHE or ~/.cache/replicate)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("run", help="run one figure's chapter via papermill")
    p.add_argument("figure", help="figure id, e.g. ferrari-fig2 (see `replicate list`)")
    p.add_argument("--output", help="folder for the executed notebook, figures, claims and run.json "
                   "(new, empty, or written by an earlier run)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the sweeps' sizes and an estimated wall time, compute nothing else")
    p.add_argument("--dry-run-limit", type=float, default=300.0, metavar="SECONDS",
                   help="longest a cell may run during --dry-run (default 300)")
    _add_run_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("execute", help="execute chapters into book/executed/")
    p.add_argument("--only", action="append", metavar="FIGURE_ID", help="only this figure's chapter")
    _add_run_options(p, stored=True)
    _add_jobs(p)
    p.set_defaults(func=cmd_execute)
    p = sub.add_parser("build", help="execute every chapter, then render the book")
    _add_run_options(p, stored=True)
    _add_jobs(p)
    p.set_defaults(func=cmd_build)
    sub.add_parser("render", help="scorecard + Jupyter Book from executed chapters").set_defaults(func=cmd_render)
    p = sub.add_parser("regress", help="compare claims ledgers with the committed baseline")
    p.add_argument("--baseline", help=f"baseline file (default {BASELINE})")
    p.add_argument("--ledgers", help="folder with *.claims.json (default book/executed)")
    p.add_argument("--update", action="store_true", help="write the current claims as the baseline")
    p.add_argument("--present-only", action="store_true", help="only chapters present in --ledgers")
    p.set_defaults(func=cmd_regress)
    p = sub.add_parser("check", help="CI jobs: rerun chapters with another seed (must not regress), "
                       "or with U x 1.5 (must regress) and F -> -F (must not)")
    p.add_argument("job", choices=["seed", "sensitivity"])
    p.add_argument("--only", action="append", metavar="ID", help="figure id (repeatable)")
    p.add_argument("--baseline", help=f"baseline file (default {BASELINE})")
    p.add_argument("--workdir", help="folder for the runs (default: a new temporary folder)")
    _add_jobs(p)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("cache", help="the on-disk cache of sweep points")
    p.add_argument("action", choices=["info", "verify", "clear", "recompute", "prune"])
    p.add_argument("--cache", metavar="DIR", help="cache folder (default $REPLICATE_CACHE, else "
                   "~/.cache/replicate)")
    p.add_argument("--delete", action="store_true",
                   help="verify: remove corrupt entries; prune: remove the entries no manifest lists")
    p.add_argument("--sample", type=_positive("--sample"), default=2, metavar="N",
                   help="recompute: how many entries (the cheapest of each function first, among "
                        "those that record their call; default 2)")
    p.set_defaults(func=cmd_cache)
    # the benchmark parses its own options, so that no other command imports the engine
    p = sub.add_parser("bench", help="TWA throughput vs the NumPy reference (--help: its options)",
                       add_help=False)
    p.set_defaults(func=cmd_bench, bench_args=[])
    return ap


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `replicate list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # its options are its own (replicate.twa.bench)
        args = argparse.Namespace(command="bench", func=cmd_bench, bench_args=argv[1:])
    else:
        args = parser().parse_args(argv)
    from .execute import _terminate_cleanly

    try:
        simd.restart_guarded("replicate.pipeline.cli", argv)  # REPLICATE_SIMD=128 (README)
        with _terminate_cleanly():  # SIGTERM unwinds like Ctrl-C: kernels, clusters, temp files
            return args.func(args)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"replicate {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        from .execute import Terminated

        why = "terminated" if isinstance(exc, Terminated) else "interrupted"
        detail = f": {exc}" if str(exc) else ""
        print(f"replicate {args.command}: {why}{detail}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


if __name__ == "__main__":
    sys.exit(main())
