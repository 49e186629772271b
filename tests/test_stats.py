"""replicate.stats: the jackknife helpers for independent estimates and medians."""
import numpy as np
import pytest

from replicate import stats


def test_independent_difference_and_ratio_errors_match_monte_carlo():
    rng = np.random.default_rng(3)
    a = 2.0 + 0.02 * rng.standard_normal(20000)
    b = 5.0 + 0.05 * rng.standard_normal(20000)
    d, de = stats.difference(2.0, 0.02, 5.0, 0.05)
    r, re = stats.ratio(2.0, 0.02, 5.0, 0.05)
    assert d == -3.0 and de == pytest.approx((a - b).std(), rel=0.03)
    assert r == 0.4 and re == pytest.approx((a / b).std(), rel=0.03)
    with pytest.raises(ValueError, match="denominator"):
        stats.ratio(1.0, 0.1, 0.0, 0.1)


def test_median_with_error_matches_the_scatter_of_medians():
    rng = np.random.default_rng(4)
    meds = [np.median(1.0 + 0.1 * rng.standard_normal(41)) for _ in range(4000)]
    m, e = stats.median_with_error(np.ones(41), np.full(41, 0.1))
    assert m == 1.0 and e == pytest.approx(np.std(meds), rel=0.05)


@pytest.mark.parametrize("n, nb", [(128, 32), (1000, 32), (7, 3), (5, 8)])
def test_batch_index_is_the_partition_of_batch_sums(n, nb):
    """Histograms of samples (thermometry.from_samples, thermo.polar_counts) batch trajectories as
    the engine does: at n = 1000, nb = 32 the old floor(t·nb/n) put trajectory 31 in batch 0,
    the engine in batch 1, and the paper run's engine check saw 433026 differing counts."""
    from replicate import stats

    idx = stats.batch_index(n, nb)
    sums, counts = stats.batch_sums(np.arange(n, dtype=float)[None, :], nb)
    assert np.array_equal(np.bincount(idx), counts)
    assert np.array_equal(np.bincount(idx, weights=np.arange(n)), sums[0])
