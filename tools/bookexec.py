"""What the tests and the site build share about a page's Python fences.

- :data:`FENCE_RE` finds fenced code blocks (also indented ones inside admonitions
  and content tabs) and their info strings.
- :func:`split_fence` reads a fence's hidden setup: the leading statements whose first
  line ends with ``# setup``. It returns what the page shows (setup collapsed, the rest in
  the fence's own form) and :attr:`Fence.script`, the one text a reader's copy button
  copies, a page's notebook holds and the build runs: setup and visible statements,
  without ``>>>``/``...`` prompts and printed outputs.
- :data:`STANDALONE_PAGES`: the pages whose fences each stand alone. The tests (Sybil, via
  conftest.py) and the build run every fence of those pages in its own fresh namespace;
  other pages still share one namespace per page until they are converted.
- :func:`page_setup` / :func:`page_teardown` give every fence (standalone pages) or page the
  same fresh start, whether Sybil runs it (conftest.py) or the build does (tools/mkdocs_hooks.py).
- :func:`run_fence` executes one fence's script.
"""

import ast
import doctest
import fnmatch
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import numpy as np

# A fence: optional indent, ``` or ~~~ (3 or more), the info string, the body, the closing fence.
FENCE_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
# Info strings that look like Python. Only exactly "python" is collected by Sybil.
PYTHONISH_RE = re.compile(r"^\s*\{?\s*\.?(py|python|python3|pycon|ipython)\b", re.I)
# The visible opt-out for a Python fence that must not run: ```python {.notest}
OPT_OUT = "{.notest}"
SKIP_NEXT_RE = re.compile(r"<!--\s*skip:\s*next\b[^>]*-->\s*$")


def iter_fences(markdown):
    """Yield ``(match, info, body)`` for every fenced block, body dedented."""
    for m in FENCE_RE.finditer(markdown):
        body = textwrap.dedent(m.group("body"))
        yield m, m.group("info").strip(), body


def is_collected(info):
    """Whether Sybil's markdown parser runs a fence with this info string."""
    return info == "python"


def is_pythonish(info):
    return bool(PYTHONISH_RE.match(info))


def is_skipped(markdown, fence_start):
    """True when the line before the fence is ``<!-- skip: next -->``."""
    before = markdown[:fence_start].rstrip("\n").rsplit("\n", 1)[-1]
    return bool(SKIP_NEXT_RE.search(before))


def page_setup(namespace=None):
    """Seed NumPy's global RNG, select matplotlib's Agg backend and make a new figure as wide as
    the book's text column (before every fence of a standalone page, before the whole of any
    other page)."""
    np.random.seed(0)
    import matplotlib

    from dlbook.diagrams import COLUMN_INCHES

    matplotlib.use("Agg")
    # A figure is drawn at the width it is shown, so its text is read at the size it is drawn
    # (the labs' kernels get the same default: tools/figurefacts.py).
    matplotlib.rcParams["figure.figsize"] = (COLUMN_INCHES, COLUMN_INCHES * 4 / 7)


def page_teardown(namespace=None):
    """Close every figure, so that the next fence (or page) starts with none."""
    import matplotlib.pyplot as plt

    plt.close("all")


def run_fence(body, namespace, where="<page>"):
    """Execute one fence in ``namespace``: its script (:func:`split_fence`), setup included,
    exactly what a reader's copy button copies. An example that the page shows raising an
    exception runs inside the ``try`` its script gives it."""
    exec(compile(split_fence(body).script, where, "exec"), namespace)


# ------------------------------------------------------------------------------ hidden setup

ROOT = Path(__file__).resolve().parents[1]

#: Pages (globs, relative to the repository root) whose fences each run alone, in a fresh
#: namespace, as a reader's copy does. Add a page here once every fence on it stands alone
#: (imports and data it needs from earlier fences restated, or carried as ``# setup`` lines);
#: pages not listed still share one namespace per page. When every page is listed, this
#: becomes ``("*",)`` and the per-page mode can go.
STANDALONE_PAGES = (
    "README.md",
    "docs/index.md",
    "docs/get-started.md",
    "docs/02-networks/*.md",
    "docs/03-training/*.md",
    "docs/01-overview/*.md",
    "docs/04-cnn-rnn/*.md",
    "docs/05-summary/*.md",
    "docs/labs/*.md",
    "docs/reference/*.md",
    "docs/glossary.md",
    "docs/appendix/*.md",
)

SETUP_MARKER = "# setup"
_SETUP_RE = re.compile(r"[ \t]*# setup[ \t]*$")


def is_standalone(path):
    """Whether the page at ``path`` (absolute, or relative to the repository root) is in
    :data:`STANDALONE_PAGES`."""
    path = Path(path)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(ROOT)
        except ValueError:
            return False
    rel = path.as_posix()
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in STANDALONE_PAGES)


class SetupError(ValueError):
    """A ``# setup`` marker where it does not belong (the build and the guard test fail on it)."""


class Fence(NamedTuple):
    """A ``python`` fence read by :func:`split_fence`."""

    setup: str  # the setup lines as the page shows them (collapsed), marker removed; "" if none
    visible: str  # the rest of the fence, shown as written
    script: str  # what the copy button copies and the build runs: setup + visible, as plain code

    @property
    def setup_lines(self):
        """How many non-blank lines the collapsed setup holds (its summary says so)."""
        return sum(1 for line in self.setup.splitlines() if line.strip())


def _unmark(line):
    return _SETUP_RE.sub("", line)


def _trim_blank_lines(lines):
    text = "\n".join(lines)
    return text.strip("\n")


def _try_except(source):
    """An example that the page shows raising: the script prints the error instead, so a
    copied block (and a page's notebook) runs from top to bottom."""
    return (
        "try:\n" + textwrap.indent(source, "    ") + "\nexcept Exception as error:\n"
        '    print(f"{type(error).__name__}: {error}")'
    )


def split_fence(body):
    """Split a ``python`` fence's (dedented) ``body`` into its hidden setup and the rest.

    A setup statement is one whose first line ends with ``# setup``. Setup statements come
    first and print nothing (a ``>>>`` setup example has no expected output); anywhere else
    the marker raises :class:`SetupError`, so that a hidden line is never silently dropped
    from a copy or silently run out of order.
    """
    if body.lstrip().startswith(">>>"):
        return _split_doctest(body)
    return _split_code(body)


def _split_doctest(body):
    lines = body.split("\n")
    examples = doctest.DocTestParser().get_examples(body)
    n_setup = 0
    for i, ex in enumerate(examples):
        marked = [bool(_SETUP_RE.search(line)) for line in ex.source.rstrip("\n").split("\n")]
        where = f"line {ex.lineno + 1} of the fence"
        if marked[0] and i == n_setup:
            if ex.want or ex.exc_msg is not None:
                raise SetupError(f"{where}: a setup statement must print nothing (it is hidden), got {ex.want!r}")
            n_setup += 1
            marked = marked[1:]
        if any(marked):
            raise SetupError(
                f"{where}: {SETUP_MARKER!r} marks only the first line of a statement at the top of the fence, "
                f"before any visible statement"
            )
    if examples and n_setup == len(examples):
        raise SetupError("a fence of setup statements only shows nothing: leave at least one statement visible")
    first_visible = examples[n_setup].lineno if examples else 0
    pieces = []
    for i, ex in enumerate(examples):
        source = ex.source.rstrip("\n")
        if i < n_setup:
            first, _, rest = source.partition("\n")
            source = _unmark(first) + ("\n" + rest if rest else "")
        pieces.append(_try_except(source) if ex.exc_msg is not None else source)
    return Fence(
        setup=_trim_blank_lines(_unmark(line) for line in lines[:first_visible]) if n_setup else "",
        visible=_trim_blank_lines(lines[first_visible:]),
        script="\n".join(pieces),
    )


def _split_code(body):
    lines = body.rstrip("\n").split("\n")
    marked = {i for i, line in enumerate(lines) if _SETUP_RE.search(line)}
    if not marked:
        return Fence(setup="", visible=body.strip("\n"), script=body.strip("\n"))
    statements = []
    for node in ast.parse(body).body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        statements.append((first, node.end_lineno - 1))
    setup_end = 0  # lines[:setup_end] are the setup
    for first, last in statements:
        if first not in marked:
            break
        setup_end = last + 1
    stray = sorted(i for i in marked if i >= setup_end or i not in {f for f, _ in statements})
    if stray:
        raise SetupError(
            f"line {stray[0] + 1} of the fence: {SETUP_MARKER!r} marks only the first line of a statement "
            f"at the top of the fence, before any visible statement"
        )
    visible = _trim_blank_lines(lines[setup_end:])
    if not visible:
        raise SetupError("a fence of setup statements only shows nothing: leave at least one statement visible")
    setup = _trim_blank_lines(_unmark(line) for line in lines[:setup_end])
    script = _trim_blank_lines(_unmark(line) if i in marked else line for i, line in enumerate(lines))
    return Fence(setup=setup, visible=visible, script=script)


def fence_script(body):
    """The text a reader's copy button copies for a fence (see :func:`split_fence`)."""
    return split_fence(body).script


def page_fences(markdown):
    """``(match, body, skipped)`` for every ``python`` fence that Sybil collects, in page order.

    Their positions in this list number them: the build tags the rendered block with it
    (``data-dlbook-fence``), and the browser test finds the fence of a block by it.
    """
    return [
        (m, body, is_skipped(markdown, m.start()))
        for m, info, body in iter_fences(markdown)
        if is_collected(info)
    ]
