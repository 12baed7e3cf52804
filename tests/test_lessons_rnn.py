"""The RNN and LSTM pages agree with each other and with dlbook.rnn (issue 13).

- 04-cnn-rnn/rnn.md says correctly what a CNN lacks on sequences: not order inside an input (a
  convolution keeps positions, and a tested block shows it) but a memory across any length.
- rnn.md and lstm.md use one convention, the code's: row vectors, ``x_t W_x + h_{t-1} W_h + b``,
  weights multiplied from the right; lstm.md's table of equations names the lines of
  ``lstm_step`` as they are, in the gate order i, f, g, o of ``dlbook.rnn``.
- lstm.md credits the forget gate to Gers, Schmidhuber and Cummins (2000), not to the 1997 LSTM.
- lstm.md teaches the layer; how it is made fast lives on appendix/lstm.md, which names functions
  that exist, quotes the tanh error bound the code documents, and states no speed number.
- Every page of this group ends with at least two exercises whose answers run code.
"""

import inspect
import re
from pathlib import Path

import pytest

from dlbook import rnn
from dlbook.rnn import _fast
from tools.bookexec import iter_fences

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RNN_PAGE = DOCS / "04-cnn-rnn" / "rnn.md"
LSTM_PAGE = DOCS / "04-cnn-rnn" / "lstm.md"
PATTERNS_PAGE = DOCS / "04-cnn-rnn" / "sequence-patterns.md"
APPENDIX = DOCS / "appendix" / "lstm.md"
PAGES = [RNN_PAGE, LSTM_PAGE, PATTERNS_PAGE, APPENDIX]

PRE_ACTIVATION = "x_t W_x + h_{t-1} W_h + b"


def _text(page):
    return page.read_text(encoding="utf-8")


def _prose(page):
    """The page's text without its fenced blocks."""
    text = _text(page)
    for m, _, _ in sorted(iter_fences(text), key=lambda f: -f[0].start()):
        text = text[: m.start()] + text[m.end():]
    return text


def _sentences(page):
    return re.split(r"(?<=[.!?])\s+", " ".join(_prose(page).split()))


def _display_math(page):
    return re.findall(r"\$\$(.+?)\$\$", _prose(page), re.S)


def _table(page, header_start):
    """The rows (lists of cells) of the first table whose header row starts with ``header_start``."""
    lines = _text(page).splitlines()
    for k, line in enumerate(lines):
        if line.startswith("|") and header_start in line:
            rows = []
            for row in lines[k + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            header = [cell.strip() for cell in line.strip().strip("|").split("|")]
            return header, rows
    raise AssertionError(f"{page.name}: no table with {header_start!r} in its header")


# ------------------------------------------------------------------ item 8: what a CNN lacks
def test_rnn_page_does_not_say_a_cnn_ignores_order():
    prose = " ".join(_prose(RNN_PAGE).split())
    assert "nothing marks which element came first" not in prose
    assert "a convolution's output keeps the positions of its input" in prose
    assert "memory that runs along a sequence of any length" in prose
    assert "The same weights are used at every step" in prose


def test_rnn_page_shows_a_convolution_that_keeps_order_but_not_memory():
    """A tested block runs a convolution over the two sentences: order shows, the first character does not."""
    fences = [body for _, info, body in iter_fences(_text(RNN_PAGE)) if info == "python" and "conv_over_text(" in body]
    assert fences, "rnn.md lost its convolution-over-text block"
    body = fences[0]
    assert re.search(r'conv_over_text\("人咬狗"\)\)\).*\n\s*False\n', body), "the two orders must differ"
    assert re.search(r'conv_over_text\("人咬人"\)\[:, -1\].*\n.*allclose\(y\[:, -1\], last\)\)\n\s*True\n', body), (
        "the last output must not see the first character"
    )


# ------------------------------------------------------------------ item 10: one convention
def test_both_pages_write_the_pre_activation_in_the_codes_row_form():
    for page in (RNN_PAGE, LSTM_PAGE):
        math = _display_math(page)
        assert any(PRE_ACTIVATION in m for m in math), f"{page.name}: no display equation with {PRE_ACTIVATION!r}"
    source = inspect.getsource(rnn.lstm_step) + inspect.getsource(rnn.rnn_step)
    assert "x_t @ Wx + h_prev @ Wh + b" in source


# A weight matrix written before the vector it multiplies: W x, W_f . [h, x] (column vectors).
COLUMN_FORM = re.compile(r"W_\{?\w+\}?(?:\^\{?\(?\w+\)?\}?)?\s*(?:\\cdot\s*)?\[?\s*[xh]_")


def test_no_column_vector_products_in_the_books_own_equations():
    """The course's W_f . [h_{t-1}, x_t] may be quoted (its own table column, the prose that
    translates it); the book's display equations and its own column stay in row form."""
    assert COLUMN_FORM.search(r"W_f \cdot [h_{t-1}, x_t]") and COLUMN_FORM.search(r"W_h h_{t-1}")
    assert not COLUMN_FORM.search(PRE_ACTIVATION)
    for page in (RNN_PAGE, LSTM_PAGE):
        for m in _display_math(page):
            assert not COLUMN_FORM.search(m), f"{page.name}: column-vector product in $$...$$: {m.strip()}"
    header, rows = _table(LSTM_PAGE, "the course writes")
    book = header.index("this book (row vectors)")
    for row in rows:
        assert not COLUMN_FORM.search(row[book]) and "\\cdot" not in row[book], row


def test_lstm_table_names_the_lines_of_lstm_step_in_gate_order():
    header, rows = _table(LSTM_PAGE, "the course writes")
    code_col = header.index("the line of `dlbook.rnn.lstm_step`")
    source = inspect.getsource(rnn.lstm_step)
    code_lines = {line.split("#")[0].strip() for line in source.splitlines()}
    cells = [row[code_col].strip("`") for row in rows]
    for cell in cells:
        assert cell in code_lines, f"lstm.md's table shows {cell!r}, which is not a line of lstm_step"
    slices = [re.search(r"a\[:, (\d) \* H:(\d) \* H\]", c) for c in cells]
    gates = [(c.split("=")[0].strip(), int(s.group(1))) for c, s in zip(cells, slices) if s]
    assert gates == [("i", 0), ("f", 1), ("g", 2), ("o", 3)]
    # the order the page states is the order the package documents
    assert "gate order i, f, g, o" in " ".join(inspect.getdoc(rnn.lstm_step).split())
    assert "**i, f, g, o**" in rnn.__doc__
    assert "*i, f, g, o*" in _text(LSTM_PAGE)
    for shape in ("(D, 4H)", "(H, 4H)"):
        assert shape.replace("(", "$(").replace(")", ")$") in _text(LSTM_PAGE) and shape in rnn.__doc__


# ------------------------------------------------------------------ item 15: the forget gate's date
def test_the_forget_gate_is_credited_to_gers_2000():
    sentences = _sentences(LSTM_PAGE)
    assert any("Gers, Schmidhuber and Cummins" in s and "2000" in s and "forget gate" in s for s in sentences)
    assert any("Hochreiter and Schmidhuber, 1997" in s for s in sentences)
    for s in sentences:
        if "1997" in s and "forget gate" in s:
            assert re.search(r"\bno forget gate\b|\bnot\b|\bwithout\b", s), s


# ------------------------------------------------------------------ the lesson in front, speed behind
def test_lstm_page_teaches_the_layer_and_links_the_appendix():
    prose = _prose(LSTM_PAGE)
    assert prose.count("../appendix/lstm.md") == 1
    assert "how it is made fast" not in prose.lower().split("## as a layer")[1].split("\n")[0]
    for word in ("rational", "feature-major", "SVML", "BLAS", "GEMM", "vectoris", "workspace"):
        assert word not in prose, f"lstm.md still explains the fast path ({word!r}); that is appendix/lstm.md's job"
    assert "\n## As a layer\n" in _text(LSTM_PAGE)
    assert "appendix/lstm.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_appendix_names_what_the_code_has():
    text = _text(APPENDIX)
    assert text.startswith("# The LSTM fast path\n")
    for name in set(re.findall(r"`(_[a-z_]+)`", text)):
        assert hasattr(_fast, name), f"appendix/lstm.md names {name}, which dlbook.rnn._fast does not have"
    for name in ("exact_tanh=True", "lstm_forward_reference", "python3 -m benchmarks lstm"):
        assert name in text
    assert "exact_tanh" in inspect.signature(rnn.lstm_forward).parameters


def test_appendix_quotes_the_error_bound_the_code_documents():
    documented = set(re.findall(r"max abs error (\d\.\d)e-(\d+)", inspect.getdoc(rnn.lstm_forward)))
    documented |= set(re.findall(r"max abs error (\d\.\d)e-(\d+)", inspect.getdoc(_fast._tanh_rational)))
    assert len(documented) == 1, documented
    (mantissa, exponent), = documented
    about_error = " ".join(s for s in _sentences(APPENDIX) if "error" in s)
    quoted = set(re.findall(r"(\d\.\d) \\times 10\^\{-(\d+)\}", about_error))
    assert quoted == {(mantissa, exponent)}, "appendix/lstm.md and the code give different error bounds"


def test_appendix_states_no_speed_number():
    prose = _prose(APPENDIX)
    assert not re.search(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:x|×)(?=[\s,.;:)])", prose), "a speed ratio in appendix/lstm.md"
    assert not re.search(r"\d\s?(?:ms|µs|GFLOP)", prose)


# ------------------------------------------------------------------ exercises
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_ends_with_exercises_that_run_code(page):
    text = _text(page)
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings and headings[-1] == "Exercises", f"{page.name}: the last section is {headings[-1:]}"
    exercises = text[text.rindex("## Exercises"):].split('??? question "')[1:]
    assert len(exercises) >= 2
    with_code = [e for e in exercises if '??? success "Answer"' in e and "```python" in e]
    assert len(with_code) >= 2, f"{page.name}: {len(with_code)} exercises with a tested answer"
