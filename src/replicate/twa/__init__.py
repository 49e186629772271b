"""Truncated-Wigner engine for the driven-dissipative Bose-Hubbard chain (Ferrari et al. 2025).

Public drivers, each returning an ``xarray.Dataset``: :func:`ness` (steady state), :func:`evolve`
(observables on a time grid), :func:`otoc`, :func:`otoc_eps_scan` and :func:`otoc_saturation`
(phase OTOC, Eqs. 6/15), :func:`autocorrelation` (SI Eq. 46), :func:`site_samples`
(raw per-site samples; :func:`ness` with ``p_grid`` and ``keep_batches=LOCAL_MOMENTS`` gives the
momentum histograms and higher moments of SI Figs. 13-14), :func:`phase_diagram` (the (L, F)
plane). :mod:`.engine` holds :class:`~.engine.Simulation`, the one builder of runs, and
:func:`~.engine.with_dt_halving`, the one dt control of every driver (``max_halvings``);
:mod:`.kernels` the numba kernels (integrators, the registry of accumulated moments and
histograms); :mod:`.reference` the plain-NumPy twin used as oracle and speed reference;
:mod:`.bench` measures both.
"""
from .correlation import autocorrelation
from .engine import DEFAULT_DT, DEFAULT_INTEGRATOR, TWADivergenceError
from .evolve import evolve
from .ness import ness
from .otoc import otoc, otoc_eps_scan, otoc_saturation
from .phase import phase_diagram, steady_point
from .observables import LOCAL_MOMENTS
from .samples import site_samples

__all__ = ["ness", "evolve", "otoc", "otoc_eps_scan", "otoc_saturation", "autocorrelation",
           "site_samples", "LOCAL_MOMENTS", "phase_diagram", "steady_point", "DEFAULT_DT",
           "DEFAULT_INTEGRATOR", "TWADivergenceError"]
