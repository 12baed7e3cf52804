"""Sybil wiring: every ```python fence in docs/ and README.md runs under pytest.

- One namespace per page: a page's snippets build on each other, as a reader's would.
- Each page starts with NumPy's global RNG seeded and matplotlib on the Agg backend,
  and ends with every figure closed (tools/bookexec.py; the site build does the same).
- ``>>>`` blocks have their printed output compared; floats compare at printed
  precision (Sybil's NUMBER flag), so ``0.056`` matches ``0.05597...``.
- Only fences whose info string is exactly ``python`` are collected (Sybil's rule);
  tests/test_fences.py fails on any other Python-looking fence unless it carries the
  visible opt-out ``{.notest}``.
"""

import doctest
import os

from sybil import Sybil
from sybil.evaluators.doctest import NUMBER
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

from tools.bookexec import page_setup, page_teardown

os.environ.setdefault("MPLBACKEND", "Agg")
# Progress bars stay quiet in doctests (dlbook.train reads this).
os.environ.setdefault("DLBOOK_PROGRESS", "0")

DOCTEST_FLAGS = NUMBER | doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def make_sybil():
    """The Sybil that collects the book; tests/test_fences.py reuses it to count regions."""
    return Sybil(
        parsers=[PythonCodeBlockParser(doctest_optionflags=DOCTEST_FLAGS), SkipParser()],
        # Match from the right: "docs/**/*.md" misses docs/index.md on Python 3.11.
        patterns=["*.md"],
        excludes=["site/*", "build/*", ".venv/*"],
        setup=page_setup,
        teardown=page_teardown,
    )


pytest_collect_file = make_sybil().pytest()
