"""The runs and claims of SI Figs. 15/17 (replicate.analysis.fit_quality): which steady states and
samples are made with which settings, the engine check on them, and what reaches the ledger."""
import numpy as np
import pytest
from fake_ledger import FakeLedger

from replicate.analysis import annuli, fit_quality, thermo
from replicate.chain import ChainParams

L = 8
RUN = dict(n_traj=40, t_relax=60.0, t_avg=20.0, sample_every=0.5, max_halvings=2, seed=3)
SETTINGS = dict(L=L, F_low=5.0, F_intermediate=8.0, U=0.1, energy_scale=2.5, u_grid=(400.0, 300), fit_bins=20,
                site_stride=2, n_near=4, n_angles=6, run=RUN)


def chain(F):
    return ChainParams(L=L, F=F, Delta=2.5, J=2.0, U=0.1, gamma=1.0)


@pytest.fixture(scope="module")
def made():
    calls = []

    def steady_state(params, **kw):
        calls.append(("steady", params.F, kw))
        return annuli.steady_state(params, **kw)

    def sample_histograms(params, sites, **kw):
        calls.append(("samples", params.F, dict(kw, sites=sites)))
        return thermo.sample_histograms(params, sites, **kw)

    return fit_quality.study(chain, **SETTINGS, steady_state=steady_state, sample_histograms=sample_histograms), calls


def test_the_steady_states_are_fig4s_and_the_samples_their_trajectories(made):
    s, calls = made
    (k1, F1, kw1), (k2, F2, kw2), (k3, F3, kw3) = calls
    assert (k1, F1, k2, F2, k3, F3) == ("steady", 5.0, "steady", 8.0, "samples", 8.0)
    assert kw1 == kw2 == dict(u_grid=(400.0, 300), bins=20, **RUN)  # the arguments of Fig. 4's steady_state call
    assert kw3["sites"] == [1, 2, 3, 4, 7] == list(s.polar_sites) and kw3["dt"] == s.steady["inter"].attrs["dt"]
    assert all(kw3[k] == v for k, v in RUN.items()) and kw3["wigner_sites"] == s.show15 == (2, 2, 7)
    assert s.fine == (1, 2, 3, 4, 7) and s.mismatch == 0   # the engine histograms the very samples it returns
    assert list(s.prof["low"]["site"].values) == [4, 6] and list(s.prof["inter"]["site"].values) == [1, 2, 3, 4, 5, 7, 8]
    assert s.summary().startswith("engine vs sample histograms at ℓ = [1, 2, 3, 4, 7]: 0 counts differ")


def test_record_checks_every_declared_claim_with_a_control(made):
    s, _ = made
    ledger = FakeLedger()
    fit_quality.record(ledger, s, V_sym=0.9, n_resamples=50, seed=1)
    claims = {"near-drive-fails", "bulk-works", "tail-works", "engine-histograms", "gaussian-low",
              "gaussian-fails-int", "gibbs-int"}
    assert set(ledger.checks) == claims
    assert all(ledger.checks[k][2] is not None for k in claims - {"engine-histograms"})
    assert ledger.checks["engine-histograms"] == (0, None, None)
    assert {"polar-1-gibbs", "median-scully_lamb", "mu_over_T-low-4", "gauss-inter-3"} <= set(ledger.values)
    measured = [v for v, e, _ in ledger.checks.values()] + [v for v, _ in ledger.values.values()]
    assert np.all(np.isfinite(np.asarray(measured, float)))


@pytest.mark.parametrize("change, match", [(dict(n_near=9), "n_near"), (dict(site_stride=0), "site_stride"),
                                           (dict(L=5), "L must be >= 6")])
def test_bad_settings_are_refused_before_any_run(change, match):
    def never(*a, **k):
        raise AssertionError("ran")

    with pytest.raises(ValueError, match=match):
        fit_quality.study(chain, **{**SETTINGS, **change}, steady_state=never, sample_histograms=never)
