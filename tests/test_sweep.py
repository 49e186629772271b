"""Parameter sweeps: stacking, splitting across workers, and the (L, F) phase-diagram point."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.chain import ChainParams
from replicate.sweep import grid, merge
from replicate.twa.phase import phase_diagram, steady_point


def _f(a, b):
    return xr.Dataset({"s": ((), a + 10 * b), "v": (("k",), np.array([a, b, a * b]))})


def test_grid_stacks_on_named_dims():
    ds = grid(_f, {"a": [1, 2, 3], "b": [0.5, 1.0]}, progress=False)
    assert ds["s"].dims == ("a", "b") and ds["v"].dims == ("a", "b", "k")
    assert float(ds["s"].sel(a=3, b=0.5)) == 8.0
    assert list(ds["v"].sel(a=2, b=1.0).values) == [2.0, 1.0, 2.0]
    assert bool(ds["computed"].all())


def test_split_sweep_equals_whole():
    axes = {"a": [1, 2, 3], "b": [0.5, 1.0]}
    whole = grid(_f, axes, progress=False)
    left = grid(_f, axes, progress=False, only=lambda a, b: a < 2)
    right = grid(_f, axes, progress=False, only=lambda a, b: a >= 2)
    assert np.isnan(left["s"].sel(a=3, b=1.0))
    assert merge([right, left]).identical(whole)
    with pytest.raises(ValueError, match="overlap"):
        merge([whole, left])


def test_grid_rejects_empty_axes():
    with pytest.raises(ValueError, match="axis 'a'"):
        grid(_f, {"a": [], "b": [1]}, progress=False)


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
                      max_halvings=4)
    assert pt.attrs["dt"] < 0.2 and np.all(np.isfinite(pt["n"].values))
    with pytest.raises(twa.TWADivergenceError):
        steady_point(p, n_traj=8, t_relax=20.0, t_avg=1.0, tau_max=1.0, window=1.0, dt=0.5,
                     max_halvings=0)


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
