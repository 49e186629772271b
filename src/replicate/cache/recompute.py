"""``replicate cache recompute``: make a few stored entries again and compare them bitwise.

CI runs it on the committed paper-profile store, so that the store cannot drift from the code:
an entry whose call was written down (:mod:`replicate.cache.calls`) is rebuilt, computed in this
process, and its arrays and attributes must equal the stored ones exactly (the engines are
deterministic: the same seed gives the same numbers on any thread count or worker split).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import KERNEL_VERSION, Cache
from .calls import rebuild
from .entries import CorruptEntry, content_digest, decode, encode


@dataclass
class Recomputed:
    path: Path
    desc: str
    stored_seconds: float
    seconds: float
    equal: bool
    detail: str = ""


def candidates(cache: Cache) -> list[tuple[float, Path, dict]]:
    """(stored seconds, path, header) of every current-kernel entry with a call description, in
    the order :func:`recompute` takes them: the cheapest entry of every function (``desc``),
    cheapest first, then the second cheapest of each, and so on. A small sample thus covers the
    exact solvers, the kinetic equations and the TWA drivers, not only the cheapest kind."""
    by_desc: dict[str, list[tuple[float, Path, dict]]] = {}
    for path in cache.entries():
        try:
            _, header = decode(path.read_bytes())
        except (CorruptEntry, OSError):
            continue
        if header.get("call") and header.get("kernel_version") == KERNEL_VERSION:
            entry = (float(header.get("seconds", float("inf"))), path, header)
            by_desc.setdefault(str(header.get("desc", "")), []).append(entry)
    ranked = []
    for entries in by_desc.values():
        entries.sort(key=lambda c: (c[0], str(c[1])))
        ranked += [(rank, c) for rank, c in enumerate(entries)]
    return [c for _, c in sorted(ranked, key=lambda rc: (rc[0], rc[1][0], str(rc[1][1])))]


def recompute(cache: Cache, sample: int) -> list[Recomputed]:
    """Recompute the first ``sample`` entries of :func:`candidates`; one result per entry."""
    if sample < 1:
        raise ValueError(f"sample must be >= 1, got {sample}")
    from ..sweep import _wrap

    results = []
    for stored_seconds, path, header in candidates(cache)[:sample]:
        old, _ = decode(path.read_bytes())
        try:
            func, kwargs = rebuild(header["call"])
        except CorruptEntry as exc:
            results.append(Recomputed(path, header.get("desc", ""), stored_seconds, 0.0, False,
                                      f"its call cannot be rebuilt ({exc})"))
            continue
        start = time.perf_counter()
        new, _ = decode(encode(_wrap(func(**kwargs))))  # as it would be stored (variable order)
        seconds = time.perf_counter() - start
        equal = content_digest(new) == content_digest(old)
        detail = "" if equal else _first_difference(old, new)
        results.append(Recomputed(path, header.get("desc", ""), stored_seconds, seconds, equal, detail))
    return results


def _first_difference(old, new) -> str:
    import numpy as np

    for name in sorted(set(old.variables) | set(new.variables), key=str):
        if name not in old.variables or name not in new.variables:
            return f"variable {name!r} only in one of them"
        a, b = np.asarray(old[name].values), np.asarray(new[name].values)
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{name!r}: {a.dtype}{a.shape} stored, {b.dtype}{b.shape} now"
        if a.tobytes() != b.tobytes():
            with np.errstate(all="ignore"):
                diff = np.nanmax(np.abs(a.astype(complex) - b.astype(complex))) if a.size else 0
            return f"{name!r} differs (max |Δ| = {diff:.3g})"
    return "attributes differ"
