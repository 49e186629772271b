"""``replicate run --dry-run``: run a chapter with every sweep timing one point instead of
computing (see :mod:`replicate.sweep`), and print the plan with an estimated wall time."""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .execute import RunOptions, failure_where, kernel_session, papermill_execute
from .notebooks import chapter_parameters, chapter_source, load_notebook, profile_types, validate_parameters


@dataclass
class DryRun:
    chapter: str
    plans: list[dict]
    seconds: float          # wall time of the whole dry run (calibration points included)
    stopped: str | None     # why the chapter did not run to its end (None: it did)


def dry_run_chapter(chapter: str, *, root: Path, parameters: dict[str, Any] | None = None,
                    options: RunOptions | None = None, cell_timeout: float = 300.0) -> DryRun:
    """Run the chapter with ``REPLICATE_DRY_RUN`` in a throw-away folder: every sweep times one
    point and records its plan instead of computing (see :mod:`replicate.sweep`); the other
    cells run as usual, each for at most ``cell_timeout`` seconds."""
    import nbformat

    opts = options or RunOptions()
    nb = load_notebook(chapter_source(chapter, root))
    declared = chapter_parameters(nb)
    params = validate_parameters(declared, parameters or {}, chapter, profile_types(nb, declared))
    name = Path(chapter).name
    scratch = Path(tempfile.mkdtemp(prefix=f"replicate-dry-run-{chapter.replace('/', '-')}-"))
    plan_file = scratch / "plan.jsonl"
    start, stopped = time.perf_counter(), None
    try:
        with kernel_session(opts, dry_run_plan=plan_file):
            src = scratch / f"{name}.source.ipynb"
            nbformat.write(nb, src)
            try:
                papermill_execute(src, scratch / f"{name}.ipynb", params, scratch, opts, timeout=cell_timeout)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a placeholder NaN grid can break the analysis after a sweep
                if "timed out" in str(exc).lower() or type(exc).__name__ == "CellTimeoutError":
                    stopped = f"a cell ran longer than {cell_timeout:.0f} s (the dry-run limit per cell)"
                else:
                    stopped = f"the chapter stopped{failure_where(exc)}"
        plans = [json.loads(line) for line in plan_file.read_text().splitlines()] if plan_file.is_file() else []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return DryRun(chapter, plans, time.perf_counter() - start, stopped)


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def print_plan(fig_id: str, chapter: str, profile: str, dr: DryRun, executor: str | None) -> None:
    """The plan of a dry run for a person: per sweep its points, sizes, calibration and estimate."""
    print(f"{fig_id} ({chapter}, profile {profile}) — dry run: each sweep computed one calibration "
          "point; nothing was written to the output folder")
    calibration_total, wall_total = 0.0, 0.0
    for p in dr.plans:
        single = not p["axes"]  # a sweep.once call: computed for real in the dry run
        if single:
            print(f"  call {p['desc']!r}: " + ("in the cache" if p["cached"] else "computed in the dry run"))
        else:
            axes = " × ".join(f"{k} {n}" for k, n in p["axes"].items())
            print(f"  sweep {p['desc']!r}: {axes} = {p['points']} points "
                  f"({p['cached']} cached, {p['to_compute']} still to compute)")
        hints = p.get("hints") or {}
        if hints:
            sizes = ", ".join(f"{k}={v}" for k, v in hints.items())
            line = f"    sizes seen in the point function: {sizes}"
            if p.get("trajectories"):
                line += f" -> {p['trajectories']:,} trajectories in all"
            times = [k for k in ("t_relax", "t_avg", "t_max") if isinstance(hints.get(k), (int, float))]
            if times:
                line += (f"; simulated time per trajectory ≥ {' + '.join(times)} = "
                         f"{sum(hints[k] for k in times):g} (1/γ)")
            print(line)
        cal = p.get("calibration")
        if cal:
            point = ", ".join(f"{k}={v}" for k, v in cal["point"].items())
            print(f"    calibration: the point {point} took {cal['seconds']:.2f} s ({cal['source']})")
            if cal["source"].startswith("measured"):
                calibration_total += cal["seconds"]
        if single:
            continue  # its time is in the measured rest of the chapter
        print(f"    estimate: {_human(p['worker_seconds'])} of worker time ({p['scaling']}) -> "
              f"{_human(p['wall_seconds'])} on {p['workers']} worker(s) "
              f"[{p['executor']}] (estimated)")
        wall_total += p["wall_seconds"]
    if not any(p["axes"] for p in dr.plans):
        print("  no sweep (replicate.sweep.grid) was reached: the chapter's cost is what it took "
              "to run, below")
    rest = max(0.0, dr.seconds - calibration_total)
    print(f"  the rest of the chapter (kernel start-up, single calls and the cells outside sweeps, "
          f"run for real on placeholder sweep results): {_human(rest)} (measured)")
    loads = [p["load"] for p in dr.plans if (p.get("load") or {}).get("average") is not None]
    if loads and max(x["average"] for x in loads) > loads[0]["cores"]:
        print(f"  note: the machine was busy while timing (load average "
              f"{max(x['average'] for x in loads):.1f} on {loads[0]['cores']} core(s)); on an idle "
              "machine the sweeps take less")
    if dr.stopped:
        print(f"  the dry run ended early: {dr.stopped}; whatever comes after is not included")
    print(f"  estimated wall time on this machine: ≈ {_human(wall_total + rest)} "
          f"(sweeps estimated from one timed point each, the rest as measured)")
