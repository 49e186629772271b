"""Shared test settings: tests mirror the package (twa/, kinetics/, analysis/, pipeline/) and
oracles/ holds the exact reference systems (QuTiP steady states, the dense cumulant equations).

Numba compiles each kernel once per machine (``cache=True``); the first test to call the TWA
engine pays for it.
"""
import os

os.environ.setdefault("PYTHONHASHSEED", "0")
