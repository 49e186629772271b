"""The registry of accumulated quantities: moments, p and radial histograms, validation."""
import numpy as np
import pytest

from replicate import twa
from replicate.chain import ChainParams
from replicate.twa import observables as obs
from replicate.twa.engine import Simulation
from replicate.twa.kernels import BLOCK, sample, snapshot
from replicate.twa.ness import N_BATCHES

P = ChainParams(L=4, F=3.0)
KW = dict(n_traj=100, t_relax=1.0, t_avg=2.0, sample_every=0.5, seed=7, integrator="heun")


def test_kernel_moments_match_registry_definitions():
    """snapshot writes every registered moment, in registry order, as its NumPy definition."""
    sim = Simulation(P, n_traj=BLOCK, dt=0.01, seed=1, classical=False, integrator="heun")
    sim.run(50)
    sim.xr[0, 2, 5] = sim.xi[0, 2, 5] = 0.0  # α = 0: cos φ = sin φ = 0 by convention
    out = np.empty((sample.NQ, P.L, BLOCK))
    centre = 3
    snapshot(sim.xr, sim.xi, centre, out)
    a = sim.alpha()
    assert len(sample.NAMES) == sample.NQ == out.shape[0]
    for k, name in zip(sample.rows(sample.NAMES), sample.NAMES):
        expected = sample.MOMENTS[name].numpy(a, a[centre - 1])
        np.testing.assert_allclose(out[k], expected, rtol=1e-13, atol=1e-15, err_msg=name)
    assert out[sample.rows(["cos"])[0], 1, 5] == 0.0


def test_unknown_moment_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: m2, m4"):
        sample.rows(["m2", "m3"])
    with pytest.raises(ValueError, match="keep_batches.*pm4"):
        twa.ness(P, n_traj=4, t_relax=0.0, t_avg=0.5, keep_batches=["m2", "bogus"])


@pytest.mark.parametrize("kw, name", [
    ({"p_grid": (-1.0, 10)}, "p_grid"), ({"p_grid": (2.0, 0)}, "p_grid bins"),
    ({"p_grid": 3.0}, "p_grid"), ({"radial_grid": (0.0, 10)}, "radial_grid u_max"),
    ({"radial_grid": (5.0, 0)}, "radial_grid bins"), ({"radial_grid": (5.0, 2.5)}, "radial_grid bins"),
    ({"radial_grid": "big"}, "radial_grid")])
def test_histogram_validation(kw, name):
    with pytest.raises(ValueError, match=name):
        twa.ness(P, n_traj=4, t_relax=0.0, t_avg=0.5, **kw)


def test_histograms_are_the_per_batch_counts_of_the_samples():
    """site_samples sees the very samples ness accumulates: the per-batch p and u counts are
    their histograms, batch by batch (batches of stats.batch_sums); everything is normalised."""
    p_grid, radial_grid = (3.0, 12), (6.0, 9)
    ds = twa.ness(P, p_grid=p_grid, radial_grid=radial_grid, **KW)
    smp = twa.site_samples(P, range(1, P.L + 1), **KW).values  # (site, traj, time)
    n, n_samples = KW["n_traj"], smp.shape[2]
    counts = ds["batch_count"].values
    batch = np.repeat(np.arange(counts.size), counts)
    assert counts.size == min(N_BATCHES, n) and ds.attrs["n_samples"] == n_samples

    def per_batch(k, bins):
        out = np.zeros((P.L, counts.size, bins), dtype=np.int64)
        for s in range(P.L):
            ok = (k[s] >= 0) & (k[s] < bins)
            np.add.at(out[s], (np.broadcast_to(batch[:, None], k[s].shape)[ok], k[s][ok]), 1)
        return out

    u_edges = ds["radial_counts"].attrs["u_edges"]
    u_bin = np.floor((smp.real ** 2 + smp.imag ** 2) / (u_edges[1] - u_edges[0])).astype(int)
    np.testing.assert_array_equal(ds["radial_counts"].values, per_batch(u_bin, radial_grid[1]))
    np.testing.assert_allclose(ds["u"].values, 0.5 * (u_edges[1:] + u_edges[:-1]))
    assert u_edges[0] == 0.0 and u_edges[-1] == radial_grid[0]
    assert ds["radial_counts"].dtype == np.int64
    assert np.all(ds["radial_counts"].sum(("site", "u")).values <= P.L * ds["samples_per_batch"].values)
    np.testing.assert_array_equal(ds["samples_per_batch"].values, counts * n_samples)

    width = 2 * p_grid[0] / p_grid[1]
    p_bin = np.floor((np.sqrt(2.0) * smp.imag + p_grid[0]) / width).astype(int)
    pooled = per_batch(p_bin, p_grid[1]).sum(1) / (n * n_samples * width)
    np.testing.assert_allclose(ds["p_density"].values, pooled, rtol=1e-12)
    np.testing.assert_allclose(ds["p_density"].sum("p") * width + ds["p_outside"], 1.0, rtol=1e-12)
    assert np.all(ds["p_density_err"].values[ds["p_density"].values > 0] > 0)
    for v in ("p_mean", "p_var", "p_kurtosis"):
        assert ds[v].dims == ("site",) and np.all(np.isfinite(ds[v + "_err"].values))


def test_radial_grid_covering_everything_counts_every_sample():
    ds = twa.ness(P, radial_grid=(1e3, 4), **KW)
    total = ds["radial_counts"].sum("u")  # (site, batch)
    assert np.all(total.values == ds["samples_per_batch"].values[None, :])


def _python_loop_local_moments(params, *, n_traj, t_relax, t_avg, sample_every, seed, p_grid,
                               integrator):
    """A Python loop: the moments and the p histogram summed in Python per sample."""
    from replicate import stats

    sim = Simulation(params, n_traj=n_traj, dt=None, seed=seed, classical=False,
                     integrator=integrator)
    every, n_samples = round(sample_every / sim.dt), round(t_avg / sample_every)
    edges = np.linspace(-p_grid[0], p_grid[0], p_grid[1] + 1)
    width = edges[1] - edges[0]
    L = params.L
    nb = min(N_BATCHES, n_traj)
    _, counts = stats.batch_sums(np.zeros(n_traj), nb)
    batch = np.repeat(np.arange(nb), counts)
    hist = np.zeros((L, nb, p_grid[1]))
    sums = np.zeros((len(obs.LOCAL_MOMENTS), L, n_traj))
    sim.run(round(t_relax / sim.dt))
    for _ in range(n_samples):
        sim.run(every)
        a = sim.alpha()
        q, p = np.abs(a) ** 2, np.sqrt(2.0) * a.imag
        ph = np.where(q > 0, a / np.where(q > 0, np.abs(a), 1.0), 0.0)
        for k, v in enumerate((q, q * q, a.real, a.imag, ph.real, ph.imag, a.real ** 2,
                               a.imag ** 2, p ** 3, p ** 4)):
            sums[k] += v
        idx = np.floor((p - edges[0]) / width).astype(int)
        for s in range(L):
            ok = (idx[s] >= 0) & (idx[s] < p_grid[1])
            np.add.at(hist[s], (batch[ok], idx[s][ok]), 1)
    bsums, counts = stats.batch_sums(sums / n_samples, nb)
    value, err = stats.jackknife(obs.local_observables, dict(zip(obs.LOCAL_MOMENTS, bsums)), counts)
    dens = stats.jackknife(lambda m: m, {"d": hist.transpose(0, 2, 1) / (n_samples * width)}, counts)
    return value, err, dens, bsums / counts


def test_ness_with_p_grid_equals_the_python_loop():
    grid = (3.0, 10)
    loc = twa.ness(P, keep_batches=twa.LOCAL_MOMENTS, p_grid=grid, **KW)
    ds = twa.ness(P, p_grid=grid, keep_batches=True, **KW)
    value, err, (dval, derr), bmeans = _python_loop_local_moments(P, p_grid=grid, **KW)
    for k in value:
        np.testing.assert_allclose(loc[k].values, value[k], rtol=1e-12, atol=1e-14, err_msg=k)
        np.testing.assert_allclose(loc[k + "_err"].values, err[k], rtol=1e-10, atol=1e-14)
        np.testing.assert_array_equal(loc[k].values, ds[k].values)
    np.testing.assert_allclose(loc["p_density"].values, dval["d"], rtol=1e-12)
    np.testing.assert_allclose(loc["p_density_err"].values, derr["d"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(loc["batch_means"].values, bmeans, rtol=1e-12, atol=1e-14)
    assert list(loc["moment"].values) == list(obs.LOCAL_MOMENTS)
    assert {"pm3", "pm4"} <= set(ds["moment"].values)
    assert set(loc.data_vars) <= set(ds.data_vars)
