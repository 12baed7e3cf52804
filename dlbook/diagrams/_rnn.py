"""Diagrams of chapter 4's sequence pages: the RNN unrolled in time (docs/04-cnn-rnn/rnn.md), the
LSTM cell (lstm.md) and the input/output patterns (sequence-patterns.md).

Each picture is one axes whose data unit is half an inch (x runs from 0 to 14 across the column),
which keeps circles round and lets the layout be written in plain numbers. Word labels are one
line without $maths$, so that the Chinese edition can swap each for its ``LABELS_ZH`` entry;
maths with a subscript is drawn at 13 points, so that the subscript is still 9.
"""

from ._draw import COLUMN_INCHES, plt as _plt

# English label -> its Chinese, for the Chinese edition's figures (one entry per word label;
# "{}" stands for a number, carried over).
LABELS_ZH = {
    # rnn_unrolled
    "A recurrent network folded and unrolled over {} time steps":
        "循环神经网络：折叠的形式与按时间展开的 {} 步",
    "folded": "折叠",
    "unrolled in time: the same weights at every step": "按时间展开：每一步用同一组权重",
    # lstm_cell
    "An LSTM cell: the gates f, i, g, o decide what the cell state forgets, adds and shows":
        "LSTM 单元：门 f、i、g、o 决定细胞状态遗忘什么、加入什么、输出什么",
    "cell state": "细胞状态",
    "input gate": "输入门",
    "forget gate": "遗忘门",
    "candidate": "候选值",
    "output gate": "输出门",
    "the columns of a each gate reads, in PyTorch's order i, f, g, o":
        "每个门读取 a 的哪几列（PyTorch 的顺序 i, f, g, o）",
    # sequence_patterns
    "The five RNN input/output patterns, from one to one to encoder–decoder":
        "RNN 的五种输入输出对应模式：从一对一到编码器-解码器",
    "one to one": "一对一",
    "one to many": "一对多",
    "many to one": "多对一",
    "many to many, aligned": "多对多（对齐）",
    "many to many, encoder–decoder": "多对多（编码器-解码器）",
    "classification": "分类问题",
    "image captioning": "图像字幕",
    "sentiment analysis": "情感分析",
    "part-of-speech tagging": "词性标注",
    "machine translation": "机器翻译",
    "encoder": "编码器",
    "decoder": "解码器",
}

UNIT = 0.5  # inches per data unit
MATH = 13  # points for maths with subscripts: its subscripts are drawn at 0.7 of this, above 9
INPUT, CELL, STATE, OUTPUT, PLAIN = "#dbe9f6", "#fde7c8", "#d9f0d3", "#f3cbe0", "#eeeeee"
INK = "#333333"

# The LSTM's four blocks of a = x_t Wx + h_{t-1} Wh + b (N, 4H), in the order dlbook.rnn.lstm_step
# slices them (PyTorch's): (letter, word label, nonlinearity, fill colour).
LSTM_GATES = (
    ("i", "input gate", r"$\sigma$", "#c9dcff"),
    ("f", "forget gate", r"$\sigma$", "#f3cbe0"),
    ("g", "candidate", r"$\tanh$", "#d4f0c8"),
    ("o", "output gate", r"$\sigma$", "#ffe0b3"),
)


def _canvas(height, title):
    """A figure COLUMN_INCHES wide whose one axes fills it below the title, in half-inch units."""
    plt = _plt()
    fig = plt.figure(figsize=(COLUMN_INCHES, height))
    title_inches = 0.45
    ax = fig.add_axes([0, 0, 1, 1 - title_inches / height])
    ax.set_xlim(0, COLUMN_INCHES / UNIT)
    ax.set_ylim(0, (height - title_inches) / UNIT)
    ax.axis("off")
    fig.suptitle(title, fontsize=11, y=1 - 0.08 / height, va="top")
    return fig, ax


def _box(ax, x, y, text, color, w=0.9, h=0.65, fontsize=MATH, rounding=0.12, gid=None):
    """A rounded box centred at (x, y) with ``text`` in it (its gid ``gid``, for the tests)."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                facecolor=color, edgecolor=INK, linewidth=1))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, gid=gid)


def _arrow(ax, start, end, head=True, **kw):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>" if head else "-", color=INK, lw=1.1,
                                shrinkA=0, shrinkB=0, mutation_scale=10, **kw))


def _node(ax, x, y, symbol, r=0.25):
    """A pointwise operation (× or +) as a small circle."""
    ax.add_patch(_plt().Circle((x, y), r, facecolor="white", edgecolor=INK, linewidth=1.1, zorder=3))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=11, zorder=4)


def _shape(shape):
    """(2, 5, 3) -> '(2, 5, 3)', (4,) -> '(4{,})': Python's spelling, as the page prints shapes, for
    mathtext (whose "{,}" is a comma without the space it would put before ")")."""
    return str(tuple(int(n) for n in shape)).replace(",)", "{,})")


# --------------------------------------------------------------------------- the RNN
def rnn_unrolled(N=2, T=5, D=3, H=4):
    """An RNN folded (one cell with a loop) and unrolled over T steps, with the shape of every array.

    N sequences of T steps, D inputs, H hidden units -> a figure. The weight shapes are those of
    ``dlbook.layers.RNN.random(D, H).params``, the shapes of x and h those :func:`dlbook.rnn.rnn_forward`
    takes and returns (each shape's text has the gid ``"shape-<name>"``). At most four cells are
    drawn: steps 1, 2, 3, ..., T when T > 4.
    """
    import numpy as np

    from ..layers import RNN
    from ..rnn import rnn_forward

    params = RNN.random(D, H, seed=0, dtype=np.float64).params
    x = np.zeros((N, T, D))
    h, _ = rnn_forward(x, np.zeros((N, H)), params["Wx"], params["Wh"], params["b"])

    fig, ax = _canvas(4.35, f"A recurrent network folded and unrolled over {T} time steps")
    y_x, y_cell, y_h = 2.45, 4.05, 5.6
    cell_w, cell_h = 0.92, 0.8

    def column(cx, t):
        """Input, cell and state of step t, with W_x on the way in and b entering from below right."""
        _box(ax, cx, y_x, f"$x_{t}$", INPUT)
        _box(ax, cx, y_cell, r"$\tanh$", CELL, w=cell_w, h=cell_h, fontsize=11)
        _box(ax, cx, y_h, f"$h_{t}$", STATE)
        _arrow(ax, (cx, y_x + 0.325), (cx, y_cell - cell_h / 2))
        _arrow(ax, (cx, y_cell + cell_h / 2), (cx, y_h - 0.325))
        ax.text(cx - 0.1, (y_x + y_cell) / 2 - 0.05, "$W_x$", ha="right", va="center", fontsize=MATH)
        _arrow(ax, (cx + 0.6, y_x + 0.3), (cx + 0.32, y_cell - cell_h / 2))
        ax.text(cx + 0.62, y_x + 0.22, "$b$", ha="left", va="center", fontsize=MATH)

    # Folded: one cell whose new state comes back into it at the next step.
    fx = 1.05
    column(fx, "t")
    ax.annotate("", xy=(fx + cell_w / 2, y_cell - 0.2), xytext=(fx + cell_w / 2, y_cell + 0.2),
                arrowprops=dict(arrowstyle="-|>", color=INK, lw=1.1, shrinkA=0, shrinkB=0, mutation_scale=10,
                                connectionstyle="arc,angleA=0,angleB=0,armA=26,armB=26,rad=7"))
    ax.text(fx + 1.35, y_cell, "$W_h$", ha="left", va="center", fontsize=MATH)
    ax.text(fx + 0.4, 6.6, "folded", ha="center", va="center", fontsize=10)
    ax.text(3.5, y_cell, "=", ha="center", va="center", fontsize=20)

    # Unrolled: h_0, then one copy of the cell per step, all with the same weights.
    steps = [str(t) for t in range(1, T + 1)] if T <= 4 else ["1", "2", "3", None, "T"]
    x0, dx = 4.3, 1.85
    _box(ax, x0, y_cell, "$h_0$", PLAIN)
    prev = x0 + 0.45
    for k, t in enumerate(steps):
        cx = x0 + dx * (k + 1) - (0.6 if t == "T" else 0)
        if t is None:  # the steps left out
            ax.text(cx - 0.6, y_cell, r"$\cdots$", ha="center", va="center", fontsize=14)
            continue
        column(cx, t)
        _arrow(ax, (prev, y_cell), (cx - cell_w / 2, y_cell))
        ax.text((prev + cx - cell_w / 2) / 2, y_cell + 0.08, "$W_h$", ha="center", va="bottom", fontsize=MATH)
        prev = cx + cell_w / 2
        if k + 1 < len(steps) and steps[k + 1] is None:  # the state goes on into the steps left out
            _arrow(ax, (prev, y_cell), (prev + 0.4, y_cell))
            prev = cx + dx - 0.1
    ax.text(8.65, 6.6, "unrolled in time: the same weights at every step", ha="center", va="center", fontsize=10)
    ax.text(8.65, 7.3, r"$h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$", ha="center", va="center", fontsize=MATH)

    # Shapes, from the layer's parameters and what rnn_forward took and returned.
    rows = [[("x", "N, T, D", x.shape), ("h", "N, T, H", h.shape), ("b", "H{,}", params["b"].shape)],
            [("W_x", "D, H", params["Wx"].shape), ("W_h", "H, H", params["Wh"].shape)]]
    for r, row in enumerate(rows):
        for k, (name, symbolic, shape) in enumerate(row):
            ax.text(14 / 3 * (k + 0.5), 1.2 - 0.75 * r, f"${name}$: $({symbolic}) = {_shape(shape)}$",
                    ha="center", va="center", fontsize=MATH, gid=f"shape-{name}")
    return fig


# --------------------------------------------------------------------------- the LSTM
def lstm_cell(H=4):
    """One LSTM step: the cell state c along the top, the four gates below it, and the columns of
    ``a`` (N, 4H) each gate reads.

    H hidden units -> a figure. The gates f, i, g, o are drawn where they act on the cell state;
    the strip below lists them in the order :func:`dlbook.rnn.lstm_step` slices ``a``
    (``LSTM_GATES``, PyTorch's i, f, g, o), each slice's text with the gid ``"slice-<letter>"``.
    """
    from matplotlib.patches import FancyBboxPatch

    fig, ax = _canvas(4.5, "An LSTM cell: the gates f, i, g, o decide what the cell state forgets, adds and shows")
    colour = {letter: fill for letter, _, _, fill in LSTM_GATES}
    squash = {letter: f for letter, _, f, _ in LSTM_GATES}
    ax.add_patch(FancyBboxPatch((2.0, 2.85), 10.0, 5.0, boxstyle="round,pad=0,rounding_size=0.3",
                                facecolor="#f6f6f6", edgecolor="#999999", linewidth=1))
    y_c, y_gate, y_bus = 7.25, 4.55, 3.5
    x_f, x_i, x_g, x_o, x_out = 3.8, 5.3, 6.6, 8.6, 9.9

    # The cell state: one multiplication by f_t, one addition of i_t * g_t, and nothing else.
    _arrow(ax, (1.2, y_c), (x_f - 0.25, y_c))
    _arrow(ax, (x_f + 0.25, y_c), (x_g - 0.25, y_c))
    _arrow(ax, (x_g + 0.25, y_c), (12.85, y_c))
    ax.text(1.15, y_c, "$c_{t-1}$", ha="right", va="center", fontsize=MATH)
    ax.text(12.9, y_c, "$c_t$", ha="left", va="center", fontsize=MATH)
    ax.text(11.0, y_c + 0.12, "cell state", ha="center", va="bottom", fontsize=10)
    _node(ax, x_f, y_c, r"$\times$")
    _node(ax, x_g, y_c, "$+$")

    # The inputs: h_{t-1} from the left, x_t from below, joined into one row [h_{t-1}, x_t].
    _arrow(ax, (1.2, y_bus), (x_o, y_bus), head=False)
    ax.text(1.15, y_bus, "$h_{t-1}$", ha="right", va="center", fontsize=MATH)
    _arrow(ax, (2.6, 2.3), (2.6, y_bus))
    ax.text(2.6, 2.15, "$x_t$", ha="center", va="top", fontsize=MATH)
    ax.add_patch(_plt().Circle((2.6, y_bus), 0.07, color=INK))
    ax.text(4.55, y_bus - 0.1, "$[h_{t-1}, x_t]$", ha="center", va="top", fontsize=MATH)

    # The four gates, each a nonlinearity of its block of a.
    for letter, x in (("f", x_f), ("i", x_i), ("g", x_g), ("o", x_o)):
        _arrow(ax, (x, y_bus), (x, y_gate - 0.3))
        _box(ax, x, y_gate, squash[letter], colour[letter], w=1.0 if letter == "g" else 0.7, h=0.6, fontsize=11,
             gid=f"squash-{letter}")
    _arrow(ax, (x_f, y_gate + 0.3), (x_f, y_c - 0.25))                      # f_t * c_{t-1}
    ax.text(x_f + 0.12, 5.9, "$f_t$", ha="left", va="center", fontsize=MATH, gid="gate-f")
    y_ig = 6.0
    _arrow(ax, (x_i, y_gate + 0.3), (x_i, y_ig), head=False)                # i_t * g_t
    _arrow(ax, (x_i, y_ig), (x_g - 0.25, y_ig))
    ax.text(x_i - 0.12, 5.35, "$i_t$", ha="right", va="center", fontsize=MATH, gid="gate-i")
    _arrow(ax, (x_g, y_gate + 0.3), (x_g, y_ig - 0.25))
    ax.text(x_g + 0.12, 5.3, "$g_t$", ha="left", va="center", fontsize=MATH, gid="gate-g")
    _node(ax, x_g, y_ig, r"$\times$")
    _arrow(ax, (x_g, y_ig + 0.25), (x_g, y_c - 0.25))
    # The output: o_t * tanh(c_t) leaves as h_t.
    _arrow(ax, (x_out, y_c), (x_out, 6.3))
    _box(ax, x_out, 6.0, r"$\tanh$", "white", w=1.0, h=0.6, fontsize=11)
    _arrow(ax, (x_out, 5.7), (x_out, y_gate + 0.25))
    _arrow(ax, (x_o + 0.35, y_gate), (x_out - 0.25, y_gate))
    ax.text((x_o + x_out) / 2 + 0.05, y_gate + 0.1, "$o_t$", ha="center", va="bottom", fontsize=MATH, gid="gate-o")
    _node(ax, x_out, y_gate, r"$\times$")
    _arrow(ax, (x_out + 0.25, y_gate), (12.85, y_gate))
    ax.text(12.9, y_gate, "$h_t$", ha="left", va="center", fontsize=MATH)

    # Which columns of a each gate reads, in lstm_step's order.
    ax.text(3.3, 1.95, "the columns of a each gate reads, in PyTorch's order i, f, g, o", ha="left", va="center",
            fontsize=10)
    for k, (letter, name, _, fill) in enumerate(LSTM_GATES):
        x0 = 0.2 + 3.4 * k
        _box(ax, x0 + 1.7, 0.7, "", fill, w=3.3, h=1.1, rounding=0.1)
        ax.text(x0 + 0.5, 0.7, f"${letter}_t$", ha="center", va="center", fontsize=MATH, gid=f"block-{letter}")
        ax.text(x0 + 1.95, 0.93, name, ha="center", va="center", fontsize=10)
        ax.text(x0 + 1.95, 0.45, f"a[:, {k * H}:{(k + 1) * H}]", ha="center", va="center", fontsize=9,
                family="monospace", gid=f"slice-{letter}")
    return fig


# --------------------------------------------------------------------------- sequence patterns
# The five patterns of docs/04-cnn-rnn/sequence-patterns.md: (name, the course's example, which cells
# read an input ("start": the input becomes the first cell's state), which cells give an output,
# number of cells).
SEQUENCE_PATTERNS = (
    ("one to one", "classification", [0], [0], 1),
    ("one to many", "image captioning", ["start"], [0, 1, 2], 3),
    ("many to one", "sentiment analysis", [0, 1, 2], [2], 3),
    ("many to many, aligned", "part-of-speech tagging", [0, 1, 2], [0, 1, 2], 3),
    ("many to many, encoder–decoder", "machine translation", [0, 1, 2], [3, 4, 5, 6], 7),
)


def _pattern(ax, panel, left, width, top, name, example, reads, gives, cells):
    """Panel number ``panel``, ``width`` units wide: its name and example, then inputs, cells and
    outputs, centred; texts have gids ``"pattern<panel>-name"``, ``-example``, ``-in-<n>``, ``-out-<n>``."""
    y_out, y_cell, y_in = top - 1.55, top - 2.75, top - 3.95
    step, bw, bh = 1.1, 0.8, 0.6  # cell spacing, box size
    start = reads == ["start"]
    drawn = step * (cells - 1) + bw + (bw + 0.4 if start else 0)
    x0 = left + (width - drawn) / 2
    xs = [x0 + (bw + 0.4 if start else 0) + bw / 2 + step * k for k in range(cells)]
    ax.text(left + width / 2, top - 0.25, name, ha="center", va="center", fontsize=10, fontweight="bold",
            gid=f"pattern{panel}-name")
    ax.text(left + width / 2, top - 0.7, example, ha="center", va="center", fontsize=9, style="italic",
            gid=f"pattern{panel}-example")
    for k, cx in enumerate(xs):
        _box(ax, cx, y_cell, "", CELL if cells > 1 else PLAIN, w=bw, h=bh)  # grey: no recurrence
        if k:
            _arrow(ax, (xs[k - 1] + bw / 2, y_cell), (cx - bw / 2, y_cell))
    if start:
        _box(ax, x0 + bw / 2, y_cell, "$x$", INPUT, w=bw, h=bh, gid=f"pattern{panel}-in-1")
        _arrow(ax, (x0 + bw, y_cell), (xs[0] - bw / 2, y_cell))
    else:
        for n, k in enumerate(reads, start=1):
            _box(ax, xs[k], y_in, "$x$" if len(reads) == 1 else f"$x_{n}$", INPUT, w=bw, h=bh,
                 gid=f"pattern{panel}-in-{n}")
            _arrow(ax, (xs[k], y_in + bh / 2), (xs[k], y_cell - bh / 2))
    for n, k in enumerate(gives, start=1):
        _box(ax, xs[k], y_out, "$y$" if len(gives) == 1 else f"$y_{n}$", OUTPUT, w=bw, h=bh,
             gid=f"pattern{panel}-out-{n}")
        _arrow(ax, (xs[k], y_cell + bh / 2), (xs[k], y_out - bh / 2))
    return xs, (y_out, y_cell, y_in)


def sequence_patterns():
    """The five input/output patterns of an RNN, one panel each, named as on sequence-patterns.md.

    () -> a figure: inputs x (blue) below, recurrent cells (orange; grey where there is no
    recurrence) in the middle, outputs y (pink) above; each panel's name and example are the page's.
    """
    fig, ax = _canvas(5.0, "The five RNN input/output patterns, from one to one to encoder–decoder")
    top = ax.get_ylim()[1]
    row2 = top - 4.65
    panels = [(0, 14 / 3, top), (14 / 3, 14 / 3, top), (28 / 3, 14 / 3, top), (0, 5.2, row2), (5.2, 8.8, row2)]
    for k, ((left, width, y0), (name, example, reads, gives, cells)) in enumerate(zip(panels, SEQUENCE_PATTERNS)):
        xs, (y_out, y_cell, y_in) = _pattern(ax, k, left, width, y0, name, example, reads, gives, cells)
        if cells > 3:  # encoder-decoder: the encoder's last state starts the decoder
            ax.text((xs[0] + xs[2]) / 2, y_out, "encoder", ha="center", va="center", fontsize=10)
            ax.text((xs[3] + xs[-1]) / 2, y_in, "decoder", ha="center", va="center", fontsize=10)
            ax.plot([(xs[2] + xs[3]) / 2] * 2, [y_in - 0.35, y_out + 0.35], color="#999999", lw=1, ls="--")
    return fig
