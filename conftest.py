"""Sybil wiring: every ```python fence in docs/ and README.md runs under pytest.

- One namespace per fence on the pages listed in ``STANDALONE_PAGES`` (tools/bookexec.py):
  each fence runs alone, with its hidden ``# setup`` lines, exactly as a reader's copy of it
  does, so the outputs asserted are the ones a reader gets. To add a page, append its path
  (relative to the repository root, globs allowed) to ``STANDALONE_PAGES`` once every fence
  on it stands alone. Other pages still share one namespace per page.
- Each fence (standalone pages) or page starts with NumPy's global RNG seeded and
  matplotlib on the Agg backend, and ends with every figure closed (tools/bookexec.py;
  the site build does the same).
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

from tools.bookexec import STANDALONE_PAGES, is_standalone, page_setup, page_teardown  # noqa: F401

os.environ.setdefault("MPLBACKEND", "Agg")
# Progress bars stay quiet in doctests (dlbook.train reads this).
os.environ.setdefault("DLBOOK_PROGRESS", "0")

DOCTEST_FLAGS = NUMBER | doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _fresh_per_fence(evaluator, fence_start):
    """Wrap a region's evaluator so that the first region Sybil evaluates of each fence
    finds a fresh namespace.

    Sybil gives a document one namespace, and its markdown parser turns a ``>>>`` fence into
    one region per example; so the reset happens where the fence changes, not per region
    (every region carries its fence's start, so a skipped first example still resets).
    """

    def evaluate(example):
        document = example.document
        if getattr(document, "dlbook_fence", None) != fence_start:
            namespace = example.namespace
            page_teardown(namespace)
            namespace.clear()
            namespace["__name__"] = "__main__"  # as for a copied block run as a script
            page_setup(namespace)
            document.dlbook_fence = fence_start
        return evaluator(example)

    return evaluate


class FenceParser(PythonCodeBlockParser):
    """Sybil's markdown ``python`` parser; on standalone pages each fence gets a fresh namespace.

    ``standalone(path)`` says which pages (default: :func:`tools.bookexec.is_standalone`).
    """

    def __init__(self, *args, standalone=is_standalone, **kwargs):
        super().__init__(*args, **kwargs)
        self.standalone = standalone

    def __call__(self, document):
        standalone = self.standalone(document.path)
        for fence in self.codeblock_parser(document):
            source = fence.parsed
            if source.startswith(">>>"):
                regions = list(self.doctest_parser(source, document.path))
                for region in regions:
                    region.adjust(fence, source)
            else:
                regions = [fence]
            for region in regions:
                if standalone:
                    region.evaluator = _fresh_per_fence(region.evaluator, fence.start)
                yield region


def make_sybil(standalone=is_standalone):
    """The Sybil that collects the book; tests/test_fences.py reuses it to count regions and
    (with ``standalone``) to run pages of its own."""
    return Sybil(
        parsers=[FenceParser(doctest_optionflags=DOCTEST_FLAGS, standalone=standalone), SkipParser()],
        # Match from the right: "docs/**/*.md" misses docs/index.md on Python 3.11.
        patterns=["*.md"],
        # Chinese twins (x.zh.md) run the English page's code: tests/test_i18n.py proves it equal.
        excludes=["site/*", "build/*", ".venv/*", "*.zh.md"],
        setup=page_setup,
        teardown=page_teardown,
    )


pytest_collect_file = make_sybil().pytest()
