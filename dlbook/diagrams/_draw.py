"""What every diagram shares: the column width, a numbered grid of cells, and the overlap check."""

import numpy as np

COLUMN_INCHES = 7.0  # the book's text column, 688 px at 96 px per inch


def plt():
    import matplotlib.pyplot as plt  # the `plot` extra; only needed when a diagram is drawn

    return plt


def grid(ax, values, x0, y0, *, highlight=None, color="#c9dcff", fmt="{:g}", fontsize=10, title=None):
    """Draw a matrix as a grid of cells with its numbers; cells in ``highlight`` (a boolean mask) shaded."""
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            if np.isnan(values[i, j]):  # not part of this drawing
                continue
            shaded = highlight is not None and highlight[i, j]
            ax.add_patch(plt().Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=color if shaded else "white",
                                          edgecolor="#444444", linewidth=0.8))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, fmt.format(values[i, j]), ha="center", va="center", fontsize=fontsize)
    if title:
        ax.text(x0 + cols / 2, y0 + 0.35, title, ha="center", va="bottom", fontsize=fontsize)


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
