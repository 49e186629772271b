"""Parameters of the driven-dissipative Bose-Hubbard chain (Ferrari et al. 2025, Eqs. 2-4, 38-39, 49).

Time is measured in units of 1/γ of the paper (γ = 1 there); ``gamma`` is kept as a parameter
so that the loss rate can be varied or switched off.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .validate import chain_length, finite, positive

DRIVES = ("boundary", "uniform")


@dataclass(frozen=True)
class ChainParams:
    """One open chain of ``L`` Kerr resonators, Eq. (2) with Lindblad losses Eqs. (1), (3), (49).

    Parameters
    ----------
    L : int
        Number of sites (≥ 2).
    F : float
        Drive amplitude, term F(a + a†).
    Delta, J, U : float
        Pump-cavity detuning (enters as −Δ a†a), hopping (−J), Kerr (U/2 a†a†aa).
    gamma : float
        One-photon loss rate of the lossy sites (≥ 0).
    gamma_int : float
        Intrinsic loss rate on every site, SI Eq. (49) (≥ 0).
    drive : {"boundary", "uniform"}
        ``"boundary"``: drive F on site 1 only and loss γ on sites 1 and L (Eqs. 1-4).
        ``"uniform"``: every site driven with F (SI Eqs. 38-39); we then put the loss γ on
        **every** site, our reading of SI Eq. (39) (sum of dissipators over all ℓ).
    """

    L: int
    F: float
    Delta: float = 2.5
    J: float = 2.0
    U: float = 0.1
    gamma: float = 1.0
    gamma_int: float = 0.0
    drive: str = "boundary"

    def __post_init__(self) -> None:
        object.__setattr__(self, "L", chain_length(self.L))
        for name in ("F", "Delta", "J", "U"):
            object.__setattr__(self, name, finite(name, getattr(self, name)))
        for name in ("gamma", "gamma_int"):
            object.__setattr__(self, name, positive(name, getattr(self, name), allow_zero=True))
        if self.drive not in DRIVES:
            raise ValueError(f"drive must be one of {DRIVES}, got {self.drive!r}")

    def with_(self, **changes) -> "ChainParams":
        """A validated copy with some fields changed: ``p.with_(F=4.0)``."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The fields as a plain dict (for ``xarray`` attrs)."""
        return dataclasses.asdict(self)

    def drive_profile(self) -> np.ndarray:
        """Real drive amplitude F_ℓ on each site (length L)."""
        f = np.zeros(self.L)
        if self.drive == "boundary":
            f[0] = self.F
        else:
            f[:] = self.F
        return f

    def loss_profile(self) -> np.ndarray:
        """Total loss rate γ_ℓ on each site: γ(δ_ℓ1 + δ_ℓL) + γ_int (boundary), γ + γ_int (uniform)."""
        g = np.full(self.L, self.gamma_int)
        if self.drive == "boundary":
            g[0] += self.gamma
            g[-1] += self.gamma
        else:
            g += self.gamma
        return g


def as_chain(params) -> ChainParams:
    """``params`` itself if it is a :class:`ChainParams`, else a validated :class:`ChainParams`
    built from an object with the same attributes (``gamma_int`` and ``drive`` optional)."""
    if isinstance(params, ChainParams):
        return params
    try:
        fields = {k: getattr(params, k) for k in ("L", "F", "Delta", "J", "U", "gamma")}
    except AttributeError as exc:
        raise ValueError(f"params must be a ChainParams or have its attributes ({exc})") from None
    return ChainParams(**fields, gamma_int=getattr(params, "gamma_int", 0.0),
                       drive=getattr(params, "drive", "boundary"))
