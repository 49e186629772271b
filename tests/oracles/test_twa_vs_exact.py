"""TWA against the exact Lindblad steady state of small chains (QuTiP).

The TWA is a semiclassical approximation: it is accurate where sites hold a photon or more and
misses δn by ~0.1 at n ≲ 0.3 (the validation chapter measures both). The oracle therefore checks
the sites with n ≥ ``N_MIN``: 2 % of n and 0.05 in δn, plus 3 TWA standard errors. n is tight
enough that dropping the "−1" of U(|α|² − 1) — a shift of the detuning by U — fails.
"""
import numpy as np
import pytest

pytest.importorskip("qutip")
from replicate import exact, twa  # noqa: E402
from replicate.chain import ChainParams  # noqa: E402

N_MIN = 0.5
RUN = dict(n_traj=2000, t_relax=30.0, t_avg=100.0, seed=2)


def _agrees(tw, ex):
    occupied = ex.n.values >= N_MIN
    ok_n = np.abs(tw.n - ex.n) <= 0.02 * ex.n + 3 * tw.n_err
    ok_dn = np.abs(tw.delta_n - ex.delta_n) <= 0.05 + 3 * tw.delta_n_err
    return occupied, ok_n.values, ok_dn.values


@pytest.mark.parametrize("L, F", [(2, 2.5), (3, 1.5)])
def test_twa_matches_exact_lindblad_where_occupied(L, F):
    p = ChainParams(L=L, F=F)
    ex = exact.steady_state(p, atol=1e-3, rtol=1e-3)
    occupied, ok_n, ok_dn = _agrees(twa.ness(p, **RUN), ex)
    assert occupied.sum() >= 2
    assert ok_n[occupied].all() and ok_dn[occupied].all()


def test_missing_quantum_correction_would_be_caught():
    """The detuning shifted by U (what dropping the −1 amounts to) misses n beyond tolerance."""
    p = ChainParams(L=2, F=2.5)
    ex = exact.steady_state(p, atol=1e-3, rtol=1e-3)
    occupied, ok_n, _ = _agrees(twa.ness(p.with_(Delta=p.Delta + p.U), **RUN), ex)
    assert not ok_n[occupied].all()
