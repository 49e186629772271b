"""pipeline.parallel: chapters side by side in worker processes."""
import functools
import math
import os

import pytest

from replicate.pipeline.parallel import run_all


def test_results_in_call_order_and_done_called_once_each():
    calls = [functools.partial(math.factorial, n) for n in (6, 1, 4, 3)]
    seen = []
    out = run_all(calls, 2, lambda i, r: seen.append((i, r)))
    assert out == [720, 1, 24, 6]
    assert sorted(seen) == [(0, 720), (1, 1), (2, 24), (3, 6)]
    assert run_all(calls, 1) == out


def test_workers_run_with_cores_over_jobs_numba_threads(monkeypatch):
    monkeypatch.setattr("replicate.pipeline.parallel.local_cores", lambda: 4)
    out = run_all([functools.partial(os.getenv, "NUMBA_NUM_THREADS")] * 2, 2)
    assert out == ["2", "2"]


def test_the_first_failure_is_raised():
    calls = [functools.partial(int, "7"), functools.partial(int, "not a number")]
    with pytest.raises(ValueError, match="not a number"):
        run_all(calls, 2)


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_bad_jobs_is_a_value_error(jobs):
    with pytest.raises(ValueError, match="jobs"):
        run_all([], jobs)
