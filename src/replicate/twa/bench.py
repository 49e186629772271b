"""Throughput of the numba TWA engine and of the NumPy reference: site-steps per second.

site-steps/s = n_traj × steps × L / wall time, for the default integrator (Heun) of Eq. (4) at
the paper's parameters (Δ = 2.5, J = 2, U = 0.1, γ = 1) at boundary drive F = 2, quasilinear at every L
(throughput does not depend on F; long chaotic runs can need a smaller dt). The first call
(numba compilation, or loading the on-disk cache) is timed separately.

Fraction of the FMA peak: the Heun step costs ``FLOPS_PER_SITE_STEP`` floating-point operations
per trajectory and site (counted in :func:`replicate.twa.kernels.step.heun`: predictor
|α|² 3, w 2, drift 6 + 7, four stage values 4 × 3; corrector |α|² 3, w 2, drift 6 + 7, update
2 × 2; the noise products on the two lossy sites are negligible), and the machine's peak is
*measured* with :func:`fma_peak`, a numba kernel of independent fused multiply-adds held in
vector registers on every thread (2 flops per FMA).  The engine itself is compiled without
floating-point contraction (it must agree bit for bit with the NumPy reference), so it issues
separate multiplies and adds: half the FMA peak is its ceiling.
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from numba import njit, prange

from ..chain import ChainParams
from . import kernels
from .kernels import sample, step, workers
from .engine import Simulation
from .evolve import evolve
from .otoc import otoc
from .reference import Reference


FLOPS_PER_SITE_STEP = 52  # Heun step of Eq. (4), see the module docstring


_CHAINS = 128  # independent FMA chains per thread: enough to cover FMA latency × pipes × lanes


@njit(parallel=True, fastmath={"contract"}, cache=True)
def _fma_kernel(out, a, b, reps):
    for w in prange(out.size):
        x = np.ones(_CHAINS)  # fixed size: LLVM keeps the chains in vector registers
        for _ in range(reps):
            for j in range(_CHAINS):
                x[j] = x[j] * a + b
        out[w] = x.sum()
    return out


def fma_peak(seconds: float = 1.0) -> float:
    """Measured peak flop rate of this machine (all numba threads): ``_CHAINS`` independent
    fused multiply-add chains per thread in registers, counted as 2 flops per FMA."""
    out = np.zeros(numba.get_num_threads())
    _fma_kernel(out, 0.999999, 1e-7, 10)
    reps = 10000
    while True:
        t0 = time.perf_counter()
        _fma_kernel(out, 0.999999, 1e-7, reps)
        dt = time.perf_counter() - t0
        if dt > seconds / 4:
            return 2.0 * _CHAINS * out.size * reps / dt
        reps *= 4


def compile_time() -> tuple[float, float]:
    """(first-call time, cold compile time) of the numba kernels, in seconds.

    The first call loads the on-disk cache when present; the cold time recompiles every kernel
    from scratch (and rewrites the cache).
    """
    p = ChainParams(L=2, F=1.0)
    t0 = time.perf_counter()
    evolve(p, n_traj=1, times=[0.0, 0.01], dt=0.01)
    otoc(p, n_traj=1, t_relax=0.0, times=[0.0], dt=0.01)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for f in (step.workspace, step.heun, step.euler, step.advance, sample.accumulate,
              workers._finite, workers._worker, kernels.run, kernels.run_serial,
              kernels.snapshot, kernels.pair_decorrelation):
        if f.signatures:
            f.recompile()
    return first, time.perf_counter() - t0


def _engine_rate(L: int, n_traj: int, work: float, integrator: str, classical: bool = False) -> float:
    sim = Simulation(ChainParams(L=L, F=2.0), n_traj=n_traj, dt=0.005, seed=0, classical=classical,
                     integrator=integrator)
    sim.run(20)
    steps = max(20, int(work / (n_traj * L)))
    t0 = time.perf_counter()
    sim.run(steps)
    return n_traj * L * steps / (time.perf_counter() - t0)


def _reference_rate(L: int, n_traj: int, work: float, integrator: str) -> float:
    ref = Reference(ChainParams(L=L, F=2.0), n_traj=n_traj, dt=0.005, seed=0, integrator=integrator)
    ref.run(2)
    steps = max(5, int(work / (n_traj * L)))
    t0 = time.perf_counter()
    ref.run(steps)
    return n_traj * L * steps / (time.perf_counter() - t0)


def add_arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The benchmark's options (shared by ``replicate bench`` and ``python -m``)."""
    ap.add_argument("--L", type=int, nargs="+", default=[10, 40, 160])
    ap.add_argument("--n-traj", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--integrator", default="heun", choices=["heun", "euler"])
    ap.add_argument("--work", type=float, default=4e8, help="engine site-steps per measurement")
    ap.add_argument("--ref-work", type=float, default=2e7, help="reference site-steps per point")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold-compile timing")
    return ap


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and run :func:`run`."""
    ap = add_arguments(argparse.ArgumentParser(prog="replicate bench", description=__doc__.splitlines()[0]))
    return run(ap.parse_args(argv))


def run(args: argparse.Namespace) -> dict:
    """Print and return {(L, n_traj): (engine rate, reference rate)} in site-steps/s."""
    if args.no_compile:
        print(f"numba threads: {numba.get_num_threads()} (compile timing skipped)")
    else:
        first, cold = compile_time()
        print(f"numba: first call {first:.2f} s (cache load or compile), cold compile {cold:.2f} s;"
              f" threads: {numba.get_num_threads()}")
    peak = fma_peak()
    print(f"measured FMA peak: {peak:.3g} flop/s; Heun costs {FLOPS_PER_SITE_STEP} flops per site-step")
    print(f"{'L':>5} {'n_traj':>7} {'engine':>12} {'numpy ref':>12} {'ratio':>7} {'of peak':>8}   (site-steps/s)")
    out = {}
    for L in args.L:
        for n in args.n_traj:
            eng = _engine_rate(L, n, args.work, args.integrator)
            ref = _reference_rate(L, n, args.ref_work, args.integrator)
            out[(L, n)] = (eng, ref)
            frac = eng * FLOPS_PER_SITE_STEP / peak
            print(f"{L:>5} {n:>7} {eng:>12.3g} {ref:>12.3g} {eng / ref:>7.1f} {frac:>8.1%}", flush=True)
    print("where the time goes (noise = random numbers and Box-Muller on the lossy sites):")
    n = args.n_traj[len(args.n_traj) // 2]
    for L in args.L:
        eng = out[(L, n)][0]
        drift = _engine_rate(L, n, args.work, args.integrator, classical=True)
        print(f"  L = {L:>3}, n_traj = {n}: drift only {drift:.3g} site-steps/s; "
              f"noise takes {1 - eng / drift:.0%} of the time", flush=True)
    return out


if __name__ == "__main__":
    main()
