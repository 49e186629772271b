"""evolve: per-trajectory series at chosen sites, window means, chunked errors."""
import importlib

import numpy as np
import pytest

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa.engine import Simulation

evolve_module = importlib.import_module("replicate.twa.evolve")  # twa.evolve is the function
P = ChainParams(L=4, F=3.0)
TIMES = np.arange(0.0, 3.01, 0.25)


def test_keep_sites_are_the_trajectories_and_window_means_their_time_averages():
    ds = twa.evolve(P, n_traj=70, times=TIMES, seed=4, keep_sites=[1, 4], window_means=1.0, integrator="heun",
                    keep_trajectories=70)
    assert ds["alpha"].dims == ("time", "kept_site", "traj") and ds["alpha"].shape == (13, 2, 70)
    sim = Simulation(P, n_traj=70, dt=None, seed=4, classical=False, integrator="heun")
    sim.run(round(2.0 / sim.dt))
    np.testing.assert_array_equal(ds["alpha"].sel(time=2.0).values, sim.alpha()[[0, 3]])
    np.testing.assert_allclose(np.abs(ds["alpha"].values) ** 2,
                               ds["alpha_abs2"].sel(site=[1, 4]).values, rtol=1e-13)
    late = ds["alpha_abs2"].sel(time=slice(1.0, None))
    np.testing.assert_allclose(ds["window_moments"].sel(moment="m2").values,
                               late.mean("time").values, rtol=1e-13)
    np.testing.assert_allclose(ds["window_n"].values, late.mean("time").values - 0.5, rtol=1e-12)
    field = ds["alpha"].sel(time=slice(1.0, None)).mean("time").values
    np.testing.assert_allclose(ds["window_moments"].sel(moment="re", site=[1, 4]).values,
                               field.real, rtol=1e-12, atol=1e-14)
    assert ds["window_n"].dims == ("site", "traj")
    assert ds.attrs["window_start"] == 1.0 and ds.attrs["window_samples"] == 9
    # the ensemble means are those of the trajectories
    np.testing.assert_allclose(ds["window_n"].mean("traj").values,
                               ds["n"].sel(time=slice(1.0, None)).mean("time").values, rtol=1e-12)


def test_classical_window_n_has_no_vacuum_offset():
    ds = twa.evolve(P, n_traj=8, times=[0.0, 1.0], classical=True, initial_noise=True,
                    window_means=0.0)
    np.testing.assert_allclose(ds["window_n"].values,
                               ds["window_moments"].sel(moment="m2").values)


def test_chunked_errors_equal_one_chunk(monkeypatch):
    kw = dict(n_traj=100, times=TIMES, seed=2)
    whole = twa.evolve(P, **kw)
    monkeypatch.setattr(evolve_module, "JACKKNIFE_CHUNK", 3 * P.L * 32)  # 3 times per chunk
    assert whole.identical(twa.evolve(P, **kw))
    monkeypatch.setattr(evolve_module, "JACKKNIFE_CHUNK", 1)
    assert whole.identical(twa.evolve(P, **kw))


@pytest.mark.parametrize("kw, name", [
    ({"keep_sites": [0]}, "keep_sites"), ({"keep_sites": [5]}, "keep_sites"),
    ({"keep_sites": []}, "keep_sites"), ({"window_means": 4.0}, "window_means"),
    ({"window_means": np.nan}, "window_means"),
    ({"keep_sites": [1], "keep_trajectories": 2}, "keep_trajectories")])
def test_evolve_validation(kw, name):
    with pytest.raises(ValueError, match=name):
        twa.evolve(P, n_traj=10, times=TIMES, **kw)
