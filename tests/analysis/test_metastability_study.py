"""The runs and claims of Fig. 7 (replicate.analysis.metastability_study): which quenches are made
with which seeds, which stop early, and what reaches the ledger."""
import pytest
from fake_ledger import FakeLedger

from replicate.analysis import metastability, metastability_study
from replicate.chain import ChainParams


def chain(L, F):
    return ChainParams(L=L, F=F, Delta=2.5, J=2.0, U=0.1, gamma=1.0)


# short chains above and below L* ≈ 18 at F = 120 (RNW, coexistence, chaos), ~4 s in all
SETTINGS = dict(F_values=(120.0, 150.0), L_grids=((12, 18, 28), (12, 16)), L_hist=(12, 18, 28), F_ref=12.0,
                t_ref=200.0, n_traj=24, t_final=400.0, window=50.0, hold=50.0, tolerance=0.1, smooth=10.0,
                sample_every=2.0, seed=7)


@pytest.fixture(scope="module")
def made():
    calls = []

    def quench(params, **kw):
        calls.append((params.L, params.F, kw))
        return metastability.quench(params, **kw)

    return metastability_study.study(chain, **SETTINGS, quench=quench), calls


def test_every_quench_once_with_its_seed_and_only_onset_runs_stop_early(made):
    s, calls = made
    seen = {(L, F, kw.get("classical", False)): kw for L, F, kw in calls}
    assert len(seen) == len(calls) == 3 + 5 + 3  # classical at L_hist, TWA grid, control grid
    assert seen[12, 120.0, True]["plateau"] == "self" and seen[12, 120.0, True]["seed"] == 7 + 50 + 12
    assert all(seen[L, 120.0, True]["plateau"] == s.plateau for L in (18, 28))
    assert [seen[L, 150.0, False]["seed"] for L in (12, 16)] == [7, 8]  # seed + index in the grid
    assert not any(seen[L, 120.0, False]["early_stop"] for L in (12, 18, 28))  # panels (a, c)
    assert all(seen[L, 150.0, False]["early_stop"] for L in (12, 16))
    front = [seen[L, 12.0, False] for L in (12, 18, 28)]
    assert all(k["early_stop"] and k["t_final"] == 200.0 and k["window"] == 50.0 for k in front)
    assert [k["seed"] for k in front] == [219, 225, 235]
    assert s.hist(18) is s.quantum[120.0, 18] and "early stop: the 5 onset-only runs" in s.early_stop_summary()
    assert s.summary().splitlines()[0].startswith("n_L^RNW =")


def test_record_checks_every_declared_claim_with_a_control(made):
    s, _ = made
    ledger = FakeLedger()
    metastability_study.record(ledger, s)
    with_control = {"rnw-short", "chaotic-long", "chaotic-L-dependent", "classical-converges",
                    "classical-converges-long", "quantum-origin", "hist-unimodal-rnw",
                    "hist-bimodal", "hist-unimodal-chaotic", "chaotic-after-Tstar"}
    assert with_control <= set(ledger.checks)
    assert all(ledger.checks[k][2] is not None for k in with_control)
    assert {"Tstar-exponential-F120", "Tstar-exponential-F150"} <= set(ledger.checks)
    assert ("Lstar-decreases" in ledger.checks) != ("Lstar-decreases" in ledger.skipped)
    # one median T* at F = 120 (the longer lengths stay chaotic): no slope ratio, skipped not crashed
    assert s.scans[120.0].ratio is None and "Tstar-not-front" in ledger.skipped
    assert ledger.values["n-rnw"] == (s.plateau, s.plateau_err)
    assert {f"nbar-mean-L{L}" for L in (12, 18, 28)} <= set(ledger.values)
    assert all(v == v for v, _ in ledger.values.values())  # no NaN


@pytest.mark.parametrize("change, match", [
    (dict(L_grids=((12, 18, 28),)), "one grid per drive"),
    (dict(L_hist=(12, 18, 30)), "L_hist"),
    (dict(t_ref=-1.0), "t_ref"),
    (dict(window=float("nan")), "window"),
])
def test_bad_settings_are_refused_before_any_run(change, match):
    def never(*a, **k):
        raise AssertionError("ran")

    with pytest.raises(ValueError, match=match):
        metastability_study.study(chain, **{**SETTINGS, **change}, quench=never)
