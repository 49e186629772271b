"""Parameter grids -> xarray Datasets.

:func:`grid` evaluates a function on the Cartesian product of named axes and stacks the
Datasets it returns along new dimensions named after the axes. Every point is computed from its
own arguments only (seeds included), so the result does not depend on the order of evaluation
or on how the grid is split; :func:`grid` takes an optional ``only`` to compute a slice, and
:func:`merge` puts slices back together.
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np
import xarray as xr
from tqdm.auto import tqdm


def grid(func: Callable[..., xr.Dataset], axes: dict[str, Sequence], *, progress: bool = True,
         desc: str = "sweep", only: Callable[..., bool] | None = None) -> xr.Dataset:
    """``func(**point)`` for every point of the product of ``axes``, stacked on dims ``axes``.

    Parameters
    ----------
    func : returns an ``xarray.Dataset`` (the same variables, dims and shapes at every point).
    axes : ``{"L": [10, 20], "F": [1.0, 2.0]}``; dims appear in this order.
    progress : tqdm bar over the points.
    only : predicate on the point; points where it is False are NaN in the result (to split a
        sweep across workers; combine the pieces with :func:`merge`).
    """
    if not axes:
        raise ValueError("axes must name at least one dimension")
    names = list(axes)
    values = {k: np.asarray(v) for k, v in axes.items()}
    for k, v in values.items():
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"axis {k!r} must be a non-empty 1-d sequence")
    shape = tuple(values[k].size for k in names)
    results: dict[tuple, xr.Dataset] = {}
    points = list(itertools.product(*(range(n) for n in shape)))
    for idx in tqdm(points, desc=desc, disable=not progress):
        point = {k: values[k][i].item() for k, i in zip(names, idx)}
        if only is None or only(**point):
            results[idx] = func(**point)
    if not results:
        raise ValueError("no point of the grid was selected")
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
