"""Small plotting helpers shared by the chapters: panel letters, error bands, figure export."""
from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np

FIGURE_DIR = "figures"


def panel_labels(axes: Iterable, letters: str = string.ascii_lowercase, x: float = -0.14,
                 y: float = 1.04) -> None:
    """Write the paper's panel letters (a), (b), … in the upper-left corner of each axis."""
    for ax, letter in zip(list(axes), letters):
        ax.text(x, y, f"({letter})", transform=ax.transAxes, fontweight="bold", va="bottom")


def error_band(ax, x, y, err, *, log: bool = False, alpha: float = 0.3, **line_kw):
    """Plot ``y(x)`` as a line with a ±``err`` band in the line's colour; returns the line.

    ``log=True`` keeps the band positive on a log axis (its lower edge is clipped at y/10) and
    skips points with y ≤ 0. ``line_kw`` go to ``ax.plot`` (label, colour, lw, ls, ...).
    """
    x, y, err = (np.asarray(a, dtype=float) for a in (x, y, err))
    ok = np.isfinite(y) & np.isfinite(err) & ((y > 0) if log else True)
    (line,) = ax.plot(x[ok], y[ok], **line_kw)
    lo = np.clip(y - err, y / 10, None) if log else y - err
    ax.fill_between(x[ok], lo[ok], (y + err)[ok], color=line.get_color(), alpha=alpha, lw=0)
    return line


def savefig(fig: plt.Figure, name: str, directory: str | Path = FIGURE_DIR, *,
            note: str | None = None) -> None:
    """Save ``fig`` as ``<directory>/<name>.png`` (next to the executed notebook). ``note``: a
    line of small print under the figure (its provenance: ``Ledger.provenance()``), in the file
    and in the page. Returns nothing, so that it can end a notebook cell without its value being
    shown (the inline backend shows the figure itself at the end of the cell)."""
    if note:
        fig.text(0.5, -0.005, note, ha="center", va="top", fontsize=7, color="0.35", wrap=True)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
