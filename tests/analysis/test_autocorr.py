"""SI Fig. 16's reduced NESS samples (analysis.autocorr.site_summary): the same autocorrelation
and the same Wigner histograms (hence the same fits) as the raw samples they replace."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import autocorr as ac
from replicate.chain import ChainParams
from replicate.thermometry.histogram import from_samples


def test_site_summary_keeps_what_the_figure_needs_exactly():
    p = ChainParams(L=6, F=3.0)
    run = dict(n_traj=64, t_relax=5.0, t_avg=10.0, sample_every=0.05, seed=3)
    summary = ac.site_summary(p, (2, 5), n_lags=40, bins=12, **run)
    raw = twa.site_samples(p, (2, 5), dtype=np.complex64, **run)
    for s in (2, 5):
        direct = ac.autocorrelation(raw.sel(site=s).values, 0.05, 40)
        xr.testing.assert_equal(ac.site_correlation(summary, s), direct)  # values exactly
        h, ref = ac.site_histogram(summary, s), from_samples(raw.sel(site=s).values, bins=12)
        np.testing.assert_array_equal(h.counts, ref.counts)
        np.testing.assert_array_equal(h.u_edges, ref.u_edges)
    assert summary.nbytes < raw.nbytes / 5  # independent of n_traj and t_avg (but for the batches)
    with pytest.raises(KeyError):
        ac.site_correlation(summary, 3)
