"""The time-step error of twa.ness (``step_error_traj``): halving on the same Brownian paths."""
import warnings

import numpy as np
import pytest

from replicate import twa
from replicate.chain import ChainParams

P = ChainParams(L=4, F=3.0)
KW = dict(n_traj=512, t_relax=10.0, t_avg=20.0, sample_every=0.5, seed=1, step_error_traj=512)


def _bias(dt, integrator="split"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return twa.ness(P, dt=dt, integrator=integrator, **KW)


def test_split_step_error_shrinks_fourfold_per_halving():
    """Weak order 2: the Richardson bias estimate falls ~4× per halving of dt (the site with the
    largest bias; its own error is < 1/5 of it at these steps)."""
    b = [_bias(dt) for dt in (0.1, 0.05, 0.025)]
    site = int(np.argmax(np.abs(b[0]["n_step_bias"].values)))
    n = [abs(x["n_step_bias"].values[site]) for x in b]
    assert all(x["n_step_bias_err"].values[site] < 0.3 * v for x, v in zip(b[:2], n[:2])), n
    assert 2.5 < n[0] / n[1] < 6.0, n
    assert 2.0 < n[1] / n[2] < 8.0, n
    for name in ("n", "delta_n", "field_re", "x2"):
        for suffix in ("_step_bias", "_step_bias_err", "_step_err"):
            assert np.all(np.isfinite(b[1][name + suffix].values)), name + suffix
    assert b[1].attrs["step_error_traj"] == 512 and b[1].attrs["step_error_order"] == 2
    # the estimate predicts the (independent) run at dt/2: X(dt/2) ≈ X(dt) − (3/4) bias(dt)
    pred = b[0]["n"].values - 0.75 * b[0]["n_step_bias"].values
    tol = 4 * np.hypot(b[0]["n_err"].values, b[1]["n_err"].values)
    assert np.all(np.abs(pred - b[1]["n"].values) < tol)


def test_warning_names_a_smaller_dt():
    match = r"exceeds the sampling error at dt=0.1 \(split\); use dt <= "
    with pytest.warns(UserWarning, match=match):
        twa.ness(P, dt=0.1, integrator="split", **KW)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ds = twa.ness(P, dt=0.025, integrator="split", **KW)
    assert np.all(ds["n_step_err"].values < ds["n_err"].values)


def test_heun_step_error_and_main_result_unchanged():
    """Heun halves on the same paths through its summed increments; the main result is the
    run without the option, bit for bit (the subset runs are separate simulations)."""
    kw = dict(n_traj=128, t_relax=2.0, t_avg=2.0, sample_every=0.5, seed=3, dt=0.02)
    plain = twa.ness(P, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = twa.ness(P, step_error_traj=64, **kw)
    for name in plain.data_vars:
        assert np.array_equal(plain[name].values, ds[name].values), name
    assert ds.attrs["step_error_traj"] == 64
    assert np.all(np.abs(ds["n_step_bias"].values) < 5 * ds["n_step_bias_err"].values + 0.02)
