"""Autocorrelation of SI Eq. (46) against the exact answer of a linear driven lossy mode."""
import numpy as np
import pytest

from replicate import twa
from replicate.chain import ChainParams


def test_linear_mode_autocorrelation_is_exact():
    """J = U = 0: site 1 is a driven lossy mode, α = α_ss + δα with an Ornstein-Uhlenbeck δα of
    variance ½ and ⟨δα*(t+τ) δα(t)⟩ = ½ e^{(−iΔ − γ/2)τ}, so
    C(τ) = [|α_ss|² + ½ e^{(−iΔ−γ/2)τ}] / (|α_ss|² + ½)."""
    p = ChainParams(L=2, F=0.6, Delta=1.5, J=0.0, U=0.0)
    a_ss = 1j * p.F / (1j * p.Delta - 0.5 * p.gamma)  # 0 = (iΔ − γ/2)α − iF
    ds = twa.autocorrelation(p, sites=[1], n_lags=12, n_traj=512, t_relax=20.0, t_avg=200.0,
                             sample_every=0.25, seed=4)
    tau = ds["tau"].values
    exact = (abs(a_ss) ** 2 + 0.5 * np.exp((-1j * p.Delta - 0.5 * p.gamma) * tau)) / (abs(a_ss) ** 2 + 0.5)
    c = ds.sel(site=1)
    z_re = (c["C_re"].values - exact.real) / np.where(c["C_re_err"] > 0, c["C_re_err"], 1)
    z_im = (c["C_im"].values - exact.imag) / np.where(c["C_im_err"] > 0, c["C_im_err"], 1)
    assert c["C_re"].values[0] == pytest.approx(1.0, abs=1e-15) and abs(c["C_im"].values[0]) < 1e-15
    assert np.all(np.abs(z_re[1:]) < 4), z_re
    assert np.all(np.abs(z_im[1:]) < 4), z_im


def test_autocorrelation_validation():
    p = ChainParams(L=3, F=1.0)
    with pytest.raises(ValueError, match="n_lags"):
        twa.autocorrelation(p, sites=[1], n_lags=50, n_traj=4, t_relax=0.0, t_avg=1.0)
    with pytest.raises(ValueError, match="site"):
        twa.autocorrelation(p, sites=[4], n_lags=2, n_traj=4, t_relax=0.0, t_avg=1.0)
