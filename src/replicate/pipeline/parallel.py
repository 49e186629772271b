"""Run several chapters at once, each in its own worker process.

A chapter's kernel spends much of its time in single-threaded Python (analysis, fits, plotting,
kernel start-up), so on a 2-core machine two chapters side by side with one numba thread each
finish sooner than one after the other with two threads. Results do not change: every kernel is
deterministic and independent of its thread count.

Workers are fresh (``spawn``) processes, so the process-wide state of a run — environment,
temporary folder, signal handlers of :func:`replicate.pipeline.execute.kernel_session` — is
never shared between two chapters running at the same time.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence

from ..executors import local_cores


def _single_threaded(threads: int) -> None:
    # inherited by the papermill kernels this worker starts
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)


def check_jobs(jobs: int) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    return jobs


def longest_first(costs: Sequence[float | None]) -> list[int]:
    """Indices of ``costs`` in the order to start them: the longest first (the greedy LPT
    schedule, whose last call to finish is rarely a long one started late); unknown costs
    (None) first of all, in their given order, since they may be long."""
    known = sorted((i for i, c in enumerate(costs) if c is not None), key=lambda i: -costs[i])
    return [i for i, c in enumerate(costs) if c is None] + known


def run_all(calls: Sequence[Callable[[], Any]], jobs: int = 1,
            done: Callable[[int, Any], None] | None = None,
            costs: Sequence[float | None] | None = None) -> list[Any]:
    """``[call() for call in calls]``, ``jobs`` at a time in worker processes.

    ``calls`` must be picklable (``functools.partial`` of module-level functions). ``done(i,
    result)`` is called in this process as each call finishes. The first call that raises stops
    the rest (running calls finish, queued ones are dropped) and its exception is re-raised.
    With ``jobs == 1`` the calls run here, in order. ``costs`` (expected seconds of each call,
    None where unknown) start the calls longest first (:func:`longest_first`); the results stay
    in call order.
    """
    check_jobs(jobs)
    if costs is not None and len(costs) != len(calls):
        raise ValueError(f"costs must have one entry per call ({len(calls)}), got {len(costs)}")
    results: list[Any] = [None] * len(calls)
    if jobs == 1 or len(calls) <= 1:
        for i, call in enumerate(calls):
            results[i] = call()
            if done:
                done(i, results[i])
        return results
    threads = max(1, local_cores() // jobs)
    with ProcessPoolExecutor(max_workers=min(jobs, len(calls)),
                             mp_context=multiprocessing.get_context("spawn"),
                             initializer=_single_threaded, initargs=(threads,)) as pool:
        order = longest_first(costs) if costs is not None else range(len(calls))
        futures = {pool.submit(calls[i]): i for i in order}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in sorted(finished, key=futures.get):
                if f.exception() is not None:
                    for g in pending:
                        g.cancel()
                    raise f.exception()
                results[futures[f]] = f.result()
                if done:
                    done(futures[f], results[futures[f]])
    return results
