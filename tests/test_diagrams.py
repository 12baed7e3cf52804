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
    table = [t for t in _texts(fig) if t.startswith("AND\n")][0]
    assert table.splitlines()[1:] == ["0 0 -> 0", "0 1 -> 0", "1 0 -> 0", "1 1 -> 1"]
    assert diagrams.label_overlaps(fig) == []
    plt.close(fig)


def test_the_overlap_check_can_fail():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "one")
    ax.text(0.5, 0.5, "two")
    assert ("one", "two") in diagrams.label_overlaps(fig)
    plt.close(fig)
