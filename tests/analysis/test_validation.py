"""The TWA-vs-exact comparison of SI Fig. 9 (replicate.analysis.validation): its rows, its runs
and what it records on a ledger."""
import numpy as np
import pytest

from replicate import twa
from replicate.analysis import validation


class FakeLedger:
    def __init__(self):
        self.checks, self.values = {}, {}

    def check(self, key, measured, error=None, *, control=None):
        self.checks[key] = (measured, error, control)

    def value(self, key, what, value, error):
        self.values[key] = (float(value), error)


@pytest.fixture(scope="module")
def runs():
    calls = []

    def ness(p, **kw):
        calls.append((p, kw))
        return twa.ness(p, **kw)

    r = validation.Runs(Delta=2.5, J=2.0, gamma=1.0, n_traj=128, t_relax=10.0, t_avg=20.0, seed=3,
                        coherent_cutoffs=(4, 6), ness=ness)
    r.calls = calls
    return r


def test_rows_split_the_dimer_from_the_table_and_mark_the_linear_checks():
    dimer, table = validation.comparison_rows(U=0.1, F_fig9=(0.5, 1.0), F_coherent=(10.0,),
                                              F_table=(0.5, 2.0), L_table=(2, 3),
                                              U_factors=(0.0, 1.0), ladder_note="; ladder")
    assert [r["key"] for r in dimer] == ["dimer-vacuum-F0.5", "dimer-coherent-F0.5", "dimer-vacuum-F1",
                                         "dimer-coherent-F1", "dimer-vacuum-F10", "dimer-coherent-F10"]
    assert [r["ref"] for r in dimer][-2:] == ["ladder", "ladder"] and dimer[-1]["extra"] == "; ladder"
    assert dimer[0]["panels"] == ("(a)", "(c)") and dimer[1]["panels"] == ("(b)", "(d)")
    keys = [r["key"] for r in table]
    assert "L2-1U-F0.5" not in keys and "L2-1U-F2" in keys  # the dimer row at F = 0.5 is in `dimer`
    assert {r["key"] for r in table if r["check"]} == {"L2-0U-F0.5", "L2-0U-F2", "L3-0U-F0.5", "L3-0U-F2"}


def test_runs_are_made_once_and_the_coherent_start_takes_the_vacuum_field(runs):
    v = runs("vacuum", 2, 0.1, 0.5)
    c = runs("coherent", 2, 0.1, 0.5)
    assert runs("vacuum", 2, 0.1, 0.5) is v and len(runs.calls) == 2
    (_, kv), (_, kc) = runs.calls
    assert kv["alpha0"] is None and kv["seed"] == 3 and kc["seed"] == 4
    np.testing.assert_array_equal(kc["alpha0"], v.field_re.values + 1j * v.field_im.values)
    assert c.n.sel(site=2) > 0
    with pytest.raises(ValueError, match="how"):
        runs("exakt", 2, 0.1, 0.5)
    with pytest.raises(ValueError, match="F_sign"):
        validation.Runs(Delta=2.5, J=2.0, gamma=1.0, n_traj=8, t_relax=1.0, t_avg=1.0, seed=0, F_sign=2.0)


def test_record_checks_each_row_against_exact_with_the_linear_control(runs):
    rows = [dict(key="d", L=2, U=0.1, F=0.5, start="vacuum", ref="exact"),
            dict(key="c", L=2, U=0.0, F=0.5, start="vacuum", ref="exact", check=True)]
    ledger = FakeLedger()
    lines = validation.record(ledger, rows, runs)
    assert len(lines) == 2 and "exact n_L" in lines[0]
    ex = runs("exact", 2, 0.1, 0.5).isel(site=-1)
    tw = runs("vacuum", 2, 0.1, 0.5).isel(site=-1)
    d, e, control = ledger.checks["n-d"]
    assert d == pytest.approx((float(tw.n) - float(ex.n)) / float(ex.n)) and e > 0
    lin = runs("vacuum", 2, 0.0, 0.5).isel(site=-1)
    assert control[0] == pytest.approx((float(lin.n) - float(ex.n)) / float(ex.n))
    pull, one, none = ledger.checks["dn-c"]  # U = 0: the TWA is exact, a pull within a few σ
    assert one == 1.0 and none is None and abs(pull) < 5
    assert ledger.values["n-exact-d"] == (pytest.approx(float(ex.n)), None)


def test_exact_runs_go_through_the_given_solvers(tmp_path, monkeypatch):
    """The chapter passes cached solvers (one ladder costs minutes at the paper's cutoffs): the
    exact and ladder runs must call them, and a cached exact state must equal a fresh one."""
    from replicate import exact
    from replicate.sweep import cached

    monkeypatch.setenv("REPLICATE_CACHE", str(tmp_path))
    seen = []

    def counting(func):
        store = cached(func)

        def call(*args, **kw):
            seen.append(func.__name__)
            return store(*args, **kw)
        return call

    r = validation.Runs(Delta=2.5, J=2.0, gamma=1.0, n_traj=16, t_relax=2.0, t_avg=2.0, seed=0,
                        coherent_cutoffs=(3, 4), steady_state=counting(exact.steady_state),
                        cutoff_ladder=counting(exact.cutoff_ladder))
    ex = r("exact", 2, 0.1, 0.5)
    ladder = r("ladder", 2, 0.1, 0.5)
    assert seen == ["steady_state", "cutoff_ladder"]
    assert ladder.n_ladder.sizes["n_max"] == 2
    fresh = exact.steady_state(r.params(2, 0.1, 0.5), atol=r.exact_atol, rtol=r.exact_atol,
                               max_dim=r.exact_max_dim)
    assert ex.identical(fresh)  # no wall time in it: a pure function of its arguments
