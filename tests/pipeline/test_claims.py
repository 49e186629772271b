"""Claims ledger, scorecard and the regression check against the committed baseline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicate.pipeline import claims, regress, scorecard
from replicate.pipeline.claims import NOT_CHECKED, NOT_REPRODUCED, PARTLY, REPRODUCED, Ledger
from replicate.pipeline.execute import run_chapter

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "baseline" / "claims-quick.json"


def test_compare_uses_tolerance_plus_two_sigma():
    led = Ledger("ferrari-test", "quick")
    assert led.compare("Fig. 2", "c", "p", 1.05, 0.02, 1.0, 0.0).verdict == NOT_REPRODUCED
    assert led.compare("Fig. 2", "c", "p", 1.03, 0.02, 1.0, 0.0).verdict == REPRODUCED
    assert led.compare("Fig. 2", "c", "p", 1.04, 0.0, 1.0, 0.05).verdict == REPRODUCED


def test_bound_demands_the_whole_two_sigma_interval():
    led = Ledger("ferrari-test", "quick")
    assert led.bound("Fig. 2", "c", "p", -0.1, 0.04, upper=0.0).verdict == REPRODUCED
    assert led.bound("Fig. 2", "c", "p", -0.1, 0.06, upper=0.0).verdict == NOT_REPRODUCED
    with pytest.raises(ValueError, match="lower or upper"):
        led.bound("Fig. 2", "c", "p", 1.0, 0.1)


def test_non_finite_measurement_and_bad_verdict_are_errors():
    led = Ledger("ferrari-test", "quick")
    with pytest.raises(ValueError, match="measured"):
        led.compare("Fig. 2", "c", "p", float("nan"), 0.1, 1.0, 0.1)
    with pytest.raises(ValueError, match="verdict"):
        led.record("Fig. 2", "c", "p", verdict="sort of")


def test_ledger_roundtrip_and_scorecard(tmp_path):
    led = Ledger("ribeiro-fig9", "quick")
    led.compare("Fig. 9(a)", "x ≈ 1", "paper", 1.0, 0.1, 1.0, 0.0)
    led.record("Fig. 9(b)", "qualitative | with a pipe", "paper", PARTLY, note="why")
    led.not_checked("Fig. 9(c)", "needs paper profile", "paper", note="long windows")
    path = led.save(tmp_path)
    assert path.name == "ribeiro-fig9.claims.json"
    rec = json.loads(path.read_text())
    assert {"figure", "claim", "paper", "measured", "error", "tolerance", "verdict"} <= rec[0].keys()
    back = claims.load(path)
    assert back == led.claims
    assert led.counts() == {REPRODUCED: 1, PARTLY: 1, NOT_REPRODUCED: 0, NOT_CHECKED: 1}
    assert "\\|" in led.markdown()  # a pipe in a cell does not break the table
    card = scorecard.write(scorecard.collect(tmp_path), tmp_path / "scorecard.md")
    text = card.read_text()
    assert "| Ribeiro & Marquardt 2020 | 1 | 1 | 0 | 1 | 3 |" in text
    assert scorecard.by_figure(back).keys() == {"ribeiro-fig9"}


def _claim(measured, error, verdict=REPRODUCED, claim="c"):
    return claims.Claim("ferrari-fig2", "Fig. 2", claim, "p", measured, error, "t", verdict, "quick")


def test_regress_compare_findings():
    base = [_claim(1.0, 0.1), _claim(2.0, 0.0, claim="exact"), _claim(0.5, 0.1, claim="gone")]
    same = regress.compare(base, [_claim(1.2, 0.1), _claim(2.0, 0.0, claim="exact"),
                                  _claim(0.5, 0.1, claim="gone")])
    assert same == []  # 0.2 < 3 · √2 · 0.1
    found = regress.compare(base, [_claim(1.5, 0.1, NOT_REPRODUCED), _claim(2.001, 0.0, claim="exact"),
                                   _claim(3.0, 0.1, claim="new")])
    kinds = sorted((f.kind, f.key.split(" · ")[-1]) for f in found)
    assert kinds == [("changed", "c"), ("changed", "exact"), ("missing", "gone"), ("new", "new"),
                     ("regressed", "c")]
    assert not [f for f in found if f.kind == "new"][0].fails


def test_regression_check_bites_on_a_nudged_detuning(tmp_path):
    """Rerun a chapter with the reservoir detuning nudged: the check against the committed
    baseline reports it; the same chapter at its default parameters does not."""
    baseline = regress.load_baseline(BASELINE)
    chapter = "ribeiro-fig1"
    assert any(c.chapter == chapter for c in baseline)
    default = run_chapter("ribeiro/fig1", tmp_path / "default", root=ROOT)
    nudged = run_chapter("ribeiro/fig1", tmp_path / "nudged", root=ROOT, parameters={"Delta": -1.1})
    clean = regress.compare(baseline, scorecard.collect(default.notebook.parent), {chapter})
    assert [f for f in clean if f.fails] == []
    found = regress.compare(baseline, scorecard.collect(nudged.notebook.parent), {chapter})
    assert [f for f in found if f.fails], "a 10 % change of Δ went unnoticed"
    assert any(f.kind == "changed" and "peaks at ω = −Δ" in f.key for f in found)
