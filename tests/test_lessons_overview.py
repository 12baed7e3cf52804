"""Chapters 1, 2 and 5: what their pages claim is what the code does (issue 13).

- The activations page's claims about gradients are checked against ``dlbook.activations``:
  ReLU's factor is 0 or 1 (it never shrinks a gradient itself), yet a deep ReLU network's
  gradient still vanishes or explodes with the size of its weights; the sigmoid's derivative is
  computed from its output alone, and is at most 1/4.
- The page's summary table says the same as its prose (no "neither vanish nor explode"; the
  sigmoid's derivative is cheap in the pros and not called costly in the cons).
- "Running on a GPU" lives in the appendix, and no page links its old place.
- Every chapter page of chapters 1, 2 and 5 ends with at least two exercises with answers, and
  each of those chapters has an "explain why" exercise.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from dlbook.activations import relu, relu_grad, sigmoid, sigmoid_grad

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ACTIVATIONS = DOCS / "02-networks" / "activations.md"

CHAPTER_PAGES = sorted(
    [p for p in (DOCS / "01-overview").glob("*.md") if p.name != "history.md"]
    + list((DOCS / "02-networks").glob("*.md"))
    + [DOCS / "05-summary" / "index.md"]
)
CHAPTER_PAGES = [p for p in CHAPTER_PAGES if ".zh." not in p.name]  # twins: tests/test_i18n.py


# ------------------------------------------------------------------ gradients, against the package


def _input_gradient_norm(scale, layers=20, width=64, seed=0):
    """Backpropagate a gradient of ones through ``layers`` ReLU layers whose weights have standard
    deviation ``scale * sqrt(2 / width)`` (He's rule at scale 1); return its norm at the input."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, width))
    Ws, masks = [], []
    for _ in range(layers):
        W = rng.standard_normal((width, width)) * scale * np.sqrt(2 / width)
        a = x @ W
        Ws.append(W)
        masks.append(relu_grad(a))
        x = relu(a)
    g = np.ones_like(x)
    for W, m in zip(reversed(Ws), reversed(masks)):
        g = (g * m) @ W.T
    return float(np.linalg.norm(g))


def test_relu_itself_never_shrinks_or_grows_a_gradient():
    z = np.random.default_rng(1).standard_normal(10_000) * 5
    assert set(np.unique(relu_grad(z)).tolist()) <= {0.0, 1.0}


def test_deep_relu_gradients_still_vanish_or_explode_with_the_weights():
    he = _input_gradient_norm(1.0)
    small, large = _input_gradient_norm(0.5), _input_gradient_norm(2.0)
    assert small < he * 1e-3, (small, he)  # 20 layers at half He's scale: about 2**-20
    assert large > he * 1e3, (large, he)  # at twice He's scale: about 2**20


def test_sigmoid_derivative_comes_from_its_output_and_is_at_most_a_quarter():
    x = np.linspace(-10, 10, 2001)
    s = sigmoid(x)
    np.testing.assert_allclose(sigmoid_grad(x), s * (1 - s), rtol=1e-12, atol=1e-15)
    assert float(sigmoid_grad(x).max()) == 0.25


# ------------------------------------------------------------------ the page says what the code shows


def _summary_row(text, name):
    """The cells of the activations summary table's row for ``name``."""
    section = text.split("\n## Summary", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == name:
            return dict(zip(["function", "range", "derivative", "pros", "cons", "use"], cells))
    raise AssertionError(f"no row {name!r} in the summary table of {ACTIVATIONS.name}")


def _bullet(text, heading, label):
    """The text of the bullet ``- label: ...`` in the section ``## heading``."""
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(rf"^- {label}:(.*?)(?=^- |^\S|\Z)", section, re.S | re.M)
    assert m, f"no '- {label}:' bullet under '## {heading}'"
    return " ".join(m.group(1).split())


def test_relu_claims_are_the_corrected_ones():
    text = ACTIVATIONS.read_text(encoding="utf-8")
    assert "neither vanish nor explode" not in text
    relu_row = _summary_row(text, "ReLU")
    assert "weights" in relu_row["cons"], relu_row  # they can still make gradients vanish or explode
    assert "explode" in relu_row["cons"] and "vanish" in relu_row["cons"], relu_row


def test_sigmoid_pros_and_cons_agree_about_the_cost():
    text = ACTIVATIONS.read_text(encoding="utf-8")
    pros, cons = _bullet(text, "Sigmoid", "Pros"), _bullet(text, "Sigmoid", "Cons")
    assert "derivative is cheap" in pros, pros
    assert "derivative" not in cons, f"the cons must not call the derivative costly: {cons}"
    assert "1/4" in cons and "ReLU" in cons, cons  # what hurts: sigma' <= 1/4, and exp vs a comparison
    row = _summary_row(text, "sigmoid")
    assert "cheap" in row["pros"] and "derivative" not in row["cons"], row


# ------------------------------------------------------------------ the GPU page moved to the appendix


def _nav_files(nav):
    for item in nav:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from _nav_files(value if isinstance(value, list) else [value])


def test_gpu_page_lives_in_the_appendix():
    assert (DOCS / "appendix" / "gpu.md").is_file()
    assert not (DOCS / "reference" / "gpu.md").exists()
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    nav = set(_nav_files(config["nav"]))
    assert "appendix/gpu.md" in nav and "reference/gpu.md" not in nav


def test_no_page_links_the_old_gpu_page():
    link = re.compile(r"\]\(([^)#\s]*gpu\.md)")
    stale = []
    for page in DOCS.rglob("*.md"):
        for target in link.findall(page.read_text(encoding="utf-8")):
            resolved = (page.parent / target).resolve()
            if resolved == (DOCS / "reference" / "gpu.md").resolve():
                stale.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not stale, stale


def test_summary_points_at_the_appendix():
    text = (DOCS / "05-summary" / "index.md").read_text(encoding="utf-8")
    assert "(../appendix/gpu.md)" in text and "(../appendix/convolution.md)" in text
    assert "04-cnn-rnn/speed.md" not in text and "reference/gpu.md" not in text


# ------------------------------------------------------------------ exercises


EXERCISE_RE = re.compile(r'^\?\?\? question "([^"]+)"\n(.*?)(?=^\?\?\? question |\Z)', re.S | re.M)


def _exercises(page):
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings and headings[-1] == "Exercises", f"{page.relative_to(ROOT)}: the last section is not '## Exercises'"
    return EXERCISE_RE.findall(text.split("\n## Exercises\n", 1)[1])


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=[str(p.relative_to(DOCS)) for p in CHAPTER_PAGES])
def test_page_ends_with_two_exercises_with_answers(page):
    exercises = _exercises(page)
    assert len(exercises) >= 2, f"{page.relative_to(ROOT)}: {len(exercises)} exercise(s)"
    for title, body in exercises:
        assert '    ??? success "Answer"' in body, f"{page.relative_to(ROOT)}: {title!r} has no answer"


@pytest.mark.parametrize("chapter", ["01-overview", "02-networks", "05-summary"])
def test_every_chapter_has_an_explain_why_exercise(chapter):
    titles = [title for p in CHAPTER_PAGES if p.parent.name == chapter for title, _ in _exercises(p)]
    assert any("explain why" in t.lower() for t in titles), f"{chapter}: {titles}"
