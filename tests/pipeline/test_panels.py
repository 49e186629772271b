"""Plotting helpers of the RNW chapters (replicate.pipeline.panels)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from replicate.pipeline.panels import wigner_panel


def test_wigner_panel_puts_re_across_and_im_up():
    W = np.zeros((10, 10))
    W[8, 1] = 1.0                                # Re > 0 (bin 8 of 10), Im < 0 (bin 1)
    fig, (ax, ax2) = plt.subplots(1, 2)
    im = wigner_panel(ax, W, 5.0, field=r"\beta", cmap="Blues")
    assert im.get_extent() == [-5.0, 5.0, -5.0, 5.0]
    row, col = np.unravel_index(np.argmax(im.get_array()), W.shape)
    assert (row, col) == (1, 8)                  # origin lower: row = Im bin, column = Re bin
    assert ax.get_xlabel() == r"Re $\beta$" and ax.get_ylabel() == r"Im $\beta$"
    assert im.get_cmap().name == "Blues"
    wigner_panel(ax2, W, 5.0, ylabel=False)
    assert ax2.get_xlabel() == r"Re $\alpha$" and ax2.get_ylabel() == ""
    plt.close(fig)
