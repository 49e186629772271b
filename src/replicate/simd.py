"""128-bit SIMD for NumPy and numba: the guard against a faulty 256-bit vector divider.

The machine CI runs on (an AMD EPYC, family 25, under KVM) computes wrong 256-bit double
divisions now and then: ``vdivpd`` on a ``ymm`` register returns a wrong third lane (relative
error ~4e-6) for seconds at a time, then is right again for tens of seconds. A C probe sees it
(:func:`vector_division_faults` is the same probe through NumPy); 128-bit and scalar division,
256-bit multiplication and square roots stayed right. NumPy's AVX2 loops and numba's
vectorised kernels (the logarithm of the Box-Muller noise, the phase α/|α| of the samples) use
that instruction, so on that machine a test fails at random and two identical TWA runs part.

:func:`guarded_environment` is the environment that keeps both on 128-bit vectors, where the
third lane does not exist:

- NumPy: ``NPY_DISABLE_CPU_FEATURES`` lists the dispatched feature groups above its baseline
  (``X86_V3``, ``X86_V4``, … as far as this CPU has them), so its loops run the X86_V2 (SSE4.2) code;
- numba: ``NUMBA_CPU_NAME`` and ``NUMBA_CPU_FEATURES`` are the host's, plus LLVM's
  ``+prefer-128-bit``, so the loop and SLP vectorisers emit 128-bit AVX code.

Both must be set before NumPy and numba are imported, hence an environment for a new process
(``python -m replicate.simd -- COMMAND``; the Makefile runs every stage of ``make book`` and
``make test`` so; the ``replicate`` command restarts itself so under ``REPLICATE_SIMD=128``). IEEE arithmetic is elementwise, and our kernels do not reassociate
(no ``fastmath``), so the numbers are bit for bit those of 256-bit code; NumPy's own vectorised
transcendental functions may differ in the last bits, which ``cache recompute`` reports as
``rounding``. The cost, measured on that machine: the Heun engine runs at ~0.65 of its 256-bit
throughput (``replicate bench``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence

VARIABLE = "REPLICATE_SIMD"
"""``128`` (the guard) or ``native``; the Makefile sets 128 unless told ``SIMD=native``."""
CHOICES = ("128", "native")
PREFER_128 = "+prefer-128-bit"


def _numpy_groups_above_baseline() -> list[str]:
    """NumPy's dispatched CPU feature groups that this CPU has (those NumPy would use)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [g for g in __cpu_dispatch__ if __cpu_features__.get(g, False)]


def guarded_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables that put NumPy and numba on 128-bit vectors (module docstring).

    Variables already set in ``environ`` are kept: a user's explicit ``NUMBA_CPU_NAME`` or
    ``NPY_DISABLE_CPU_FEATURES`` wins.
    """
    import llvmlite.binding as ll

    environ = os.environ if environ is None else environ
    features = ll.get_host_cpu_features().flatten()
    guard = {"NUMBA_CPU_NAME": ll.get_host_cpu_name(),
             "NUMBA_CPU_FEATURES": f"{features},{PREFER_128}" if features else PREFER_128,
             "NPY_DISABLE_CPU_FEATURES": " ".join(_numpy_groups_above_baseline())}
    return {k: v for k, v in guard.items() if v and k not in environ}


def mode(environ: Mapping[str, str] | None = None) -> str:
    """``REPLICATE_SIMD`` of ``environ``: ``128`` or ``native`` (default: native)."""
    value = (os.environ if environ is None else environ).get(VARIABLE, "native")
    if value not in CHOICES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(CHOICES)}, got {value!r}")
    return value


def restart_guarded(module: str, argv: Sequence[str]) -> None:
    """Under ``REPLICATE_SIMD=128``, restart this process as ``python -m module argv`` with the
    guard's environment if it lacks it (NumPy and numba read it only at import); else return.
    The ``replicate`` command calls it, so ``REPLICATE_SIMD=128 replicate run …`` is guarded."""
    if mode() != "128":
        return
    extra = guarded_environment()
    if extra:
        sys.stdout.flush()
        os.execvpe(sys.executable, [sys.executable, "-m", module, *argv], {**os.environ, **extra})


def vector_division_faults(seconds: float = 2.0, *, size: int = 1024) -> tuple[int, int]:
    """(wrong divisions, divisions) of NumPy's x / s over ``seconds``, each compared bit for bit
    with Python's correctly rounded scalar division. Only meaningful where NumPy's 256-bit loops
    are on (not under the guard); the fault comes and goes, so a 0 is no proof of health."""
    import numpy as np

    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be a positive finite number, got {seconds!r}")
    x = np.linspace(0.01, 1.0, size)
    s = 505.0
    expected = np.array([v / s for v in x.tolist()])
    out = np.empty_like(x)
    wrong = done = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        for _ in range(1000):
            np.divide(x, s, out=out)
            wrong += int(np.count_nonzero(out != expected))
        done += 1000 * size
    return wrong, done


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m replicate.simd [--probe S] [-- COMMAND ...]``: run COMMAND under the guard when
    ``REPLICATE_SIMD=128`` (natively otherwise), or probe NumPy's division for S seconds."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m replicate.simd", description=main.__doc__)
    ap.add_argument("--probe", type=float, metavar="SECONDS",
                    help="count wrong NumPy divisions over SECONDS (no command)")
    args = ap.parse_args(own)
    if args.probe is not None:
        wrong, done = vector_division_faults(args.probe)
        print(f"{wrong} wrong of {done} divisions in {args.probe:g} s"
              f" ({'guarded' if os.environ.get('NPY_DISABLE_CPU_FEATURES') else 'native'} NumPy)")
        return 1 if wrong else 0
    if not command:
        ap.error("give a command after --, or --probe SECONDS")
    env = dict(os.environ)
    try:
        if mode(env) == "128":
            env.update(guarded_environment(env))
    except ValueError as e:
        ap.error(str(e))
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        print(f"python -m replicate.simd: cannot run {command[0]!r}: {e.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
