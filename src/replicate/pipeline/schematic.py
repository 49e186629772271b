"""Schematics drawn from a run's parameters (Ferrari et al. Fig. 1(a))."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch

if TYPE_CHECKING:
    from ..chain import ChainParams


def draw_chain(ax: Axes, p: ChainParams, shown: int = 8) -> None:
    """The chain of ``p`` on ``ax``: a resonator with its Kerr term U per site, the hopping J
    between neighbours, the drive F and the losses γ where ``p`` puts them (its drive and loss
    profiles), and the parameters in the title. Chains longer than ``shown`` sites are drawn as
    the first ``shown − 2`` sites, an ellipsis and the last site."""
    sites = list(range(1, min(p.L, shown) + 1))
    if p.L > shown:
        sites[-2:] = [None, p.L]          # an ellipsis before the last site
    xs = np.arange(len(sites), dtype=float)
    ax.set_xlim(-1.2, xs[-1] + 1.2); ax.set_ylim(-1.7, 1.9); ax.set_aspect("equal"); ax.set_axis_off()
    drive, loss = p.drive_profile(), p.loss_profile()
    for x, s in zip(xs, sites):
        if s is None:
            ax.text(x, 0, "⋯", ha="center", va="center", fontsize=16)
            continue
        ax.add_patch(Circle((x, 0), 0.3, fc="#d6e6f4", ec="C0", lw=1.5, zorder=2))
        ax.text(x, 0, r"$U$", ha="center", va="center", fontsize=9, zorder=3)
        ax.text(x, -0.55, rf"$\ell={s}$", ha="center", va="top", fontsize=8)
        if drive[s - 1] != 0:
            ax.add_patch(FancyArrowPatch((x, 1.55), (x, 0.38), arrowstyle="-|>", mutation_scale=12, color="C2"))
            ax.text(x + 0.12, 1.55, rf"$F={drive[s - 1]:g}$", color="C2", fontsize=9, va="top")
        if loss[s - 1] > 0:
            ax.add_patch(FancyArrowPatch((x + 0.2, -0.25), (x + 0.75, -1.35), arrowstyle="-|>", mutation_scale=10,
                                         color="C3", ls="--"))
            ax.text(x + 0.8, -1.35, rf"$\gamma={loss[s - 1]:g}$", color="C3", fontsize=8, va="center")
    for a, b, s in zip(xs[:-1], xs[1:], sites[1:]):
        if s is not None and sites[list(xs).index(a)] is not None:
            ax.annotate("", (b - 0.32, 0), (a + 0.32, 0), arrowprops=dict(arrowstyle="<->", color="0.3"))
    ax.text(0.5, 0.42, rf"$J={p.J:g}$", fontsize=8, color="0.3", ha="center")
    ax.set_title(rf"$L={p.L}$, $\Delta={p.Delta:g}$, $J={p.J:g}$, $U={p.U:g}$, $\gamma={p.gamma:g}$ (units of $\gamma$)",
                 fontsize=9)
