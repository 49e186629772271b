"""SI Fig. 19 profile statistics on synthetic batch means and on a small engine run."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import intrinsic
from replicate.chain import ChainParams


def _dataset(n_profile, phase_r, n_batches=8, noise=0.0, seed=0):
    """batch_means of m2 = n + ½, and cos/sin with |⟨e^{iφ}⟩| = phase_r, per batch."""
    rng = np.random.default_rng(seed)
    L = n_profile.size
    m2 = (n_profile + 0.5)[:, None] * (1 + noise * rng.standard_normal((L, n_batches)))
    cos = np.full((L, n_batches), phase_r) + noise * rng.standard_normal((L, n_batches))
    sin = np.zeros((L, n_batches))
    data = np.stack([m2, cos, sin])
    return xr.Dataset({"batch_means": (("moment", "site", "batch"), data),
                       "batch_count": (("batch",), np.full(n_batches, 16.0))},
                      coords={"moment": list(intrinsic.PROFILE_MOMENTS), "site": np.arange(1, L + 1)},
                      attrs={"classical": 0})


def test_flat_profile_with_a_phase():
    n = np.full(30, 50.0)
    n[-1] = 30.0                                 # the lossy end: a finite half-maximum length
    v, e = intrinsic.profile_statistics(_dataset(n, 0.9), edges=(5, 5))
    assert v["xi_n"] > 28
    assert v["n_mean"] == pytest.approx(50.0) and v["n_median"] == pytest.approx(50.0)
    assert v["relative_change"] == pytest.approx(0.0, abs=1e-12)
    assert v["V_bulk"] == pytest.approx(0.1)
    assert e["n_mean"] == pytest.approx(0.0, abs=1e-12)


def test_gradient_and_half_maximum_length():
    L = 41
    n = 40.0 - np.arange(L)                      # n_ℓ = 40 − (ℓ − 1): half maximum 20 at distance 20
    v, e = intrinsic.profile_statistics(_dataset(n, 0.0, noise=0.01), edges=(5, 5))
    assert v["xi_n"] == pytest.approx(20.0, abs=0.5)
    bulk = n[5:L - 5]
    assert v["relative_change"] == pytest.approx(-(bulk[0] - bulk[-1]) / bulk.mean(), rel=0.05)
    assert v["V_bulk"] == pytest.approx(1.0, abs=0.05)
    assert all(np.isfinite(list(e.values()))) and e["xi_n"] > 0


def test_rejects_too_few_bulk_sites():
    with pytest.raises(ValueError, match="bulk"):
        intrinsic.profile_statistics(_dataset(np.ones(8), 0.5), edges=(3, 3))


def test_intrinsic_loss_empties_a_short_chain():
    """Engine: a strong intrinsic loss removes the photons from the far end of the chain."""
    kw = dict(n_traj=32, t_relax=50.0, t_avg=20.0, seed=2, keep_batches=intrinsic.PROFILE_MOMENTS)
    v0, _ = intrinsic.profile_statistics(twa.ness(ChainParams(L=14, F=4.0), **kw), edges=(2, 2))
    v1, _ = intrinsic.profile_statistics(twa.ness(ChainParams(L=14, F=4.0, gamma_int=1.0), **kw), edges=(2, 2))
    assert v1["n_mean"] < 0.2 * v0["n_mean"]
    assert v1["relative_change"] < -0.5


def test_statistics_read_as_pairs_and_compare_two_runs():
    half = intrinsic.ProfileStatistics({"xi_n": 10.0, "n_median": 0.5}, {"xi_n": 1.0, "n_median": 0.1})
    full = intrinsic.ProfileStatistics({"xi_n": 20.0, "n_median": 4.0}, {"xi_n": 1.0, "n_median": 0.2})
    assert half["n_median"] == (0.5, 0.1)
    change, err = half.relative_to(full)                 # ξ_n halved: −50 %, errors 10 % and 5 %
    assert change == pytest.approx(-0.5) and err == pytest.approx(0.5 * np.hypot(0.1, 0.05))
    assert half.relative_to(full, "n_median")[0] == pytest.approx(-0.875)
    s = intrinsic.profile_statistics(_dataset(40.0 - np.arange(41), 0.0, noise=0.01), edges=(5, 5))
    value, error = s                                     # unpacks as (values, errors)
    assert s["xi_n"] == (value["xi_n"], error["xi_n"])
    assert s.relative_to(s) == pytest.approx((0.0, np.sqrt(2) * error["xi_n"] / value["xi_n"]))


def test_loss_run_keeps_the_wigner_histogram_of_one_site_only():
    """The reduced run equals twa.ness except that its Wigner histogram is that of one site."""
    p = ChainParams(L=6, F=2.0, gamma_int=0.1)
    kw = dict(n_traj=16, t_relax=10.0, t_avg=5.0, seed=3, keep_batches=intrinsic.PROFILE_MOMENTS,
              wigner_grid=(4.0, 12))
    full = twa.ness(p, **kw)
    one = intrinsic.loss_run(p, wigner_site=4, **kw)
    assert one.wigner.dims == ("re", "im") and one.attrs["wigner_site"] == 4
    np.testing.assert_array_equal(one.wigner.values, full.wigner.sel(site=4).values)
    xr.testing.assert_identical(one.drop_vars("wigner"), full.drop_vars("wigner").assign_attrs(wigner_site=4))
    for bad in (0, 7, 2.5):
        with pytest.raises(ValueError, match="wigner_site"):
            intrinsic.loss_run(p, wigner_site=bad, **kw)
