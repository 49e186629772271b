"""Parameter grids -> xarray Datasets, cached, resumable, on threads or on Dask.

:func:`grid` evaluates a function on the Cartesian product of named axes and stacks the
Datasets it returns along new dimensions named after the axes. Every point is computed from its
own arguments only (seeds included), so the result does not depend on the order of evaluation,
on the executor, on the number of workers or on how the grid is split (``only=``).

Where points run (:mod:`replicate.executors`) — ``$REPLICATE_EXECUTOR`` (``replicate run/execute/build --dask`` sets it for
the chapters, which need no change):

* ``threads`` (default): Python threads, each running its points with one numba thread (the TWA
  kernels release the GIL), so a sweep of small points uses every core without nested
  parallelism. ``workers=`` sets their number.
* ``dask:local``: a ``distributed.LocalCluster`` of one single-threaded worker process per core.
* ``dask:tcp://host:port``: the workers of a running Dask scheduler (one machine or a cluster).
  The first point is computed in this process before fanning out, which compiles (or loads)
  the numba kernels once and writes numba's on-disk cache for the local workers; every worker
  runs its point with one numba thread.

Cache — ``$REPLICATE_CACHE`` (``--cache DIR``): every finished point is written at once as a
small checksummed file (:mod:`replicate.cache`), so an interrupted sweep (Ctrl-C, a killed
worker, a failing point) resumes where it stopped and a finished point is never recomputed.

A point that raises stops the sweep with a :class:`SweepError` naming it; the points that
finished are kept (in the cache, and in ``SweepError.partial``).

``$REPLICATE_DRY_RUN=<file>`` (``replicate run --dry-run``): instead of computing, each sweep
times one point (a calibration), appends its plan — points, cached points, the sizes it can see
(``n_traj``, times, ``dt``), an estimated wall time — to the file as a JSON line, and returns the
grid with only that point filled (NaN elsewhere, ``computed`` False).
"""
from __future__ import annotations

import functools
import inspect
import itertools
import json
import os
import sys
import threading
import time
import warnings
from typing import Any, Callable, Sequence

import numba
import numpy as np
import xarray as xr

from . import cache as _cache, provenance
from .cache import calls as _calls, manifest as _manifest
from .executors import (EXECUTOR_ENV, PointFailed, executor_spec, executor_workers, local_cores,
                        run_dask, run_threads, timed)

__all__ = ["grid", "once", "cached", "SweepError", "EXECUTOR_ENV", "DRY_RUN_ENV", "PROGRESS_ENV"]

DRY_RUN_ENV = "REPLICATE_DRY_RUN"
PROGRESS_ENV = "REPLICATE_PROGRESS"
NOT_IN_KEY = ("progress",)
SIZE_HINTS = ("n_traj", "t_relax", "t_avg", "tau_max", "t_max", "dt", "integrator", "seed")


class SweepError(RuntimeError):
    """A grid point failed. ``point`` names it; ``partial`` holds the finished points (NaN
    elsewhere, ``computed`` marks them)."""

    def __init__(self, message: str, point: dict, partial: xr.Dataset | None):
        super().__init__(message)
        self.point = point
        self.partial = partial


def grid(func: Callable[..., xr.Dataset], axes: dict[str, Sequence], *, progress: bool = True,
         desc: str = "sweep", only: Callable[..., bool] | None = None,
         workers: int | None = None) -> xr.Dataset:
    """``func(**point)`` for every point of the product of ``axes``, stacked on dims ``axes``.

    Parameters
    ----------
    func : returns an ``xarray.Dataset`` (the same variables, dims and shapes at every point).
    axes : ``{"L": [10, 20], "F": [1.0, 2.0]}``; dims appear in this order.
    progress : a tqdm bar over the points (in a terminal; in a notebook run by ``replicate`` it
        goes to the terminal of the command, never into the notebook).
    only : predicate on the point; points where it is False are NaN in the result and
        ``computed`` is False there (to compute part of a sweep, e.g. to fill a shared cache).
    workers : threads running points concurrently (default: numba's thread count); each runs
        its points with one numba thread. ``workers=1`` runs the points in turn, each with all
        of numba's threads. Ignored on Dask (the cluster has its workers).
    """
    if not axes:
        raise ValueError("axes must name at least one dimension")
    names = list(axes)
    values = {k: np.asarray(v) for k, v in axes.items()}
    for k, v in values.items():
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"axis {k!r} must be a non-empty 1-d sequence")
    shape = tuple(values[k].size for k in names)
    points = list(itertools.product(*(range(n) for n in shape)))
    todo: dict[tuple, dict[str, Any]] = {}
    for idx in points:
        point = {k: values[k][i].item() for k, i in zip(names, idx)}
        if only is None or only(**point):
            todo[idx] = point
    if not todo:
        raise ValueError("no point of the grid was selected")
    workers = numba.get_num_threads() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    executor = executor_spec()

    store = _Store.open(func, desc, {k: values[k].tolist() for k in names})
    store.record(todo.values())
    results: dict[tuple, xr.Dataset] = {}
    seconds: dict[tuple, float] = {}
    for idx, point in todo.items():
        hit = store.load(point)
        if hit is not None:
            results[idx], seconds[idx] = hit
    pending = [idx for idx in todo if idx not in results]

    def assemble() -> xr.Dataset:
        return _assemble(results, names, values, shape, points)

    plan_file = os.environ.get(DRY_RUN_ENV, "").strip()
    if plan_file:
        _dry_run(plan_file, func, todo, pending, results, seconds, store, desc, names, executor, workers)
        out = assemble()
        out.attrs["dry_run"] = 1
        return out

    with _progress_bar(len(todo), len(results), desc, progress) as bar:
        try:
            if executor == "threads":
                run_threads(func, todo, pending, results, store, bar, workers, desc)
            else:
                run_dask(executor, func, todo, pending, results, store, bar, desc)
        except PointFailed as failed:
            done = len(results)
            kept = (f"the {done} finished point(s) are in the cache {store.cache.root} and will "
                    "not be recomputed" if store.cache is not None else
                    f"the {done} finished point(s) are in SweepError.partial (set "
                    f"{_cache.ENV} or pass --cache to keep them across runs)")
            first = failed.exc
            raise SweepError(f"sweep {desc!r}: point {_fmt(failed.point)} failed with "
                             f"{type(first).__name__}: {first}; {kept}", failed.point,
                             assemble() if results else None) from first
    for ds in results.values():  # points computed on Dask workers noted nothing here
        provenance.note(ds.attrs)
    return assemble()


_DATAARRAY = "replicate_dataarray"


def once(func: Callable[..., xr.Dataset | xr.DataArray], /, *, desc: str,
         **kwargs: Any) -> xr.Dataset | xr.DataArray:
    """``func(**kwargs)``, cached like one sweep point: the long single runs of a chapter.

    With ``$REPLICATE_CACHE`` set the result is read from the cache when the same call (the
    function's fingerprint, every argument, :data:`replicate.cache.KERNEL_VERSION`) finished
    before, and written there when it finishes; without it this is ``func(**kwargs)``. The
    result must be a Dataset or a DataArray. ``desc`` names the call in ``replicate cache info``
    and in the chapter's manifest. An importable ``func`` with plain arguments (numbers, strings,
    dataclasses such as ``ChainParams``) is also written down so that ``replicate cache
    recompute`` can make the call again and compare bitwise.

    Arguments named in :data:`NOT_IN_KEY` (``progress``) do not change the result and are left
    out of the key.

    Under ``replicate run --dry-run`` an uncached call is listed in the plan with its sizes and
    then computed (its cost is what the cell timeout of the dry run sees).
    """
    key = {k: v for k, v in kwargs.items() if k not in NOT_IN_KEY}
    store = _Store.open(func, desc, {})
    try:
        store.record([key])
        hit = store.load(key)
    except _cache.Uncacheable as exc:
        warnings.warn(f"{desc!r} is not cached: {exc}", _cache.CacheWarning, 2)
        store, hit = _Store(None, None, desc), None
    if hit is not None:
        return _unwrap(hit[0])
    plan_file = os.environ.get(DRY_RUN_ENV, "").strip()
    if plan_file:
        _append_plan(plan_file, desc=desc, axes={}, points=1, cached=0, to_compute=1,
                     hints=_size_hints(func, kwargs), executor="this process", workers=1)
    start = time.perf_counter()
    out = func(**kwargs)
    seconds = time.perf_counter() - start
    if not isinstance(out, (xr.Dataset, xr.DataArray)):
        raise TypeError(f"once({desc!r}): the function must return an xarray Dataset or DataArray, "
                        f"got {type(out).__name__}")
    store.save(key, _wrap(out), seconds)
    return out


def cached(func: Callable[..., xr.Dataset | xr.DataArray], desc: str | None = None) -> Callable:
    """``func`` with every call going through :func:`once` (arguments bound to their names,
    defaults filled in):
    ``ness = cached(twa.ness)`` in a chapter, then ``ness(params, n_traj=1000, ...)`` as before.
    ``desc`` defaults to the function's name."""
    signature = inspect.signature(func)
    label = desc or getattr(func, "__name__", "call")

    if any(p.kind is p.POSITIONAL_ONLY for p in signature.parameters.values()):
        raise TypeError(f"cached({label}): positional-only parameters cannot be passed by name")

    @functools.wraps(func)
    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()  # one key however the call is spelled; a changed default recomputes
        named: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    raise TypeError(f"cached({label}): extra positional arguments cannot be "
                                    "cached by name")
            elif kind is inspect.Parameter.VAR_KEYWORD:
                named.update(value)  # **kwargs given by name are keyed by their names
            else:
                named[name] = value
        return once(func, desc=label, **named)

    return call


def _wrap(obj: xr.Dataset | xr.DataArray) -> xr.Dataset:
    if isinstance(obj, xr.Dataset):
        return obj
    ds = obj.to_dataset(name=_DATAARRAY)
    ds.attrs = {_DATAARRAY: "" if obj.name is None else str(obj.name)}
    return ds


def _unwrap(ds: xr.Dataset) -> xr.Dataset | xr.DataArray:
    if _DATAARRAY not in ds.attrs:
        return ds
    da = ds[_DATAARRAY]
    da.name = ds.attrs[_DATAARRAY] or None
    return da


# --------------------------------------------------------------------------- assembly

def _assemble(results, names, values, shape, points) -> xr.Dataset:
    template = next(iter(results.values()))
    data = {}
    for name, var in template.data_vars.items():
        arr = np.full(shape + var.shape, np.nan, dtype=np.result_type(var.dtype, np.float64))
        for idx, ds in results.items():
            arr[idx] = ds[name].values
        data[name] = (tuple(names) + var.dims, arr)
    coords = {k: values[k] for k in names}
    coords.update({k: v.values for k, v in template.coords.items() if k not in names})
    out = xr.Dataset(data, coords=coords, attrs=dict(template.attrs))
    out["computed"] = (tuple(names), np.array([i in results for i in points]).reshape(shape))
    return out


def _fmt(point: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


# --------------------------------------------------------------------------- cache glue

class _Store:
    """The cache as seen by one sweep (a no-op without ``$REPLICATE_CACHE``)."""

    def __init__(self, cache, key: str | None, desc: str, func=None):
        self.cache, self.key, self.desc, self.func = cache, key, desc, func
        self.lock = threading.Lock()

    @classmethod
    def open(cls, func, desc: str, axes: dict) -> "_Store":
        root = _cache.location()
        if root is None:
            return cls(None, None, desc)
        try:
            key, _ = _cache.sweep_key(func)
        except _cache.Uncacheable as exc:
            warnings.warn(f"sweep {desc!r} is not cached: {exc}", _cache.CacheWarning, 3)
            return cls(None, None, desc)
        cache = _cache.Cache(root)
        cache.register(key, {"function": _cache._name(func), "desc": desc, "axes": axes})
        return cls(cache, key, desc, func)

    def _pkey(self, point: dict) -> str:
        return _cache.point_key(self.key, point)

    def load(self, point: dict) -> tuple[xr.Dataset, float] | None:
        if self.cache is None:
            return None
        hit = self.cache.load(self.key, self._pkey(point), point)
        if hit is None:
            return None
        ds = hit[0]
        provenance.note(ds[_DATAARRAY].attrs if _DATAARRAY in ds.attrs else ds.attrs, stored=True)
        return ds, float(hit[1].get("seconds", np.nan))

    def save(self, point: dict, ds: xr.Dataset, seconds: float) -> None:
        if self.cache is not None:
            self.cache.store(self.key, self._pkey(point), point, ds, seconds=seconds, desc=self.desc,
                             call=_calls.describe(self.func, point))

    def record(self, points) -> None:
        """List this sweep's points in the chapter's manifest (``$REPLICATE_MANIFEST``)."""
        if self.cache is not None:
            _manifest.record(self.desc, self.key, [self._pkey(p) for p in points])


# --------------------------------------------------------------------------- progress

class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1) -> None:
        pass


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    try:
        return ipython is not None and "IPKernelApp" in ipython.get_ipython().config
    except Exception:
        return False


def _progress_bar(total: int, initial: int, desc: str, enabled: bool):
    """A tqdm bar over the points, where a person can see it:

    * ``$REPLICATE_PROGRESS=<file>`` (a chapter run by ``replicate``): written to that file,
      which the command copies to its terminal; ``off``: no bar. Never into the notebook.
    * in a Jupyter kernel otherwise: a widget if ipywidgets is installed, else text on stderr;
    * elsewhere: text on stderr when it is a terminal (silent in logs and tests).
    """
    from tqdm.std import tqdm

    if not enabled:
        return _NoBar()
    kw = dict(total=total, initial=initial, desc=desc, unit="point", smoothing=0.1)
    target = os.environ.get(PROGRESS_ENV, "").strip()
    if target.lower() in ("0", "off", "no", "false"):
        return _NoBar()
    if target:
        return _FileBar(target, kw)
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm as notebook_tqdm

            return notebook_tqdm(**kw)
        except ImportError:
            return tqdm(file=sys.stderr, **kw)
    return tqdm(file=sys.stderr, disable=None, **kw)


class _FileBar:
    def __init__(self, path: str, kw: dict):
        from tqdm.std import tqdm

        self.file = open(path, "a", buffering=1, encoding="utf-8")
        # disable=False: the kernels of `replicate` run with TQDM_DISABLE=1 (other bars would
        # land in the notebook); this one goes to the command's terminal
        self.bar = tqdm(file=self.file, mininterval=0.5, ncols=100, dynamic_ncols=False,
                        disable=False, **kw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
        self.file.close()
        return False

    def update(self, n: int = 1) -> None:
        self.bar.update(n)


# --------------------------------------------------------------------------- dry run

def _size_hints(func, point: dict) -> dict[str, Any]:
    """Names in :data:`SIZE_HINTS` found in the point's arguments or the function's closure
    (dicts and dataclasses one level down): what sets a TWA point's cost."""
    found: dict[str, Any] = {}

    def visit(obj, depth=0):
        if depth > 3:
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                hint = k in SIZE_HINTS or any(str(k).startswith(h + "_") for h in SIZE_HINTS[:5])
                if hint and isinstance(v, (int, float, str)) and not isinstance(v, bool) and k not in found:
                    found[k] = v
                elif isinstance(v, (dict, list, tuple)) or callable(v):
                    visit(v, depth + 1)
        elif hasattr(obj, "__dataclass_fields__"):
            visit({k: getattr(obj, k) for k in obj.__dataclass_fields__}, depth + 1)
        elif callable(obj) and hasattr(obj, "__code__") and not _cache._importable(obj):
            for name, cell in zip(obj.__code__.co_freevars, obj.__closure__ or ()):
                try:
                    visit({name: cell.cell_contents}, depth + 1)
                except ValueError:
                    pass
            glob = getattr(obj, "__globals__", {})  # a notebook's function reads its globals
            visit({k: glob[k] for k in sorted(_cache._global_names(obj.__code__)) if k in glob
                   and not k.startswith("__")}, depth + 1)

    visit(dict(point))
    visit(func)
    return found


def _trajectories(hints: dict, points: int) -> int | None:
    """Trajectories of the whole sweep: ``n_traj`` (or the one ``n_traj_*``) per point."""
    counts = [v for k, v in hints.items() if k == "n_traj"] or \
             [v for k, v in hints.items() if k.startswith("n_traj_")]
    return int(counts[0]) * points if len(counts) == 1 and isinstance(counts[0], int) else None


def _dry_run(plan_file, func, todo, pending, results, seconds, store, desc, names, executor, workers):
    """Time one point (or use cached timings), estimate the rest, append the plan as JSON."""
    cached = len(todo) - len(pending)
    scale = "L" if "L" in names and all(isinstance(p["L"], (int, float)) and p["L"] > 0
                                        for p in todo.values()) else None
    known = {idx: s for idx, s in seconds.items() if np.isfinite(s)}
    calibration = None
    if not known and pending:
        idx = min(pending, key=lambda i: todo[i]["L"]) if scale else pending[0]
        before = numba.get_num_threads()
        try:
            ds, secs = timed(func, todo[idx], True)  # as a worker runs it: one numba thread
        finally:
            numba.set_num_threads(before)
        store.save(todo[idx], ds, secs)
        results[idx], known[idx] = ds, secs
        pending = [i for i in pending if i != idx]
        calibration = {"point": todo[idx], "seconds": secs, "source": "measured on one numba "
                       "thread, including loading or compiling the numba kernels"}
    elif known:
        idx = next(iter(known))
        calibration = {"point": todo[idx], "seconds": known[idx], "source": "timing stored in the cache"}
    per_L = None
    if calibration is not None and scale:
        per_L = float(np.mean([known[i] / todo[i]["L"] for i in known]))
        cost = [per_L * todo[i]["L"] for i in pending]
    elif calibration is not None:
        cost = [float(np.mean(list(known.values())))] * len(pending)
    else:
        cost = []
    n_workers = executor_workers(executor, workers)
    wall = max(sum(cost) / n_workers, max(cost, default=0.0)) if cost else 0.0
    _append_plan(plan_file, desc=desc, axes={k: len({p[k] for p in todo.values()}) for k in names},
                 points=len(todo), cached=cached, to_compute=len(pending), calibration=calibration,
                 hints=_size_hints(func, next(iter(todo.values()))), executor=executor,
                 workers=n_workers, scaling="cost ∝ L" if scale else "every point costs the same",
                 worker_seconds=sum(cost), wall_seconds=wall,
                 load={"average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                       "cores": local_cores()})


def _append_plan(plan_file: str, *, desc: str, axes: dict, points: int, cached: int,
                 to_compute: int, hints: dict, executor: str, workers: int,
                 calibration: dict | None = None, **timing: Any) -> None:
    """One line of the dry-run plan (read by :mod:`replicate.pipeline.dryrun`): a sweep's or a
    single call's size, and for a sweep its calibration and estimated ``timing``."""
    plan = {"desc": desc, "axes": axes, "points": points, "cached": cached,
            "to_compute": to_compute, "calibration": calibration, "hints": hints,
            "executor": executor, "workers": workers,
            "trajectories": _trajectories(hints, points), **timing}
    with open(plan_file, "a", encoding="utf-8") as f:
        f.write(json.dumps(plan, default=str) + "\n")
