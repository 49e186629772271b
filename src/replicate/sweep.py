"""Parameter grids -> xarray Datasets.

:func:`grid` evaluates a function on the Cartesian product of named axes and stacks the
Datasets it returns along new dimensions named after the axes. Every point is computed from its
own arguments only (seeds included), so the result does not depend on the order of evaluation,
on the number of workers or on how the grid is split; :func:`grid` takes an optional ``only`` to
compute a slice, and :func:`merge` puts slices back together.

Workers are Python threads, each running its points with one numba thread (the TWA kernels
release the GIL), so a sweep of small points uses every core without nested parallelism.
"""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numba
import numpy as np
import xarray as xr
from tqdm.auto import tqdm


def grid(func: Callable[..., xr.Dataset], axes: dict[str, Sequence], *, progress: bool = True,
         desc: str = "sweep", only: Callable[..., bool] | None = None,
         workers: int | None = None) -> xr.Dataset:
    """``func(**point)`` for every point of the product of ``axes``, stacked on dims ``axes``.

    Parameters
    ----------
    func : returns an ``xarray.Dataset`` (the same variables, dims and shapes at every point).
    axes : ``{"L": [10, 20], "F": [1.0, 2.0]}``; dims appear in this order.
    progress : tqdm bar over the points.
    only : predicate on the point; points where it is False are NaN in the result (to split a
        sweep across machines; combine the pieces with :func:`merge`).
    workers : threads running points concurrently (default: numba's thread count); each runs
        its points with one numba thread. ``workers=1`` runs the points in turn, each with all
        of numba's threads.
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
    todo = {}
    for idx in points:
        point = {k: values[k][i].item() for k, i in zip(names, idx)}
        if only is None or only(**point):
            todo[idx] = point
    if not todo:
        raise ValueError("no point of the grid was selected")
    workers = numba.get_num_threads() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")

    def one(idx: tuple) -> tuple[tuple, xr.Dataset]:
        if workers > 1:
            numba.set_num_threads(1)  # thread-local: this worker's kernels run serially
        return idx, func(**todo[idx])

    with tqdm(total=len(todo), desc=desc, disable=not progress) as bar:
        if workers == 1:
            results = {}
            for idx in todo:
                results[idx] = one(idx)[1]
                bar.update()
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = {}
                for idx, ds in pool.map(one, todo):
                    results[idx] = ds
                    bar.update()
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


def merge(pieces: Sequence[xr.Dataset]) -> xr.Dataset:
    """Combine slices of one :func:`grid` computed with complementary ``only`` predicates."""
    if not pieces:
        raise ValueError("nothing to merge")
    out = pieces[0].copy(deep=True)
    for p in pieces[1:]:
        mask = p["computed"].values
        if np.any(mask & out["computed"].values):
            raise ValueError("the pieces overlap")
        for name in out.data_vars:
            if name == "computed":
                continue
            m = mask.reshape(mask.shape + (1,) * (out[name].ndim - mask.ndim))
            out[name].values[...] = np.where(m, p[name].values, out[name].values)
        out["computed"].values[...] = out["computed"].values | mask
    return out
