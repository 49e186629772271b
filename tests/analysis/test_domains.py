"""Domain sizes along the chain and their growth with L (replicate.analysis.domains, Fig. 4(e))."""
import numpy as np
import pytest
import xarray as xr

from replicate.analysis import domains, local


def _sizes(pre, non, th_, err=1.0):
    return ({"nonthermal": non, "prethermal": pre, "thermal": th_},
            {"nonthermal": err, "prethermal": 2 * err, "thermal": err})


def test_domain_sizes_count_labels_with_errors():
    """Batch means built to give 3 nonthermal, 5 prethermal (ring: δn ≈ 0) and 4 thermal
    (δn = n) sites; the counts are exact, the errors at least the boundary quantization."""
    L, nb = 12, 16
    rng = np.random.default_rng(5)
    n = np.full(L, 40.0)
    dn = np.where(np.arange(L) < 8, 0.0, 40.0)
    V = np.where(np.arange(L) < 3, 0.5, 1.0)
    var_w = (dn + 1) * n + 0.25                      # Var_W(|α|²) from δn (observables.delta_n)
    m2 = n + 0.5
    m4 = var_w + m2 ** 2
    r = 1 - V
    moments = {"m2": m2, "m4": m4, "re": 0 * n, "im": 0 * n, "cos": r, "sin": 0 * n}
    bm = np.stack([np.repeat(v[:, None], nb, 1) * (1 + 1e-4 * rng.standard_normal((L, nb))) for v in moments.values()])
    ds = xr.Dataset({"batch_means": (("moment", "site", "batch"), bm)},
                    coords={"moment": list(moments), "site": np.arange(1, L + 1), "batch_count": ("batch", np.full(nb, 8))})
    value, error = domains.domain_sizes(ds)
    assert value == {"nonthermal": 3, "prethermal": 5, "thermal": 4}
    assert all(error[d] >= np.sqrt(2 / 12) - 1e-12 for d in local.DOMAINS)

def test_domain_scaling_widens_a_poor_line():
    good = {L: ({"nonthermal": 4.0, "prethermal": L - 10.0, "thermal": 6.0}, dict.fromkeys(local.DOMAINS, 0.5))
            for L in (20, 40, 60, 80)}
    s = domains.domain_scaling(good)
    assert s["prethermal"].slope == pytest.approx(1.0) and s["nonthermal"].slope == pytest.approx(0.0, abs=1e-12)
    bad = {L: (dict(v, prethermal=v["prethermal"] - (25.0 if L == 80 else 0.0)), e) for L, (v, e) in good.items()}
    b = domains.domain_scaling(bad)
    assert b["prethermal"].slope_err > 5 * s["prethermal"].slope_err

def test_domain_series_share_and_summary():
    sizes = {40: _sizes(30.0, 6.0, 4.0), 20: _sizes(12.0, 5.0, 3.0)}
    Ls, v, e = domains.domain_series(sizes, "prethermal")
    assert Ls.tolist() == [20, 40] and v.tolist() == [12.0, 30.0] and e.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="domain"):
        domains.domain_series(sizes, "hot")
    share, err = domains.domain_share(sizes[40], 40)
    assert share == pytest.approx(10 / 40) and err == pytest.approx(np.sqrt(2) / 40)
    assert domains.domain_share(sizes[40], 40, domains=("prethermal",)) == pytest.approx((0.75, 2 / 40))
    rows = domains.domain_summary(sizes).splitlines()
    assert rows[0] == "L = 40: nonthermal 6 ± 1.0, prethermal 30 ± 2.0, thermal 4 ± 1.0"
    assert len(rows) == 2

def test_length_scan_scales_the_relaxation_and_reuses_runs(monkeypatch):
    from replicate import twa
    from replicate.chain import ChainParams

    calls = []

    def fake_ness(params, **kw):
        calls.append((params, kw))
        return xr.Dataset(attrs={"L": params.L})

    monkeypatch.setattr(twa, "ness", fake_ness)
    main = xr.Dataset(attrs={"L": 40})
    p = ChainParams(L=40, F=8.0)
    out = domains.length_scan(p, (20, 40, 80), reuse={40: main}, n_traj=16, t_relax=100.0, t_avg=50.0, seed=3,
                             max_halvings=2)
    assert list(out) == [20, 40, 80] and out[40] is main and out[80].attrs["L"] == 80
    (p20, kw20), (p80, kw80) = calls
    assert p20 == p.with_(L=20) and p80.F == 8.0 and p80.L == 80
    assert kw20["t_relax"] == 100.0 and kw80["t_relax"] == pytest.approx(400.0)     # (80/40)² × 100
    assert kw20["seed"] == 23 and kw80["seed"] == 83
    assert kw80["keep_batches"] and kw80["max_halvings"] == 2 and kw80["n_traj"] == 16 and kw80["t_avg"] == 50.0


def test_length_scan_calls_the_engine_it_is_given():
    from replicate.chain import ChainParams

    seen = []
    out = domains.length_scan(ChainParams(L=10, F=6.0), (10, 20), n_traj=4, t_relax=1.0, t_avg=1.0,
                              engine=lambda params, **kw: seen.append(params.L) or xr.Dataset(attrs={"L": params.L}))
    assert seen == [10, 20] and out[20].attrs["L"] == 20
