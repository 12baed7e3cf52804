"""dlbook.diagrams: structure pictures drawn from dlbook's own numbers, sized for the text column,
with no overlapping labels."""

import numpy as np
import pytest

plt = pytest.importorskip("matplotlib.pyplot")

from dlbook import diagrams  # noqa: E402
from dlbook.conv import conv2d  # noqa: E402
from dlbook.pooling import avg_pool2d, max_pool2d  # noqa: E402

X = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
K = np.array([[2, 0, 1], [0, 1, 2], [1, 0, 2]], dtype=float)


def _texts(fig):
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")) if t.get_text()]


def _by_gid(fig):
    """The texts a diagram tagged (gid -> text): the numbers it shows, each at a known place."""
    return {t.get_gid(): t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")) if t.get_gid()}


@pytest.mark.parametrize("stride, pad, bias", [(1, 0, 0.0), (1, 1, 3.0), (2, 1, 0.0)])
def test_convolution_steps_shows_conv2d_s_sums(stride, pad, bias):
    fig = diagrams.convolution_steps(X, K, stride=stride, pad=pad, bias=bias)
    y = conv2d(X[None, None], K[None, None], np.array([bias]), stride=stride, pad=pad)[0, 0]
    texts = _texts(fig)
    for (i, j), v in np.ndenumerate(y):
        assert f"y[{i},{j}] = {v:g}" in texts
    assert diagrams.label_overlaps(fig) == []
    assert fig.get_size_inches()[0] == pytest.approx(diagrams.COLUMN_INCHES)
    plt.close(fig)


def test_pooling_shows_both_outputs():
    x = np.array([[1, 2, 0, 1], [3, 4, 2, 0], [0, 1, 5, 6], [2, 1, 7, 8]], dtype=float)
    fig = diagrams.pooling(x)
    texts = _texts(fig)
    for v in np.concatenate([max_pool2d(x[None, None], 2).ravel(), avg_pool2d(x[None, None], 2).ravel()]):
        assert f"{v:g}" in texts
    assert diagrams.label_overlaps(fig) == []
    plt.close(fig)


def test_perceptron_truth_table_comes_from_the_gate():
    fig = diagrams.perceptron(0.5, 0.5, 0.7, name="AND")
    assert _by_gid(fig)["truth-table"].splitlines() == ["0 0 -> 0", "0 1 -> 0", "1 0 -> 0", "1 1 -> 1"]
    assert "AND" in _texts(fig)
    assert diagrams.label_overlaps(fig) == []
    plt.close(fig)


def test_the_overlap_check_can_fail():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "one")
    ax.text(0.5, 0.5, "two")
    assert ("one", "two") in diagrams.label_overlaps(fig)
    plt.close(fig)


# ------------------------------------------------------------------ the network, the graphs, channels, architectures

from dlbook.architectures import Conv, FC, Pool, architecture_table, lenet5_spec, lenet_spec  # noqa: E402
from dlbook.diagrams import _draw, cnn, networks  # noqa: E402
from dlbook.graph import AddLayer, MulLayer  # noqa: E402

# The page's first layer (docs/02-networks/mlp.md) and multi-channel example (docs/04-cnn-rnn/convolution.md).
X1 = np.array([[1.0, 0.5]])
W1 = np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
B1 = np.array([[0.1, 0.2, 0.3]])
_rng = np.random.default_rng(1)
IMG = _rng.integers(0, 3, size=(3, 4, 4)).astype(float)
FILTERS = _rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(float)


@pytest.mark.parametrize("X", [X1, np.ones((4, 2))], ids=["one sample", "a batch of 4"])
def test_network_shows_the_shapes_of_its_arrays(X):
    fig = diagrams.network((2, 3, 2), X=X, W=W1, B=B1)
    shown = _by_gid(fig)
    assert [shown[f"shape-{k}"] for k in "XWBA"] == [str(m.shape) for m in (X, W1, B1, X @ W1 + B1)]
    texts = _texts(fig)
    # W's cells name every first-layer weight; W[i, j] is w_(j+1)(i+1), the page's convention
    assert all(f"$w_{{{j}{i}}}^{{(1)}}$" in texts for i in (1, 2) for j in (1, 2, 3))
    assert [f"$x_{i}$" in texts for i in (1, 2, 3)] == [True, True, False]
    assert all(name in texts for name in ("input layer", "hidden layer", "output layer"))
    plt.close(fig)


def test_network_shapes_follow_the_layer_sizes_without_arrays():
    fig = diagrams.network((4, 3, 2))
    assert [_by_gid(fig)[f"shape-{k}"] for k in "XWBA"] == ["(1, 4)", "(4, 3)", "(1, 3)", "(1, 3)"]
    assert all(f"$w_{{{j}{i}}}^{{(1)}}$" in _texts(fig) for i in (1, 2, 3, 4) for j in (1, 2, 3))  # all 4 rows of W
    plt.close(fig)
    with pytest.raises(ValueError, match=r"expected W of shape \(2, 3\)"):
        diagrams.network((2, 3, 2), W=np.ones((3, 2)))


def _apple_bill():
    """The page's apple graph replayed with dlbook.graph: edge -> (forward value, derivative)."""
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(10, 2)
    price = mul_tax.forward(apple_price, 1.1)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    return {"apple price-mul_apple": (10, dapple), "apple count-mul_apple": (2, dapple_num),
            "mul_apple-mul_tax": (apple_price, dapple_price), "tax-mul_tax": (1.1, dtax),
            "mul_tax-amount paid": (price, 1)}


def _fruit_bill():
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_total, orange_total = mul_apple.forward(10, 2), mul_orange.forward(15, 3)
    subtotal = add_fruit.forward(apple_total, orange_total)
    total = mul_tax.forward(subtotal, 1.1)
    dsubtotal, dtax = mul_tax.backward(1)
    dapple_total, dorange_total = add_fruit.backward(dsubtotal)
    dapple, dapple_num = mul_apple.backward(dapple_total)
    dorange, dorange_num = mul_orange.backward(dorange_total)
    return {"apple price-mul_apple": (10, dapple), "apple count-mul_apple": (2, dapple_num),
            "orange price-mul_orange": (15, dorange), "orange count-mul_orange": (3, dorange_num),
            "mul_apple-add_fruit": (apple_total, dapple_total), "mul_orange-add_fruit": (orange_total, dorange_total),
            "add_fruit-mul_tax": (subtotal, dsubtotal), "tax-mul_tax": (1.1, dtax), "mul_tax-amount paid": (total, 1)}


@pytest.mark.parametrize("kwargs, bill", [
    (dict(apple=10, apple_num=2, tax=1.1), _apple_bill),
    (dict(apple=10, apple_num=2, tax=1.1, orange=15, orange_num=3), _fruit_bill),
], ids=["apples", "apples and oranges"])
def test_computational_graph_shows_dlbook_graph_s_values(kwargs, bill):
    fig = diagrams.computational_graph(**kwargs)
    shown = _by_gid(fig)
    expected = bill()
    assert {k[len("forward-"):] for k in shown if k.startswith("forward-")} == set(expected)
    for edge, (forward, backward) in expected.items():
        assert (shown[f"forward-{edge}"], shown[f"backward-{edge}"]) == (f"{forward:g}", f"{backward:g}")
    # the page's numbers: 22 and 2.2, 11, 20; 71.5 and 2.2, 11, 3.3, 16.5, 65
    assert shown["forward-mul_tax-amount paid"] == ("22" if "orange" not in kwargs else "71.5")
    colours = {t.get_gid().split("-")[0]: t.get_color() for t in fig.findobj(match=lambda a: hasattr(a, "get_gid"))
               if t.get_gid() and t.get_gid().startswith(("forward-", "backward-"))}
    assert colours["forward"] != colours["backward"]
    plt.close(fig)


def test_multichannel_convolution_shows_conv2d_s_output():
    fig = diagrams.multichannel_convolution(IMG, FILTERS)
    y = conv2d(IMG[None], FILTERS)[0]
    shown = _by_gid(fig)
    for (f, i, j), v in np.ndenumerate(y):
        assert shown[f"y{f}-{i}-{j}"] == f"{v:g}"
    assert shown["shape-x"] == "(C, H, W) = (3, 4, 4)"
    assert shown["shape-w"] == "(K, C, R, S) = (2, 3, 3, 3)"
    assert shown["shape-y"] == f"(K, OH, OW) = {y.shape}" == "(K, OH, OW) = (2, 2, 2)"
    plt.close(fig)


def test_multichannel_convolution_with_stride_padding_and_bias():
    b = np.array([1.0, -2.0])
    fig = diagrams.multichannel_convolution(IMG, FILTERS, b, stride=2, pad=1)
    y = conv2d(IMG[None], FILTERS, b, stride=2, pad=1)[0]
    shown = _by_gid(fig)
    assert sorted(k for k in shown if k.startswith("y")) == sorted(f"y{f}-{i}-{j}" for f, i, j in np.ndindex(y.shape))
    assert all(shown[f"y{f}-{i}-{j}"] == f"{v:g}" for (f, i, j), v in np.ndenumerate(y))
    plt.close(fig)


@pytest.mark.parametrize("name, spec, kinds", [
    ("lenet", lenet_spec(), ["input", "conv 5x5, 20", "max pool 2x2", "conv 5x5, 50", "max pool 2x2",
                             "FC 500", "ReLU", "FC 10", "softmax"]),
    ("lenet5", lenet5_spec(), ["input", "conv 5x5, 6", "tanh", "avg pool 2x2", "conv 5x5, 16", "tanh",
                               "avg pool 2x2", "conv 5x5, 120", "tanh", "FC 84", "tanh", "FC 10"]),
])
def test_architecture_blocks_come_from_architecture_table(name, spec, kinds):
    fig = diagrams.architecture(name)
    shown = _by_gid(fig)
    shapes = [(1, 32, 32)] + [row.output_shape for row in architecture_table(spec, (1, 32, 32))]
    assert [shown[f"shape-{k}"] for k in range(len(shapes))] == ["x".join(map(str, s)) for s in shapes]
    assert [shown[f"kind-{k}"] for k in range(len(kinds))] == kinds
    assert f"shape-{len(shapes)}" not in shown
    _assert_texts_inside_their_blocks(fig)
    plt.close(fig)


def _assert_texts_inside_their_blocks(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    blocks = {p.get_gid().split("-")[1]: p.get_window_extent(renderer)
              for p in fig.findobj(match=lambda a: hasattr(a, "get_gid") and str(a.get_gid()).startswith("block-"))}
    for t in fig.findobj(match=lambda a: hasattr(a, "get_text") and str(a.get_gid()).startswith(("kind-", "shape-"))):
        box, block = t.get_window_extent(renderer), blocks[t.get_gid().split("-")[1]]
        assert block.x0 <= box.x0 and box.x1 <= block.x1 and block.y0 <= box.y0 and box.y1 <= block.y1, t.get_text()


def test_architecture_of_a_list_of_specs_and_its_errors():
    fig = diagrams.architecture([Conv(8, 3, stride=2, pad=1), Pool(3, 2), FC(10)], (3, 16, 16))
    shown = _by_gid(fig)
    assert [shown[f"kind-{k}"] for k in range(4)] == ["input", "conv 3x3, 8, stride 2, padding 1",
                                                     "max pool 3x3, stride 2", "FC 10"]
    assert [shown[f"shape-{k}"] for k in range(4)] == ["3x16x16", "8x8x8", "8x3x3", "10"]
    assert _draw.untranslated(fig, cnn.LABELS_ZH) == []
    plt.close(fig)
    with pytest.raises(ValueError, match="input_shape"):
        diagrams.architecture([FC(10)])
    with pytest.raises(ValueError, match="expected one of"):
        diagrams.architecture("resnet-1000")


# ------------------------------------------------------------------ every diagram: the column's rules

ALL_DIAGRAMS = {
    "perceptron AND": (networks, lambda: diagrams.perceptron(0.5, 0.5, 0.7, name="AND")),
    "perceptron NAND": (networks, lambda: diagrams.perceptron(-0.5, -0.5, -0.7, name="NAND")),
    "perceptron OR": (networks, lambda: diagrams.perceptron(0.5, 0.5, 0.2, name="OR")),
    "network": (networks, lambda: diagrams.network((2, 3, 2), X=X1, W=W1, B=B1)),
    "network batch": (networks, lambda: diagrams.network((2, 3, 2), X=np.ones((8, 2)), W=W1, B=B1)),
    "network 4-4-4": (networks, lambda: diagrams.network((4, 4, 4))),
    "network 1-2-1": (networks, lambda: diagrams.network((1, 2, 1))),
    "apple graph": (networks, lambda: diagrams.computational_graph(10, 2, 1.1)),
    "fruit graph": (networks, lambda: diagrams.computational_graph(10, 2, 1.1, orange=15, orange_num=3)),
    "convolution steps": (cnn, lambda: diagrams.convolution_steps(X, K)),
    "convolution steps bias": (cnn, lambda: diagrams.convolution_steps(X, K, stride=1, pad=1, bias=3.0)),
    "pooling": (cnn, lambda: diagrams.pooling(X)),
    "multichannel": (cnn, lambda: diagrams.multichannel_convolution(IMG, FILTERS)),
    "multichannel strided": (cnn, lambda: diagrams.multichannel_convolution(IMG, FILTERS, stride=2, pad=1)),
    "course's LeNet": (cnn, lambda: diagrams.architecture("lenet")),
    "LeNet-5": (cnn, lambda: diagrams.architecture("lenet5")),
}


@pytest.mark.parametrize("module, draw", ALL_DIAGRAMS.values(), ids=list(ALL_DIAGRAMS))
def test_every_diagram_fits_the_column_and_the_chinese_edition(module, draw):
    fig = draw()
    assert fig.get_size_inches()[0] == pytest.approx(diagrams.COLUMN_INCHES)
    assert diagrams.label_overlaps(fig) == []
    assert _draw.texts_outside(fig) == []
    assert _draw.smallest_points(fig) >= _draw.MIN_POINTS
    assert fig._suptitle is not None and fig._suptitle.get_text()  # the image's alt text
    assert _draw.untranslated(fig, module.LABELS_ZH) == []
    assert _draw.untranslated(fig, diagrams.LABELS_ZH) == []
    plt.close(fig)


@pytest.mark.parametrize("module", [networks, cnn], ids=["networks", "cnn"])
def test_labels_zh_keep_every_number(module):
    for english, chinese in module.LABELS_ZH.items():
        assert english.count("{}") == chinese.count("{}"), english
        assert chinese.strip() and "$" not in english + chinese and "\n" not in english + chinese


def test_translate_carries_the_numbers_over():
    assert _draw.translate("conv 5x5, 20", cnn.LABELS_ZH) == "卷积 5x5，20"
    assert _draw.translate("Convolution window at each position (stride 2, padding 1)", cnn.LABELS_ZH) == \
        "卷积窗口在每个位置（步幅 2，填充 1）"
    assert _draw.translate("input 4x4", cnn.LABELS_ZH) == "输入 4x4"
    assert _draw.translate("input four by four", cnn.LABELS_ZH) is None  # placeholders take numbers only
    assert [_draw.is_word_label(s) for s in ("15", "6x28x28", "(1, 3)", "$h_t$", "y[0,1] = 16", "max pool 2x2")] \
        == [False, False, False, False, False, True]


def test_the_checks_can_fail():
    fig, ax = plt.subplots(figsize=(diagrams.COLUMN_INCHES, 2))
    ax.axis("off")  # as in every diagram: no tick labels
    ax.text(0.5, 0.5, "max pooling", fontsize=8)
    ax.text(0.1, 0.1, "untranslated words")
    ax.text(0.2, 0.8, "$w_{12}$ inside words")
    ax.text(1.5, 0.5, "far right")
    assert _draw.untranslated(fig, cnn.LABELS_ZH) == ["untranslated words", "$w_{12}$ inside words", "far right"]
    assert _draw.texts_outside(fig) == ["far right"]
    assert _draw.smallest_points(fig) == pytest.approx(10 * 0.7)  # $w_{12}$'s subscript, at 0.7 of 10 points
    ax.texts[2].set_fontsize(13)
    assert _draw.smallest_points(fig) == 8  # "max pooling"
    ax.texts[0].set_fontsize(12)
    assert _draw.smallest_points(fig) == pytest.approx(13 * 0.7)
    plt.close(fig)
