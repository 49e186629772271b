"""Plotting helpers of the chapters: error bands, panel letters and the chain schematic."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

from replicate.chain import ChainParams
from replicate.pipeline import draw_chain, error_band, panel_labels


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_draw_chain_puts_drive_and_losses_where_the_parameters_do():
    fig, ax = plt.subplots()
    draw_chain(ax, ChainParams(L=10, F=6.0, Delta=2.5, J=2.0, U=0.1, gamma=1.0), shown=8)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == 7                     # sites 1–6, an ellipsis, site L
    assert len(arrows) == 3                      # the drive at ℓ = 1, the losses at ℓ = 1 and L
    texts = _texts(ax)
    assert "⋯" in texts and r"$\ell=10$" in texts and r"$\ell=7$" not in texts
    assert r"$F=6$" in texts and texts.count(r"$\gamma=1$") == 2
    assert ax.get_title().startswith("$L=10$")
    plt.close(fig)


def test_draw_chain_shows_every_site_of_a_short_uniformly_driven_chain():
    fig, ax = plt.subplots()
    draw_chain(ax, ChainParams(L=3, F=1.5, Delta=2.5, J=2.0, U=0.1, gamma=1.0, drive="uniform"))
    texts = _texts(ax)
    assert "⋯" not in texts and sum(isinstance(p, Circle) for p in ax.patches) == 3
    assert texts.count(r"$F=1.5$") == 3
    plt.close(fig)


def test_error_band_skips_nonpositive_points_on_a_log_axis():
    fig, ax = plt.subplots()
    line = error_band(ax, [1, 2, 3], [1.0, -1.0, 2.0], [0.1, 0.1, 0.1], log=True)
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 3.0])
    panel_labels([ax], letters="q")
    assert "(q)" in _texts(ax)
    plt.close(fig)
