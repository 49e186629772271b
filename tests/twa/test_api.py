"""Argument checks, dataset layout and divergence detection."""
import numpy as np
import pytest

import replicate
from replicate import twa
from replicate.chain import ChainParams

P = ChainParams(L=3, F=1.0)


@pytest.mark.parametrize("kw, name", [
    ({"n_traj": 0}, "n_traj"), ({"dt": -0.1}, "dt"), ({"t_avg": 0.0}, "t_avg"),
    ({"t_relax": -1.0}, "t_relax"), ({"integrator": "rk4"}, "integrator"), ({"seed": -1}, "seed"),
    ({"g1_centre": 4}, "g1_centre"), ({"wigner_grid": (0.0, 10)}, "wigner_grid"),
    ({"sample_every": 0.013}, "sample_every"), ({"alpha0": [1, 2]}, "alpha0"),
    ({"t_avg": 0.0123}, "t_avg")])
def test_ness_validation(kw, name):
    args = dict(n_traj=4, t_relax=0.1, t_avg=0.2)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        twa.ness(P, **args)


def test_other_validation():
    with pytest.raises(ValueError, match="times"):
        twa.evolve(P, n_traj=2, times=[1.0, 0.5])
    with pytest.raises(ValueError, match="keep_trajectories"):
        twa.evolve(P, n_traj=2, times=[0.0], keep_trajectories=-1)
    with pytest.raises(ValueError, match="site"):
        twa.otoc(P, site=5, n_traj=2, t_relax=0.0, times=[0.0])
    with pytest.raises(ValueError, match="eps"):
        twa.otoc(P, eps=np.nan, n_traj=2, t_relax=0.0, times=[0.0])
    with pytest.raises(ValueError, match="params"):
        twa.ness({"L": 3}, n_traj=2, t_relax=0.0, t_avg=1.0)


def test_dataset_layout():
    ds = twa.ness(P, n_traj=10, t_relax=0.5, t_avg=1.0, g1_centre=2, wigner_grid=(3.0, 6))
    for v in ("n", "delta_n", "circular_variance", "mean_phase", "field_re", "field_im", "x2", "p2", "g1"):
        assert ds[v].dims == ("site",) and ds[v + "_err"].dims == ("site",)
    assert list(ds["site"].values) == [1, 2, 3]
    assert ds["wigner"].dims == ("site", "re", "im")
    area = (ds["re"].values[1] - ds["re"].values[0]) ** 2
    assert np.all(ds["wigner"].sum(("re", "im")).values * area <= 1 + 1e-12)
    assert ds.attrs["version"] == replicate.__version__
    assert ds.attrs["seed"] == 0 and ds.attrs["integrator"] == "split" and ds.attrs["L"] == 3
    assert ds.attrs["dt"] == twa.DEFAULT_DT == 0.005
    ev = twa.evolve(P, n_traj=10, times=[0.0, 0.5], keep_trajectories=2)
    assert ev["n"].dims == ("time", "site") and ev["alpha_abs2"].shape == (2, 3, 2)
    assert np.all(ev["alpha_abs2"].values >= 0)


def test_classical_ensemble_from_vacuum_samples_has_spread():
    """classical=True alone: identical trajectories (zero spread); with initial_noise they differ."""
    p = ChainParams(L=3, F=1.0)
    same = twa.ness(p, n_traj=64, t_relax=1.0, t_avg=1.0, classical=True)
    spread = twa.ness(p, n_traj=64, t_relax=1.0, t_avg=1.0, classical=True, initial_noise=True)
    assert np.all(same["n_err"].values == 0.0)
    assert np.all(spread["n_err"].values > 0.0)
    assert spread.attrs["initial_noise"] == 1 and same.attrs["initial_noise"] == 0


def test_divergence_raises_clear_error():
    p = ChainParams(L=4, F=50.0, U=1.0)
    with pytest.raises(twa.TWADivergenceError, match="smaller dt"):
        twa.ness(p, n_traj=8, t_relax=50.0, t_avg=1.0, dt=0.5, integrator="heun")


def test_ness_halves_dt_on_divergence():
    """dt = 0.6 is unstable for ω ≈ Δ + 2J = 6.5 (Heun); halvings reach a stable step."""
    p = ChainParams(L=3, F=2.0)
    kw = dict(n_traj=64, t_relax=60.0, t_avg=6.0, seed=1, sample_every=0.6)
    kw["integrator"] = "heun"
    ds = twa.ness(p, dt=0.6, max_halvings=3, **kw)
    assert ds.attrs["dt"] < 0.6 and np.all(np.isfinite(ds["n"].values))
    with pytest.raises(twa.TWADivergenceError):
        twa.ness(p, dt=0.6, **kw)
    with pytest.raises(ValueError, match="max_halvings"):
        twa.ness(p, dt=0.6, max_halvings=-1, **kw)


def test_keep_batches_reproduces_the_errors():
    """jackknife_dataset on the batch means returns ness's own values and errors."""
    from replicate.stats import jackknife_dataset
    from replicate.twa.observables import delta_n, n_photons

    ds = twa.ness(ChainParams(L=4, F=3.0), n_traj=96, t_relax=2.0, t_avg=2.0, keep_batches=True)
    val, err = jackknife_dataset(ds, lambda m: {"n": n_photons(m["m2"]), "dn": delta_n(m["m2"], m["m4"])})
    np.testing.assert_allclose(val["n"], ds["n"].values, rtol=1e-12)
    np.testing.assert_allclose(err["dn"], ds["delta_n_err"].values, rtol=1e-10)
    assert "batch_means" not in twa.ness(ChainParams(L=4, F=3.0), n_traj=8, t_relax=0.5, t_avg=0.5)
