"""Throughput of the numba TWA engine and of the NumPy reference: site-steps per second.

site-steps/s = n_traj × steps × L / wall time, for the Heun integrator of Eq. (4) (``--integrator``; its flop count gives the fraction of peak) at
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

Heun vs split step (:mod:`.kernels.split`), measured side by side in one run: the site-steps/s of
both kernels (interleaved repeats, median), and a time-to-accuracy table (:func:`time_to_accuracy`):
for each chain and drive, the wall time of the largest step of each integrator whose n_L and
δn_L agree with a small-dt reference (Heun, dt = ``--tta-ref-dt``, 4× the trajectories) within
the combined sampling error (|z| ≤ ``--tta-z``), and the ratio Heun/split. Printed, not asserted.
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
from .engine import Simulation, TWADivergenceError
from .evolve import evolve
from .ness import ness
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
    for f in (step.workspace, step.heun, step.euler, kernels.split.split, step.advance,
              sample.accumulate, workers._finite, workers._worker, kernels.run, kernels.run_serial,
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
    ap.add_argument("--integrator", default="heun", choices=["heun", "euler", "split"])
    ap.add_argument("--work", type=float, default=4e8, help="engine site-steps per measurement")
    ap.add_argument("--ref-work", type=float, default=2e7, help="reference site-steps per point")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold-compile timing")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the Heun/split comparisons")
    ap.add_argument("--tta-L", type=int, nargs="*", default=[10],
                    help="chains of the time-to-accuracy table (none: skip it)")
    ap.add_argument("--tta-F", type=float, nargs="+", default=[6.0, 11.0],
                    help="drives (L = 10: regime II at 6, III at 11; the leap is at F ≈ 9.4)")
    ap.add_argument("--tta-n-traj", type=int, default=256)
    ap.add_argument("--tta-t", type=float, nargs=2, default=[40.0, 100.0],
                    metavar=("T_RELAX", "T_AVG"))
    ap.add_argument("--tta-ref-dt", type=float, default=0.0025)
    ap.add_argument("--tta-z", type=float, default=2.0, help="accepted |difference| / combined error")
    return ap


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv`` and run :func:`run`."""
    ap = add_arguments(argparse.ArgumentParser(prog="replicate bench", description=__doc__.splitlines()[0]))
    return run(ap.parse_args(argv))


def run(args: argparse.Namespace) -> dict:
    """Print and return {(L, n_traj): (engine rate, reference rate)} in site-steps/s, with
    "rates" ({L: (Heun, split)}) and "tta" (:func:`time_to_accuracy`)."""
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
    out["rates"] = rates = heun_vs_split_rates(args.L, n, args.work, args.repeats)
    print(f"site-steps/s, Heun vs split (n_traj = {n}, median of {args.repeats} interleaved repeats):")
    for L, (h, sp) in rates.items():
        print(f"  L = {L:>3}: heun {h:.3g}, split {sp:.3g}, split/heun {sp / h:.2f}", flush=True)
    if args.tta_L:
        out["tta"] = time_to_accuracy(args.tta_L, args.tta_F, n_traj=args.tta_n_traj,
                                      t_relax=args.tta_t[0], t_avg=args.tta_t[1],
                                      ref_dt=args.tta_ref_dt, z=args.tta_z, repeats=args.repeats)
    return out


def heun_vs_split_rates(Ls, n_traj: int, work: float, repeats: int) -> dict:
    """{L: (Heun, split) site-steps/s}, medians of interleaved repeats (the machine's load drifts)."""
    out = {}
    for L in Ls:
        r = {"heun": [], "split": []}
        for _ in range(max(1, repeats)):
            for name in r:
                r[name].append(_engine_rate(L, n_traj, work, name))
        out[L] = (float(np.median(r["heun"])), float(np.median(r["split"])))
    return out


HEUN_DTS = (0.02, 0.01, 0.005, 0.0025)
SPLIT_DTS = (0.1, 0.05, 0.025, 0.0125)


def _observe(p, integrator, dt, n_traj, t_relax, t_avg, seed, repeats=1):
    """(n_L, err, δn_L, err, median wall time) of one NESS run; None if it diverges."""
    walls = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        try:
            ds = ness(p, n_traj=n_traj, t_relax=t_relax, t_avg=t_avg, sample_every=0.5, dt=dt,
                      seed=seed, integrator=integrator, max_halvings=0)
        except TWADivergenceError:
            return None
        walls.append(time.perf_counter() - t0)
    last = {k: float(ds[k].values[-1]) for k in ("n", "n_err", "delta_n", "delta_n_err")}
    return last["n"], last["n_err"], last["delta_n"], last["delta_n_err"], float(np.median(walls))


def time_to_accuracy(Ls, Fs, *, n_traj: int, t_relax: float, t_avg: float, ref_dt: float, z: float,
                     repeats: int) -> dict:
    """Print and return {(L, F): {integrator: (dt, wall time)}}: for each integrator the largest
    step of its ladder (:data:`HEUN_DTS`, :data:`SPLIT_DTS`) whose n_L and δn_L are within ``z``
    combined standard errors of a Heun run at ``ref_dt`` with 4 ``n_traj`` trajectories (another
    seed), and that run's wall time (median of ``repeats``); None if no step of the ladder is."""
    print(f"time to accuracy: n_traj = {n_traj}, t_relax = {t_relax:g}, t_avg = {t_avg:g}; "
          f"reference heun dt = {ref_dt:g} with {4 * n_traj} trajectories; accepted |z| <= {z:g}")
    print(f"{'L':>4} {'F':>5} {'integrator':>10} {'dt':>7} {'n_L':>16} {'dn_L':>16} {'z_n':>6} "
          f"{'z_dn':>6} {'wall/s':>7}")
    out = {}
    for L in Ls:
        for F in Fs:
            p = ChainParams(L=L, F=F)
            ref = _observe(p, "heun", ref_dt, 4 * n_traj, t_relax, t_avg, seed=1)
            print(f"{L:>4} {F:>5g} {'reference':>10} {ref_dt:>7g} {ref[0]:>9.4f}±{ref[1]:<6.4f} "
                  f"{ref[2]:>9.4f}±{ref[3]:<6.4f} {'':>6} {'':>6} {ref[4]:>7.2f}", flush=True)
            best = {}
            for name, dts in (("heun", HEUN_DTS), ("split", SPLIT_DTS)):
                best[name] = None
                for dt in dts:
                    got = _observe(p, name, dt, n_traj, t_relax, t_avg, seed=2, repeats=repeats)
                    if got is None:
                        print(f"{L:>4} {F:>5g} {name:>10} {dt:>7g}   diverged", flush=True)
                        continue
                    zn = (got[0] - ref[0]) / np.hypot(got[1], ref[1])
                    zd = (got[2] - ref[2]) / np.hypot(got[3], ref[3])
                    ok = abs(zn) <= z and abs(zd) <= z
                    print(f"{L:>4} {F:>5g} {name:>10} {dt:>7g} {got[0]:>9.4f}±{got[1]:<6.4f} "
                          f"{got[2]:>9.4f}±{got[3]:<6.4f} {zn:>6.2f} {zd:>6.2f} {got[4]:>7.2f}"
                          f"{'  <- accepted' if ok else ''}", flush=True)
                    if ok:
                        best[name] = (dt, got[4])
                        break
            h, sp = best["heun"], best["split"]
            ratio = f"{h[1] / sp[1]:.1f}x" if h and sp else "n/a"
            print(f"  L = {L}, F = {F:g}: heun {h}, split {sp} (dt, wall/s) -> "
                  f"time-to-accuracy heun/split = {ratio}", flush=True)
            out[(L, F)] = best
    return out


if __name__ == "__main__":
    main()
