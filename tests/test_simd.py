"""The 128-bit SIMD guard (replicate.simd): its environment, its command line, and that numba
emits no 256-bit division under it while it does natively (the control)."""
import os
import re
import subprocess
import sys

import llvmlite.binding as ll
import pytest

from replicate import simd

KERNEL = """
import numpy as np, numba, re
@numba.njit(error_model="numpy")
def ratio(a, b):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = a[i] / b[i]
    return out
a = np.linspace(1.0, 2.0, 64)
ratio(a, a + 1.0)
asm = next(iter(ratio.inspect_asm().values()))
print(len(re.findall(r"vdivpd[^\\n]*%ymm", asm)), len(re.findall(r"v?divpd", asm)))
"""


def _run(code: str, mode: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CPU", "NPY_DISABLE"))}
    env.update({simd.VARIABLE: mode, "NUMBA_CACHE_DIR": os.devnull})
    out = subprocess.run([sys.executable, "-m", "replicate.simd", "--", sys.executable, "-c", code],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_guarded_environment_prefers_128_bit_vectors_and_keeps_the_users_choices():
    env = simd.guarded_environment({})
    assert env["NUMBA_CPU_FEATURES"].endswith(simd.PREFER_128)
    assert env["NUMBA_CPU_NAME"]
    kept = simd.guarded_environment({"NUMBA_CPU_NAME": "generic", "NPY_DISABLE_CPU_FEATURES": ""})
    assert "NUMBA_CPU_NAME" not in kept and "NPY_DISABLE_CPU_FEATURES" not in kept


def test_mode_is_checked():
    assert simd.mode({}) == "native"
    assert simd.mode({simd.VARIABLE: "128"}) == "128"
    with pytest.raises(ValueError, match=simd.VARIABLE):
        simd.mode({simd.VARIABLE: "256"})


HAS_AVX = pytest.mark.skipif("+avx," not in ll.get_host_cpu_features().flatten() + ",",
                             reason="the CPU has no 256-bit vectors")


@HAS_AVX
def test_numba_divides_in_256_bits_natively_and_in_128_bits_under_the_guard():
    native_ymm, native_any = map(int, _run(KERNEL, "native").split())
    guarded_ymm, guarded_any = map(int, _run(KERNEL, "128").split())
    assert native_ymm > 0            # the control: the loop is vectorised on ymm registers
    assert guarded_ymm == 0 and guarded_any > 0   # still vectorised, on xmm registers


@HAS_AVX
def test_numpy_runs_its_baseline_loops_under_the_guard():
    code = ("from numpy._core._multiarray_umath import __cpu_features__ as f, __cpu_dispatch__ as d;"
            "print(sum(bool(f.get(g)) for g in d))")
    assert int(_run(code, "native")) > 0     # the control: an AVX CPU runs NumPy's AVX2 loops
    assert int(_run(code, "128")) == 0


def test_command_line_errors_are_one_line():
    with pytest.raises(SystemExit):
        simd.main([])
    env = dict(os.environ, **{simd.VARIABLE: "wide"})
    out = subprocess.run([sys.executable, "-m", "replicate.simd", "--", "true"], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 2 and simd.VARIABLE in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "replicate.simd", "--", "/nonexistent/cmd"],
                         capture_output=True, text=True)
    assert out.returncode == 127 and "cannot run" in out.stderr and "Traceback" not in out.stderr


def test_probe_counts_divisions():
    wrong, done = simd.vector_division_faults(0.01, size=64)
    assert done >= 64_000 and 0 <= wrong <= done
    with pytest.raises(ValueError, match="seconds"):
        simd.vector_division_faults(float("nan"))


def test_the_replicate_command_restarts_itself_under_the_guard(monkeypatch):
    calls = []
    monkeypatch.setattr(simd.os, "execvpe", lambda *a: calls.append(a))
    for k in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NPY_DISABLE_CPU_FEATURES"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv(simd.VARIABLE, "native")
    simd.restart_guarded("replicate.pipeline.cli", ["list"])
    assert calls == []
    monkeypatch.setenv(simd.VARIABLE, "128")
    simd.restart_guarded("replicate.pipeline.cli", ["list"])
    (exe, args, env), = calls
    assert args[1:] == ["-m", "replicate.pipeline.cli", "list"]
    assert env["NUMBA_CPU_FEATURES"].endswith(simd.PREFER_128) and env[simd.VARIABLE] == "128"
    monkeypatch.setenv("NUMBA_CPU_NAME", env["NUMBA_CPU_NAME"])   # already guarded: no restart
    monkeypatch.setenv("NUMBA_CPU_FEATURES", env["NUMBA_CPU_FEATURES"])
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", env.get("NPY_DISABLE_CPU_FEATURES", ""))
    simd.restart_guarded("replicate.pipeline.cli", ["list"])
    assert len(calls) == 1


def test_a_bad_mode_is_a_one_line_error_of_the_replicate_command(monkeypatch, capsys):
    from replicate.pipeline import cli

    monkeypatch.setenv(simd.VARIABLE, "wide")
    assert cli.main(["list"]) == 2
    assert simd.VARIABLE in capsys.readouterr().err
