"""Every driver halves dt on divergence through the one helper, with_dt_halving."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.chain import ChainParams

# dt = 0.6 is unstable for Heun at ω ≈ Δ + 2J = 6.5: every trajectory blows up by t = 60
P = ChainParams(L=3, F=2.0)
RELAX = dict(n_traj=64, seed=1, dt=0.6, integrator="heun")

DRIVERS = {
    "ness": lambda **kw: twa.ness(P, t_relax=60.0, t_avg=6.0, sample_every=0.6, **kw),
    "evolve": lambda **kw: twa.evolve(P, times=[0.0, 30.0, 60.0], **kw),
    "otoc": lambda **kw: twa.otoc(P, t_relax=60.0, times=[0.0, 1.2], **kw),
    "otoc_eps_scan": lambda **kw: twa.otoc_eps_scan(P, [1e-3], t_relax=60.0, times=[0.0, 1.2], **kw),
    "autocorrelation": lambda **kw: twa.autocorrelation(P, sites=[1], n_lags=2, t_relax=60.0,
                                                        t_avg=6.0, sample_every=0.6, **kw),
    "site_samples": lambda **kw: twa.site_samples(P, [1, 3], t_relax=60.0, t_avg=6.0,
                                                  sample_every=0.6, **kw),
    "steady_point": lambda **kw: twa.steady_point(P, t_relax=60.0, t_avg=6.0, tau_max=1.2,
                                                  tau_step=0.6, window=1.2, **kw),
}


@pytest.mark.parametrize("name", DRIVERS)
def test_driver_halves_dt_on_divergence(name):
    run = DRIVERS[name]
    with pytest.raises(twa.TWADivergenceError, match="smaller dt"):
        run(max_halvings=0, **RELAX)
    out = run(max_halvings=3, **RELAX)
    assert out.attrs["dt"] < 0.6
    assert 0.6 / out.attrs["dt"] in (2.0, 4.0, 8.0)
    if isinstance(out, xr.DataArray):
        values = out.values
    else:
        values = np.concatenate([np.ravel(out[v].values) for v in out.data_vars if "err" not in v])
    assert np.all(np.isfinite(values))


@pytest.mark.parametrize("name", DRIVERS)
def test_negative_max_halvings_is_rejected(name):
    with pytest.raises(ValueError, match="max_halvings"):
        DRIVERS[name](max_halvings=-1, **RELAX)
