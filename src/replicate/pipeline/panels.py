"""Plotting helpers of the RNW and metastability chapters (Ferrari et al. Figs. 5–8, SI Figs.
18–19): local Wigner functions and space–time maps. Imported directly
(``from replicate.pipeline.panels import wigner_panel``)."""
from __future__ import annotations

import numpy as np


def wigner_panel(ax, W, extent: float, *, field: str = r"\alpha", ylabel: bool = True, **imshow_kw):
    """Draw a Wigner histogram ``W[i_re, i_im]`` (first axis Re, second Im, e.g. of
    :func:`replicate.analysis.wigner_samples.wigner_histogram`) on the square
    |Re|, |Im| ≤ ``extent``, Re horizontal, and label the axes Re/Im of ``field`` (LaTeX; the
    Im label only with ``ylabel``). ``imshow_kw`` go to ``ax.imshow`` (cmap, ...); returns the image."""
    im = ax.imshow(np.asarray(W).T, origin="lower", extent=(-extent, extent, -extent, extent), **imshow_kw)
    ax.set(xlabel=rf"Re ${field}$", ylabel=rf"Im ${field}$" if ylabel else "")
    return im
