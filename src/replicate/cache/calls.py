"""A cached call written down so that it can be made again: ``replicate cache recompute``.

:func:`describe` turns a function and its keyword arguments into JSON when every part can be
rebuilt exactly — numbers, strings, ``None``, numeric NumPy arrays and scalars, lists, tuples, dicts, enums, dataclasses and
functions or classes importable by module and name (``replicate.twa.ness``, ``ChainParams``) —
and returns None otherwise (a notebook's closure, an object array): such an entry is kept and
read like any other, it only cannot be recomputed outside the chapter that wrote it.
:func:`rebuild` is its inverse.
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import Any, Callable

import numpy as np

from .entries import CorruptEntry, Uncacheable, _jsonable, _unjson


class _NotRebuildable(Exception):
    pass


def _importable_name(obj: Any) -> str:
    from . import _importable, _name  # the cache's own test of "found again by name"

    if not _importable(obj):
        raise _NotRebuildable
    target = getattr(obj, "py_func", obj)
    return _name(target)


def _encode_own(value: Any) -> Any:
    """The tags calls add to the entries' JSON (:func:`replicate.cache.entries._jsonable`)."""
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return {"np": [value.dtype.str, _jsonable(value.item())]}  # keeps float32 a float32
    if isinstance(value, np.ndarray) and value.dtype.kind not in "biufc":
        raise _NotRebuildable
    if isinstance(value, range):
        return {"r": [value.start, value.stop, value.step]}
    if isinstance(value, enum.Enum):
        return {"e": [_importable_name(type(value)), value.name]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"dc": [_importable_name(type(value)),
                       {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}]}
    if callable(value):
        return {"fn": _importable_name(value)}
    return None


def _encode(value: Any) -> Any:
    try:
        return _jsonable(value, _encode_own)
    except Uncacheable:
        raise _NotRebuildable from None


def _lookup(name: str) -> Any:
    # the longest importable module prefix, then attributes
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise CorruptEntry(f"cannot import {name!r}")


def _decode_own(tag: str, v: Any) -> Any:
    if tag == "r":
        return range(*v)
    if tag == "np":
        return np.dtype(v[0]).type(_unjson(v[1]))
    if tag == "e":
        return getattr(_lookup(v[0]), v[1])
    if tag == "dc":
        return _lookup(v[0])(**{k: _decode(x) for k, x in v[1].items()})
    if tag == "fn":
        return _lookup(v)
    raise CorruptEntry(f"unknown tag {tag!r} in a call description")


def _decode(value: Any) -> Any:
    return _unjson(value, _decode_own)


def describe(func: Callable, kwargs: dict[str, Any]) -> dict | None:
    """``{"function": name, "kwargs": ...}`` that :func:`rebuild` turns back into an equal call,
    or None when some part cannot be rebuilt from a name and plain values."""
    try:
        return {"function": _importable_name(func), "kwargs": _encode(dict(kwargs))}
    except _NotRebuildable:
        return None


def rebuild(call: dict) -> tuple[Callable, dict[str, Any]]:
    """(function, keyword arguments) of a :func:`describe` result."""
    try:
        return _lookup(call["function"]), _decode(call["kwargs"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptEntry(f"malformed call description ({exc})") from None
