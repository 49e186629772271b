"""replicate: a reproducible replication book for two papers on nonequilibrium bosonic chains."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("replicate")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
