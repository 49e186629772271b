"""The results store around the sweeps: single cached calls (sweep.once), call descriptions that
can be rebuilt, chapter manifests (complete / partial / none) and bitwise recomputation."""
import numpy as np
import pytest
import xarray as xr

from replicate import cache as cache_mod, twa
from replicate.cache import calls, manifest
from replicate.cache.recompute import recompute
from replicate.chain import ChainParams
from replicate.sweep import cached, grid, once

CALLS: list = []


def _series(n, scale=1.0):
    """A DataArray result (module-level: importable, so its call can be written down)."""
    CALLS.append((n, scale))
    return xr.DataArray(scale * np.arange(n, dtype=np.complex64), dims="t", name="x",
                        coords={"t": np.arange(n)}, attrs={"scale": scale})


def _scaled(n, **options):
    """A function with **kwargs: the named extras are part of the key."""
    CALLS.append((n, options))
    return xr.Dataset({"s": ((), float(n) * options.get("scale", 1.0))})


def _point(a):
    CALLS.append(a)
    return xr.Dataset({"s": ((), float(a) ** 2)})


@pytest.fixture
def store(tmp_path, monkeypatch):
    CALLS.clear()
    root = tmp_path / "store"
    monkeypatch.setenv(cache_mod.ENV, str(root))
    return root


def test_once_without_a_cache_is_the_call(monkeypatch):
    monkeypatch.delenv(cache_mod.ENV, raising=False)
    CALLS.clear()
    a = once(_series, desc="s", n=4)
    b = once(_series, desc="s", n=4)
    assert CALLS == [(4, 1.0), (4, 1.0)] and a.identical(b)


def test_once_is_computed_once_and_keeps_dataarrays_exact(store):
    first = once(_series, desc="series", n=5, scale=2.0)
    again = once(_series, desc="series", n=5, scale=2.0)
    assert CALLS == [(5, 2.0)]
    assert isinstance(again, xr.DataArray) and again.identical(first) and again.dtype == np.complex64
    once(_series, desc="series", n=5, scale=3.0)  # another argument: another entry
    assert CALLS == [(5, 2.0), (5, 3.0)]
    with pytest.raises(TypeError, match="Dataset or DataArray"):
        once(lambda: 3, desc="bad")


def test_call_descriptions_round_trip_and_refuse_what_cannot_be_rebuilt():
    p = ChainParams(L=4, F=2.5, U=0.1)
    call = calls.describe(twa.ness, {"params": p, "n_traj": 8, "t_avg": 1.5, "dt": None, "sizes": (1, [2])})
    func, kw = calls.rebuild(call)
    assert func is twa.ness and kw == {"params": p, "n_traj": 8, "t_avg": 1.5, "dt": None, "sizes": (1, [2])}
    assert calls.describe(lambda: 0, {}) is None                      # a lambda
    call = calls.describe(twa.ness, {"beta": np.float64(0.5) * 3, "k": np.int32(3), "flag": np.bool_(True)})
    kw = calls.rebuild(call)[1]  # NumPy scalars keep their type (np.float64 is a float subclass)
    assert kw == {"beta": 1.5, "k": 3, "flag": True} and type(kw["beta"]) is np.float64 and type(kw["k"]) is np.int32
    arr = np.geomspace(0.01, 3.0, 7).reshape(7, 1)
    func, kw = calls.rebuild(calls.describe(twa.ness, {"x": arr, "s": np.float32(0.1)}))
    assert kw["x"].dtype == arr.dtype and kw["x"].tobytes() == arr.tobytes() and kw["s"].dtype == np.float32
    assert calls.describe(twa.ness, {"x": np.array([object()])}) is None  # an object array


def test_manifest_status_complete_partial_none(store, monkeypatch):
    assert manifest.status(store, "paper", "demo/fig") == ("none", 0, 0, 0)
    path = manifest.start(store, "paper", "demo/fig")
    assert path == manifest.manifest_path(store, "paper", "demo/fig")
    monkeypatch.setenv(manifest.ENV, str(path))
    grid(_point, {"a": [1, 2, 3]}, progress=False, workers=1, only=lambda a: a < 3)
    once(_series, desc="series", n=3)
    # the grid lists the points it computes (two of three); the manifest is not finished
    assert manifest.status(store, "paper", "demo/fig") == ("partial", 3, 3, 0)
    grid(_point, {"a": [1, 2, 3]}, progress=False, workers=1)
    assert manifest.status(store, "paper", "demo/fig") == ("partial", 4, 4, 0)  # not marked finished
    manifest.finish(path, 1.0)
    assert manifest.status(store, "paper", "demo/fig") == ("complete", 4, 4, 0)
    next(cache_mod.Cache(store).entries()).unlink()  # an entry lost: no longer complete
    assert manifest.status(store, "paper", "demo/fig")[0] == "partial"


def test_a_result_over_the_size_budget_is_noted_not_kept(store, monkeypatch):
    path = manifest.start(store, "paper", "demo/fig")
    (store / cache_mod.STORE_FILE).write_text('{"max_entry_bytes": 20000}')
    monkeypatch.setenv(manifest.ENV, str(path))
    small, big = once(_series, desc="series", n=3), once(_series, desc="series", n=3000)
    assert [c[0] for c in CALLS] == [3, 3000]
    once(_series, desc="series", n=3), once(_series, desc="series", n=3000)
    assert [c[0] for c in CALLS] == [3, 3000, 3000]  # the big one is recomputed every time
    assert big.size == 3000 and len(list(cache_mod.Cache(store).entries())) == 1
    manifest.finish(path, 1.0)
    assert manifest.status(store, "paper", "demo/fig") == ("complete", 1, 2, 1)
    (store / cache_mod.STORE_FILE).write_text('{"max_entry_bytes": -1}')
    with pytest.raises(ValueError, match="max_entry_bytes"):
        once(_series, desc="series", n=4)


def test_recompute_is_bitwise_and_catches_drift(store, monkeypatch):
    p = ChainParams(L=3, F=1.5)
    ref = once(twa.ness, desc="ness", params=p, n_traj=16, t_relax=1.0, t_avg=1.0, seed=3)
    once(_series, desc="series", n=3)
    once(lambda: xr.Dataset({"z": ((), 1.0)}), desc="closure")  # kept, but cannot be rebuilt
    results = recompute(cache_mod.Cache(store), sample=5)
    assert len(results) == 2 and all(r.equal for r in results), [r.detail for r in results]
    # an entry that no longer matches the code is reported, naming the variable
    c = cache_mod.Cache(store)
    path = next(r.path for r in results if r.desc == "ness")
    _, header = cache_mod.entries.decode(path.read_bytes())
    changed = ref.copy(deep=True)
    changed["n"].values[0] += 1e-6
    c.store(header["sweep"], header["point_key"], {"params": p, "n_traj": 16, "t_relax": 1.0, "t_avg": 1.0, "seed": 3},
            changed, seconds=0.0, call=header["call"])
    bad = [r for r in recompute(c, sample=5) if not r.equal]
    assert len(bad) == 1 and "'n' differs" in bad[0].detail
    # a few epsilons of the array's scale (another CPU's vector math) pass as rounding, not more
    for shift, status in ((3, "rounding"), (40, "different")):
        nudged = ref.copy(deep=True)
        scale = max(1.0, float(np.abs(nudged["n"].values).max()))
        nudged["n"].values[0] += shift * np.finfo(float).eps * scale
        c.store(header["sweep"], header["point_key"], {"params": p, "n_traj": 16, "t_relax": 1.0, "t_avg": 1.0, "seed": 3},
                nudged, seconds=0.0, call=header["call"])
        r = next(r for r in recompute(c, sample=5) if r.path == path)
        assert r.status == status and r.equal == (status == "rounding"), r.detail
    with pytest.raises(ValueError, match="sample"):
        recompute(c, sample=0)


def test_cached_binds_positional_arguments_to_names(store):
    series = cached(_series)
    a = series(4, 2.0)
    b = series(n=4, scale=2.0)
    assert CALLS == [(4, 2.0)] and a.identical(b)
    series(3)
    series(3, 1.0)  # the default spelled out: the same call
    assert CALLS == [(4, 2.0), (3, 1.0)]
    with pytest.raises(TypeError):
        series(4, 2.0, 3.0)


def test_cached_keys_named_extras_of_a_function_with_kwargs(store):
    scaled = cached(_scaled)
    assert float(scaled(2)["s"]) == 2.0 and float(scaled(2)["s"]) == 2.0  # no extras: cached
    assert float(scaled(2, scale=3.0)["s"]) == 6.0  # an extra changes the key
    scaled(n=2, scale=3.0)
    assert CALLS == [(2, {}), (2, {"scale": 3.0})]


def test_provenance_lists_the_runs_behind_a_figure(store):
    from replicate.pipeline import Ledger

    ledger = Ledger("demo", "paper")
    p = ChainParams(L=3, F=1.5)
    once(twa.ness, desc="ness", params=p, n_traj=16, t_relax=1.0, t_avg=1.0, seed=3)
    twa.ness(p, n_traj=40, t_relax=1.0, t_avg=1.0, dt=0.01, integrator="heun")
    line = ledger.provenance()
    assert line.startswith("paper profile · ") and "TWA heun dt = 0.01 (40 trajectories)" in line
    assert "TWA split dt = 0.005 (16 trajectories)" in line and "replicate " in line
    assert "from the store" not in line
    ledger = Ledger("demo", "paper")  # a new chapter: only what runs from here on
    once(twa.ness, desc="ness", params=p, n_traj=16, t_relax=1.0, t_avg=1.0, seed=3)
    line = ledger.provenance()
    assert "heun" not in line and "split dt = 0.005 (16 trajectories)" in line
    assert "1 result(s) from the store" in line


def test_once_with_an_argument_without_fingerprint_runs_uncached_with_a_warning(store):
    import threading

    with pytest.warns(cache_mod.CacheWarning, match="not cached"):
        out = once(_with_lock, desc="locked", lock=threading.Lock())
    assert float(out["y"]) == 1.0 and list(cache_mod.Cache(store).entries()) == []


def _with_lock(lock):
    with lock:
        return xr.Dataset({"y": ((), 1.0)})


def test_a_chunked_quench_is_one_run_in_the_caption(store):
    """rnw_state.quench pools chunks of trajectories: the caption counts the pooled run (40), not
    its chunks (16, 16, 8)."""
    from replicate.analysis import rnw_state
    from replicate.pipeline import Ledger

    ledger = Ledger("demo", "quick")
    times = np.arange(0.0, 4.0 + 1e-9, 1.0)
    rnw_state.quench(ChainParams(L=4, F=2.0), n_traj=40, chunk=16, times=times, windows={"w": (2.0, 4.0)},
                     centre=2)
    line = ledger.provenance()
    assert "(40 trajectories)" in line and "16" not in line.split("replicate")[0]


def test_recompute_samples_every_kind_of_entry_before_a_second_of_one(store):
    p = ChainParams(L=3, F=1.5)
    for n in (2, 3, 4):
        once(_series, desc="series", n=n)
    once(twa.ness, desc="ness", params=p, n_traj=16, t_relax=1.0, t_avg=1.0, seed=3)
    from replicate.cache.recompute import candidates

    order = [h["desc"] for _, _, h in candidates(cache_mod.Cache(store))]
    assert sorted(order[:2]) == ["ness", "series"] and order[2:] == ["series", "series"]
    assert {r.desc for r in recompute(cache_mod.Cache(store), sample=2)} == {"ness", "series"}
