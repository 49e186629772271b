"""Small plotting helpers shared by the chapters: paper-like panel letters and figure export."""
from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable

import matplotlib.pyplot as plt

FIGURE_DIR = "figures"


def panel_labels(axes: Iterable, letters: str = string.ascii_lowercase, x: float = -0.14,
                 y: float = 1.04) -> None:
    """Write the paper's panel letters (a), (b), … in the upper-left corner of each axis."""
    for ax, letter in zip(list(axes), letters):
        ax.text(x, y, f"({letter})", transform=ax.transAxes, fontweight="bold", va="bottom")


def savefig(fig: plt.Figure, name: str, directory: str | Path = FIGURE_DIR) -> Path:
    """Save ``fig`` as ``<directory>/<name>.png`` (next to the executed notebook) and return the path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
