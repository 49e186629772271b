"""Where the points of a :func:`replicate.sweep.grid` run: Python threads or Dask workers.

``$REPLICATE_EXECUTOR`` selects it (``threads``, ``dask:local``, ``dask:tcp://host:port``); see
:mod:`replicate.sweep` for what each does. Every point runs from its own arguments only, and a
worker runs its point with one numba thread.
"""
from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

import numba
import xarray as xr

EXECUTOR_ENV = "REPLICATE_EXECUTOR"


def timed(func, point: dict, single_thread: bool) -> tuple[xr.Dataset, float]:
    if single_thread:
        numba.set_num_threads(1)  # thread-local: this worker's kernels run serially
    start = time.perf_counter()
    ds = func(**point)
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"the point function must return an xarray.Dataset, got {type(ds).__name__}")
    return ds, time.perf_counter() - start


class PointFailed(Exception):
    def __init__(self, point: dict, exc: BaseException):
        self.point, self.exc = point, exc


# --------------------------------------------------------------------------- executors

def executor_spec() -> str:
    """``"threads"`` or ``"dask:<local | scheduler address>"`` from ``$REPLICATE_EXECUTOR``."""
    spec = os.environ.get(EXECUTOR_ENV, "").strip() or "threads"
    if spec == "threads" or (spec.startswith("dask:") and len(spec) > 5):
        return spec
    raise ValueError(f"{EXECUTOR_ENV}={spec!r}: expected 'threads', 'dask:local' or "
                     "'dask:tcp://host:port'")


def run_threads(func, todo, pending, results, store, bar, workers, desc) -> None:
    if workers == 1:
        for idx in pending:
            try:
                ds, secs = timed(func, todo[idx], False)
            except Exception as exc:
                raise PointFailed(todo[idx], exc) from exc
            store.save(todo[idx], ds, secs)
            results[idx] = ds
            bar.update()
        return

    def one(idx):
        ds, secs = timed(func, todo[idx], True)
        store.save(todo[idx], ds, secs)  # in the worker: a point finished after Ctrl-C is kept too
        return ds

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="replicate-sweep")
    futures = {pool.submit(one, idx): idx for idx in pending}
    failed = None
    try:
        left = set(futures)
        while left:
            done, left = wait(left, timeout=0.5, return_when=FIRST_EXCEPTION)
            for f in done:
                idx = futures[f]
                if f.exception() is not None:
                    if failed is None:
                        failed = (idx, f.exception())
                    continue
                results[idx] = f.result()
                bar.update()
            if failed is not None:
                for f in left:
                    f.cancel()  # not started: dropped; running ones finish and are kept
                done, _ = wait(left)
                for f in done:
                    if not f.cancelled() and f.exception() is None:
                        results[futures[f]] = f.result()
                        bar.update()
                break
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failed is not None:
        raise PointFailed(todo[failed[0]], failed[1]) from failed[1]


_CLIENTS: dict[str, Any] = {}


def dask_client(address: str):
    """A ``distributed.Client`` for ``"local"`` (a LocalCluster of single-threaded worker
    processes, one per core, kept for the life of this process) or a scheduler address."""
    try:
        import distributed
    except ImportError:
        raise RuntimeError("the Dask executor needs dask.distributed: pip install 'replicate[dask]'") from None
    if address in _CLIENTS and _CLIENTS[address].status == "running":
        return _CLIENTS[address]
    if address == "local":
        import logging

        # Ctrl-C reaches the whole process group: the worker processes start with SIGINT
        # ignored (an ignored signal stays ignored in the child), so only this process handles
        # it and closes the cluster, instead of every worker printing its own traceback
        ignore = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignore else None
        try:
            cluster = distributed.LocalCluster(
                n_workers=local_cores(), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
                env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")})
        finally:
            if ignore:
                signal.signal(signal.SIGINT, previous)
        client = distributed.Client(cluster)
    else:
        try:
            client = distributed.Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    _CLIENTS[address] = client
    return client


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@atexit.register
def close_clients() -> None:
    for client in list(_CLIENTS.values()):
        cluster = getattr(client, "cluster", None)
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        except Exception:
            pass
    _CLIENTS.clear()


def _remote_point(blob: bytes, point: dict):
    """On a worker: the point function arrives cloudpickled, so a function the worker cannot
    import (a notebook's, a test's) fails as this task, not as the worker's message loop."""
    import cloudpickle

    return timed(cloudpickle.loads(blob), point, True)


def run_dask(spec, func, todo, pending, results, store, bar, desc) -> None:
    from distributed import as_completed

    if not pending:
        return
    client = dask_client(spec[len("dask:"):])
    first, rest = pending[0], pending[1:]
    try:  # here, once: compiles the numba kernels / writes their cache before the workers start
        ds, secs = timed(func, todo[first], False)
    except Exception as exc:
        raise PointFailed(todo[first], exc) from exc
    store.save(todo[first], ds, secs)
    results[first] = ds
    bar.update()
    if not rest:
        return
    import cloudpickle

    blob = cloudpickle.dumps(func)
    futures = {client.submit(_remote_point, blob, todo[idx], pure=False): idx for idx in rest}
    failed = None
    try:
        for f in as_completed(list(futures)):
            idx = futures[f]
            if f.status == "error":
                if failed is None:
                    failed = (idx, f.exception())
                    client.cancel([g for g in futures if not g.done()])
                continue
            if f.status != "finished":
                continue
            ds, secs = f.result()
            store.save(todo[idx], ds, secs)
            results[idx] = ds
            bar.update()
    except BaseException:
        client.cancel(list(futures))
        raise
    if failed is not None:
        raise PointFailed(todo[failed[0]], failed[1]) from failed[1]


def executor_workers(spec: str, workers: int) -> int:
    """How many points run at once on ``spec`` (threads: ``workers``)."""
    if spec == "threads":
        return workers
    address = spec[len("dask:"):]
    if address == "local" and address not in _CLIENTS:
        return local_cores()
    try:
        return max(1, sum(dask_client(address).nthreads().values()))
    except Exception:
        return 1
