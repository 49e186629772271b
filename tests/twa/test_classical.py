"""Classical (Gross-Pitaevskii) limit, SI Eq. (35), against scipy's solve_ivp."""
import numpy as np
from scipy.integrate import solve_ivp

from replicate import twa
from replicate.chain import ChainParams
from systems import gp_rhs


def test_classical_matches_solve_ivp():
    p = ChainParams(L=4, F=3.0, gamma_int=0.05)
    a0 = np.array([0.5, 1.0j, -0.3, 0.2 + 0.1j])
    times = np.array([0.0, 0.5, 1.0, 2.0])
    ds = twa.evolve(p, n_traj=1, times=times, dt=5e-6, classical=True, alpha0=a0)
    sol = solve_ivp(gp_rhs(p), (0, 2.0), np.concatenate([a0.real, a0.imag]), t_eval=times,
                    method="DOP853", rtol=1e-12, atol=1e-12)
    exact = sol.y[:p.L] + 1j * sol.y[p.L:]
    got = ds["field_re"].values + 1j * ds["field_im"].values
    assert np.max(np.abs(got - exact.T)) < 1e-8
    # classical field: n = |α|² (no ordering correction) and a single amplitude is Poissonian
    assert np.allclose(ds["n"].values, np.abs(exact.T) ** 2, atol=1e-7)
    assert np.allclose(ds["delta_n"].values[1:], 0.0, atol=1e-6)
