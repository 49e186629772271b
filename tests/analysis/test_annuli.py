"""The stored form of the Fig. 4 / SI 15 steady states (replicate.analysis.annuli): each site's
histogram on its fit annuli gives the very fits, entropies, domains and engine check of the full
run, and it survives the results store's encoding."""
import numpy as np
import pytest
import xarray as xr

from replicate import twa
from replicate.analysis import annuli, domains, thermo
from replicate.cache.entries import decode, encode
from replicate.chain import ChainParams

P = ChainParams(L=6, F=6.0)
RUN = dict(n_traj=40, t_relax=60.0, t_avg=20.0, sample_every=0.5, seed=3)  # 40: not a multiple of 32 batches
GRID = (400.0, 300)


@pytest.fixture(scope="module")
def full():
    return twa.ness(P, radial_grid=GRID, keep_batches=True, **RUN)


def test_reduced_steady_state_fits_as_the_full_run(full):
    red = annuli.reduce(full, bins=20, fine_sites=[1, 2])
    assert red["annulus_counts"].sizes["annulus"] <= 20 and "radial_counts" not in red
    assert red["annulus_counts"].dtype == np.int32 and red.attrs["annuli_bins"] == 20
    a, fa = thermo.local_profile(full, U=0.1, energy_scale=2.5, bins=20)
    b, fb = thermo.local_profile(red, U=0.1, energy_scale=2.5, bins=20)
    assert b.attrs.pop("annuli_bins") == 20
    xr.testing.assert_identical(a, b)
    assert all(fa[k].params == fb[k].params and np.array_equal(fa[k].u_edges, fb[k].u_edges) for k in fa)
    assert domains.domain_sizes(red) == domains.domain_sizes(full)
    # the site with the widest histogram really was merged: its annuli are coarser than the engine's bins
    assert red["n_annuli"].max() <= 20 and np.nanmax(np.diff(red["annulus_edges"].values)) > GRID[0] / GRID[1]


def test_reduced_steady_state_keeps_the_engine_check_at_its_fine_sites(full):
    red = annuli.reduce(full, bins=20, fine_sites=[1, 2])
    raw = twa.site_samples(P, [1, 2], **RUN)
    assert thermo.histogram_mismatch(raw, red, [1, 2], GRID) == 0 == thermo.histogram_mismatch(raw, full, [1, 2], GRID)
    broken = red.copy(deep=True)
    broken["fine_counts"][1, 0, 3] += 2
    assert thermo.histogram_mismatch(raw, broken, [1, 2], GRID) == 2
    with pytest.raises(ValueError, match="site 5 has no fine counts"):
        thermo.histogram_mismatch(raw.sel(site=[1]).assign_coords(site=[5]), red, [5], GRID)


def test_reduced_steady_state_survives_the_store(full):
    red = annuli.reduce(full, bins=20, fine_sites=[1, 2])
    back, _ = decode(encode(red))
    xr.testing.assert_identical(back, red)
    assert red.nbytes < full.nbytes / 3


def test_steady_state_is_the_reduced_ness(full):
    xr.testing.assert_identical(annuli.steady_state(P, u_grid=GRID, bins=20, fine_sites=[1], **RUN),
                                annuli.reduce(full, bins=20, fine_sites=[1]))


def test_bad_reductions_are_refused(full):
    with pytest.raises(ValueError, match="no radial_counts"):
        annuli.reduce(full.drop_vars("radial_counts"), bins=20)
    with pytest.raises(ValueError, match="fine_sites"):
        annuli.reduce(full, bins=20, fine_sites=[7])
    with pytest.raises(ValueError, match="bins"):
        annuli.reduce(full, bins=0)
    red = annuli.reduce(full, bins=20, fine_sites=[1])
    with pytest.raises(ValueError, match="reduced to 20 annuli"):
        thermo.local_profile(red, U=0.1, energy_scale=2.5, bins=30)
