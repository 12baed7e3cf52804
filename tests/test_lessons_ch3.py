"""Chapter 3 (training): what the prose says agrees with what the code computes.

The doctests on the pages assert the printed numbers; these tests tie the *sentences* around them
to the same computations (issue 13), and check the chapter's shape: the index table and the
exercises at the end of every page.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from dlbook.gradcheck import numerical_diff, numerical_gradient, rel_error
from dlbook.layers import MeanSquaredLoss
from dlbook.optim import SGD

ROOT = Path(__file__).resolve().parents[1]
CH3 = ROOT / "docs" / "03-training"
# The pages of chapter 3, in the order of the index table: (section number, file, title starts with).
SECTIONS = [
    ("3.1", "losses.md", "Loss functions"),
    ("3.2", "derivatives.md", "Derivatives"),
    ("3.3", "gradient-descent.md", "Gradient descent"),
    ("3.4", "backprop.md", "Backpropagation"),
    ("3.5", "layers.md", "Layers"),
    ("3.6", "making-training-work.md", "Making training work"),
    ("3.7", "summary.md", "Summary and exercises"),
]


def page(name):
    return (CH3 / name).read_text(encoding="utf-8")


def prose(text):
    """The page without its fenced code blocks (sentences only)."""
    return re.sub(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", "", text, flags=re.M | re.S)


# ------------------------------------------------------------------ 3.3 gradient descent


def _bowl_loss_after(lr, steps=20, start=(-4.0, 2.0)):
    params, opt = {"w": np.array(start)}, SGD(lr=lr)
    for _ in range(steps):
        w = params["w"]
        opt.update(params, {"w": np.array([w[0], 4 * w[1]])})
    w0, w1 = params["w"]
    return 0.5 * w0**2 + 2 * w1**2


def test_divergence_sentence_matches_the_computation():
    """Issue 13 item 1: the loss at the start is E(-4, 2) = 16, not 12."""
    start = 0.5 * (-4.0) ** 2 + 2 * 2.0**2
    end = _bowl_loss_after(0.52)
    assert start == 16.0
    assert round(end) == 174
    text = prose(page("gradient-descent.md"))
    assert f"grows from {start:.0f} to {end:.0f}" in " ".join(text.split())
    assert "from 12 to" not in text


def test_best_line_loss_in_the_prose_is_computed():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 1))
    t = 3 * x + 2 + 0.3 * rng.standard_normal((200, 1))
    (w, b), *_ = np.linalg.lstsq(np.hstack([x, np.ones_like(x)]), t.ravel(), rcond=None)
    best = f"{np.mean((w * x + b - t) ** 2):.4f}"
    text = page("gradient-descent.md")
    assert best == "0.0938" and best in prose(text)
    assert "axhline(0.0938" not in text  # the figure draws the computed value


def test_zero_gradient_can_be_a_saddle():
    """Issue 13 item 6: x**2 - y**2 has gradient 0 at the origin, yet rises along x and falls along y."""

    def saddle(v):
        return v[0] ** 2 - v[1] ** 2

    assert np.allclose(numerical_gradient(saddle, np.zeros(2)), 0)
    for d in (1e-3, 0.1, 1.0):
        assert saddle(np.array([d, 0.0])) > 0 > saddle(np.array([0.0, d]))
    text = " ".join(prose(page("gradient-descent.md")).split())
    assert "at least a local one" not in text
    assert "saddle point (鞍点)" in text.replace("*", "")


# ------------------------------------------------------------------ 3.1 losses: one notation


def test_mse_formula_uses_y_for_predictions_and_t_for_targets():
    """Issue 13 item 9: y = prediction, t = target, in the formulas as in the code."""
    text = page("losses.md")
    assert r"\left(y_i - t_i\right)^2" in text
    for name in ("losses.md", "gradient-descent.md", "layers.md", "summary.md"):
        body = page(name)
        for old in ("y_i^p", "y - y^p", "y^p - y", r"\hat y - y"):
            assert old not in body, (name, old)
    # The course's linear model: the prediction is y = w x, the target t.
    assert r"(y - t)^2 = (x w - t)^2" in page("gradient-descent.md")


# ------------------------------------------------------------------ 3.5 layers: MSE's gradient


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 2), (4, 3, 2)])
def test_mean_squared_loss_backward_is_two_errors_over_n(shape):
    """Issue 13 item 11: with the book's mean MSE the gradient is 2 (y - t) / n."""
    rng = np.random.default_rng(len(shape))
    y, t = rng.standard_normal(shape), rng.standard_normal(shape)
    layer = MeanSquaredLoss()
    layer.forward(y, t)
    grad = layer.backward()
    assert np.allclose(grad, 2 * (y - t) / y.size)
    assert rel_error(grad, numerical_gradient(lambda v: layer.forward(v, t), y.copy())) < 1e-7
    text = page("layers.md")
    assert r"\frac{2}{n}\,(y_i - t_i)" in text
    assert 'same\n"output minus target"' not in text and 'same "output minus target"' not in text


# ------------------------------------------------------------------ 3.2 derivatives: error vs h


def test_error_table_sentences_match_the_computation():
    """Issue 13 item 14: the page shows the error against h; its sentences name the computed optima."""
    exact = math.cos(1.0)
    hs = [10.0**-k for k in range(1, 13)]
    forward = [abs((math.sin(1 + h) - math.sin(1)) / h - exact) for h in hs]
    central = [abs(numerical_diff(math.sin, 1.0, h=h) - exact) for h in hs]
    best_forward = -round(math.log10(hs[int(np.argmin(forward))]))
    best_central = -round(math.log10(hs[int(np.argmin(central))]))
    text = page("derivatives.md")
    words = " ".join(prose(text).split())
    assert f"the forward difference is best at $h = 10^{{-{best_forward}}}$" in words
    assert f"the central one at $h = 10^{{-{best_central}}}$" in words
    assert "10^{-12}$, which is why" not in words  # the one lucky number is gone
    # Truncation error: linear in h for forward differences, quadratic for central ones (large h).
    assert 9 < forward[0] / forward[1] < 11 and 90 < central[1] / central[2] < 110
    # Rounding error: at the smallest steps the error grows again.
    assert forward[-1] > forward[best_forward - 1] and central[-1] > central[best_central - 1]
    assert "loglog(hs, forward" in text and "loglog(hs, central" in text


# ------------------------------------------------------------------ the chapter's shape


def test_index_table_lists_every_section():
    text = page("index.md")
    rows = re.findall(r"^\| \[(3\.\d) ([^\]]+)\]\(([^)]+)\)", text, flags=re.M)
    assert [(n, f) for n, _, f in rows] == [(n, f) for n, f, _ in SECTIONS]
    for (number, name, title), (_, shown, _) in zip(SECTIONS, rows):
        assert shown.startswith(title), (number, shown)
        first_line = page(name).splitlines()[0]
        assert first_line.startswith(f"# {number} "), (name, first_line)


EXERCISE_RE = re.compile(r'^\?\?\? question "Exercise (\d+): ([^"]+)"\n', re.M)


@pytest.mark.parametrize("name", ["index.md"] + [f for _, f, _ in SECTIONS])
def test_every_page_ends_with_exercises_and_answers(name):
    text = page(name)
    head, sep, tail = text.partition("\n## Exercises\n")
    assert sep, f"{name}: no '## Exercises' section"
    assert not re.search(r"^## ", tail, flags=re.M), f"{name}: the exercises are not the end of the page"
    questions = EXERCISE_RE.findall(tail)
    assert len(questions) >= 2, name
    assert [int(n) for n, _ in questions] == list(range(1, len(questions) + 1)), name
    assert tail.count('    ??? success "Answer"\n') == len(questions), name


def test_the_chapter_has_an_explain_why_exercise():
    titles = [t for _, f, _ in SECTIONS for _, t in EXERCISE_RE.findall(page(f))]
    assert sum("explain why" in t.lower() for t in titles) >= 1
