"""On-disk cache of sweep points: one small checksummed netCDF file per grid point.

A point's key is a SHA-256 of

* :data:`KERNEL_VERSION` (below),
* the point function's *fingerprint*: module and qualname, and for a closure, a lambda or a
  function defined in a notebook also its bytecode, default arguments, closure values and the
  data globals it reads (a ``ChainParams``, ``n_traj``, ``seed``, ``dt``, the integrator, …),
* the point's own arguments (``L=10, F=6.0``).

Functions imported from a module are identified by name only: what they compute is covered by
:data:`KERNEL_VERSION`. **Engine authors bump it whenever the numbers a kernel produces change**
(integrator, noise streams, observables, defaults); every cached point then misses.

An entry is written atomically (temporary file, fsync, rename) as netCDF3 through xarray's
``scipy`` backend (no netCDF4/HDF5 library needed). Every variable and attribute round-trips
exactly (complex values as real/imaginary pairs, dtypes and attributes restored from a JSON
header); a SHA-256 of the stored arrays and the header is kept in the file and checked on every
read, so a truncated or corrupted entry is reported (a :class:`CacheWarning` naming the file) and
recomputed, never read as data.

**Size budget.** A cache folder may hold a ``STORE.json`` with ``max_entry_bytes``: a result
whose entry would be larger is not written (a committed store stays small); a stub
``<point>.oversize.json`` records its size instead, so the chapter's manifest counts it as
known but recomputed on every run (``replicate list``). The committed paper store has one.

Location: ``$REPLICATE_CACHE`` (``replicate run/execute/build --cache DIR`` sets it for the
chapters). Without it nothing is cached: CI and tests never depend on state left by an earlier
run. ``replicate cache info|verify|clear`` inspects a cache (default ``~/.cache/replicate``).
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import os
import shutil
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import xarray as xr

from .entries import CorruptEntry, Uncacheable, content_digest, decode, encode, write_atomic

KERNEL_VERSION = "2026.1"
"""Bump when the numerics of any engine change (see the module docstring)."""

FORMAT = "v1"  # layout of the cache folder and of an entry
ENV = "REPLICATE_CACHE"
STORE_FILE = "STORE.json"  # optional settings of a cache folder, e.g. {"max_entry_bytes": 4000000}
TAG = "CACHEDIR.TAG"
_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
             "# This directory is a replicate sweep cache (https://bford.info/cachedir/).\n")


class CacheWarning(UserWarning):
    """A cache entry could not be used (corrupt, truncated, unreadable): it is recomputed."""


def default_location() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "replicate"


def location() -> Path | None:
    """The cache folder of this process: ``$REPLICATE_CACHE``, or None (no caching)."""
    env = os.environ.get(ENV, "").strip()
    return Path(env).expanduser() if env else None


# --------------------------------------------------------------------------- fingerprints

def _code_digest(code: types.CodeType) -> str:
    """Content of a code object without file names or line numbers (a notebook cell compiles
    to a different file name in every kernel)."""
    h = hashlib.sha256()
    for part in (code.co_code, repr(code.co_names), repr(code.co_varnames),
                 repr(code.co_freevars), repr(code.co_cellvars)):
        h.update(part if isinstance(part, bytes) else part.encode())
    for c in code.co_consts:
        h.update(_code_digest(c).encode() if isinstance(c, types.CodeType) else repr(c).encode())
    return h.hexdigest()


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


def _importable(obj: Any) -> bool:
    """A module-level object that can be found again by module + qualname."""
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not mod or not qual or mod == "__main__" or "<locals>" in qual or "<lambda>" in qual:
        return False
    found = sys.modules.get(mod)
    for part in qual.split("."):
        found = getattr(found, part, None)
    return found is obj or getattr(found, "py_func", None) is obj


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def canonical(obj: Any, _active: frozenset = frozenset()) -> Any:
    """A JSON-able structure that determines ``obj`` (equal values, equal structures).

    Raises :class:`Uncacheable` for values without a stable description (open files, locks,
    arbitrary objects)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return {"int": str(obj)}
    if isinstance(obj, float):
        return {"float": repr(obj)}
    if isinstance(obj, complex):
        return {"complex": [repr(obj.real), repr(obj.imag)]}
    if isinstance(obj, np.generic):
        return {"np": obj.dtype.str, "v": canonical(obj.item(), _active)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return {"ndarray": "object", "shape": list(obj.shape),
                    "items": [canonical(x, _active) for x in obj.ravel().tolist()]}
        arr = obj if obj.flags.c_contiguous else obj.copy(order="C")
        return {"ndarray": arr.dtype.str, "shape": list(arr.shape),
                "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [canonical(x, _active) for x in obj]}
    if isinstance(obj, range):
        return {"range": [obj.start, obj.stop, obj.step]}
    if isinstance(obj, (set, frozenset)):
        items = [canonical(x, _active) for x in obj]
        return {"set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(obj, dict):
        items = [[canonical(k, _active), canonical(v, _active)] for k, v in obj.items()]
        return {"dict": sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))}
    if isinstance(obj, enum.Enum):
        return {"enum": _name(type(obj)), "name": obj.name}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"dataclass": _name(type(obj)),
                "fields": {f.name: canonical(getattr(obj, f.name), _active)
                           for f in dataclasses.fields(obj)}}
    if isinstance(obj, functools.partial):
        return {"partial": canonical(obj.func, _active), "args": canonical(obj.args, _active),
                "keywords": canonical(obj.keywords, _active)}
    if isinstance(obj, types.MethodType):
        return {"method": canonical(obj.__func__, _active), "self": canonical(obj.__self__, _active)}
    if isinstance(obj, types.FunctionType):
        return _function(obj, _active)
    if isinstance(obj, types.ModuleType):
        return {"module": obj.__name__}
    if isinstance(obj, (type, types.BuiltinFunctionType)) or _importable(obj):
        return {"object": _name(obj)}
    if isinstance(obj, (xr.Dataset, xr.DataArray)):
        return {"xarray": content_digest(obj)}
    raise Uncacheable(f"no stable fingerprint for a {type(obj).__module__}.{type(obj).__qualname__}")


def _function(func: types.FunctionType, active: frozenset) -> Any:
    if _importable(func):
        return {"function": _name(func)}
    if id(func) in active:  # a recursive closure
        return {"recursive": _name(func)}
    active = active | {id(func)}
    closure = {}
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            closure[name] = canonical(cell.cell_contents, active)
        except ValueError:  # an empty cell
            closure[name] = "<empty>"
    data_globals = {}
    for name in sorted(_global_names(func.__code__)):
        if name in func.__globals__ and not name.startswith("__"):
            value = func.__globals__[name]
            if isinstance(value, types.ModuleType):
                continue
            data_globals[name] = canonical(value, active)
    return {"function": _name(func), "code": _code_digest(func.__code__),
            "defaults": canonical(func.__defaults__, active),
            "kwdefaults": canonical(func.__kwdefaults__, active),
            "closure": closure, "globals": data_globals}


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sweep_key(func: Callable) -> tuple[str, Any]:
    """(hex key, fingerprint) of a point function under the current :data:`KERNEL_VERSION`."""
    fp = {"kernel_version": KERNEL_VERSION, "format": FORMAT, "function": canonical(func)}
    return digest(fp), fp


def point_key(sweep: str, point: dict[str, Any]) -> str:
    return digest({"sweep": sweep, "point": canonical(dict(point))})


class Cache:
    """A cache folder: ``<root>/CACHEDIR.TAG`` and ``<root>/v1/<sweep>/<point>.nc``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    def _prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"cache location {self.root} is a file, not a folder")
        if self.root.is_dir() and any(self.root.iterdir()) and not self.is_cache():
            raise ValueError(f"cache location {self.root} is a non-empty folder that is not a "
                             f"replicate cache (no {TAG}); choose another folder")
        (self.root / FORMAT).mkdir(parents=True, exist_ok=True)
        if not (self.root / TAG).is_file():
            write_atomic(self.root / TAG, _TAG_TEXT.encode())

    def is_cache(self) -> bool:
        tag = self.root / TAG
        return tag.is_file() and tag.read_text(errors="replace").startswith(_TAG_TEXT.splitlines()[0])

    def sweep_dir(self, sweep: str) -> Path:
        return self.root / FORMAT / sweep[:24]

    def path(self, sweep: str, point: str) -> Path:
        return self.sweep_dir(sweep) / f"{point[:32]}.nc"

    def oversize_path(self, sweep: str, point: str) -> Path:
        return self.sweep_dir(sweep) / f"{point[:32]}.oversize.json"

    @property
    def max_entry_bytes(self) -> int | None:
        """The size budget of an entry from ``STORE.json`` (None: no limit)."""
        try:
            settings = json.loads((self.root / STORE_FILE).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.root / STORE_FILE} is unreadable: {exc}") from None
        limit = settings.get("max_entry_bytes") if isinstance(settings, dict) else None
        if limit is None:
            return None
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"{self.root / STORE_FILE}: max_entry_bytes must be a positive "
                             f"integer, got {limit!r}")
        return limit

    def register(self, sweep: str, info: dict) -> None:
        """Create the sweep's folder with a ``sweep.json`` describing it (for ``cache info``)."""
        self._prepare()
        text = json.dumps({**info, "kernel_version": KERNEL_VERSION, "key": sweep}, indent=1,
                          default=str)
        target = self.sweep_dir(sweep) / "sweep.json"
        if not target.is_file() or target.read_text(errors="replace") != text:
            write_atomic(target, text.encode())

    def load(self, sweep: str, point: str, args: dict) -> tuple[xr.Dataset, dict] | None:
        """The cached result of a point and its header, or None (missing, or corrupt: then a
        :class:`CacheWarning` names the file and the point is recomputed)."""
        path = self.path(sweep, point)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            warnings.warn(f"cache entry {path} unreadable ({exc}); recomputing", CacheWarning, 2)
            return None
        try:
            ds, header = decode(data)
            if header.get("point") != canonical(dict(args)) or header.get("sweep") != sweep:
                raise CorruptEntry("it belongs to another point")
        except CorruptEntry as exc:
            warnings.warn(f"corrupt cache entry {path} ({exc}); recomputing", CacheWarning, 2)
            return None
        return ds, header

    def store(self, sweep: str, point: str, args: dict, ds: xr.Dataset, *, seconds: float,
              desc: str = "", call: dict | None = None) -> Path | None:
        """Write a point's result atomically; returns the path, or None (with a warning) when
        the result cannot be stored exactly. ``call``: how to make it again
        (:func:`replicate.cache.calls.describe`), for ``replicate cache recompute``."""
        extra = {"sweep": sweep, "point_key": point, "point": canonical(dict(args)), "seconds": float(seconds),
                 "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "desc": desc,
                 "kernel_version": KERNEL_VERSION, "call": call}
        try:
            data = encode(ds, extra)
            back, _ = decode(data)
        except (Uncacheable, CorruptEntry) as exc:
            warnings.warn(f"point {args} not cached: {exc}", CacheWarning, 2)
            return None
        if not back.identical(ds):
            warnings.warn(f"point {args} not cached: its result does not round-trip exactly",
                          CacheWarning, 2)
            return None
        path = self.path(sweep, point)
        limit = self.max_entry_bytes
        if limit is not None and len(data) > limit:  # over the budget: keep a note, not the data
            note = {"desc": desc, "point": extra["point"], "bytes": len(data), "limit": limit,
                    "seconds": float(seconds), "kernel_version": KERNEL_VERSION}
            write_atomic(self.oversize_path(sweep, point), json.dumps(note, default=str).encode())
            return None
        try:
            write_atomic(path, data)
        except OSError as exc:  # disk full, read-only: the result is fine, only not kept
            warnings.warn(f"could not write cache entry {path} ({exc}); point {args} not cached",
                          CacheWarning, 2)
            return None
        return path

    # ------------------------------------------------------------------ maintenance

    def entries(self) -> Iterator[Path]:
        base = self.root / FORMAT
        return iter(sorted(base.glob("*/*.nc"))) if base.is_dir() else iter(())

    def leftovers(self) -> list[Path]:
        """Temporary files of writers that were killed mid-write."""
        base = self.root / FORMAT
        return sorted(base.glob("*/.*.tmp")) if base.is_dir() else []

    def sweeps(self) -> list[dict]:
        out = []
        base = self.root / FORMAT
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            if not d.is_dir():
                continue
            try:
                info = json.loads((d / "sweep.json").read_text())
            except (OSError, ValueError):
                info = {}
            files = list(d.glob("*.nc"))
            out.append({"dir": d, "function": info.get("function", "?"), "desc": info.get("desc", ""),
                        "kernel_version": info.get("kernel_version", "?"), "points": len(files),
                        "bytes": sum(f.stat().st_size for f in files)})
        return out

    def verify(self, delete: bool = False) -> tuple[int, list[tuple[Path, str]]]:
        """(number of good entries, [(path, problem)]); ``delete`` removes the bad ones and the
        leftovers of interrupted writes."""
        good, bad = 0, []
        for path in self.entries():
            try:
                _, header = decode(path.read_bytes())
                if not path.name.startswith(str(header.get("point_key", path.stem))[:32]):
                    raise CorruptEntry("misplaced")
                good += 1
            except (CorruptEntry, OSError) as exc:
                bad.append((path, str(exc)))
        if delete:
            for path, _ in bad:
                path.unlink(missing_ok=True)
            for path in self.leftovers():
                path.unlink(missing_ok=True)
        return good, bad

    def unlisted(self) -> list[Path]:
        """Entries and size-budget stubs that no chapter manifest (``manifests/*/*.json``) lists:
        left behind when a chapter changed what it caches. Raises ``ValueError`` for a cache
        without manifests (a user cache written outside ``replicate run``), where every entry
        would look unlisted."""
        manifests = sorted((self.root / "manifests").glob("*/*.json"))
        if not manifests:
            raise ValueError(f"{self.root} has no chapter manifests: cannot tell which entries are used")
        listed = set()
        for m in manifests:
            data = json.loads(m.read_text())
            for sw in data.get("sweeps", []):
                listed.update((sw["sweep"][:24], point[:32]) for point in sw.get("points", []))
        base = self.root / FORMAT
        files = sorted(base.glob("*/*.nc")) + sorted(base.glob("*/*.oversize.json")) if base.is_dir() else []
        return [f for f in files if (f.parent.name, f.name.split(".")[0]) not in listed]

    def clear(self) -> int:
        """Remove every entry; returns how many. Refuses a folder that is not a cache."""
        if not self.root.exists():
            return 0
        if not self.is_cache():
            raise ValueError(f"{self.root} is not a replicate cache (no {TAG}); not touching it")
        n = sum(1 for _ in self.entries())
        shutil.rmtree(self.root / FORMAT, ignore_errors=True)
        return n
