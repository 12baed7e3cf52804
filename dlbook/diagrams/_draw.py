"""What every diagram shares: the column width, a numbered grid of cells, stacked grids, and the
checks the tests and pages run on a figure (overlapping labels, text size, untranslated labels)."""

import re

import numpy as np

COLUMN_INCHES = 7.0  # the book's text column, 688 px at 96 px per inch
MIN_POINTS = 9  # no text smaller than this, sub- and superscripts included
SCRIPT_SHRINK = 0.7  # mathtext draws $x_1$'s "1" at 0.7 of the text's size (matplotlib's SHRINK_FACTOR)


def plt():
    import matplotlib.pyplot as plt  # the `plot` extra; only needed when a diagram is drawn

    return plt


def grid(ax, values, x0, y0, *, highlight=None, color="#c9dcff", fmt="{:g}", fontsize=10, title=None, gid=None):
    """Draw a matrix as a grid of cells with its numbers; cells in ``highlight`` (a boolean mask) shaded.

    ``fmt=None`` draws the cells only. ``gid`` tags each number as ``"{gid}-{i}-{j}"``, so that a test
    can find the number drawn for entry (i, j).
    """
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            if np.isnan(values[i, j]):  # not part of this drawing
                continue
            shaded = highlight is not None and highlight[i, j]
            ax.add_patch(plt().Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=color if shaded else "white",
                                          edgecolor="#444444", linewidth=0.8))
            if fmt is not None:
                t = ax.text(x0 + j + 0.5, y0 - i - 0.5, fmt.format(values[i, j]), ha="center", va="center",
                            fontsize=fontsize)
                if gid:
                    t.set_gid(f"{gid}-{i}-{j}")
    if title:
        ax.text(x0 + cols / 2, y0 + 0.35, title, ha="center", va="bottom", fontsize=fontsize)


def stack(ax, front, depth, x0, y0, *, step=0.45, colors=("#ffffff",), fmt="{:g}", fontsize=9, gid=None):
    """``depth`` grids of ``front``'s shape stacked like sheets, each one ``step`` cells up and to the
    right of the one before; only the front sheet (at x0, y0, its top-left corner) shows its numbers.

    colors: one fill per sheet, front first (repeated when shorter). Returns the stack's
    (left, bottom, right, top) in data units.
    """
    rows, cols = front.shape
    for c in reversed(range(depth)):  # back to front, so nearer sheets cover farther ones
        fill = colors[c % len(colors)]
        dx = dy = c * step
        grid(ax, front, x0 + dx, y0 + dy, highlight=np.ones(front.shape, bool), color=fill,
             fmt=fmt if c == 0 else None, fontsize=fontsize, gid=gid)
    extra = (depth - 1) * step
    return x0, y0 - rows, x0 + cols + extra, y0 + extra


# ------------------------------------------------------------------ checks on a drawn figure


def _texts(fig):
    return [t for t in fig.findobj(match=lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent"))
            if t.get_visible() and t.get_text().strip()]


def label_overlaps(fig):
    """Pairs of non-empty texts of ``fig`` whose drawn bounding boxes overlap (an empty list is good)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    pairs = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            if boxes[a][1].overlaps(boxes[b][1]):
                pairs.append((boxes[a][0], boxes[b][0]))
    return pairs


def texts_outside(fig):
    """Texts of ``fig`` drawn (partly) outside the figure: they would be cut off (an empty list is good)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    out = []
    for t in _texts(fig):
        box = t.get_window_extent(renderer)
        if box.x0 < frame.x0 - 0.5 or box.y0 < frame.y0 - 0.5 or box.x1 > frame.x1 + 0.5 or box.y1 > frame.y1 + 0.5:
            out.append(t.get_text())
    return out


def smallest_points(fig):
    """The smallest size, in points, at which any text of ``fig`` is drawn; a sub- or superscript
    in mathtext ($w_{12}^{(1)}$) counts at the size it is drawn, 0.7 of its text's."""
    sizes = []
    for t in _texts(fig):
        scripted = any(("_" in m or "^" in m) for m in re.findall(r"\$[^$]*\$", t.get_text()))
        sizes.append(t.get_fontsize() * (SCRIPT_SHRINK if scripted else 1.0))
    return min(sizes)


# A number as a diagram prints it: 20, -3, 1.1, 71.5, 1e-05 (what "{:g}" gives).
_NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def is_word_label(text):
    """True when a text holds words to translate: two letters in a row outside $maths$.

    Numbers ("15", "6x28x28", "(1, 3)"), single-letter names ("X (1, 2)") and maths ("$h_t$") are not.
    """
    return re.search(r"[A-Za-z]{2,}", re.sub(r"\$[^$]*\$", "", text)) is not None


def translate(text, labels):
    """``text`` in the language of ``labels`` (English -> other), or None when no key matches.

    A key's ``{}`` placeholders stand for numbers, carried over in order: with the key
    ``"stride {}, padding {}"`` -> ``"步幅 {}，填充 {}"``, "stride 2, padding 1" -> "步幅 2，填充 1".
    """
    if text in labels:
        return labels[text]
    for key, value in labels.items():
        if "{}" not in key:
            continue
        pattern = "^" + f"({_NUMBER})".join(re.escape(part) for part in key.split("{}")) + "$"
        m = re.match(pattern, text)
        if m:
            return value.format(*m.groups())
    return None


def untranslated(fig, labels):
    """Word labels of ``fig`` (:func:`is_word_label`) that ``labels`` cannot translate, or that could
    not be translated in the SVG: one <text> element per line, and maths split into glyphs, so a word
    label must be one line without $maths$ (an empty list is good)."""
    bad = []
    for t in _texts(fig):
        s = t.get_text()
        if is_word_label(s) and ("\n" in s or "$" in s or translate(s, labels) is None):
            bad.append(s)
    return bad
