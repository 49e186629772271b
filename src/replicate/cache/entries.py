"""One cache entry: a Dataset as netCDF3 bytes (xarray's ``scipy`` backend) that round-trip
exactly — complex values as real/imaginary pairs, dtypes and attributes restored from a JSON
header — with a SHA-256 of the arrays and the header checked on every read; and the atomic write
(temporary file, fsync, rename) of one entry.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr

_HEADER = "replicate_header"
_CHECKSUM = "replicate_sha256"


class Uncacheable(TypeError):
    """The point function holds a value that has no stable fingerprint (or a Dataset holds an
    attribute that cannot be stored)."""


class CorruptEntry(ValueError):
    """An entry that fails to decode or whose checksum does not match."""


def _jsonable(value: Any, hook: Callable[[Any], Any] | None = None) -> Any:
    """Attribute values -> JSON with type tags, restored exactly by :func:`_unjson`. ``hook``
    (value -> tagged JSON or None) is asked first at every level, for types of its own
    (:mod:`replicate.cache.calls`: dataclasses, functions, NumPy scalars with their dtype)."""
    if hook is not None:
        tagged = hook(value)
        if tagged is not None:
            return tagged
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
        return {"a": [value.dtype.str, _jsonable(value.tolist(), hook)]}
    if isinstance(value, list):
        return {"l": [_jsonable(x, hook) for x in value]}
    if isinstance(value, tuple):
        return {"t": [_jsonable(x, hook) for x in value]}
    if isinstance(value, dict):
        return {"d": [[_jsonable(k, hook), _jsonable(v, hook)] for k, v in value.items()]}
    raise Uncacheable(f"a value of type {type(value).__name__} cannot be stored in the cache")


def _unjson(value: Any, hook: Callable[[str, Any], Any] | None = None) -> Any:
    """Inverse of :func:`_jsonable`; ``hook(tag, payload)`` restores the tags of its own."""
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
        return np.array(_unjson(items, hook), dtype=np.dtype(dtype))
    if tag == "l":
        return [_unjson(x, hook) for x in v]
    if tag == "t":
        return tuple(_unjson(x, hook) for x in v)
    if tag == "d":
        return {_unjson(k, hook): _unjson(x, hook) for k, x in v}
    if hook is not None:
        return hook(tag, v)
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


def content_digest(obj: xr.Dataset | xr.DataArray) -> str:
    """SHA-256 of the arrays and header of ``obj`` as stored (a Dataset argument's fingerprint)."""
    ds = obj.to_dataset(name="_") if isinstance(obj, xr.DataArray) else obj
    return hashlib.sha256(_header_and_arrays(ds)[2]).hexdigest()


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


def write_atomic(path: Path, data: bytes) -> None:
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
