"""The CNN pages agree with each other, with dlbook and with the tables they include (issue 13).

- LeNet and AlexNet: 01-overview/history.md and 04-cnn-rnn/cnn-architectures.md print the same
  counts, and both come from :mod:`dlbook.architectures`.
- history.md: the postcode reader was the 1989 LeNet, not LeNet-5.
- appendix/convolution.md: its prose states no speed ratio that the benchmark table it includes
  does not hold (the ratios themselves are printed from the table by a tested block).
- Links: no page points at the retired 04-cnn-rnn/speed.md.
- Every chapter page of this part ends with at least two exercises whose answers run code.
"""

import re
from pathlib import Path

import pytest

from dlbook import architectures as A
from tools.bookexec import iter_fences

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HISTORY = DOCS / "01-overview" / "history.md"
ARCHITECTURES = DOCS / "04-cnn-rnn" / "cnn-architectures.md"
APPENDIX = DOCS / "appendix" / "convolution.md"
TABLE = ROOT / "benchmarks" / "tables" / "conv.md"
CHAPTER_PAGES = [DOCS / "01-overview" / "history.md"] + [
    DOCS / "04-cnn-rnn" / name
    for name in ("index.md", "fc-limits.md", "convolution.md", "pooling.md", "cnn-architectures.md")
]


def _count(spec, shape):
    return A.architecture_table(spec, shape).total_params


LENET5 = _count(A.lenet5_spec(), (1, 32, 32))
COURSE_LENET = _count(A.lenet_spec(), (1, 32, 32))
ALEXNET_ONE = _count(A.alexnet_spec(groups=1), (3, 227, 227))
ALEXNET_TWO = _count(A.alexnet_spec(groups=2), (3, 227, 227))


def _prose(page):
    """The page's text without its fenced blocks."""
    text = page.read_text(encoding="utf-8")
    for m, _, _ in sorted(iter_fences(text), key=lambda f: -f[0].start()):
        text = text[: m.start()] + text[m.end():]
    return text


def test_the_counts_are_what_the_pages_say():
    assert (LENET5, COURSE_LENET, ALEXNET_ONE, ALEXNET_TWO) == (61_706, 656_080, 62_378_344, 60_965_224)
    mlp = (784 + 1) * 100 + (100 + 1) * 10
    assert LENET5 < mlp < COURSE_LENET  # history.md: LeNet-5 is smaller than the MLP, the course's LeNet larger


def test_history_and_architectures_agree_on_lenet_and_alexnet():
    history = HISTORY.read_text(encoding="utf-8")
    architectures = ARCHITECTURES.read_text(encoding="utf-8")
    growth = dict(re.findall(r"^(LeNet-5 \(1998\)|AlexNet \(2012\))\s+([\d,]+)\s", history, re.M))
    assert growth, "history.md's growth table lost its LeNet-5 / AlexNet rows"
    assert int(growth["LeNet-5 (1998)"].replace(",", "")) == LENET5
    assert int(growth["AlexNet (2012)"].replace(",", "")) in (ALEXNET_ONE, ALEXNET_TWO)
    for count in (LENET5, COURSE_LENET, ALEXNET_ONE, ALEXNET_TWO):
        assert f"{count:,}" in history, f"history.md does not mention {count:,}"
        assert f"{count:,}" in architectures, f"cnn-architectures.md does not print {count:,}"
    # torchvision's count is a third variant, explained in cnn-architectures.md's exercises only
    assert "61,100,840" not in history and "61_100_840" not in history
    # the growth table counts with dlbook, not with typed-in numbers
    assert "lenet5_spec()" in history and "alexnet_spec(" in history


def test_the_courses_lenet_is_named_as_such():
    """Wherever the 20/50/500 network's count appears, "the course's LeNet" was named just before."""
    for page in (HISTORY, ARCHITECTURES):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(f"{COURSE_LENET:,}", text):
            before = text[max(0, m.start() - 1200): m.start()]
            assert "course's LeNet" in before, f"{page.name}: {text[m.start() - 200: m.end()]}"
            assert not re.search(r"LeNet-5\W{0,30}$", before), f"{page.name}: {before[-200:]}"


def test_postcodes_were_read_by_the_1989_lenet():
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(_prose(HISTORY).split()))
    about_postcodes = [s for s in sentences if "postcode" in s]
    assert about_postcodes
    for sentence in about_postcodes:
        assert "1989" in sentence, sentence
        assert not re.search(r"LeNet-5[^.]*postcode", sentence), sentence
    assert re.search(r"\(1989, \"LeCun[^\"]*postcodes\"", HISTORY.read_text(encoding="utf-8"))


def test_appendix_prose_states_no_ratio_that_its_table_lacks():
    table = TABLE.read_text(encoding="utf-8")
    page = APPENDIX.read_text(encoding="utf-8")
    assert '--8<-- "benchmarks/tables/conv.md"' in page
    table_ratios = set(re.findall(r"\|\s*(\d+(?:\.\d+)?x)\s*\|", table))
    prose_ratios = re.findall(r"(?<![\w.])(\d+(?:\.\d+)?) ?(?:x|×)(?= |$|[,.;:)])", _prose(APPENDIX), re.M)
    stray = [r for r in prose_ratios if f"{r}x" not in table_ratios]
    assert not stray, f"appendix/convolution.md states ratios its table does not hold: {stray}"
    assert "the two cores" not in page


def test_no_page_links_the_retired_speed_page():
    assert not (DOCS / "04-cnn-rnn" / "speed.md").exists()
    for page in CHAPTER_PAGES + [APPENDIX]:
        assert "speed.md" not in page.read_text(encoding="utf-8"), page.name


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_ends_with_exercises_that_run_code(page):
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings and headings[-1] == "Exercises", f"{page.name}: the last section is {headings[-1:]}"
    exercises = text[text.rindex("## Exercises"):].split('??? question "')[1:]
    assert len(exercises) >= 2
    with_code = [e for e in exercises if '??? success "Answer"' in e and "```python" in e]
    assert len(with_code) >= 2, f"{page.name}: {len(with_code)} exercises with a tested answer"
