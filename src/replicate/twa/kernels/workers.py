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
from .split import CLOSE, OPEN, close_into
from .step import BLOCK, SPLIT, advance, workspace

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
def _worker(w, state, nsteps, method, coef, sampler, nworkers, edges):
    """Worker ``w`` of :func:`run`: blocks w, w + nworkers, ... with its own scratch arrays.

    Split step: the samples are taken on the whole-step state A(h/2) w of the mid-step state w
    (:func:`.split.close_into`, into the unused predictor scratch), so the trajectories do not
    depend on the sampling interval; the first call of a run opens (``edges`` :data:`OPEN`), the
    last closes (:data:`CLOSE`)."""
    nblocks, Lp2, _ = state.xr.shape
    ws = workspace(Lp2, coef.nrows)
    every = sampler.every
    for b in range(w, nblocks, nworkers):
        if not state.ok[b]:
            continue
        xr, xi, rng = state.xr[b], state.xi[b], state.rng[b]
        if every > 0:
            nsamp = nsteps // every
            for k in range(nsamp):
                e = (edges & OPEN) if k == 0 else 0
                if k == nsamp - 1:
                    e |= edges & CLOSE
                advance(xr, xi, rng, every, method, coef, ws, e)
                if method == SPLIT and (e & CLOSE) == 0:
                    close_into(xr, xi, ws.pr, ws.pi, coef)
                    accumulate(ws.pr, ws.pi, b, w, sampler)
                else:
                    accumulate(xr, xi, b, w, sampler)
        else:
            advance(xr, xi, rng, nsteps, method, coef, ws, edges)
        state.ok[b] = _finite(xr, xi)


@njit(cache=True, parallel=True, error_model="numpy")
def run(state, nsteps, method, coef, sampler, nworkers, edges):
    """Advance all blocks of ``state`` by ``nsteps`` steps of integrator ``method`` with the
    :class:`.step.Coefficients` ``coef``; if ``sampler.every`` > 0, accumulate a sample every that
    many steps (:class:`.sample.Sampler`). ``nworkers`` workers run in parallel. ``edges``: bits
    :data:`.split.OPEN` (the state is a whole-step state) and :data:`.split.CLOSE` (end at one)
    of the split step (:func:`.split.split`); ignored by Heun and Euler."""
    for w in prange(nworkers):
        _worker(w, state, nsteps, method, coef, sampler, nworkers, edges)


@njit(cache=True, nogil=True, error_model="numpy")
def run_serial(state, nsteps, method, coef, sampler, nworkers, edges):
    """:func:`run` on the calling thread without the GIL (no parallel region: for a single worker,
    whose thread-team start-up would cost more than the work on a busy machine, and for sweeps
    that run independent points on several Python threads). Same numbers."""
    for w in range(nworkers):
        _worker(w, state, nsteps, method, coef, sampler, nworkers, edges)
