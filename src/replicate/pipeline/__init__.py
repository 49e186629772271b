"""The book pipeline: the figure catalogue, profiles, claims ledgers, chapter execution
(papermill), the Jupyter Book build, the scorecard, the regression check and the CLI.

Chapters use :class:`Ledger` (claims), :func:`default` (profile settings) and the plotting
helpers; nothing in the physics packages imports this one.
"""
from .claims import Ledger
from .plotting import error_band, panel_labels, savefig
from .profiles import default, pick
from .schematic import draw_chain

__all__ = ["Ledger", "default", "pick", "panel_labels", "error_band", "savefig", "draw_chain"]
