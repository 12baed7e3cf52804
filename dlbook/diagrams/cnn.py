"""Diagrams of chapter 4's CNN pages: the convolution window, pooling."""

import numpy as np

from ._draw import COLUMN_INCHES, grid as _grid, plt as _plt

# English label -> its Chinese, for the Chinese edition's figures (one entry per word label).
LABELS_ZH = {}


def convolution_steps(x, w, stride=1, pad=0, bias=0.0):
    """Every position of the window: the (padded) input with the window shaded, the products summed.

    x: (H, W), w: (R, S) -> a figure with one panel per output value; the sums come from
    :func:`dlbook.conv.conv2d`.
    """
    from ..conv import conv2d

    x, w = np.asarray(x, float), np.asarray(w, float)
    y = conv2d(x[None, None], w[None, None], np.array([bias]), stride=stride, pad=pad)[0, 0]
    xp = np.pad(x, pad)
    R, S = w.shape
    OH, OW = y.shape
    plt = _plt()
    panels = OH * OW + 1
    cols = min(panels, 5)
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_INCHES, 2.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    first = axes.ravel()[0]
    _grid(first, w, 0, w.shape[0], highlight=np.ones(w.shape, bool), color="#ffe0b3", fontsize=9)
    first.set_xlim(-0.2, xp.shape[1] + 0.2), first.set_ylim(-1.6, xp.shape[0] + 0.2), first.set_aspect("equal")
    first.text(w.shape[1] / 2, -0.8, "the filter", ha="center", va="center", fontsize=10)
    for k, (i, j) in enumerate(((i, j) for i in range(OH) for j in range(OW)), start=1):
        ax = axes.ravel()[k]
        mask = np.zeros(xp.shape, bool)
        mask[i * stride : i * stride + R, j * stride : j * stride + S] = True
        _grid(ax, xp, 0, xp.shape[0], highlight=mask, fontsize=9)
        ax.set_xlim(-0.2, xp.shape[1] + 0.2), ax.set_ylim(-1.6, xp.shape[0] + 0.2), ax.set_aspect("equal")
        ax.text(xp.shape[1] / 2, -0.8, f"y[{i},{j}] = {y[i, j]:g}", ha="center", va="center", fontsize=10)
    what = f"stride {stride}, padding {pad}" + (f", bias {bias:g}" if bias else "")
    fig.suptitle(f"Convolution window at each position ({what})", fontsize=11)
    return fig


def pooling(x, size=2):
    """Max and average pooling of one channel x (H, W) side by side, windows coloured alike.

    The outputs come from :func:`dlbook.pooling.max_pool2d` and :func:`dlbook.pooling.avg_pool2d`.
    """
    from ..pooling import avg_pool2d, max_pool2d

    x = np.asarray(x, float)
    mx = max_pool2d(x[None, None], size)[0, 0]
    av = avg_pool2d(x[None, None], size)[0, 0]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.6))
    H, W = x.shape
    colours = ["#c9dcff", "#ffe0b3", "#d4f0c8", "#f3cbe0"]
    x = x.astype(float)
    for i in range(mx.shape[0]):
        for j in range(mx.shape[1]):
            mask = np.zeros(x.shape, bool)
            mask[i * size : (i + 1) * size, j * size : (j + 1) * size] = True
            c = colours[(i * mx.shape[1] + j) % len(colours)]
            _grid(ax, np.where(mask, x, np.nan), 0, H, highlight=mask, color=c, fmt="{:g}")
            for x0, out in ((W + 2, mx), (W + 2 + mx.shape[1] + 2, av)):
                cell = np.full(out.shape, np.nan)
                cell[i, j] = out[i, j]
                _grid(ax, cell, x0, H - (H - out.shape[0]) / 2, highlight=~np.isnan(cell), color=c, fmt="{:g}")
    ax.text(W / 2, H + 0.35, f"input {H}x{W}", ha="center", fontsize=10)
    ax.text(W + 2 + mx.shape[1] / 2, H + 0.35 - (H - mx.shape[0]) / 2, "max pooling", ha="center", fontsize=10)
    ax.text(W + 4 + mx.shape[1] * 1.5, H + 0.35 - (H - av.shape[0]) / 2, "average pooling", ha="center", fontsize=10)
    ax.set_xlim(-0.2, W + 4 + 2 * mx.shape[1] + 0.2), ax.set_ylim(-0.2, H + 1.0), ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(f"{size}x{size} pooling with stride {size}", fontsize=11)
    return fig
