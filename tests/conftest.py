"""Shared test settings: tests mirror the package (twa/, kinetics/, analysis/, pipeline/) and
oracles/ holds the exact reference systems (QuTiP steady states, the dense cumulant equations).

Numba compiles each kernel once per machine (``cache=True``); the first test to call the TWA
engine pays for it.
"""
import os

os.environ.setdefault("PYTHONHASHSEED", "0")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # every xdist worker is a process of its own: dense linear algebra with as many BLAS threads
    # as cores then oversubscribes the machine (the exact L = 2 steady state took 39 s instead of
    # 7.5 s with two workers on two cores). One BLAS thread per worker, set before scipy loads
    # its BLAS (threadpoolctl would limit only the libraries already loaded).
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
