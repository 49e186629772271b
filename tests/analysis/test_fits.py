"""The one line-fit implementation: exact lines, weighted errors against Monte Carlo, vectorised OLS."""
import numpy as np
import pytest

from replicate.analysis import fits


def test_ols_recovers_a_line_for_every_column():
    x = np.arange(6.0)
    y = np.stack([2.0 + 3.0 * x, -1.0 - 0.5 * x], axis=1)
    s, a = fits.ols(x, y)
    np.testing.assert_allclose(s, [3.0, -0.5])
    np.testing.assert_allclose(a, [2.0, -1.0])
    assert np.isnan(fits.ols(x, np.where(x == 2, np.nan, x))[0])


def test_weighted_line_errors_match_the_scatter_of_repeated_fits():
    rng = np.random.default_rng(1)
    x = np.linspace(0, 4, 9)
    sigma = 0.1 + 0.05 * x
    fits_ = [fits.line(x, 1.0 + 0.7 * x + sigma * rng.standard_normal(x.size), sigma) for _ in range(2000)]
    slopes = np.array([f.slope for f in fits_])
    assert slopes.mean() == pytest.approx(0.7, abs=3 * slopes.std() / np.sqrt(slopes.size))
    assert slopes.std() == pytest.approx(fits_[0].slope_err, rel=0.06)
    assert np.mean([f.chi2_dof for f in fits_]) == pytest.approx(1.0, abs=0.05)
    assert fits_[0].slope_pair == (fits_[0].slope, fits_[0].slope_err)


def test_unweighted_line_takes_its_errors_from_the_residuals():
    rng = np.random.default_rng(2)
    x = np.linspace(0, 1, 50)
    fits_ = [fits.line(x, 0.3 * x + 0.2 * rng.standard_normal(x.size)) for _ in range(1000)]
    slopes = np.array([f.slope for f in fits_])
    assert slopes.std() == pytest.approx(np.median([f.slope_err for f in fits_]), rel=0.08)


def test_log_line_is_an_exponential_fit_and_rejects_bad_input():
    x = np.arange(5.0)
    f = fits.log_line(x, 4.0 * np.exp(-x / 2.5))
    assert f.slope == pytest.approx(-0.4) and np.exp(f.intercept) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="> 0"):
        fits.log_line(x, x)
    with pytest.raises(ValueError, match="distinct"):
        fits.line(np.ones(4), np.arange(4.0))
    with pytest.raises(ValueError, match="sigma"):
        fits.line(x, x, sigma=np.zeros(5))
