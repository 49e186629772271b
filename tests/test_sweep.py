"""Parameter sweeps: stacking, slices, the on-disk cache (atomic, checksummed, resumable), the
executors (threads, Dask LocalCluster: the same bits), errors naming the point, progress, dry run,
and the (L, F) phase-diagram point."""
import json
import os
import signal
import sys

import numpy as np
import pytest
import xarray as xr

from replicate import cache as cache_mod, executors, sweep, twa
from replicate.chain import ChainParams
from replicate.sweep import SweepError, grid
from replicate.twa.phase import phase_diagram, steady_point

HERE_SIGINT = signal.getsignal(signal.SIGINT)  # this process's Ctrl-C handler before any cluster

AXES = {"a": [1, 2, 3], "b": [0.5, 1.0]}
CALLS: list = []
FAIL_AT: dict = {}


def _f(a, b):
    return xr.Dataset({"s": ((), a + 10 * b), "v": (("k",), np.array([a, b, a * b]))})


def _counted(a, b):
    """_f, recording each call; raises FAIL_AT[(a, b)] if set (module-level: identified by name,
    so CALLS and FAIL_AT are not part of the cache key)."""
    CALLS.append((a, b))
    if (a, b) in FAIL_AT:
        raise FAIL_AT[(a, b)]
    return _f(a, b)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    CALLS.clear()
    FAIL_AT.clear()
    monkeypatch.setenv(cache_mod.ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(sweep.EXECUTOR_ENV, raising=False)
    monkeypatch.delenv(sweep.DRY_RUN_ENV, raising=False)
    return tmp_path / "cache"


def test_grid_stacks_on_named_dims():
    ds = grid(_f, AXES, progress=False)
    assert ds["s"].dims == ("a", "b") and ds["v"].dims == ("a", "b", "k")
    assert float(ds["s"].sel(a=3, b=0.5)) == 8.0
    assert list(ds["v"].sel(a=2, b=1.0).values) == [2.0, 1.0, 2.0]
    assert bool(ds["computed"].all())


def test_only_computes_a_slice():
    whole = grid(_f, AXES, progress=False)
    left = grid(_f, AXES, progress=False, only=lambda a, b: a < 2)
    assert np.isnan(left["s"].sel(a=3, b=1.0)) and not bool(left["computed"].sel(a=3, b=1.0))
    assert float(left["s"].sel(a=1, b=1.0)) == float(whole["s"].sel(a=1, b=1.0))
    assert not hasattr(sweep, "merge")  # superseded by the cache: slices fill it, a full run reads it


def test_grid_rejects_empty_axes():
    with pytest.raises(ValueError, match="axis 'a'"):
        grid(_f, {"a": [], "b": [1]}, progress=False)


def test_bad_executor_is_an_error(monkeypatch):
    monkeypatch.setenv(sweep.EXECUTOR_ENV, "mpi")
    with pytest.raises(ValueError, match="REPLICATE_EXECUTOR"):
        grid(_f, AXES, progress=False)


# --------------------------------------------------------------------------- cache

def test_cache_never_recomputes_a_finished_point(cache_dir):
    first = grid(_counted, AXES, progress=False, workers=2)
    assert len(CALLS) == 6 and len(list(cache_mod.Cache(cache_dir).entries())) == 6
    again = grid(_counted, AXES, progress=False, workers=2)
    assert len(CALLS) == 6 and again.identical(first)
    more = grid(_counted, {"a": [1, 2, 3, 4], "b": [0.5, 1.0]}, progress=False)
    assert len(CALLS) == 8 and more.sel(a=[1, 2, 3]).drop_vars("computed").identical(first.drop_vars("computed"))


def test_interrupted_sweep_resumes(cache_dir):
    """Ctrl-C at the fourth point: three points are on disk; the rerun computes the other three."""
    FAIL_AT[(2, 1.0)] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        grid(_counted, AXES, progress=False, workers=1)
    assert len(CALLS) == 4 and len(list(cache_mod.Cache(cache_dir).entries())) == 3
    FAIL_AT.clear()
    CALLS.clear()
    resumed = grid(_counted, AXES, progress=False, workers=1)
    assert sorted(CALLS) == [(2, 1.0), (3, 0.5), (3, 1.0)]
    assert resumed.identical(grid(_f, AXES, progress=False))


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_point_is_named_and_finished_points_kept(cache_dir, workers):
    FAIL_AT[(2, 0.5)] = ValueError("no convergence")
    with pytest.raises(SweepError, match=r"point a=2, b=0\.5 failed with ValueError: no convergence") as err:
        grid(_counted, AXES, progress=False, workers=workers, desc="test sweep")
    assert "test sweep" in str(err.value) and str(cache_dir) in str(err.value)
    assert err.value.point == {"a": 2, "b": 0.5}
    assert isinstance(err.value.__cause__, ValueError)
    partial = err.value.partial
    assert bool(partial["computed"].sel(a=1, b=0.5)) and not bool(partial["computed"].sel(a=2, b=0.5))
    finished = int(partial["computed"].sum())
    assert len(list(cache_mod.Cache(cache_dir).entries())) == finished
    FAIL_AT.clear()
    CALLS.clear()
    grid(_counted, AXES, progress=False, workers=workers)
    assert len(CALLS) == 6 - finished and (2, 0.5) in CALLS


def test_failing_point_without_cache_keeps_partial(monkeypatch):
    monkeypatch.delenv(cache_mod.ENV, raising=False)
    FAIL_AT.clear()
    FAIL_AT[(3, 1.0)] = ValueError("boom")
    with pytest.raises(SweepError, match="SweepError.partial") as err:
        grid(_counted, AXES, progress=False, workers=1)
    FAIL_AT.clear()
    assert int(err.value.partial["computed"].sum()) == 5


def test_corrupt_or_truncated_entry_is_reported_and_recomputed(cache_dir):
    first = grid(_counted, AXES, progress=False)
    files = list(cache_mod.Cache(cache_dir).entries())
    truncated, flipped = files[0], files[1]
    truncated.write_bytes(truncated.read_bytes()[:100])
    data = bytearray(flipped.read_bytes())
    header_end = data.index(b"replicate_sha256")  # flip a byte of the stored numbers
    data[-9] ^= 0x40
    assert header_end < len(data) - 9
    flipped.write_bytes(bytes(data))
    good, bad = cache_mod.Cache(cache_dir).verify()
    assert good == 4 and {p for p, _ in bad} == {truncated, flipped}
    CALLS.clear()
    with pytest.warns(cache_mod.CacheWarning) as record:
        again = grid(_counted, AXES, progress=False, workers=1)
    messages = " ".join(str(w.message) for w in record)
    assert truncated.name in messages and flipped.name in messages
    assert len(CALLS) == 2 and again.identical(first)
    assert cache_mod.Cache(cache_dir).verify() == (6, [])


def test_entries_are_written_atomically(cache_dir, monkeypatch):
    """An entry appears only by rename of a complete temporary file: a failed write leaves no
    entry (the sweep goes on, with a warning); a writer killed mid-write leaves only a hidden
    temporary file, which is never read and which `cache verify --delete` removes."""
    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith(".nc"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.warns(cache_mod.CacheWarning, match="could not write cache entry"):
        ds = grid(_counted, AXES, progress=False, workers=1)
    monkeypatch.setattr(os, "replace", real_replace)
    assert bool(ds["computed"].all())
    c = cache_mod.Cache(cache_dir)
    assert list(c.entries()) == [] and c.leftovers() == []
    sweep_dir = next((cache_dir / cache_mod.FORMAT).iterdir())
    (sweep_dir / ".0123.nc.abcd.tmp").write_bytes(b"CDF\x02 half an entry")
    CALLS.clear()
    grid(_counted, AXES, progress=False, workers=1)
    assert len(CALLS) == 6 and len(c.leftovers()) == 1
    assert c.verify(delete=True) == (6, []) and c.leftovers() == []


def test_entry_round_trip_is_exact_and_checksummed():
    ds = xr.Dataset({"n": (("site",), np.array([1.0, np.nan, 3.0])),
                     "field": (("site",), np.array([1 + 2j, 3j, -1.0])),
                     "flag": ((), True), "big": (("site",), np.array([1, 2, 2**40])),
                     "label": ((), "abc")},
                    coords={"site": [1, 2, 3]},
                    attrs={"dt": 0.01, "L": 3, "drive": "boundary", "none": None, "ok": True,
                           "pair": (1, 2.5), "arr": np.array([1.5, 2.0])})
    ds["n"].attrs["units"] = "photons"
    data = cache_mod.encode(ds)
    back, _ = cache_mod.decode(data)
    assert back.identical(ds) and back["field"].dtype == np.complex128 and back.attrs["none"] is None
    for i in range(0, len(data), 3):  # every changed byte is caught or changes nothing
        bad = bytearray(data)
        bad[i] ^= 0x10
        try:
            got, _ = cache_mod.decode(bytes(bad))
        except cache_mod.CorruptEntry:
            continue
        assert got.identical(ds), i
    with pytest.raises(cache_mod.CorruptEntry):
        cache_mod.decode(data[: len(data) // 2])


def test_entries_need_no_netcdf4_or_h5netcdf(monkeypatch):
    """The scipy netCDF3 backend is enough (netCDF4 and h5netcdf are not dependencies)."""
    monkeypatch.setitem(sys.modules, "netCDF4", None)
    monkeypatch.setitem(sys.modules, "h5netcdf", None)
    ds = _f(1, 2.0)
    assert cache_mod.decode(cache_mod.encode(ds))[0].identical(ds)


def test_key_follows_settings_seed_and_kernel_version(monkeypatch):
    def make(n_traj, seed, dt=0.01, integrator="heun"):
        settings = dict(n_traj=n_traj, seed=seed, dt=dt, integrator=integrator)
        base = ChainParams(L=4, F=2.0)

        def one(L, F):
            return xr.Dataset({"x": ((), float(L + F + settings["seed"] + base.U))})
        return one

    key = lambda f: cache_mod.sweep_key(f)[0]  # noqa: E731
    k = key(make(8, 1))
    assert key(make(8, 1)) == k
    assert len({k, key(make(16, 1)), key(make(8, 2)), key(make(8, 1, dt=0.005)),
                key(make(8, 1, integrator="euler"))}) == 5
    monkeypatch.setattr(cache_mod, "KERNEL_VERSION", cache_mod.KERNEL_VERSION + "-bumped")
    assert key(make(8, 1)) != k
    lock = _LOCK
    with pytest.raises(cache_mod.Uncacheable, match="lock"):
        cache_mod.sweep_key(lambda L: (L, lock))


_LOCK = __import__("threading").Lock()


def test_uncacheable_function_runs_uncached_with_a_warning(cache_dir):
    lock = _LOCK

    def one(a, b):
        with lock:
            return _f(a, b)

    with pytest.warns(cache_mod.CacheWarning, match="not cached"):
        ds = grid(one, AXES, progress=False)
    assert bool(ds["computed"].all())


def test_cache_clear_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(ValueError, match="not a replicate cache"):
        cache_mod.Cache(tmp_path).clear()
    with pytest.raises(ValueError, match="not a replicate cache"):
        cache_mod.Cache(tmp_path).register("0" * 64, {})
    assert (tmp_path / "mine.txt").read_text() == "user data"


# --------------------------------------------------------------------------- executors

PD_KW = dict(n_traj=8, t_relax=1.0, t_avg=1.0, tau_max=1.0, window=1.0, seed=5, progress=False)


def _both(**env):
    return (grid(_f, AXES, progress=False, workers=env.get("workers", 1)),
            phase_diagram(ChainParams(L=3, F=1.0), [3, 4], [2.0, 7.0], workers=env.get("workers", 1), **PD_KW))


@pytest.fixture(scope="module")
def local_cluster():
    """One 2-worker LocalCluster (processes, one thread each) for the module."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tests are not importable by name
    client = executors.dask_client("local")
    yield client
    executors.close_clients()


def test_local_cluster_workers_leave_ctrl_c_to_the_command(local_cluster):
    """Ctrl-C goes to the whole process group: the workers ignore it (no traceback per worker);
    the command's process handles it and closes the cluster."""
    handlers = local_cluster.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
    assert handlers and all(handlers.values())
    assert signal.getsignal(signal.SIGINT) is HERE_SIGINT  # as before the cluster (a test run in
    # the background of a shell starts with SIGINT ignored already)


def test_serial_threads_and_local_cluster_give_the_same_bits(monkeypatch, local_cluster):
    monkeypatch.delenv(cache_mod.ENV, raising=False)
    monkeypatch.delenv(sweep.EXECUTOR_ENV, raising=False)
    serial = _both(workers=1)
    threads = _both(workers=2)
    monkeypatch.setenv(sweep.EXECUTOR_ENV, "dask:local")
    assert len(local_cluster.nthreads()) == min(2, executors.local_cores()) or executors.local_cores() > 2
    dask = _both()
    for s, t, d in zip(serial, threads, dask):
        assert s.identical(t) and s.identical(d)
    assert np.all(np.isfinite(serial[1]["n_L"].values))


def test_local_cluster_names_the_failing_point_and_fills_the_cache(monkeypatch, local_cluster, tmp_path):
    monkeypatch.setenv(sweep.EXECUTOR_ENV, "dask:local")
    monkeypatch.setenv(cache_mod.ENV, str(tmp_path / "cache"))
    FAIL_AT.clear()
    FAIL_AT[(3, 1.0)] = ValueError("bad point")  # travels with the pickled module
    with pytest.raises(SweepError, match=r"a=3, b=1\.0 failed with ValueError: bad point"):
        grid(_counted, AXES, progress=False)
    FAIL_AT.clear()
    kept = len(list(cache_mod.Cache(tmp_path / "cache").entries()))
    assert 1 <= kept <= 5
    ds = grid(_counted, AXES, progress=False)
    assert ds.identical(grid(_f, AXES, progress=False))


def test_killed_worker_loses_only_its_point(monkeypatch, local_cluster, tmp_path):
    """A worker process that dies mid-point: Dask reruns that point elsewhere; the finished points
    are kept and the grid is complete and unchanged."""
    monkeypatch.setenv(sweep.EXECUTOR_ENV, "dask:local")
    monkeypatch.setenv(cache_mod.ENV, str(tmp_path / "cache"))
    marker, here = str(tmp_path / "killed"), os.getpid()

    def one(a, b):
        if os.getpid() != here and (a, b) == (2, 1.0) and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies with this point in flight
        return _f(a, b)

    ds = grid(one, AXES, progress=False)
    assert os.path.exists(marker)
    assert len(list(cache_mod.Cache(tmp_path / "cache").entries())) == 6
    monkeypatch.delenv(cache_mod.ENV)
    assert ds.identical(grid(_f, AXES, progress=False))


# --------------------------------------------------------------------------- progress and dry run

def test_progress_goes_to_the_relay_file_not_the_notebook(monkeypatch, tmp_path, capsys):
    relay = tmp_path / "progress.txt"
    monkeypatch.setenv(sweep.PROGRESS_ENV, str(relay))
    monkeypatch.setenv("TQDM_DISABLE", "1")  # as in a kernel of `replicate run`: other bars off
    grid(_f, AXES, desc="relayed", workers=1)
    text = relay.read_text()
    assert "relayed" in text and "6/6" in text
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(sweep.PROGRESS_ENV, "off")
    grid(_f, AXES, desc="silent", workers=1)
    assert "silent" not in relay.read_text() and capsys.readouterr().err == ""


def test_sweep_does_not_use_tqdm_auto():
    """tqdm.auto in a kernel without ipywidgets prints 'IProgress not found' into the page."""
    source = open(sweep.__file__).read()
    assert "tqdm.auto" not in source and "tqdm.autonotebook" not in source


def test_dry_run_times_one_point_and_writes_the_plan(cache_dir, monkeypatch, tmp_path):
    plan = tmp_path / "plan.jsonl"
    monkeypatch.setenv(sweep.DRY_RUN_ENV, str(plan))

    def point(L, F):
        CALLS.append((L, F))
        return xr.Dataset({"x": ((), float(L * F))})

    settings = {"n_traj": 1000, "t_relax": 1000.0, "t_avg": 2000.0}

    def one(L, F):
        return point(L, F) if settings else None

    ds = grid(one, {"L": [10, 4, 20], "F": [1.0, 2.0]}, desc="plan me", workers=2)
    assert CALLS == [(4, 1.0)]  # the cheapest point only, as calibration
    assert ds.attrs["dry_run"] == 1 and int(ds["computed"].sum()) == 1
    (p,) = [json.loads(line) for line in plan.read_text().splitlines()]
    assert p["desc"] == "plan me" and p["points"] == 6 and p["to_compute"] == 5 and p["cached"] == 0
    assert p["hints"] == {"n_traj": 1000, "t_relax": 1000.0, "t_avg": 2000.0}
    assert p["trajectories"] == 6000 and p["scaling"] == "cost ∝ L" and p["workers"] == 2
    per_L = p["calibration"]["seconds"] / 4
    assert p["worker_seconds"] == pytest.approx(per_L * (10 + 4 + 20 + 10 + 20))
    # the calibration point went to the cache: the real run does not repeat it
    monkeypatch.delenv(sweep.DRY_RUN_ENV)
    CALLS.clear()
    grid(one, {"L": [10, 4, 20], "F": [1.0, 2.0]}, progress=False)
    assert len(CALLS) == 5 and (4, 1.0) not in CALLS


# --------------------------------------------------------------------------- the phase-diagram point

def test_steady_point_matches_separate_ness_and_otoc():
    """One relaxation serves both measurements: the NESS part equals twa.ness run through the
    kick time plus the window, the OTOC part equals twa.otoc kicked at t_relax."""
    p = ChainParams(L=4, F=5.0)
    kw = dict(n_traj=40, seed=3, dt=0.01)
    pt = steady_point(p, t_relax=2.0, t_avg=1.0, tau_max=2.0, tau_step=0.5, window=1.0, **kw)
    oc = twa.otoc_saturation(twa.otoc(p, t_relax=2.0, times=np.arange(0, 2.01, 0.5), **kw), 1.0)
    np.testing.assert_array_equal(pt["D_sat"].values, oc["D_sat"].values)
    ness = twa.ness(p, t_relax=2.0, t_avg=1.0, **kw)
    np.testing.assert_array_equal(pt["n"].values, ness["n"].values)


def test_steady_point_halves_dt_on_divergence():
    p = ChainParams(L=4, F=40.0, U=1.0)
    pt = steady_point(p, n_traj=8, t_relax=20.0, t_avg=1.0, tau_max=1.0, window=1.0, dt=0.2,
                      max_halvings=4, integrator="heun")
    assert pt.attrs["dt"] < 0.2 and np.all(np.isfinite(pt["n"].values))
    with pytest.raises(twa.TWADivergenceError):
        steady_point(p, n_traj=8, t_relax=20.0, t_avg=1.0, tau_max=1.0, window=1.0, dt=0.5,
                     max_halvings=0, integrator="heun")


def test_phase_diagram_regimes_at_l10():
    """The three regimes of Fig. 2 at L = 10 on three drives: quasilinear (F = 2), chaotic
    (F = 6), RNW (F = 12) — a smoke test of the physics with loose, error-bar-based checks."""
    ds = phase_diagram(ChainParams(L=10, F=1.0), [10], [2.0, 6.0, 12.0], n_traj=64, t_relax=150.0,
                       t_avg=100.0, tau_max=70.0, progress=False).isel(L=0)
    n, dn, D = ds["n_L"].values, ds["delta_n_L"].values, ds["D_last"].values
    dn_err, D_err = ds["delta_n_L_err"].values, ds["D_last_err"].values
    assert n[0] < 2 and n[1] > 5 and n[2] > 40
    assert dn[1] - 3 * dn_err[1] > 3            # super-Poissonian, chaotic
    assert dn[2] + 3 * dn_err[2] < 0            # sub-Poissonian, RNW
    assert D[1] - 3 * D_err[1] > 0.7 and D[0] < 1e-3 and D[2] < 1e-3
    assert ds["D_first"].values[1] < ds["D_last"].values[1]


def test_phase_diagram_independent_of_workers():
    kw = dict(n_traj=40, t_relax=3.0, t_avg=2.0, tau_max=3.0, window=1.0, seed=5, progress=False)
    one = phase_diagram(ChainParams(L=3, F=1.0), [3, 5], [2.0, 7.0], workers=1, **kw)
    two = phase_diagram(ChainParams(L=3, F=1.0), [3, 5], [2.0, 7.0], workers=2, **kw)
    assert one.identical(two)


def test_phase_diagram_is_cached_and_resumes(cache_dir):
    """The real point function (a closure over ChainParams and the settings) caches per point."""
    args = (ChainParams(L=3, F=1.0), [3, 4], [2.0, 7.0])
    first = phase_diagram(*args, workers=1, **PD_KW)
    entries = list(cache_mod.Cache(cache_dir).entries())
    assert len(entries) == 4
    entries[2].unlink()
    assert phase_diagram(*args, workers=1, **PD_KW).identical(first)
    assert len(list(cache_mod.Cache(cache_dir).entries())) == 4
    other = phase_diagram(*args, workers=1, **{**PD_KW, "seed": 6})
    assert len(list(cache_mod.Cache(cache_dir).entries())) == 8 and not other.identical(first)
