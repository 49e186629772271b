"""Build the book: execute every chapter once (papermill), write the scorecard, render with
Jupyter Book 1.x with execution switched off and Sphinx warnings treated as errors."""
from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from . import catalogue, scorecard
from .execute import EXECUTED_DIR, Executed, RunOptions, executed_dir, last_seconds, run_chapter
from .notebooks import (chapter_parameters, chapter_source, load_notebook, profile_types,
                        validate_parameters)
from .parallel import check_jobs, run_all
from .profiles import check_profile

MATHJAX_DIR = Path("book") / "_static" / "mathjax"
PAPER_STORE = Path("results") / "paper"  # the committed paper-profile results (a cache folder)
STORED = "stored"  # build profile: paper where the committed store is complete, else quick


def stored_profiles(chapters: list[str], root: Path) -> dict[str, str]:
    """The profile of each chapter in a ``stored`` build: ``paper`` when the committed store's
    manifest says its paper results are complete (``replicate list --profile paper``) and none
    of them is over the store's size budget (that one would be recomputed at the paper's cost),
    else ``quick``."""
    from ..cache import manifest

    store = root / PAPER_STORE

    def ready(ch: str) -> bool:
        st = manifest.status(store, "paper", ch)
        return st.state == "complete" and st.oversize == 0

    return {ch: "paper" if ready(ch) else "quick" for ch in chapters}


def toc_chapters(root: Path) -> list[str]:
    """Chapter ids referenced by ``_toc.yml`` (entries ``book/executed/<id>/<name>``)."""
    prefix = EXECUTED_DIR.as_posix() + "/"
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith(prefix):
                found.append(f[len(prefix):].rsplit("/", 1)[0])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return found


def split_parameters(chapters: list[str], given: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """Give each chapter the parameters it declares; a name no chapter declares is an error."""
    per: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for ch in chapters:
        nb = load_notebook(chapter_source(ch, root))
        declared = chapter_parameters(nb)
        mine = {k: v for k, v in given.items() if k in declared}
        used |= mine.keys()
        per[ch] = validate_parameters(declared, mine, ch, profile_types(nb, declared))
    unknown = set(given) - used
    if unknown:
        raise ValueError(f"no chapter has parameter(s) {', '.join(sorted(unknown))}")
    return per


def inject_seed(per: dict[str, dict[str, Any]], seed: int | None, root: Path,
                explicit: bool) -> list[str]:
    """``seed=N`` into every chapter that declares a ``seed`` parameter; returns the chapters
    that do not (an error when they were asked for by name, ``explicit``)."""
    if seed is None:
        return []
    lacking = []
    for ch, params in per.items():
        declared = chapter_parameters(load_notebook(chapter_source(ch, root)))
        if "seed" not in declared:
            lacking.append(ch)
            continue
        if "seed" in params and params["seed"] != seed:
            raise ValueError(f"--seed {seed} and -p seed={params['seed']!r} disagree")
        params["seed"] = seed
    if lacking and explicit:
        raise ValueError(f"--seed: chapter(s) {', '.join(lacking)} have no 'seed' parameter")
    return lacking


def execute_all(root: Path, profile: str = "quick", parameters: dict[str, Any] | None = None,
                only: list[str] | None = None, *, seed: int | None = None,
                options: RunOptions | None = None, jobs: int = 1) -> list[Executed]:
    """Execute the chapters (all, or ``only``) into ``book/executed/``, ``jobs`` at a time
    (:mod:`.parallel`), printing timings. ``seed`` goes to every chapter with a ``seed``
    parameter (the others are listed).

    ``profile="stored"``: each chapter in the profile of :func:`stored_profiles`, the paper
    chapters reading the committed store (and leaving its manifests alone); parameter overrides
    and ``--seed`` are refused there (they would recompute the stored results)."""
    if profile != STORED:
        check_profile(profile)
    check_jobs(jobs)
    chapters = only or catalogue.chapters()
    opts = options or RunOptions()
    if profile == STORED:
        if parameters or seed is not None:
            raise ValueError("--profile stored builds from the committed store: no -p overrides or "
                             "--seed (use --profile paper or quick)")
        chosen = stored_profiles(chapters, root)
        store = (root / PAPER_STORE).resolve()
        chapter_opts = {ch: dataclasses.replace(opts, cache=store, manifest=False) if p == "paper"
                        else opts for ch, p in chosen.items()}
        paper = [ch for ch, p in chosen.items() if p == "paper"]
        print(f"[execute] profile stored: paper for {len(paper)} chapter(s) with complete results in "
              f"{PAPER_STORE}/ ({', '.join(paper) or 'none'}), quick for the rest", flush=True)
    else:
        chosen = {ch: profile for ch in chapters}
        chapter_opts = {ch: opts for ch in chapters}
    per = split_parameters(chapters, dict(parameters or {}), root)
    for ch in inject_seed(per, seed, root, explicit=only is not None):
        print(f"[execute] {ch}: no 'seed' parameter, --seed {seed} not applied", flush=True)
    calls = [functools.partial(run_chapter, ch, executed_dir(ch, root), root=root, owned=True,
                               options=dataclasses.replace(chapter_opts[ch], seed=per[ch].get("seed") if seed is not None else None),
                               parameters={"profile": chosen[ch], **per[ch]})
             for ch in chapters]
    print(f"[execute] {len(chapters)} chapter(s), {profile} profile, {jobs} at a time", flush=True)
    start = time.perf_counter()
    done = run_all(calls, jobs, lambda i, ex: print(f"[execute] {ex.chapter}: {ex.seconds:.1f} s", flush=True),
                   costs=[last_seconds(ch, root, chosen[ch]) for ch in chapters])  # longest first
    print(f"[execute] {len(done)} chapters in {time.perf_counter() - start:.1f} s wall "
          f"({sum(e.seconds for e in done):.1f} s summed)", flush=True)
    return done


def write_scorecard(root: Path) -> Path:
    claims = scorecard.collect(root / EXECUTED_DIR)
    profiles = sorted({c.profile for c in claims})
    note = f"Profile of this build: {profiles[0]}." if len(profiles) == 1 else ""
    if len(profiles) > 1:  # a stored build: say which chapter shows which profile
        per = {p: sorted({c.chapter for c in claims if c.profile == p}) for p in profiles}
        note = "Profiles of this build: " + "; ".join(f"**{p}** for {', '.join(chs)}"
                                                    for p, chs in per.items()) + "."
    return scorecard.write(claims, root / "book" / "scorecard.md", note)


def stage_mathjax(root: Path) -> Path:
    """Copy MathJax 3 (from the ``django-static-mathjax`` wheel) into ``book/_static`` so the
    book renders math without the network."""
    import mathjax  # provided by django-static-mathjax

    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    dst = root / MATHJAX_DIR
    if not (dst / "tex-chtml.js").is_file():
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("sre", "*-full*", "*speech*"))
    return dst


def render(root: Path) -> Path:
    """``jupyter-book build`` with Sphinx warnings as errors; returns the HTML index."""
    missing = [c for c in toc_chapters(root)
               if not (executed_dir(c, root) / f"{Path(c).name}.ipynb").is_file()]
    if missing:
        raise RuntimeError(f"chapters not executed yet: {', '.join(missing)} (run `replicate execute`)")
    write_scorecard(root)
    stage_mathjax(root)
    start = time.perf_counter()
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--warningiserror", "--keep-going"]
    subprocess.run(cmd, check=True, cwd=root)
    print(f"[render] {time.perf_counter() - start:.1f} s -> {root / '_build' / 'html' / 'index.html'}")
    return root / "_build" / "html" / "index.html"
