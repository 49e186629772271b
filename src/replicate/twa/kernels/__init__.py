"""Numba kernels of the truncated-Wigner engine (Eq. 4; classical limit Eq. 35).

- :mod:`.noise` — per-trajectory xoshiro256+ streams and a branch-free Box-Muller;
- :mod:`.step` — the integrators (Heun, Euler) on blocks of ``BLOCK`` trajectories, their
  :class:`~.step.Coefficients` and scratch :class:`~.step.Workspace`;
- :mod:`.split` — the split-step (Strang) integrator: exact Kerr, bath (OU) and hopping flows;
- :mod:`.sample` — the registry of accumulated moments and histograms (:class:`~.sample.Sampler`,
  :class:`~.sample.Accumulators`);
- :mod:`.trajectory` — per-trajectory values at one time (time series, OTOC pairs);
- :mod:`.workers` — the entry points :func:`~.workers.run` (parallel over workers) and
  :func:`~.workers.run_serial`, on a :class:`~.workers.State`.
"""
from .workers import State, run, run_serial
from .sample import MOMENTS, NAMES, NQ, Accumulators, Sampler
from .trajectory import pair_decorrelation, snapshot
from .step import BLOCK, EULER, HEUN, INTEGRATORS, SPLIT, Coefficients, coefficients

__all__ = ["BLOCK", "HEUN", "EULER", "SPLIT", "INTEGRATORS", "Coefficients", "coefficients", "State",
           "run", "run_serial", "MOMENTS", "NAMES", "NQ", "Accumulators", "Sampler", "snapshot",
           "pair_decorrelation"]
