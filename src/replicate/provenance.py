"""What produced the numbers of a chapter: integrators, time steps, trajectory counts, the code.

Every TWA :class:`~replicate.twa.engine.Simulation` notes its integrator, step and trajectory
count here as it starts, and a result read from the results store notes the ones it was made
with (:func:`replicate.sweep.once`), so that :func:`summary` — shown under every figure through
``Ledger.provenance()`` — lists everything behind a chapter's figures, computed now or earlier.
"""
from __future__ import annotations

import contextlib
import functools
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

_RUNS: dict[tuple[str, float, bool], set[int]] = {}
_STORED = [0]
_POOLING = [0]


def note(attrs: Mapping, *, stored: bool = False) -> None:
    """Record one run from its attributes (``integrator``, ``dt``, ``n_traj``, ``classical``);
    ``stored``: read from the results store rather than computed now."""
    if stored:
        _STORED[0] += 1
    elif _POOLING[0]:
        return
    if "integrator" not in attrs or "dt" not in attrs:  # e.g. a phase-diagram point (dt is a variable)
        return
    key = (str(attrs["integrator"]), float(attrs["dt"]), bool(attrs.get("classical", 0)))
    _RUNS.setdefault(key, set()).add(int(attrs.get("n_traj", 0)))


@contextlib.contextmanager
def pooled() -> Iterator[None]:
    """Runs started inside are not noted: a caller that pools several engine runs into one (chunks
    of trajectories) notes the pooled run itself, so that the caption counts its trajectories."""
    _POOLING[0] += 1
    try:
        yield
    finally:
        _POOLING[0] -= 1


def reset() -> None:
    _RUNS.clear()
    _STORED[0] = 0


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``replicate <version>`` and the git commit of the source tree when there is one
    (``-dirty``: with uncommitted changes)."""
    from . import __version__

    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"replicate {__version__}" + (f" ({commit})" if commit else "")


def summary(profile: str, seconds: float | None = None) -> str:
    """One line: profile, the TWA runs (integrator, dt, trajectories), code version, wall time."""
    parts = [f"{profile} profile"]
    for (integrator, dt, classical), counts in sorted(_RUNS.items()):
        lo, hi = min(counts), max(counts)
        traj = f"{lo}" if lo == hi else f"{lo}–{hi}"
        parts.append(f"{'classical ' if classical else 'TWA '}{integrator} dt = {dt:g} "
                     f"({traj} trajectories)")
    parts.append(code_version())
    if seconds is not None:
        parts.append(f"{seconds:.0f} s" + (f", {_STORED[0]} result(s) from the store" if _STORED[0] else ""))
    return " · ".join(parts)
