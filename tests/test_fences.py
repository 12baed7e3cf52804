"""Guard: every Python fence in the book is either run by Sybil or visibly opted out.

Sybil's markdown parser silently skips fences whose info string is not exactly
``python`` (```py, ```pycon, ```python title="x"), and the run still says "passed".
This test finds every fenced block itself and checks, page by page, that
- each ``python`` fence holds at least one region that Sybil collected, and
- each other Python-looking fence carries the visible opt-out ``{.notest}``.
"""

from pathlib import Path

import pytest

from conftest import make_sybil
from tools.bookexec import OPT_OUT, is_collected, is_pythonish, iter_fences

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


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
