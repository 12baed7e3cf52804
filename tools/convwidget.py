"""The convolution page's interactive widget: every number computed here, with ``dlbook.conv``.

The page (docs/04-cnn-rnn/convolution.md) marks the widget's place with :data:`MARKER`; at build
time tools/mkdocs_hooks.py calls :func:`add_widget` on the finished page, which puts there

- a short message for readers without JavaScript, pointing at the static diagrams above it
  (drawn by ``dlbook.diagrams.convolution_steps``, which stay on the page), and
- every number the widget shows, as JSON in a ``<script type="application/json">``,

and links docs/assets/convwidget.js and .css from that page only (every other page stays as
light as it was). The script only *displays* these numbers: it never multiplies or adds, so
what a reader sees is what ``dlbook.conv`` computed.

Two examples, each under padding 0/1 and stride 1/2:

- ``"single"``: the course's 4x4 input and 3x3 filter with bias 3 (the page's numbers);
- ``"multi"``: the page's 3-channel 4x4 image and two 3x3x3 filters (``default_rng(1)``, no bias).

For every setting and every output position the data hold the rows and columns of the window in the
padded input, its elementwise products with the filter (from ``dlbook.conv.im2col``'s row for
that position), each channel's sum, the sum, the bias and the output value (from
``dlbook.conv.conv2d``); the build fails if the products plus the bias do not give conv2d's
value. The output size comes from ``dlbook.conv.conv_output_size`` when the course's formula
divides exactly, and from conv2d's output shape (rounded down) when it does not.
"""

import html as html_lib
import json
import re

import numpy as np

from dlbook.conv import conv2d, conv_output_size, im2col

MARKER = "<!-- dlbook:convwidget -->"
SCRIPT = "assets/convwidget.js"
STYLE = "assets/convwidget.css"
SETTINGS = [(pad, stride) for pad in (0, 1) for stride in (1, 2)]  # (padding, stride) pairs offered

# What a reader without JavaScript reads where the widget would be, by the page's language.
FALLBACK = {
    "en": "An interactive version of this example, which steps the window position by position "
          "for padding 0/1 and stride 1/2, needs JavaScript; the diagrams above show every step.",
    "zh": "这个例子的交互版本（逐个位置移动窗口，可选填充 0/1、步幅 1/2）需要 JavaScript；"
          "上面的图已画出每一步。",
}


def course_example():
    """The course's example: x (1, 4, 4), w (1, 1, 3, 3), b (1,) = [3]."""
    x = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
    k = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)
    return x[None], k[None, None], np.array([3.0])


def multi_channel_example():
    """The page's many-channel example: x (3, 4, 4) in {0, 1, 2}, w (2, 3, 3, 3) in {-1, 0, 1},
    b (2,) zeros (the page adds no bias). Same seed and draws as the page's code."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 3, size=(1, 3, 4, 4)).astype(float)
    filters = rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(float)
    return img[0], filters, np.zeros(2)


def _num(value):
    """A float as JSON wants it: an int when whole (15, not 15.0), so the page shows "15"."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _nums(array):
    """A nested list of :func:`_num` values."""
    return [_nums(a) for a in array] if np.ndim(array) else _num(array)


def _output_size(size, filter_size, stride, pad, from_conv2d):
    """The course's formula along one axis, for the widget to print.

    ``exact``: the division is whole and ``conv_output_size`` gives the size; otherwise conv2d
    rounds down and ``quotient`` is the fraction it drops (as text, e.g. "0.5").
    """
    span = size + 2 * pad - filter_size
    try:
        out = conv_output_size(size, filter_size, stride=stride, pad=pad)
        exact = True
    except ValueError:
        out, exact = from_conv2d, False
    if out != from_conv2d:  # the formula and the kernel disagree: never publish that
        raise AssertionError(f"conv_output_size gives {out}, conv2d's output has {from_conv2d}")
    return {"size": size, "filter": filter_size, "pad": pad, "stride": stride, "span": span,
            "quotient": f"{span / stride:g}", "exact": exact, "out": out}


def setting_data(x, w, b, pad, stride):
    """Everything the widget shows for one (padding, stride) setting.

    x: (C, H, W), w: (K, C, R, S), b: (K,) -> a JSON-ready dict: ``input`` the padded input
    (C, H+2p, W+2p) whose original pixels are rows and columns ``inside_rows``/``inside_cols``
    (``[first, end)``), ``out`` conv2d's output (K, OH, OW), ``rows``/``cols`` the output-size
    formula along each axis, and ``steps``, one per (k, i, j) in that order: the window's rows
    and columns ``[first, end)`` in the padded input, ``products`` (C, R, S), ``channel_sums``
    (C,), ``sum``, ``bias`` and ``value`` = ``out[k, i, j]``. Index bounds are given as well as
    numbers, so that the page's script does no arithmetic at all.
    """
    x, w, b = np.asarray(x, float), np.asarray(w, float), np.asarray(b, float)
    C, H, W = x.shape
    K, _, R, S = w.shape
    y = conv2d(x[None], w, b, stride=stride, pad=pad)[0]
    OH, OW = y.shape[1:]
    windows = im2col(x[None], R, S, stride=stride, pad=pad).reshape(OH, OW, C, R, S)
    steps = []
    for k in range(K):
        for i in range(OH):
            for j in range(OW):
                products = windows[i, j] * w[k]
                channel_sums = products.sum(axis=(1, 2))
                total = channel_sums.sum()
                if not np.isclose(total + b[k], y[k, i, j]):
                    raise AssertionError(f"window ({i}, {j}) of filter {k}: products + bias "
                                         f"= {total + b[k]}, conv2d gives {y[k, i, j]}")
                top, left = i * stride, j * stride
                steps.append({"k": k, "i": i, "j": j, "rows": [top, top + R], "cols": [left, left + S],
                              "products": _nums(products), "channel_sums": _nums(channel_sums),
                              "sum": _num(total), "bias": _num(b[k]), "value": _num(y[k, i, j])})
    return {"pad": pad, "stride": stride, "inside_rows": [pad, pad + H], "inside_cols": [pad, pad + W],
            "input": _nums(np.pad(x, ((0, 0), (pad, pad), (pad, pad)))), "out": _nums(y),
            "rows": _output_size(H, R, stride, pad, OH), "cols": _output_size(W, S, stride, pad, OW),
            "steps": steps}


def example_data(x, w, b):
    """One example under every setting of :data:`SETTINGS`: ``{"kernel" (K, C, R, S), "settings"}``."""
    return {"kernel": _nums(np.asarray(w, float)),
            "settings": [setting_data(x, w, b, pad, stride) for pad, stride in SETTINGS]}


def widget_data():
    """The widget's data: ``{"single": ..., "multi": ...}`` (:func:`example_data` of each example)."""
    return {"single": example_data(*course_example()), "multi": example_data(*multi_channel_example())}


def render(lang="en"):
    """The widget's HTML: the no-JavaScript message and the data (compact JSON)."""
    text = FALLBACK["zh" if lang.lower().startswith("zh") else "en"]
    data = json.dumps(widget_data(), separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a "</script>" inside the JSON would end the script early
    return (f'<div class="dlbook-convwidget" data-dlbook-convwidget>\n'
            f'<p class="dlbook-convwidget__fallback">{html_lib.escape(text)}</p>\n'
            f'<script type="application/json" class="dlbook-convwidget__data">{data}</script>\n'
            f"</div>")


def add_widget(output, base):
    """A built page (HTML) with the widget in place of :data:`MARKER` and, in that case only,
    the widget's stylesheet and script linked (``base``: the relative prefix of the site's root,
    ``"../../"``). Pages without the marker are returned unchanged."""
    if MARKER not in output or base is None:
        return output
    m = re.search(r'<html\b[^>]*\blang="([^"]*)"', output)
    output = output.replace(MARKER, render(m.group(1) if m else "en"))
    output = output.replace("</head>", f'<link rel="stylesheet" href="{base}{STYLE}">\n</head>', 1)
    return output.replace("</body>", f'<script src="{base}{SCRIPT}"></script>\n</body>', 1)
