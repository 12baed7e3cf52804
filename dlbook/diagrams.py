"""Structure diagrams drawn from the objects a page computes with (matplotlib, the ``plot`` extra).

Each function draws one picture of the course — a perceptron, the convolution window sliding over
the input, pooling — from the numbers it is given, computes the numbers it shows with dlbook itself
(never typed), and returns the matplotlib figure. The figures are sized for the book's text column
(about 7 inches) so that their text is drawn at the size it is read.

:func:`label_overlaps` lists pairs of texts whose drawn boxes overlap; the tests require none.
"""

import numpy as np

__all__ = ["perceptron", "convolution_steps", "pooling", "label_overlaps"]

COLUMN_INCHES = 7.0  # the book's text column, 688 px at 96 px per inch


def _plt():
    import matplotlib.pyplot as plt  # the `plot` extra; only needed when a diagram is drawn

    return plt


def _grid(ax, values, x0, y0, *, highlight=None, color="#c9dcff", fmt="{:g}", fontsize=10, title=None):
    """Draw a matrix as a grid of cells with its numbers; cells in ``highlight`` (a boolean mask) shaded."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            if np.isnan(values[i, j]):  # not part of this drawing
                continue
            shaded = highlight is not None and highlight[i, j]
            ax.add_patch(_plt().Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=color if shaded else "white",
                                          edgecolor="#444444", linewidth=0.8))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, fmt.format(values[i, j]), ha="center", va="center", fontsize=fontsize)
    if title:
        ax.text(x0 + cols / 2, y0 + 0.35, title, ha="center", va="bottom", fontsize=fontsize)


def perceptron(w1, w2, theta, name="AND"):
    """A two-input perceptron: inputs x1, x2, weights on the edges, the sum and the step with threshold theta.

    The truth table beside it is computed with :func:`dlbook.gates.perceptron`.
    """
    from .gates import perceptron as fire

    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.8))
    ax.set_xlim(0, 10), ax.set_ylim(0, 4), ax.axis("off")
    for y, label in ((3.1, "$x_1$"), (0.9, "$x_2$")):
        ax.add_patch(plt.Circle((0.8, y), 0.45, facecolor="#eef3ff", edgecolor="#333333"))
        ax.text(0.8, y, label, ha="center", va="center", fontsize=12)
    ax.add_patch(plt.Circle((4.2, 2.0), 0.75, facecolor="#ffe9c9", edgecolor="#333333"))
    ax.text(4.2, 2.0, r"$\Sigma$ | $\theta$", ha="center", va="center", fontsize=12)
    for y, w, label_y in ((3.1, w1, 2.95), (0.9, w2, 1.05)):
        ax.annotate("", xy=(3.5, 2.0 + (0.35 if y > 2 else -0.35)), xytext=(1.25, y),
                    arrowprops=dict(arrowstyle="->", color="#333333"))
        ax.text(2.35, label_y + (0.25 if y > 2 else -0.25), f"w = {w:g}", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(6.0, 2.0), xytext=(4.95, 2.0), arrowprops=dict(arrowstyle="->", color="#333333"))
    ax.text(6.1, 2.0, f"y = 1 if $w_1x_1 + w_2x_2 > {theta:g}$\nelse 0", ha="left", va="center", fontsize=11)
    table = "\n".join(f"{a} {b} -> {fire(a, b, w1, w2, theta)}" for a in (0, 1) for b in (0, 1))
    ax.text(9.9, 3.9, f"{name}\n{table}", ha="right", va="top", fontsize=10, family="monospace")
    fig.suptitle(f"A perceptron with the course's {name} weights", fontsize=12)
    return fig


def convolution_steps(x, w, stride=1, pad=0, bias=0.0):
    """Every position of the window: the (padded) input with the window shaded, the products summed.

    x: (H, W), w: (R, S) -> a figure with one panel per output value; the sums come from
    :func:`dlbook.conv.conv2d`.
    """
    from .conv import conv2d

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
    from .pooling import avg_pool2d, max_pool2d

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


def label_overlaps(fig):
    """Pairs of non-empty texts of ``fig`` whose drawn bounding boxes overlap (an empty list is good)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(match=lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent"))
             if t.get_visible() and t.get_text().strip()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    pairs = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            if boxes[a][1].overlaps(boxes[b][1]):
                pairs.append((boxes[a][0], boxes[b][0]))
    return pairs
