"""Run small dense linear algebra on one BLAS thread.

The kinetic problems are L×L with L ~ 100: multi-threaded OpenBLAS only adds synchronisation
cost there, and on a busy 2-core machine it made the steady-state solver ~20× slower.
Results do not depend on the thread count.  Without OpenBLAS this is a no-op.
"""
from __future__ import annotations

import ctypes
import glob
import os
from contextlib import contextmanager

import numpy
import scipy

_NAMES = [("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
          ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
          ("openblas_set_num_threads", "openblas_get_num_threads")]


def _controls() -> list[tuple]:
    out = []
    for pkg in (numpy, scipy):
        libdir = os.path.join(os.path.dirname(os.path.dirname(pkg.__file__)), f"{pkg.__name__}.libs")
        for path in glob.glob(os.path.join(libdir, "*openblas*")):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for set_name, get_name in _NAMES:
                if hasattr(lib, set_name) and hasattr(lib, get_name):
                    out.append((getattr(lib, set_name), getattr(lib, get_name)))
                    break
    return out


_CONTROLS = _controls()


@contextmanager
def single_blas_thread():
    """Context manager: OpenBLAS (numpy's and scipy's) on one thread, restored on exit."""
    previous = [get() for _, get in _CONTROLS]
    for set_, _ in _CONTROLS:
        set_(1)
    try:
        yield
    finally:
        for (set_, _), n in zip(_CONTROLS, previous):
            set_(n)
