"""Guard: every Python fence in the book is either run by Sybil or visibly opted out, and
every fence's hidden setup is where it belongs.

Sybil's markdown parser silently skips fences whose info string is not exactly
``python`` (```py, ```pycon, ```python title="x"), and the run still says "passed".
This test finds every fenced block itself and checks, page by page, that
- each ``python`` fence holds at least one region that Sybil collected,
- each other Python-looking fence carries the visible opt-out ``{.notest}`` (counted in
  the run's summary), and
- ``# setup`` marks only the leading statements of a fence, which print nothing
  (tools/bookexec.py ``split_fence``; the build fails on the same rule).

It also checks the machinery of "copy → run": a fence's script (what its copy button
copies) and Sybil's fresh namespace per fence on standalone pages.
"""

import fnmatch
from pathlib import Path

import pytest

from conftest import REPORT, make_sybil
from tools.bookexec import (
    OPT_OUT,
    STANDALONE_PAGES,
    SetupError,
    is_collected,
    is_pythonish,
    is_standalone,
    iter_fences,
    page_fences,
    page_setup,
    page_teardown,
    split_fence,
)

ROOT = Path(__file__).resolve().parents[1]
# The English pages: Chinese twins (x.zh.md) are held to them by tests/test_i18n.py.
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if ".zh." not in p.name) + [ROOT / "README.md"]


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_the_book_has_pages():
    assert (ROOT / "docs" / "index.md") in PAGES
    assert len(PAGES) >= 8


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_python_fence_is_collected(page):
    text = page.read_text(encoding="utf-8")
    sybil = make_sybil()
    assert sybil.should_parse(page), f"Sybil does not collect {page}"
    document = sybil.parse(page)
    region_starts = [start for start, _ in document.regions]
    problems = []
    for m, info, _ in iter_fences(text):
        line = text.count("\n", 0, m.start()) + 1
        if is_collected(info):
            if not any(m.start() <= s < m.end() for s in region_starts):
                problems.append(f"line {line}: ```{info} fence was not collected by Sybil")
        elif is_pythonish(info) and OPT_OUT not in info:
            problems.append(
                f"line {line}: ```{info} fence is skipped silently by Sybil; "
                f"use ```python, or mark it ```python {OPT_OUT}"
            )
    assert not problems, f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_guard_catches_a_silently_skipped_fence(tmp_path):
    """The guard can fail: a ```py fence is reported, ```python {.notest} is not."""
    bad = "# t\n\n```py\nprint(1)\n```\n\n```python {.notest}\nprint(2)\n```\n\n```python\nprint(3)\n```\n"
    infos = [info for _, info, _ in iter_fences(bad)]
    assert infos == ["py", "python {.notest}", "python"]
    flagged = [i for i in infos if not is_collected(i) and is_pythonish(i) and OPT_OUT not in i]
    assert flagged == ["py"]
    page = tmp_path / "page.md"
    page.write_text(bad)
    document = make_sybil().parse(page)
    assert len(document.regions) == 1  # only the plain ```python fence


# ------------------------------------------------------------------ hidden setup: the guard


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_setup_marks_only_leading_silent_statements(page):
    text = page.read_text(encoding="utf-8")
    problems = []
    for m, body, _ in page_fences(text):
        try:
            split_fence(body)
        except SetupError as err:
            problems.append(f"line {text.count(chr(10), 0, m.start()) + 1}: {err}")
    assert not problems, f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_fence_counts():
    """Count what the guard sees (the run's summary shows it): fences run, fences opted out."""
    run = standalone = opted_out = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for _, info, _ in iter_fences(text):
            if is_collected(info):
                run += 1
                standalone += is_standalone(page)
            elif is_pythonish(info) and OPT_OUT in info:
                opted_out += 1
    REPORT.append(
        f"fences: {run} python fences run by Sybil ({standalone} on standalone pages, one namespace "
        f"each), {opted_out} marked {OPT_OUT}"
    )
    assert run > 0 and standalone > 0


def test_standalone_pages_exist():
    """Every entry of STANDALONE_PAGES names at least one page (a typo would silently opt out)."""
    names = [p.relative_to(ROOT).as_posix() for p in PAGES]
    for pattern in STANDALONE_PAGES:
        assert fnmatch.filter(names, pattern), f"STANDALONE_PAGES entry {pattern!r} matches no page"
    assert is_standalone(ROOT / "README.md") and is_standalone("docs/index.md")
    assert not is_standalone("/elsewhere/docs/index.md")


SETUP_DOCTEST = """\
>>> import numpy as np  # setup
>>> rng = np.random.default_rng(0)  # setup
>>> def double(x):  # setup
...     return 2 * x
>>> double(rng.integers(0, 10, size=3))
array([16, 12, 10])
>>> for i in range(2):
...     print(i)
0
1
>>> int("x")
Traceback (most recent call last):
ValueError: invalid literal for int() with base 10: 'x'
"""


def test_split_doctest_fence():
    fence = split_fence(SETUP_DOCTEST)
    assert fence.setup == (
        ">>> import numpy as np\n>>> rng = np.random.default_rng(0)\n>>> def double(x):\n...     return 2 * x"
    )
    assert fence.setup_lines == 4
    assert fence.visible.startswith(">>> double(rng.integers(0, 10, size=3))\narray([16, 12, 10])\n")
    assert fence.script == (
        "import numpy as np\nrng = np.random.default_rng(0)\ndef double(x):\n    return 2 * x\n"
        "double(rng.integers(0, 10, size=3))\nfor i in range(2):\n    print(i)\n"
        'try:\n    int("x")\nexcept Exception as error:\n    print(f"{type(error).__name__}: {error}")'
    )
    exec(fence.script, {})  # the copy runs alone


def test_split_plain_fence():
    body = "import numpy as np  # setup\n\n\ndef f(x):  # setup\n    return x + 1\n\n\ny = f(np.ones(2))\nprint(y)\n"
    fence = split_fence(body)
    assert fence.setup == "import numpy as np\n\n\ndef f(x):\n    return x + 1"
    assert fence.setup_lines == 3
    assert fence.visible == "y = f(np.ones(2))\nprint(y)"
    assert fence.script == "import numpy as np\n\n\ndef f(x):\n    return x + 1\n\n\ny = f(np.ones(2))\nprint(y)"
    assert split_fence(">>> 1 + 1\n2\n") == ("", ">>> 1 + 1\n2", "1 + 1")
    assert split_fence("x = 1  #  setup is not the marker\n") == ("", "x = 1  #  setup is not the marker", "x = 1  #  setup is not the marker")


@pytest.mark.parametrize(
    "body, message",
    [
        (">>> x = 1\n>>> import numpy  # setup\n", "before any visible statement"),
        (">>> 1 + 1  # setup\n2\n>>> y = 1\n", "must print nothing"),
        (">>> int('x')  # setup\nTraceback (most recent call last):\nValueError: no\n>>> y = 1\n", "must print nothing"),
        (">>> import numpy  # setup\n", "leave at least one statement visible"),
        (">>> for i in []:  # setup\n...     pass  # setup\n>>> y = 1\n", "first line of a statement"),
        ("x = 1\n# setup\n", "first line of a statement"),
        ("x = 1\ny = 2  # setup\n", "before any visible statement"),
        ("import numpy  # setup\n", "leave at least one statement visible"),
    ],
)
def test_setup_guard_can_fail(body, message):
    with pytest.raises(SetupError, match=message):
        split_fence(body)


# ---------------------------------------------- Sybil: one fresh namespace per fence


TWO_FENCES = """# t

```python
>>> import numpy as np
>>> x = 41
>>> round(float(np.random.rand()), 4)
0.5488
```

Text.

```python
>>> import numpy as np  # setup
>>> round(float(np.random.rand()), 4)
0.5488
>>> "x" in globals()
False
```

```python
>>> x + 1
42
```
"""


def _run_page(path, standalone):
    """Evaluate a page as pytest would, with or without a fresh namespace per fence."""
    document = make_sybil(standalone=lambda p: standalone).parse(path)
    page_setup(document.namespace)
    failures = []
    try:
        for example in document:
            try:
                example.evaluate()
            except Exception as err:  # a failed doctest or a raising fence
                failures.append((example.line, type(err).__name__, str(err)))
    finally:
        page_teardown(document.namespace)
    return failures


def test_sybil_gives_each_fence_a_fresh_seeded_namespace(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(TWO_FENCES)
    failures = _run_page(page, standalone=True)
    # Fence 2 re-seeds and does not see x; fence 3 needs x from fence 1, so it fails alone.
    assert [line for line, _, _ in failures] == [21], failures
    assert "NameError: name 'x' is not defined" in failures[0][2]
    page.write_text(TWO_FENCES.replace(">>> x + 1", ">>> x = 41  # setup\n>>> x + 1"))
    assert _run_page(page, standalone=True) == []


def test_sybil_keeps_one_namespace_per_page_elsewhere(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(TWO_FENCES)
    lines = [line for line, _, _ in _run_page(page, standalone=False)]
    assert lines == [14, 16]  # the shared RNG moved on, and x is still there
