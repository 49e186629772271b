"""replicate: a reproducible replication book for two papers on nonequilibrium bosonic chains.

``replicate.ChainParams`` describes a chain (Ferrari et al.); the solvers live in the
subpackages ``replicate.twa`` (truncated Wigner), ``replicate.kinetics`` (Ribeiro & Marquardt),
``replicate.exact`` and ``replicate.cumulants``. Subpackages are imported on first use, so that
``import replicate`` stays light (the TWA kernels pull in numba).
"""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from .chain import ChainParams

try:
    __version__ = version("replicate")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

_SUBMODULES = ("twa", "kinetics", "exact", "cumulants", "stats", "sweep", "analysis", "pipeline")

__all__ = ["ChainParams", "__version__", *_SUBMODULES]


def __getattr__(name: str):
    """``replicate.twa`` etc. without an explicit ``import replicate.twa`` (PEP 562)."""
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'replicate' has no attribute {name!r}")
