"""Data-driven regime location (replicate.analysis.regimes)."""
import numpy as np
import pytest

from replicate.analysis.regimes import classify, steepest_slope_with_error, steepest_step

F = np.arange(1.0, 12.01, 0.5)


def _synthetic():
    """Quasilinear n ∝ F², a smooth exponential onset at F = 4, a step to a plateau at F = 9.25."""
    n = 0.1 * F**2 * (1 + 3 / (1 + np.exp(-(F - 4) / 0.3)))
    return np.where(F > 9.25, 48.0, n)


def test_classify_finds_onset_and_leap():
    r = classify(F, _synthetic())
    assert r.F_leap == pytest.approx(9.25)
    assert 3.5 <= r.F_c <= 4.5
    assert list(r.label()[[0, 10, 20]]) == ["I", "II", "III"]
    assert not np.any(r.I & r.II) and not np.any(r.II & r.III)


def test_steepest_slope_and_error():
    x = np.array([0.0, 1.0, 5.0, 6.0])
    assert steepest_step([0, 1, 2, 3], x) == (1, 4.0)
    Fm, s, e = steepest_slope_with_error([0, 1, 2, 3], -x, [0.3, 0.4, 0.0, 0.0], sign=-1, hi=1)
    assert (Fm, s, e) == (0.5, 1.0, 0.5)


@pytest.mark.parametrize("F_, x", [([1, 2], [1, 2]), ([1, 3, 2], [1, 2, 3]), ([1, 2, 3], [1, np.nan, 2])])
def test_bad_input(F_, x):
    with pytest.raises(ValueError):
        steepest_step(F_, x)
