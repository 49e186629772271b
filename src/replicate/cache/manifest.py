"""Which cache entries a chapter run needs: the basis of ``replicate list --profile P``.

A chapter run through ``replicate`` with a cache and no parameter overrides gets
``$REPLICATE_MANIFEST`` = ``<cache>/manifests/<profile>/<chapter>.json``. Every
:func:`replicate.sweep.grid` and :func:`replicate.sweep.once` of the run adds its sweep key and
the keys of its points to that file as the sweep starts (so an interrupted run still lists
what it reached), and the command marks the manifest ``finished`` when the chapter succeeded.
:func:`status` then counts the listed entries present in the cache: ``complete`` (finished, all
present), ``partial`` (k of n) or ``none``.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import NamedTuple

from .entries import write_atomic

ENV = "REPLICATE_MANIFEST"
_LOCK = threading.Lock()  # chapters may call once() from several threads


def manifest_path(root: Path, profile: str, chapter: str) -> Path:
    return Path(root) / "manifests" / profile / f"{chapter.replace('/', '-')}.json"


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("sweeps"), list) else None


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=1).encode())


def start(root: Path, profile: str, chapter: str) -> Path:
    """A new manifest for a run of ``chapter`` into the cache at ``root`` (replacing the last
    run's); returns its path, for ``$REPLICATE_MANIFEST``."""
    from . import Cache

    Cache(root)._prepare()
    path = manifest_path(root, profile, chapter)
    _write(path, {"chapter": chapter, "profile": profile, "finished": False, "sweeps": []})
    return path


def record(desc: str, sweep: str, points: list[str]) -> None:
    """Add a sweep and its point keys to ``$REPLICATE_MANIFEST`` (nothing when unset)."""
    target = os.environ.get(ENV, "").strip()
    if not target:
        return
    with _LOCK:
        _add(Path(target), desc, sweep, points)


def _add(path: Path, desc: str, sweep: str, points: list[str]) -> None:
    data = _read(path) or {"finished": False, "sweeps": []}
    entry = next((s for s in data["sweeps"] if s.get("sweep") == sweep), None)
    new = entry is None
    if new:
        entry = {"desc": desc, "sweep": sweep, "points": []}
        data["sweeps"].append(entry)
    merged = sorted(set(entry["points"]) | set(points))
    if new or merged != entry["points"]:
        entry["points"] = merged
        _write(path, data)


def wall_seconds(root: Path, profile: str, chapter: str) -> float | None:
    """Wall time of the chapter's last finished run into the cache at ``root``, if any."""
    data = _read(manifest_path(root, profile, chapter))
    return data.get("wall_seconds") if data and data.get("finished") else None


def finish(path: Path, seconds: float) -> None:
    data = _read(path)
    if data is not None:
        _write(path, {**data, "finished": True, "wall_seconds": round(seconds, 1)})


class Status(NamedTuple):
    """``state`` (``complete`` | ``partial`` | ``none``), entries ``present``, entries ``listed``,
    and ``oversize``: listed results over the store's size budget (recomputed on every run)."""

    state: str
    present: int
    listed: int
    oversize: int = 0


def status(root: Path, profile: str, chapter: str) -> Status:
    """The :class:`Status` of a chapter's last run into the cache at ``root``. A chapter that
    stores nothing (it has no long runs) is ``complete`` with 0 entries once a run finished; a
    result over the size budget counts as known (its stub is there) but is not present."""
    from . import Cache

    data = _read(manifest_path(root, profile, chapter))
    if data is None:
        return Status("none", 0, 0)
    cache = Cache(root)
    listed = [(s["sweep"], p) for s in data["sweeps"] for p in s["points"]]
    present = sum(cache.path(s, p).is_file() for s, p in listed)
    oversize = sum(not cache.path(s, p).is_file() and cache.oversize_path(s, p).is_file()
                   for s, p in listed)
    if data.get("finished") and present + oversize == len(listed):
        return Status("complete", present, len(listed), oversize)
    return Status("partial" if present else "none", present, len(listed), oversize)
