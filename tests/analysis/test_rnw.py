"""RNW wavelength and bulk density (replicate.analysis.rnw) on synthetic profiles with known answers."""
import numpy as np
import pytest

from replicate.analysis import rnw

K30 = 2 * np.pi / 30          # the paper's ~30-site wavelength


def noisy_wave(L, k, n_samples, noise, rng, amplitude=None, phase0=0.4):
    """(site, sample) complex profiles A_ℓ e^{i(kℓ + φ0)} + complex white noise of std ``noise``."""
    ell = np.arange(1, L + 1)
    a = np.ones(L) if amplitude is None else amplitude
    clean = (a * np.exp(1j * (k * ell + phase0)))[:, None]
    white = rng.standard_normal((L, n_samples)) + 1j * rng.standard_normal((L, n_samples))
    return clean + noise / np.sqrt(2) * white


@pytest.mark.parametrize("L, lam", [(40, 30.0), (40, 23.7), (61, 30.0), (80, -31.3), (12, 5.5)])
def test_wavenumber_is_exact_for_a_plane_wave_off_the_fft_grid(L, lam):
    """Sub-bin refinement: k of e^{ikℓ} comes back to machine precision, also for a window only
    slightly longer than one wavelength, a negative k and a decaying amplitude."""
    k = 2 * np.pi / lam
    ell = np.arange(L)
    assert rnw.wavenumber(np.exp(1j * k * ell)) == pytest.approx(k, abs=1e-10)
    assert rnw.wavenumber(np.exp(-ell / 25.0) * np.exp(1j * (k * ell + 2.0))) == pytest.approx(k, abs=1e-10)


def test_wavenumber_is_vectorised_over_columns():
    ks = np.array([0.0, 0.15, -0.3, 1.1])
    z = np.exp(1j * np.arange(40)[:, None] * ks[None, :])
    assert np.allclose(rnw.wavenumber(z), ks, atol=1e-10)
    assert rnw.wavenumber(z.reshape(40, 2, 2)).shape == (2, 2)


@pytest.mark.parametrize("L", [40, 60, 80])
@pytest.mark.parametrize("average", ["profile", "snapshot"])
def test_noisy_wavelength_is_recovered_within_its_error(L, average):
    rng = np.random.default_rng(L)
    res = rnw.wavelength(noisy_wave(L, K30, 256, 0.7, rng), average=average)
    assert res.resolved
    assert 0 < res.wavelength_err < 0.05 * 30
    assert abs(res.wavelength - 30) < 3 * res.wavelength_err
    assert res.periods == pytest.approx(L / 30, rel=0.05)


def test_wavelength_errors_are_calibrated_at_short_chains():
    """Over repeated synthetic experiments at L = 40 (1.3 periods) the jackknife error of k covers
    the truth about 68 % of the time (binomial 3σ band for 200 draws)."""
    rng = np.random.default_rng(7)
    pulls = []
    for _ in range(200):
        res = rnw.wavelength(noisy_wave(40, K30, 128, 1.5, rng))
        pulls.append((res.k - K30) / res.k_err)
    cover = np.mean(np.abs(pulls) <= 1)
    assert 0.58 < cover < 0.78, cover
    assert abs(np.mean(pulls)) < 0.25           # no bias at 1.3 periods in the window


def test_flat_phase_has_no_wavelength():
    rng = np.random.default_rng(2)
    res = rnw.wavelength(noisy_wave(40, 0.0, 256, 1.0, rng))
    assert not res.resolved
    assert res.wavelength == np.inf and np.isnan(res.wavelength_err)
    assert abs(res.k) < 3 * res.k_err and res.k_err > 0


def test_a_wave_longer_than_the_window_is_not_called_a_wavelength():
    """A significant but sub-period phase gradient (λ = 120 over 40 sites) is a gradient, not a
    wave; with min_periods=0 the same data give λ ≈ 120."""
    rng = np.random.default_rng(3)
    z = noisy_wave(40, 2 * np.pi / 120, 256, 0.3, rng)
    res = rnw.wavelength(z)
    assert abs(res.k) > 5 * res.k_err and res.periods < 1 and not res.resolved
    loose = rnw.wavelength(z, min_periods=0.0)
    assert loose.resolved and abs(loose.wavelength - 120) < 3 * loose.wavelength_err


def test_edges_are_dropped_before_the_spectrum():
    """A boundary layer with a wrong phase slope is ignored when excluded."""
    rng = np.random.default_rng(4)
    z = noisy_wave(60, K30, 128, 0.3, rng)
    z[:8] = np.exp(1j * 1.2 * np.arange(8))[:, None]
    with_layer = rnw.wavelength(z)
    without = rnw.wavelength(z, edges=(8, 0))
    assert without.n_sites == 52
    assert abs(without.wavelength - 30) < 3 * without.wavelength_err
    assert abs(with_layer.wavelength - 30) > abs(without.wavelength - 30)


def test_profile_average_loses_its_gain_when_global_phases_differ():
    """With a random global phase per sample the mean profile shrinks to ~1/√N of the wave (k is
    unchanged, but the averaging gain is lost and its error says so); the mean of the per-sample
    k keeps it. With a common phase the two averages agree."""
    rng = np.random.default_rng(5)
    z = noisy_wave(50, K30, 256, 0.3, rng)
    twisted = z * np.exp(2j * np.pi * rng.random(256))[None, :]
    prof, snap = rnw.wavelength(twisted), rnw.wavelength(twisted, average="snapshot")
    assert prof.k_err > 4 * snap.k_err
    for res in (prof, snap):
        assert abs(res.k - K30) < 3 * res.k_err
    a, b = rnw.wavelength(z), rnw.wavelength(z, average="snapshot")
    assert a.k_err == pytest.approx(b.k_err, rel=0.2) and abs(a.k - b.k) < a.k_err


def test_default_batches_match_the_engine():
    ness = pytest.importorskip("replicate.twa.ness")
    assert rnw.N_BATCHES == ness.N_BATCHES


def test_wavelength_rejects_bad_input():
    good = noisy_wave(40, K30, 8, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="complex"):
        rnw.wavelength(np.ones((40, 8)))
    with pytest.raises(ValueError, match="2 samples"):
        rnw.wavelength(good[:, :1])
    with pytest.raises(ValueError, match="finite"):
        rnw.wavelength(np.where(np.arange(40)[:, None] == 3, np.nan, good))
    with pytest.raises(ValueError, match="edges"):
        rnw.wavelength(good, edges=(20, 19))
    with pytest.raises(ValueError, match="average"):
        rnw.wavelength(good, average="median")
    with pytest.raises(ValueError, match="n_batches"):
        rnw.wavelength(good, n_batches=1)
    with pytest.raises(ValueError, match="pad"):
        rnw.wavenumber(good, pad=0)


def clean_density(L, bulk=200.0, slope=0.0):
    """Boundary layers (a rise from the drive, a drop at the end) around a bulk
    bulk + slope·(ℓ − centre)."""
    ell = np.arange(1, L + 1)
    profile = bulk + slope * (ell - 0.5 * (L + 1))
    return profile * (1 - 0.6 * np.exp(-(ell - 1) / 1.5)) * (1 - 0.5 * np.exp(-(L - ell) / 1.5))


def chain_density(L, n_traj, rng, bulk=200.0, slope=0.0, common=4.0, local=6.0):
    """n_ℓ per trajectory: :func:`clean_density` plus a per-trajectory common shift (sites
    correlated) and independent site noise."""
    return (clean_density(L, bulk, slope)[:, None] + common * rng.standard_normal((1, n_traj))
            + local * rng.standard_normal((L, n_traj)))


def test_flat_bulk_density_and_its_calibrated_error():
    """The bulk mean is recovered, its jackknife error covers the truth ~68 % of the time with
    site-correlated noise (binomial 3σ band for 200 draws), and so does the slope's."""
    rng = np.random.default_rng(11)
    clean = clean_density(40)[6:34]
    truth_slope = np.polyfit(np.arange(28), clean, 1)[0]
    pulls, slopes = [], []
    for _ in range(200):
        res = rnw.bulk_density(chain_density(40, 200, rng), edges=(6, 6))
        pulls.append((res.mean - clean.mean()) / res.mean_err)
        slopes.append((res.slope - truth_slope) / res.slope_err)
    assert res.sites == (7, 34)
    assert 0.58 < np.mean(np.abs(pulls) <= 1) < 0.78
    assert 0.58 < np.mean(np.abs(slopes) <= 1) < 0.78
    assert abs(res.relative_change) < 0.01 and res.relative_change_err > 0
    assert res.spread_err > 0


def test_bulk_gradient_is_detected_and_measured():
    """A 20 % drop across a 30-site bulk (the RNW destroyed by intrinsic loss, SI Fig. 19(f))."""
    rng = np.random.default_rng(12)
    slope = -0.2 * 200.0 / 29
    res = rnw.bulk_density(chain_density(40, 200, rng, slope=slope), edges=(5, 5))
    assert res.slope_z < -10
    assert abs(res.slope - slope) < 3 * res.slope_err
    assert abs(res.relative_change + 0.2) < 3 * res.relative_change_err
    flat = rnw.bulk_density(chain_density(40, 200, rng), edges=(5, 5))
    assert res.spread > flat.spread + 3 * (res.spread_err + flat.spread_err)


def test_boundary_layers_bias_the_bulk_unless_excluded():
    rng = np.random.default_rng(13)
    n = chain_density(40, 200, rng)
    assert rnw.bulk_density(n, edges=(0, 0)).mean < 200 - 10 * rnw.bulk_density(n, edges=(0, 0)).mean_err
    inner = rnw.bulk_density(n, edges=(8, 8))
    assert abs(inner.mean - 200) < 3 * inner.mean_err


def test_bulk_density_rejects_bad_input():
    n = chain_density(20, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="edges"):
        rnw.bulk_density(n, edges=(9, 9))
    with pytest.raises(ValueError, match="edges"):
        rnw.bulk_density(n, edges=(-1, 2))
    with pytest.raises(ValueError, match="finite"):
        rnw.bulk_density(np.full((20, 10), np.inf))
    with pytest.raises(ValueError, match="positive"):
        rnw.bulk_density(-n)
    with pytest.raises(ValueError, match="sample"):
        rnw.bulk_density(n[:, 0])


def _quench_run(L=40, n_traj=64, seed=0):
    """An evolve-like run: every trajectory is a random-phase chaotic state (|α|² ≈ 4) until its
    onset time, then the RNW α_ℓ = 6 e^{iKℓ} with a little noise. Onsets uniform in [40, 120]."""
    import xarray as xr

    rng = np.random.default_rng(seed)
    times = np.arange(0.0, 400.0 + 1e-9, 2.0)
    onset = rng.uniform(40.0, 120.0, n_traj)
    ell = np.arange(1, L + 1)
    chaos = 2.0 * np.exp(2j * np.pi * rng.random((times.size, L, n_traj)))
    wave = 6.0 * np.exp(1j * K30 * ell)[None, :, None] + 0.05 * (rng.standard_normal((times.size, L, n_traj))
                                                                + 1j * rng.standard_normal((times.size, L, n_traj)))
    a = np.where(times[:, None, None] >= onset[None, None, :], wave, chaos)
    ds = xr.Dataset({"alpha": (("time", "site", "traj"), a)}, coords={"time": times, "site": ell})
    return ds, onset


def test_quench_state_recovers_onsets_wavelength_density_and_phase_order():
    ds, onset = _quench_run()
    q = rnw.quench_state(ds, classical=True, rnw_from=250.0, transient=(0.1, 0.3), hold=50.0, smooth=0.0)
    assert np.all(np.abs(q.onset.T - onset) <= 2.0)                  # on the 2-unit time grid
    assert q.T_med == pytest.approx(np.median(onset), abs=4.0)
    times = ds["time"].values
    assert np.array_equal(q.early, (times >= 0.1 * q.T_med) & (times <= 0.3 * q.T_med))
    assert q.lam.wavelength == pytest.approx(30.0, rel=0.01) and q.lam.pair == (q.lam.wavelength, q.lam.wavelength_err)
    assert q.rnw.mean == pytest.approx(36.0 + 0.005, rel=1e-3) and abs(q.rnw.relative_change) < 0.01
    assert q.tr.mean == pytest.approx(4.0, rel=1e-6)                  # before every onset: the chaotic state
    assert q.rnw.mean_pair == (q.rnw.mean, q.rnw.mean_err) and q.tr.change_pair[0] == q.tr.relative_change
    assert q.V_rnw[0] < 0.01 and q.V_tr[0] > 0.8                      # locked phase vs random phase
    assert str(q).startswith(f"T_med = {q.T_med:.0f}, λ = 30.")
    assert np.allclose(np.diff(q.phase), K30, atol=1e-3)              # the unwrapped phase of the wave
    assert np.allclose(q.n_rnw[0], q.rnw.mean, rtol=1e-3)
    assert np.all((q.n_rnw[1] > 0.002) & (q.n_rnw[1] < 0.02))        # 0.6/√(75·64) ≈ 0.009
    assert np.allclose(q.n_tr[0], 4.0) and np.allclose(q.n_tr[1], 0.0, atol=1e-12)
    twa = rnw.quench_state(ds, classical=False, rnw_from=250.0, transient=(0.1, 0.3), hold=50.0, smooth=0.0)
    assert twa.rnw.mean == pytest.approx(q.rnw.mean - 0.5)             # the Wigner ordering −½


def test_quench_state_falls_back_to_the_rnw_window_without_a_median_onset():
    ds, _ = _quench_run(n_traj=16)
    rng = np.random.default_rng(1)
    shape = ds["alpha"].shape                                         # strongly fluctuating |α|: never a plateau
    chaos = ds.assign(alpha=(("time", "site", "traj"), rng.uniform(0.4, 3.6, shape) * np.exp(2j * np.pi * rng.random(shape))))
    q = rnw.quench_state(chaos, classical=True, rnw_from=250.0, transient=(0.1, 0.3), hold=50.0, smooth=0.0)
    assert q.T_med == 250.0                                           # no trajectory locks


def _same_state(a, b):
    np.testing.assert_array_equal(a.onset.T, b.onset.T)
    from dataclasses import astuple

    np.testing.assert_equal([a.T_med, astuple(a.lam), astuple(a.rnw), astuple(a.tr), a.V_tr, a.V_rnw],
                            [b.T_med, astuple(b.lam), astuple(b.rnw), astuple(b.tr), b.V_tr, b.V_rnw])  # NaN == NaN
    assert a.onset.plateau == b.onset.plateau and a.onset.censor_time == b.onset.censor_time
    for x, y in ((a.early, b.early), (a.phase, b.phase), (a.n_rnw, b.n_rnw), (a.n_tr, b.n_tr)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("fallback", [False, True])
def test_quench_state_round_trips_through_a_dataset_and_the_store(fallback):
    """The reduced form of Fig. 5's runs: every field back exactly, through the store's encoding,
    with a resolved wave and with none (λ = ∞, NaN error, no median onset)."""
    from replicate.cache.entries import decode, encode

    ds, _ = _quench_run(n_traj=16)
    if fallback:
        rng = np.random.default_rng(1)
        shape = ds["alpha"].shape
        ds = ds.assign(alpha=(("time", "site", "traj"), rng.uniform(0.4, 3.6, shape) * np.exp(2j * np.pi * rng.random(shape))))
    q = rnw.quench_state(ds, classical=True, rnw_from=250.0, transient=(0.1, 0.3), hold=50.0, smooth=0.0)
    assert q.lam.resolved != fallback
    red = q.to_dataset(ds["time"].values, ds["site"].values)
    stored, _ = decode(encode(red))
    for back in (rnw.QuenchState.of(red), rnw.QuenchState.of(stored)):
        _same_state(back, q)
        assert isinstance(back.lam.resolved, bool) and back.rnw.sites == q.rnw.sites


def test_quench_run_is_evolve_then_quench_state():
    from replicate import twa
    from replicate.chain import ChainParams

    p = ChainParams(L=14, F=12.0)
    times = np.arange(0.0, 120.0 + 1e-9, 2.0)
    kw = dict(rnw_from=80.0, transient=(0.2, 0.5), edges=2, hold=20.0, smooth=4.0, phase_from=3)
    red = rnw.quench_run(p, n_traj=16, times=times, seed=4, **kw)
    full = twa.evolve(p, n_traj=16, times=times, seed=4, keep_sites=range(1, 15))
    _same_state(rnw.QuenchState.of(red), rnw.quench_state(full, classical=False, **kw))
    np.testing.assert_array_equal(red.n.values, full.n.values)
    np.testing.assert_array_equal(red.mean_phase.values, full.mean_phase.values)
    assert red.attrs["L"] == 14 and "alpha" not in red
