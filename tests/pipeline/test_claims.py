"""Claims ledger (declared, calibrated tests), scorecard and the regression check."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from replicate.pipeline import claims, regress, scorecard
from replicate.pipeline.claims import (INCONCLUSIVE, NOT_CHECKED, NOT_REPRODUCED, PARTLY, REPRODUCED,
                                       Ledger, Criterion)

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "baseline" / "claims-quick.json"


def test_bounds_pass_fail_or_stay_inconclusive():
    t = Criterion(upper=0.0)
    assert t.verdict(-0.1, 0.04) == REPRODUCED       # −0.1 + 0.08 < 0
    assert t.verdict(0.1, 0.04) == NOT_REPRODUCED    # 0.1 − 0.08 > 0
    assert t.verdict(-0.1, 0.06) == INCONCLUSIVE     # the 2σ interval straddles the bound
    assert Criterion(lower=1.0, upper=2.0).verdict(1.5, 0.1) == REPRODUCED


def test_a_comparison_is_an_equivalence_test():
    t = Criterion(target=1.0, tolerance=0.1)
    assert t.verdict(1.02, 0.02) == REPRODUCED        # 0.02 + 0.04 ≤ 0.1
    assert t.verdict(1.3, 0.05) == NOT_REPRODUCED     # 0.3 − 0.1 > 0.1
    assert t.verdict(1.02, 0.2) == INCONCLUSIVE       # a huge error never passes
    assert Criterion(target=0.0, tolerance=0.0).verdict(0.0, 0.01) == INCONCLUSIVE


@pytest.mark.parametrize("kw, match", [({}, "either"), ({"target": 1.0}, "tolerance"),
                                       ({"lower": 2.0, "upper": 1.0}, "below"),
                                       ({"judged": True, "upper": 1.0}, "judged"),
                                       ({"target": float("nan"), "tolerance": 1.0}, "finite")])
def test_bad_tests_are_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        Criterion(**kw)


def _ledger() -> Ledger:
    led = Ledger("ferrari-test", "quick")
    led.declare("neg", figure="Fig. 2(e)", claim="δn < 0", paper="sub-Poissonian", upper=0.0,
                control="regime II")
    led.declare("rate", figure="Fig. 16", claim="decay rate", paper="0.676", target=0.676,
                tolerance=0.1, source="paper")
    led.declare("id", figure="Fig. 1", kind="check", claim="identity", paper="current", target=1.0,
                tolerance=0.01, exact=True)
    led.declare("shape", figure="Fig. 7(c)", claim="bimodal", paper="bimodal", judged=True)
    led.declare("long", figure="Fig. 2(a)", claim="long chains", paper="all L", lower=0.0)
    return led


def test_controls_make_a_test_discriminating_and_catch_tests_that_pass_anyway():
    led = _ledger()
    good = led.check("neg", -0.3, 0.05, control=(2.0, 0.1))
    assert good.verdict == REPRODUCED and good.discriminating and good.headline
    led2 = _ledger()
    blind = led2.check("neg", -0.3, 0.05, control=(-0.2, 0.05))  # the control passes too
    assert blind.verdict == INCONCLUSIVE and not blind.discriminating
    assert "does not discriminate" in blind.note
    with pytest.raises(ValueError, match="control"):
        _ledger().check("neg", -0.3, 0.05)  # declared control not given


def test_point_predictions_discriminate_and_checks_are_not_headline():
    led = _ledger()
    assert led.check("rate", 0.70, 0.01).discriminating
    row = led.check("id", 1.0, None)
    assert row.verdict == REPRODUCED and row.error is None and not row.headline


def test_stochastic_numbers_need_a_resampled_error():
    led = _ledger()
    with pytest.raises(ValueError, match="error > 0"):
        led.check("rate", 0.7, 0.0)
    with pytest.raises(ValueError, match="exact"):
        led.check("id", 1.0, 0.1)


def test_every_declared_claim_needs_exactly_one_result(tmp_path):
    led = _ledger()
    led.check("neg", -0.3, 0.05, control=(2.0, 0.1))
    with pytest.raises(ValueError, match="already"):
        led.check("neg", -0.3, 0.05, control=(2.0, 0.1))
    with pytest.raises(ValueError, match="not declared"):
        led.check("nope", 1.0, 0.1)
    with pytest.raises(ValueError, match="declared twice"):
        led.declare("neg", figure="Fig. 2", claim="c", paper="p", upper=0.0)
    with pytest.raises(ValueError, match="without a result"):
        led.save(tmp_path)
    with pytest.raises(ValueError, match="note"):
        led.judge("shape", PARTLY, note=" ")
    with pytest.raises(ValueError, match="judged"):
        led.check("shape", 1.0, 0.1)


def _full_ledger() -> Ledger:
    led = _ledger()
    led.check("neg", -0.3, 0.05, control=(2.0, 0.1))
    led.check("rate", 0.70, 0.01)
    led.check("id", 1.0, None)
    led.judge("shape", PARTLY, note="two peaks of unequal height | one pipe")
    led.skip("long", note="needs the paper profile")
    led.value("n_L", "n_L at F = 6", 10.3, 0.05)
    return led


def test_ledger_roundtrip_and_scorecard(tmp_path):
    led = _full_ledger()
    path = led.save(tmp_path)
    assert path.name == "ferrari-test.claims.json"
    assert claims.load(path) == led.claims
    assert claims.load_values(path) == led.values
    assert led.counts()[NOT_CHECKED] == 1 and led.counts()[PARTLY] == 1
    assert "\\|" in led.markdown()  # a pipe in a cell does not break the table
    text = scorecard.write(scorecard.collect(tmp_path), tmp_path / "scorecard.md").read_text()
    headline = text.split("## Paper claims whose test")[0]
    assert "| Ferrari et al. 2025 | 2 | 0 | 0 | 0 | 0 | 2 |" in headline  # neg + rate only
    assert "Checks of our code" in text and "identity" in text
    json.loads(path.read_text())  # valid JSON
    old = tmp_path / "old.claims.json"
    old.write_text(json.dumps([{"chapter": "x"}]))
    with pytest.raises(ValueError, match="not a ledger"):
        claims.load(old)


def _records(led: Ledger) -> regress.Records:
    return regress.Records(list(led.claims), list(led.values))


def test_regress_flags_physics_not_noise():
    base = _records(_full_ledger())
    assert [f for f in regress.compare(base, base) if f.fails] == []
    # noise: the value moves by 2σ and a borderline verdict flips -> informational only
    noisy = _full_ledger()
    noisy.claims[0] = replace(noisy.claims[0], measured=-0.18, verdict=INCONCLUSIVE)
    noisy.values[0] = replace(noisy.values[0], value=10.4)
    found = regress.compare(base, _records(noisy))
    assert [f.kind for f in found] == ["borderline"]
    # physics: a value beyond 5σ, a changed test definition, a lost row
    moved = _full_ledger()
    moved.values[0] = replace(moved.values[0], value=11.0)
    moved.claims[1] = replace(moved.claims[1], tolerance=0.2)
    del moved.claims[2]
    kinds = sorted(f.kind for f in regress.compare(base, _records(moved)) if f.fails)
    assert kinds == ["changed", "definition", "missing"]
    # an exact row is compared to floating-point accuracy
    exact = _full_ledger()
    exact.claims[2] = replace(exact.claims[2], measured=1.001)
    assert [f.kind for f in regress.compare(base, _records(exact)) if f.fails] == ["changed"]


def test_regress_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="no ledger folder"):
        regress.collect(tmp_path / "nowhere")


def test_regression_check_bites_on_a_nudged_detuning(tmp_path):
    """Rerun a chapter with the reservoir detuning nudged by 10 %: the check reports the moved
    peak of the noise spectrum; the same chapter at its default parameters reports nothing."""
    from replicate.pipeline.execute import run_chapter

    default = run_chapter("ribeiro/fig1", tmp_path / "default", root=ROOT)
    again = run_chapter("ribeiro/fig1", tmp_path / "again", root=ROOT)
    nudged = run_chapter("ribeiro/fig1", tmp_path / "nudged", root=ROOT, parameters={"Delta": -1.1})
    base = regress.collect(default.notebook.parent)
    assert [f for f in regress.compare(base, regress.collect(again.notebook.parent)) if f.fails] == []
    found = [f for f in regress.compare(base, regress.collect(nudged.notebook.parent)) if f.fails]
    assert any(f.kind == "changed" and f.key == "ribeiro-fig1 · S-peak-omega" for f in found), found
