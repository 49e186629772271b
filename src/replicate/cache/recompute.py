"""``replicate cache recompute``: make a few stored entries again and compare them bitwise.

CI runs it on the committed paper-profile store, so that the store cannot drift from the code:
an entry whose call was written down (:mod:`replicate.cache.calls`) is rebuilt, computed in this
process, and its arrays and attributes must equal the stored ones exactly (the engines are
deterministic: the same seed gives the same numbers on any thread count or worker split).

One exception, reported as such: NumPy's vectorised transcendental functions (``log``,
``arctan2``, ...) round differently on CPUs with other vector units (AVX-512 against AVX2), so
an entry made on another machine can differ in the last bits of a post-processed variable
(seen: 1.1e-16 in a mean phase of 0.89, 1.5e-16 in a KL divergence of 3e-6 summed from terms of
order 1, 2.5e-16 in a jackknife error of 4e-4). An entry whose every array differs from the
stored one by at most :data:`ROUNDING` machine epsilons of that array's scale (its largest
|value|, at least 1: results of cancellation err on the scale of their terms), with the same
names, shapes, dtypes, NaNs and attributes, is ``rounding``: it passes, and the report says so.
Any larger difference — a changed formula, seed or kernel — is ``DIFFERENT``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import KERNEL_VERSION, Cache
from .calls import rebuild
from .entries import CorruptEntry, content_digest, decode, encode


ROUNDING = 16
"""Largest elementwise difference, in machine epsilons of the array's scale, that
:func:`recompute` calls rounding rather than a different result."""


@dataclass
class Recomputed:
    path: Path
    desc: str
    stored_seconds: float
    seconds: float
    status: str            # "equal" (bitwise), "rounding" (module docstring), "different"
    detail: str = ""

    @property
    def equal(self) -> bool:
        """The entry passes: bitwise equal, or equal up to another CPU's rounding."""
        return self.status in ("equal", "rounding")


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
            results.append(Recomputed(path, header.get("desc", ""), stored_seconds, 0.0, "different",
                                      f"its call cannot be rebuilt ({exc})"))
            continue
        start = time.perf_counter()
        new, _ = decode(encode(_wrap(func(**kwargs))))  # as it would be stored (variable order)
        seconds = time.perf_counter() - start
        if content_digest(new) == content_digest(old):
            status, detail = "equal", ""
        else:
            rounding = _within_rounding(old, new)
            status = "rounding" if rounding else "different"
            detail = rounding or _first_difference(old, new)
        results.append(Recomputed(path, header.get("desc", ""), stored_seconds, seconds, status, detail))
    return results


def _within_rounding(old, new) -> str:
    """A description of the largest difference if ``new`` equals ``old`` up to :data:`ROUNDING`
    epsilons of each array's scale (same variables, shapes, dtypes, NaNs and attributes); ""
    otherwise."""
    import numpy as np

    if set(old.variables) != set(new.variables) or old.attrs != new.attrs:
        return ""
    worst, where = 0.0, ""
    for name in old.variables:
        a, b = np.asarray(old[name].values), np.asarray(new[name].values)
        if a.shape != b.shape or a.dtype != b.dtype or old[name].attrs != new[name].attrs:
            return ""
        if a.tobytes() == b.tobytes():
            continue
        if a.dtype.kind not in "fc" or not np.array_equal(np.isnan(a), np.isnan(b)):
            return ""
        ok = ~np.isnan(a)
        x, y = a[ok], b[ok]
        scale = max(1.0, float(np.abs(x).max(initial=0.0)))
        eps = float(np.abs(x - y).max(initial=0.0)) / (np.finfo(a.real.dtype).eps * scale)
        if not np.isfinite(eps) or eps > ROUNDING:
            return ""
        if eps > worst:
            worst, where = eps, str(name)
    return (f"equal up to {worst:.1f} epsilons of the scale of {where!r} (the rounding of another "
            f"CPU's vector math; tolerance {ROUNDING})")


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
