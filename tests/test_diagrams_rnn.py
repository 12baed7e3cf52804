"""dlbook.diagrams' pictures of chapter 4's sequence pages (dlbook/diagrams/rnn.py): the shapes they
show are dlbook's, their symbols and names are those of the pages they illustrate, and they fit the
column (width, text size, no overlaps, nothing cut off, every word label translatable)."""

import re
from pathlib import Path

import numpy as np
import pytest

plt = pytest.importorskip("matplotlib.pyplot")

from dlbook import diagrams  # noqa: E402
from dlbook.diagrams import _draw  # noqa: E402
from dlbook.layers import RNN  # noqa: E402
from dlbook.rnn import lstm_step, rnn_forward, sigmoid  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "04-cnn-rnn"
RNN_PAGE = (DOCS / "rnn.md").read_text(encoding="utf-8")
LSTM_PAGE = (DOCS / "lstm.md").read_text(encoding="utf-8")
PATTERNS_PAGE = (DOCS / "sequence-patterns.md").read_text(encoding="utf-8")

FIGURES = {
    "rnn_unrolled": lambda: diagrams.rnn_unrolled(N=2, T=5, D=3, H=4),
    "rnn_unrolled_short": lambda: diagrams.rnn_unrolled(N=1, T=3, D=2, H=6),
    "lstm_cell": lambda: diagrams.lstm_cell(H=4),
    "sequence_patterns": lambda: diagrams.sequence_patterns(),
}


@pytest.fixture
def figure(request):
    fig = FIGURES[request.param]()
    yield fig
    plt.close(fig)


def _texts(fig):
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")) if t.get_text()]


def _by_gid(fig):
    return {t.get_gid(): t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")) if t.get_gid()}


def _tuple(maths):
    """'$(2, 5, 3)$' or '$(4{,})$' as drawn -> (2, 5, 3) or (4,)."""
    return tuple(int(n) for n in re.findall(r"\d+", maths))


# ------------------------------------------------------------------ every figure fits the column
@pytest.mark.parametrize("figure", list(FIGURES), indirect=True)
def test_fits_the_column(figure):
    assert figure.get_size_inches()[0] == pytest.approx(diagrams.COLUMN_INCHES)
    assert _draw.label_overlaps(figure) == []
    assert _draw.texts_outside(figure) == []
    assert _draw.smallest_points(figure) >= 9            # subscripts counted at the size drawn
    assert figure._suptitle is not None and figure._suptitle.get_text().strip()   # the alt text


@pytest.mark.parametrize("figure", list(FIGURES), indirect=True)
def test_every_word_label_has_its_chinese(figure):
    words = [s for s in _texts(figure) if _draw.is_word_label(s)]
    assert words, "a figure with no word label would make this test vacuous"
    assert _draw.untranslated(figure, diagrams.LABELS_ZH) == []
    for s in words:
        assert re.search(r"[\u4e00-\u9fff]", _draw.translate(s, diagrams.LABELS_ZH)), s


def test_labels_zh_keep_every_number():
    for english, chinese in diagrams.rnn.LABELS_ZH.items():
        assert english.count("{}") == chinese.count("{}"), english
        assert re.search(r"[\u4e00-\u9fff]", chinese), english
        assert "$" not in english + chinese and "\n" not in english + chinese, english


def test_the_package_table_includes_the_module_s():
    assert diagrams.rnn.LABELS_ZH.items() <= diagrams.LABELS_ZH.items()
    for name in ("rnn_unrolled", "lstm_cell", "sequence_patterns"):
        assert name in diagrams.__all__


# ------------------------------------------------------------------ the RNN, unrolled
@pytest.mark.parametrize("N, T, D, H", [(2, 5, 3, 4), (1, 3, 2, 6), (4, 12, 8, 16)])
def test_rnn_shapes_are_dlbook_s(N, T, D, H):
    fig = diagrams.rnn_unrolled(N=N, T=T, D=D, H=H)
    shown = {gid[len("shape-"):]: _tuple(text.split("=")[-1]) for gid, text in _by_gid(fig).items()
             if gid.startswith("shape-")}
    layer = RNN.random(D, H, seed=0, dtype=np.float64)
    x = np.zeros((N, T, D))
    h, _ = rnn_forward(x, np.zeros((N, H)), layer.params["Wx"], layer.params["Wh"], layer.params["b"])
    assert shown == {"x": x.shape, "h": h.shape, "W_x": layer.params["Wx"].shape,
                     "W_h": layer.params["Wh"].shape, "b": layer.params["b"].shape}
    plt.close(fig)


@pytest.mark.parametrize("T, steps", [(3, ["1", "2", "3"]), (4, ["1", "2", "3", "4"]), (50, ["1", "2", "3", "T"])])
def test_rnn_draws_the_steps(T, steps):
    fig = diagrams.rnn_unrolled(T=T)
    texts = _texts(fig)
    for s in steps:
        assert f"$x_{s}$" in texts and f"$h_{s}$" in texts
    assert ("$x_T$" in texts) == (T > 4)          # 1, 2, 3, ..., T only when some are left out
    plt.close(fig)


def test_rnn_equation_is_the_page_s():
    fig = diagrams.rnn_unrolled()
    drawn = [s.strip("$") for s in _texts(fig) if s.startswith("$h_t =")]
    page = re.search(r"\$\$\s*(h_t = .*?)\.?\s*\$\$", RNN_PAGE, re.S).group(1)
    page = page.replace(r"\left", "").replace(r"\right", "").strip()
    assert drawn == [page]
    for weight in ("W_x", "W_h"):       # the shared weights are labelled with the page's symbols
        assert f"${weight}$" in _texts(fig) and weight in page
    plt.close(fig)


# ------------------------------------------------------------------ the LSTM cell
def _page_gates():
    """{letter: 'sigma' or 'tanh'} from lstm.md's row-vector equations, e.g. $f_t = \\sigma(a_t^{(f)})$."""
    found = re.findall(r"\$([a-z])_t = (?:\\tilde c_t = )?\\(sigma|tanh)\(a_t\^\{\(([a-z])\)\}\)\$", LSTM_PAGE)
    assert len(found) == 4, found
    assert all(letter == block for letter, _, block in found)
    return {letter: squash for letter, squash, _ in found}


def _page_order():
    """The order of a_t's blocks on lstm.md: $a_t = [a_t^{(i)}, a_t^{(f)}, a_t^{(g)}, a_t^{(o)}]$."""
    packed = re.search(r"a_t = \[((?:a_t\^\{\([a-z]\)\}(?:, )?)+)\]", LSTM_PAGE).group(1)
    return re.findall(r"\(([a-z])\)", packed)


def test_lstm_gate_letters_are_the_page_s():
    gates = _page_gates()
    fig = diagrams.lstm_cell()
    drawn = _by_gid(fig)
    cell_gates = {gid[len("gate-"):]: text for gid, text in drawn.items() if gid.startswith("gate-")}
    assert cell_gates == {letter: f"${letter}_t$" for letter in gates}
    for letter, squash in gates.items():                 # sigma for i, f, o; tanh for the candidate g
        assert drawn[f"squash-{letter}"] == f"$\\{squash}$"
    # the strip lists the blocks in the page's packing order
    blocks = [gid[len("block-"):] for gid in drawn if gid.startswith("block-")]
    assert blocks == _page_order() == ["i", "f", "g", "o"]
    # and the state symbols at the cell's edges are the page's
    for symbol in ("c_{t-1}", "c_t", "h_{t-1}", "h_t", "x_t", "[h_{t-1}, x_t]"):
        assert f"${symbol}$" in _texts(fig) and f"${symbol}" in LSTM_PAGE
    plt.close(fig)


@pytest.mark.parametrize("H", [4, 3, 7])
def test_lstm_slices_are_those_lstm_step_reads(H):
    """Rebuild one step from the columns the figure shows; it must equal dlbook's lstm_step."""
    fig = diagrams.lstm_cell(H=H)
    slices = {}
    for gid, text in _by_gid(fig).items():
        if gid.startswith("slice-"):
            start, stop = map(int, re.fullmatch(r"a\[:, (\d+):(\d+)\]", text).groups())
            slices[gid[len("slice-"):]] = slice(start, stop)
    plt.close(fig)
    rng = np.random.default_rng(H)
    N, D = 2, 3
    x_t, h_prev, c_prev = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    a = x_t @ Wx + h_prev @ Wh + b
    i, f, o = (sigmoid(a[:, slices[k]]) for k in "ifo")
    g = np.tanh(a[:, slices["g"]])
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    h_step, c_step = lstm_step(x_t, h_prev, c_prev, Wx, Wh, b)
    np.testing.assert_allclose(c_t, c_step)
    np.testing.assert_allclose(h_t, h_step)


# ------------------------------------------------------------------ the sequence patterns
def _page_patterns():
    """[(name, example, input shape, output shape)] from the table at the top of sequence-patterns.md."""
    rows = []
    for line in PATTERNS_PAGE.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"(one|many) to (one|many)", cells[0]):
            example = cells[1].split(" (")[0]
            rows.append((cells[0], example, cells[2], cells[3]))
    return rows


def test_patterns_are_the_page_s():
    rows = _page_patterns()
    assert len(rows) == 5
    fig = diagrams.sequence_patterns()
    drawn = _by_gid(fig)
    for k, (name, example, inputs, outputs) in enumerate(rows):
        assert drawn[f"pattern{k}-name"] == name
        assert drawn[f"pattern{k}-example"] == example
        # a sequence (a T in its shape) is drawn as several boxes, a single vector as one
        n_in = sum(gid.startswith(f"pattern{k}-in-") for gid in drawn)
        n_out = sum(gid.startswith(f"pattern{k}-out-") for gid in drawn)
        assert (n_in > 1) == ("T" in inputs), (name, inputs)
        assert (n_out > 1) == ("T" in outputs), (name, outputs)
    plt.close(fig)


def test_encoder_decoder_lengths_differ():
    """The page's point: the translation can be longer or shorter than the source."""
    fig = diagrams.sequence_patterns()
    drawn = _by_gid(fig)
    n_in = sum(gid.startswith("pattern4-in-") for gid in drawn)
    n_out = sum(gid.startswith("pattern4-out-") for gid in drawn)
    assert n_in != n_out
    plt.close(fig)
