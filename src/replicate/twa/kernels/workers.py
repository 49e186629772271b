"""Entry points of the kernels: advance every block of a run, sampling if asked.

``prange`` runs over workers, worker w taking blocks w, w + nworkers, ...; each worker has its own
:class:`.step.Workspace` and its own histogram buffers, and every trajectory its own noise stream,
so the numbers do not depend on the thread count.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .sample import accumulate
from .step import BLOCK, advance, workspace

State = namedtuple("State", ("xr", "xi", "rng", "ok"))
State.__doc__ = """The trajectories of a run: xr, xi (nblocks, L + 2, BLOCK) float64 (Re α, Im α),
rng (nblocks, 4, BLOCK) uint64 xoshiro states, ok (nblocks,) bool (False: block went non-finite)."""


@njit(cache=True, error_model="numpy")
def _finite(xr, xi):
    for l in range(xr.shape[0]):
        for j in range(BLOCK):
            if not (np.isfinite(xr[l, j]) and np.isfinite(xi[l, j])):
                return False
    return True


@njit(cache=True, error_model="numpy")
def _worker(w, state, nsteps, method, coef, sampler, nworkers):
    """Worker ``w`` of :func:`run`: blocks w, w + nworkers, ... with its own scratch arrays."""
    nblocks, Lp2, _ = state.xr.shape
    ws = workspace(Lp2, coef.nrows)
    every = sampler.every
    for b in range(w, nblocks, nworkers):
        if not state.ok[b]:
            continue
        xr, xi, rng = state.xr[b], state.xi[b], state.rng[b]
        if every > 0:
            for _ in range(nsteps // every):
                advance(xr, xi, rng, every, method, coef, ws)
                accumulate(xr, xi, b, w, sampler)
        else:
            advance(xr, xi, rng, nsteps, method, coef, ws)
        state.ok[b] = _finite(xr, xi)


@njit(cache=True, parallel=True, error_model="numpy")
def run(state, nsteps, method, coef, sampler, nworkers):
    """Advance all blocks of ``state`` by ``nsteps`` steps of integrator ``method`` with the
    :class:`.step.Coefficients` ``coef``; if ``sampler.every`` > 0, accumulate a sample every that
    many steps (:class:`.sample.Sampler`). ``nworkers`` workers run in parallel."""
    for w in prange(nworkers):
        _worker(w, state, nsteps, method, coef, sampler, nworkers)


@njit(cache=True, nogil=True, error_model="numpy")
def run_serial(state, nsteps, method, coef, sampler, nworkers):
    """:func:`run` on the calling thread without the GIL (no parallel region: for a single worker,
    whose thread-team start-up would cost more than the work on a busy machine, and for sweeps
    that run independent points on several Python threads). Same numbers."""
    for w in range(nworkers):
        _worker(w, state, nsteps, method, coef, sampler, nworkers)
