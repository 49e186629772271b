"""pipeline.parallel: chapters side by side in worker processes."""
import functools
import math
import os

import pytest

from replicate.pipeline.parallel import longest_first, run_all


def test_results_in_call_order_and_done_called_once_each():
    calls = [functools.partial(math.factorial, n) for n in (6, 1, 4, 3)]
    seen = []
    out = run_all(calls, 2, lambda i, r: seen.append((i, r)))
    assert out == [720, 1, 24, 6]
    assert sorted(seen) == [(0, 720), (1, 1), (2, 24), (3, 6)]
    assert run_all(calls, 1) == out
    assert run_all(calls, 2, costs=[1.0, None, 9.0, 3.0]) == out  # started in another order
    with pytest.raises(ValueError, match="costs"):
        run_all(calls, 2, costs=[1.0])


def test_longest_first_starts_unknown_then_long_calls():
    assert longest_first([5.0, None, 40.0, 12.0, None]) == [1, 4, 2, 3, 0]
    assert longest_first([]) == []


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


def test_last_seconds_reads_the_last_good_run_of_the_profile(tmp_path):
    import json

    from replicate.pipeline.execute import RUN_JSON, executed_dir, last_seconds

    assert last_seconds("ferrari/fig1", tmp_path) is None
    d = executed_dir("ferrari/fig1", tmp_path)
    d.mkdir(parents=True)
    (d / RUN_JSON).write_text(json.dumps({"status": "ok", "profile": "quick", "wall_seconds": 12.5}))
    assert last_seconds("ferrari/fig1", tmp_path) == 12.5
    assert last_seconds("ferrari/fig1", tmp_path, "paper") is None
    (d / RUN_JSON).write_text("{not json")
    assert last_seconds("ferrari/fig1", tmp_path) is None
