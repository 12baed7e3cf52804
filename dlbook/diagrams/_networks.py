"""Diagrams of chapter 2 and 3: neurons, networks and computational graphs."""

import numpy as np

from ._draw import COLUMN_INCHES, grid as _grid, plt as _plt

# English label -> its Chinese, for the Chinese edition's figures (one entry per word label;
# "{}" stands for a number, carried over).
LABELS_ZH = {
    # perceptron
    "A perceptron with the course's AND weights": "使用课程中与门权重的感知机",
    "A perceptron with the course's OR weights": "使用课程中或门权重的感知机",
    "A perceptron with the course's NAND weights": "使用课程中与非门权重的感知机",
    "AND": "与门",
    "OR": "或门",
    "NAND": "与非门",
    "y = 1 if": "y = 1，若",
    "else y = 0": "否则 y = 0",
    # network
    "input layer": "输入层",
    "hidden layer": "隐藏层",
    "output layer": "输出层",
    "first layer": "第一层",
    "A {}-{}-{} network: every weight has an address, and the first layer is A = XW + B":
        "{}-{}-{} 网络：每个权重都有编号，第一层即 A = XW + B",
    # computational graph
    "apple price": "苹果价格",
    "apple count": "苹果个数",
    "orange price": "橙子价格",
    "orange count": "橙子个数",
    "tax": "消费税",
    "amount paid": "支付金额",
    "forward": "正向传播",
    "backward": "反向传播",
    "The apple bill as a graph: forward values above the edges, derivatives below":
        "苹果账单的计算图：边的上方是正向传播的值，下方是导数",
    "The apple and orange bill as a graph: forward values above the edges, derivatives below":
        "苹果和橙子账单的计算图：边的上方是正向传播的值，下方是导数",
}

EDGE = "#333333"
LAYER1 = "#2f5fa7"  # the first layer's edges and its matrix W, in one colour
BACKWARD = "#b3261e"  # backward gradients: a dark red, readable on white


def perceptron(w1, w2, theta, name="AND"):
    """A two-input perceptron: inputs x1, x2, weights on the edges, the sum and the step with threshold theta.

    w1, w2, theta: numbers -> a figure; the truth table beside it is computed with
    :func:`dlbook.gates.perceptron`. ``name`` (AND, OR or NAND) heads the table and the title.
    """
    from ..gates import perceptron as fire

    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.8))
    ax.set_xlim(0, 10), ax.set_ylim(0, 4), ax.axis("off")
    for y, label in ((3.1, "$x_1$"), (0.9, "$x_2$")):
        ax.add_patch(plt.Circle((0.8, y), 0.45, facecolor="#eef3ff", edgecolor="#333333"))
        ax.text(0.8, y, label, ha="center", va="center", fontsize=13)
    ax.add_patch(plt.Circle((4.2, 2.0), 0.75, facecolor="#ffe9c9", edgecolor="#333333"))
    ax.text(4.2, 2.0, r"$\Sigma$ | $\theta$", ha="center", va="center", fontsize=12)
    for y, w, label_y in ((3.1, w1, 2.95), (0.9, w2, 1.05)):
        ax.annotate("", xy=(3.5, 2.0 + (0.35 if y > 2 else -0.35)), xytext=(1.25, y),
                    arrowprops=dict(arrowstyle="->", color="#333333"))
        ax.text(2.35, label_y + (0.25 if y > 2 else -0.25), f"w = {w:g}", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(6.0, 2.0), xytext=(4.95, 2.0), arrowprops=dict(arrowstyle="->", color="#333333"))
    # Words and maths in separate texts, one line each: the Chinese edition translates each line of
    # the SVG whole, and an SVG draws $maths$ glyph by glyph.
    ax.text(6.1, 2.0, "y = 1 if", ha="left", va="center", fontsize=11)
    ax.text(6.1, 1.45, f"$w_1x_1 + w_2x_2 > {theta:g}$", ha="left", va="center", fontsize=13)
    ax.text(6.1, 0.9, "else y = 0", ha="left", va="center", fontsize=11)
    ax.text(9.9, 3.9, name, ha="right", va="top", fontsize=10)
    table = "\n".join(f"{a} {b} -> {fire(a, b, w1, w2, theta)}" for a in (0, 1) for b in (0, 1))
    ax.text(9.9, 3.45, table, ha="right", va="top", fontsize=10, family="monospace", gid="truth-table")
    fig.suptitle(f"A perceptron with the course's {name} weights", fontsize=12)
    return fig


def _first_layer_shapes(sizes, X, W, B):
    """Shapes of X, W, B and A = XW + B: the arrays' own when given, else one sample through the sizes."""
    n0, n1 = sizes[0], sizes[1]
    X = np.zeros((1, n0)) if X is None else np.asarray(X)
    W = np.zeros((n0, n1)) if W is None else np.asarray(W)
    B = np.zeros((1, n1)) if B is None else np.asarray(B)
    if W.shape != (n0, n1):
        raise ValueError(f"network: expected W of shape ({n0}, {n1}) for sizes {tuple(sizes)}, got {W.shape}")
    A = X @ W + B  # the layer itself: its shape is what the picture shows, not a typed tuple
    return {"X": X.shape, "W": W.shape, "B": B.shape, "A": A.shape}


def _entries(key, rows, cols):
    """The symbols in matrix ``key``'s cells, as the page writes them: W[i, j] holds w_(j+1)(i+1)."""
    def cell(i, j):
        if key == "X":
            return f"$x_{j + 1}$" if i == 0 else ""  # a batch: the first sample named, the others alike
        if key == "W":
            return f"$w_{{{j + 1}{i + 1}}}^{{(1)}}$"
        if key == "B":
            return f"$b_{j + 1}^{{(1)}}$"
        return f"$a_{j + 1}^{{(1)}}$" if i == 0 else ""
    return [[cell(i, j) for j in range(cols)] for i in range(rows)]


def network(sizes=(2, 3, 2), *, X=None, W=None, B=None):
    """A fully connected network, neurons as circles, the weights of the edges into each layer's first
    neuron named $w_{ji}^{(l)}$ (layer l, to neuron j, from neuron i); below it the first layer as
    A = XW + B, every matrix drawn cell by cell with its shape.

    sizes: neurons per layer, input first — (2, 3, 2) is the course's 2-input, 3-hidden, 2-output
    network (at most 4 per layer). X (N, sizes[0]), W (sizes[0], sizes[1]), B (1, sizes[1]): the
    first layer's arrays; when given, the shapes shown are theirs and A's is that of ``X @ W + B``;
    else X is one sample.
    """
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) != 3 or min(sizes) < 1 or max(sizes) > 4:
        raise ValueError(f"network: expected three layer sizes from 1 to 4 (input, hidden, output), got {sizes}")
    shapes = _first_layer_shapes(sizes, X, W, B)
    plt = _plt()
    # Heights in inches: the network, then the matrices (a batch of many rows is drawn as three),
    # 0.33 inch per cell row and 2.9 rows' room for the names, shapes and heading; the title on top.
    xs, gap, r = (0.0, 4.0, 8.0), 1.75, 0.48
    top = (max(sizes) - 1) / 2 * gap + r + 0.25  # the tallest layer's top; its bottom is -top
    drawn = {key: min(rows, 3) if key in "XA" else rows for key, (rows, _) in shapes.items()}  # a batch: 3 rows
    most_rows = max(drawn.values())
    net_h, mat_h, title_h = 0.5 * (2 * top + 0.8), 0.33 * (most_rows + 2.9), 0.35
    height = net_h + mat_h + title_h
    fig = plt.figure(figsize=(COLUMN_INCHES, height))
    ax = fig.add_axes((0.0, mat_h / height, 1.0, net_h / height))  # the network on top, the matrices below
    ax.set_xlim(-3.0, 11.0), ax.set_ylim(-top - 0.8, top), ax.axis("off")  # 0.5 inch a unit both ways
    ys = [[(n - 1) / 2 * gap - k * gap for k in range(n)] for n in sizes]
    names = [[f"$x_{i + 1}$" for i in range(sizes[0])], [f"$a_{j + 1}^{{(1)}}$" for j in range(sizes[1])],
             [f"$y_{j + 1}$" for j in range(sizes[2])]]
    for layer in (1, 2):
        for i, y0 in enumerate(ys[layer - 1]):
            for j, y1 in enumerate(ys[layer]):
                x0, x1 = xs[layer - 1], xs[layer]
                # The edges into each layer's first neuron carry their names (the page's formula for
                # a_1 is written with them); the rest stay light so the names can be read.
                named = j == 0
                colour = (LAYER1 if layer == 1 else EDGE) if named else "#b8b8b8"
                ax.annotate("", xy=(x1 - r, y1), xytext=(x0 + r, y0), zorder=2 if named else 1,
                            arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.3 if named else 0.9,
                                            shrinkA=0, shrinkB=0))
                if named:
                    t = 0.5 if layer == 1 else 0.4  # layer 2's three names spread out nearer their sources
                    ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), f"$w_{{{j + 1}{i + 1}}}^{{({layer})}}$",
                            ha="center", va="center", fontsize=13, color=colour, zorder=3,
                            bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none"))
    for layer, (x, column) in enumerate(zip(xs, ys)):
        fill = ("#eef3ff", "#ffe9c9", "#e3f3dc")[layer]
        for y, name in zip(column, names[layer]):
            ax.add_patch(plt.Circle((x, y), r, facecolor=fill, edgecolor=EDGE, zorder=4))
            ax.text(x, y, name, ha="center", va="center", fontsize=13, zorder=5)
        ax.text(x, -top - 0.4, ("input layer", "hidden layer", "output layer")[layer], ha="center", va="center",
                fontsize=10)

    # The first layer as matrices, one cell per entry, so that each shape can be seen as well as read.
    tint = {"X": "#eef3ff", "W": "#d6e2f5", "B": "#f1f1f1", "A": "#ffe9c9"}
    cell_w = 1.3  # a cell is wider than tall: it holds a name such as w_12^(1)
    equation = ("A", "=", "X", "W", "+", "B")
    width = sum(0.7 if key in "=+" else shapes[key][1] * cell_w + 0.15 for key in equation)
    span = max(17.0, width + 0.4)  # wider layers: the same row, drawn a little smaller
    mx = fig.add_axes((0.0, 0.0, 1.0, mat_h / height))
    mx.set_xlim(0, span), mx.set_ylim(-most_rows - 1.3, 1.6), mx.axis("off")
    x0 = left = (span - width) / 2  # the equation centred under the network
    for key in equation:
        if key in "=+":
            mx.text(x0 + 0.35, -0.5, key, ha="center", va="center", fontsize=14)
            x0 += 0.7
            continue
        rows_drawn, cols = drawn[key], shapes[key][1]
        for i, cells in enumerate(_entries(key, rows_drawn, cols)):
            for j, name in enumerate(cells):
                mx.add_patch(plt.Rectangle((x0 + j * cell_w, -i - 1), cell_w, 1, facecolor=tint[key],
                                           edgecolor="#444444", linewidth=0.8))
                if name:
                    mx.text(x0 + (j + 0.5) * cell_w, -i - 0.5, name, ha="center", va="center", fontsize=13)
        mid = x0 + cols * cell_w / 2
        mx.text(mid, 0.55, rf"$\mathbf{{{key}}}^{{(1)}}$" if key in "WBA" else rf"$\mathbf{{{key}}}$",
                ha="center", va="center", fontsize=13)
        mx.text(mid, -rows_drawn - 0.45, f"{shapes[key]}", ha="center", va="center", fontsize=10,
                gid=f"shape-{key}")
        x0 += cols * cell_w + 0.15
    mx.text(left, 1.35, "first layer", ha="left", va="center", fontsize=10)
    fig.suptitle(f"A {sizes[0]}-{sizes[1]}-{sizes[2]} network: every weight has an address, "
                 "and the first layer is A = XW + B", fontsize=11)
    return fig


# ------------------------------------------------------------------ computational graphs


def _bill(apple, apple_num, tax, orange=None, orange_num=None):
    """Run the shopping bill through dlbook.graph's nodes, forward then backward from dL/dL = 1.

    -> (nodes, edges): nodes {name: operation}; edges [(from, to, forward value, dL/d(value))].
    """
    from ..graph import AddLayer, MulLayer

    if orange is None:
        mul_apple, mul_tax = MulLayer(), MulLayer()
        apple_total = mul_apple.forward(apple, apple_num)
        total = mul_tax.forward(apple_total, tax)
        dapple_total, dtax = mul_tax.backward(1)
        dapple, dapple_num = mul_apple.backward(dapple_total)
        nodes = {"mul_apple": "×", "mul_tax": "×"}
        edges = [("apple price", "mul_apple", apple, dapple), ("apple count", "mul_apple", apple_num, dapple_num),
                 ("mul_apple", "mul_tax", apple_total, dapple_total), ("tax", "mul_tax", tax, dtax),
                 ("mul_tax", "amount paid", total, 1)]
        return nodes, edges
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_total = mul_apple.forward(apple, apple_num)
    orange_total = mul_orange.forward(orange, orange_num)
    subtotal = add_fruit.forward(apple_total, orange_total)
    total = mul_tax.forward(subtotal, tax)
    dsubtotal, dtax = mul_tax.backward(1)
    dapple_total, dorange_total = add_fruit.backward(dsubtotal)
    dapple, dapple_num = mul_apple.backward(dapple_total)
    dorange, dorange_num = mul_orange.backward(dorange_total)
    nodes = {"mul_apple": "×", "mul_orange": "×", "add_fruit": "+", "mul_tax": "×"}
    edges = [("apple price", "mul_apple", apple, dapple), ("apple count", "mul_apple", apple_num, dapple_num),
             ("orange price", "mul_orange", orange, dorange),
             ("orange count", "mul_orange", orange_num, dorange_num),
             ("mul_apple", "add_fruit", apple_total, dapple_total),
             ("mul_orange", "add_fruit", orange_total, dorange_total),
             ("add_fruit", "mul_tax", subtotal, dsubtotal), ("tax", "mul_tax", tax, dtax),
             ("mul_tax", "amount paid", total, 1)]
    return nodes, edges


def computational_graph(apple, apple_num, tax, orange=None, orange_num=None):
    """The course's shopping bill as a computational graph: inputs on the left, one circle per node
    (× or +), the amount paid on the right; above each edge its forward value, below it (in red)
    the derivative of the amount paid with respect to that value.

    apple, apple_num, tax (and orange, orange_num for the apple-and-orange bill): numbers -> a figure.
    Every number shown comes from running :class:`dlbook.graph.MulLayer` and
    :class:`dlbook.graph.AddLayer` forward and backward here.
    """
    nodes, edges = _bill(apple, apple_num, tax, orange, orange_num)
    with_oranges = orange is not None
    # Where everything sits (data units): inputs in a column, nodes by how far they are from the inputs.
    if with_oranges:
        where = {"apple price": (0, 5.2), "apple count": (0, 3.9), "orange price": (0, 2.6),
                 "orange count": (0, 1.3), "tax": (0, 0.0), "mul_apple": (3.4, 4.55), "mul_orange": (3.4, 1.95),
                 "add_fruit": (6.0, 3.25), "mul_tax": (8.6, 1.2), "amount paid": (10.7, 1.2)}
        ylim, height = (-0.6, 5.8), 4.1
    else:
        where = {"apple price": (0, 2.6), "apple count": (0, 1.3), "tax": (0, 0.0), "mul_apple": (3.4, 1.95),
                 "mul_tax": (7.2, 1.0), "amount paid": (10.7, 1.0)}
        ylim, height = (-0.6, 3.2), 2.6
    plt = _plt()
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, height))
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=0.9)
    ax.set_xlim(-2.3, 13.2), ax.set_ylim(*ylim), ax.axis("off")
    r = 0.38
    for src, dst, fwd, bwd in edges:
        (x0, y0), (x1, y1) = where[src], where[dst]
        start = x0 + (r if src in nodes else 0.15)
        end = x1 - (r if dst in nodes else 0.15)
        ax.annotate("", xy=(end, y1), xytext=(start, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.1, shrinkA=0, shrinkB=0))
        # Labels a third of the way along an input's edge, where it is still far from its neighbour;
        # halfway along the others. The forward value just above the edge, the derivative just below.
        t = 0.3 if src not in nodes else 0.5
        xm, ym = start + t * (end - start), y0 + t * (y1 - y0)
        ax.text(xm, ym + 0.1, f"{fwd:g}", ha="center", va="bottom", fontsize=10, gid=f"forward-{src}-{dst}")
        ax.text(xm, ym - 0.1, f"{bwd:g}", ha="center", va="top", fontsize=10, color=BACKWARD,
                gid=f"backward-{src}-{dst}")
    for name, op in nodes.items():
        x, y = where[name]
        ax.add_patch(plt.Circle((x, y), r, facecolor="#eef3ff", edgecolor=EDGE, zorder=3))
        ax.text(x, y, op, ha="center", va="center", fontsize=15, zorder=4)
    for name, (x, y) in where.items():
        if name not in nodes:
            left = x == 0
            ax.text(x - 0.05 if left else x + 0.05, y, name, ha="right" if left else "left", va="center",
                    fontsize=10)
    ax.text(13.1, ylim[1] - 0.3, "forward", ha="right", va="center", fontsize=10)
    ax.text(13.1, ylim[1] - 0.75, "backward", ha="right", va="center", fontsize=10, color=BACKWARD)
    which = "apple and orange" if with_oranges else "apple"
    fig.suptitle(f"The {which} bill as a graph: forward values above the edges, derivatives below", fontsize=11)
    return fig
