"""Truncated-Wigner engine for the driven-dissipative Bose-Hubbard chain (Ferrari et al. 2025).

Public entry points: :func:`ness` (steady state), :func:`evolve` (observables on a time grid),
:func:`otoc` and :func:`otoc_saturation` (phase OTOC, Eqs. 6/15), :func:`autocorrelation`
(SI Eq. 46). :mod:`.reference` holds the
plain-NumPy twin used as oracle and speed reference; :mod:`.bench` measures both.
"""
from .correlation import autocorrelation
from .engine import DEFAULT_DT, TWADivergenceError
from .evolve import evolve
from .ness import ness
from .otoc import otoc, otoc_saturation

__all__ = ["ness", "evolve", "otoc", "otoc_saturation", "autocorrelation", "DEFAULT_DT",
           "TWADivergenceError"]
