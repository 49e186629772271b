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

Location: ``$REPLICATE_CACHE`` (``replicate run/execute/build --cache DIR`` sets it for the
chapters). Without it nothing is cached: CI and tests never depend on state left by an earlier
run. ``replicate cache info|verify|clear`` inspects a cache (default ``~/.cache/replicate``).
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import xarray as xr

KERNEL_VERSION = "2025.1"
"""Bump when the numerics of any engine change (see the module docstring)."""

FORMAT = "v1"  # layout of the cache folder and of an entry
ENV = "REPLICATE_CACHE"
TAG = "CACHEDIR.TAG"
_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
             "# This directory is a replicate sweep cache (https://bford.info/cachedir/).\n")
_HEADER = "replicate_header"
_CHECKSUM = "replicate_sha256"


class CacheWarning(UserWarning):
    """A cache entry could not be used (corrupt, truncated, unreadable): it is recomputed."""


class Uncacheable(TypeError):
    """The point function holds a value that has no stable fingerprint."""


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
        return {"xarray": hashlib.sha256(_header_and_arrays(obj.to_dataset(name="_")
                if isinstance(obj, xr.DataArray) else obj)[2]).hexdigest()}
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


# --------------------------------------------------------------------------- entries

class CorruptEntry(ValueError):
    """An entry that fails to decode or whose checksum does not match."""


def _jsonable(value: Any) -> Any:
    """Attribute values -> JSON with type tags, restored exactly by :func:`_unjson`."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return {"i": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return {"f": repr(float(value))}
    if isinstance(value, (complex, np.complexfloating)):
        return {"c": [repr(float(value.real)), repr(float(value.imag))]}
    if isinstance(value, np.ndarray):
        return {"a": [value.dtype.str, _jsonable(value.tolist())]}
    if isinstance(value, list):
        return {"l": [_jsonable(x) for x in value]}
    if isinstance(value, tuple):
        return {"t": [_jsonable(x) for x in value]}
    if isinstance(value, dict):
        return {"d": [[_jsonable(k), _jsonable(v)] for k, v in value.items()]}
    raise Uncacheable(f"a value of type {type(value).__name__} cannot be stored in the cache")


def _unjson(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise CorruptEntry("malformed header")
    (tag, v), = value.items()
    if tag == "i":
        return int(v)
    if tag == "f":
        return float(v)
    if tag == "c":
        return complex(float(v[0]), float(v[1]))
    if tag == "a":
        dtype, items = v
        return np.array(_unjson(items), dtype=np.dtype(dtype))
    if tag == "l":
        return [_unjson(x) for x in v]
    if tag == "t":
        return tuple(_unjson(x) for x in v)
    if tag == "d":
        return {_unjson(k): _unjson(x) for k, x in v}
    raise CorruptEntry(f"unknown tag {tag!r} in the header")


def _native(arr: np.ndarray, dtype: str) -> np.ndarray:
    a = np.asarray(arr).astype(np.dtype(dtype), copy=False)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _storage(arr: np.ndarray) -> list[tuple[str, np.ndarray]] | None:
    """How an array is kept in netCDF3: [(part, array)], or None to keep it in the header."""
    k = arr.dtype.kind
    if k == "c" and arr.dtype.itemsize in (8, 16):
        real = "<f4" if arr.dtype.itemsize == 8 else "<f8"
        return [("re", _native(arr.real, real)), ("im", _native(arr.imag, real))]
    if k == "f" and arr.dtype.itemsize in (4, 8):
        return [("x", _native(arr, "<f4" if arr.dtype.itemsize == 4 else "<f8"))]
    if k == "b":
        return [("x", _native(arr, "<i1"))]
    if k in "iu" and (arr.size == 0 or (int(arr.min()) >= -2**31 and int(arr.max()) < 2**31)):
        return [("x", _native(arr, "<i4"))]
    return None


def _header_and_arrays(ds: xr.Dataset, extra: dict | None = None):
    """(header, [(netCDF name, dims, array)], checksum payload bytes) of a Dataset."""
    dims = list(ds.sizes)
    header: dict[str, Any] = {"dims": [[d, int(ds.sizes[d])] for d in dims], "vars": [],
                              "attrs": _jsonable(dict(ds.attrs)), **(extra or {})}
    arrays = []
    for i, (name, var) in enumerate(ds.variables.items()):
        arr = np.asarray(var.values)
        entry = {"name": _jsonable(name), "coord": name in ds.coords,
                 "dims": [dims.index(d) for d in var.dims], "dtype": arr.dtype.str,
                 "attrs": _jsonable(dict(var.attrs))}
        parts = _storage(arr)
        if parts is None:
            entry["values"] = _jsonable(arr.tolist())
        else:
            entry["parts"] = []
            for part, stored in parts:
                nc_name = f"v{i}_{part}"
                entry["parts"].append([nc_name, stored.dtype.str])
                arrays.append((nc_name, tuple(f"d{dims.index(d)}" for d in var.dims), stored))
        header["vars"].append(entry)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"))
    payload = hashlib.sha256(text.encode())
    for _, _, a in arrays:
        payload.update(a.tobytes())
    return text, arrays, payload.hexdigest().encode()


def encode(ds: xr.Dataset, extra: dict | None = None) -> bytes:
    """A Dataset as netCDF3 bytes (scipy backend) with its exact-restore header and checksum."""
    text, arrays, checksum = _header_and_arrays(ds, extra)
    nc = xr.Dataset({name: (d, a) for name, d, a in arrays},
                    attrs={_HEADER: text, _CHECKSUM: checksum.decode()})
    return bytes(nc.to_netcdf(engine="scipy", format="NETCDF3_64BIT"))


def decode(data: bytes) -> tuple[xr.Dataset, dict]:
    """(Dataset, header) of :func:`encode`'s bytes; :class:`CorruptEntry` if anything is off."""
    try:
        with xr.open_dataset(io.BytesIO(data), engine="scipy", decode_cf=False,
                             mask_and_scale=False, decode_times=False) as nc:
            nc = nc.load()
        text, stored_sum = str(nc.attrs[_HEADER]), str(nc.attrs[_CHECKSUM])
        header = json.loads(text)
        payload = hashlib.sha256(text.encode())
        parts = {}
        for entry in header["vars"]:
            for nc_name, dtype in entry.get("parts", []):
                parts[nc_name] = _native(nc[nc_name].values, dtype)
                payload.update(parts[nc_name].tobytes())
    except CorruptEntry:
        raise
    except Exception as exc:  # truncated file, bad header, missing variable
        raise CorruptEntry(f"unreadable ({type(exc).__name__}: {exc})") from None
    if payload.hexdigest() != stored_sum:
        raise CorruptEntry("checksum mismatch")
    dims = [d for d, _ in header["dims"]]
    coords, data_vars = {}, {}
    for entry in header["vars"]:
        dtype = np.dtype(entry["dtype"])
        if "values" in entry:
            arr = np.array(_unjson(entry["values"]), dtype=dtype)
        elif dtype.kind == "c":
            re, im = (parts[n] for n, _ in entry["parts"])
            arr = (re + 1j * im).astype(dtype)
        else:
            arr = parts[entry["parts"][0][0]].astype(dtype)
        var = xr.Variable([dims[i] for i in entry["dims"]], arr, attrs=_unjson(entry["attrs"]))
        (coords if entry["coord"] else data_vars)[_unjson(entry["name"])] = var
    return xr.Dataset(data_vars, coords=coords, attrs=_unjson(header["attrs"])), header


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
            _write_atomic(self.root / TAG, _TAG_TEXT.encode())

    def is_cache(self) -> bool:
        tag = self.root / TAG
        return tag.is_file() and tag.read_text(errors="replace").startswith(_TAG_TEXT.splitlines()[0])

    def sweep_dir(self, sweep: str) -> Path:
        return self.root / FORMAT / sweep[:24]

    def path(self, sweep: str, point: str) -> Path:
        return self.sweep_dir(sweep) / f"{point[:32]}.nc"

    def register(self, sweep: str, info: dict) -> None:
        """Create the sweep's folder with a ``sweep.json`` describing it (for ``cache info``)."""
        self._prepare()
        text = json.dumps({**info, "kernel_version": KERNEL_VERSION, "key": sweep}, indent=1,
                          default=str)
        target = self.sweep_dir(sweep) / "sweep.json"
        if not target.is_file() or target.read_text(errors="replace") != text:
            _write_atomic(target, text.encode())

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
              desc: str = "") -> Path | None:
        """Write a point's result atomically; returns the path, or None (with a warning) when
        the result cannot be stored exactly."""
        extra = {"sweep": sweep, "point_key": point, "point": canonical(dict(args)), "seconds": float(seconds),
                 "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "desc": desc,
                 "kernel_version": KERNEL_VERSION}
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
        try:
            _write_atomic(path, data)
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

    def clear(self) -> int:
        """Remove every entry; returns how many. Refuses a folder that is not a cache."""
        if not self.root.exists():
            return 0
        if not self.is_cache():
            raise ValueError(f"{self.root} is not a replicate cache (no {TAG}); not touching it")
        n = sum(1 for _ in self.entries())
        shutil.rmtree(self.root / FORMAT, ignore_errors=True)
        return n
