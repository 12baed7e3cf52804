"""What the tests and the site build share about a page's Python fences.

- :data:`FENCE_RE` finds fenced code blocks (also indented ones inside admonitions
  and content tabs) and their info strings.
- :func:`page_setup` / :func:`page_teardown` give every page the same fresh start,
  whether Sybil runs it (conftest.py) or the build does (tools/mkdocs_hooks.py).
- :func:`run_fence` executes one fence the way Sybil would: plain code as a module,
  ``>>>`` blocks example by example.
"""

import doctest
import re
import textwrap

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
    """Seed NumPy's global RNG and select matplotlib's Agg backend."""
    np.random.seed(0)
    import matplotlib

    matplotlib.use("Agg")


def page_teardown(namespace=None):
    import matplotlib.pyplot as plt

    plt.close("all")


def run_fence(body, namespace, where="<page>"):
    """Execute one fence in ``namespace``; ``>>>`` blocks run example by example.

    An example whose expected output is a traceback may raise (the tests check the message).
    """
    if body.lstrip().startswith(">>>"):
        for example in doctest.DocTestParser().get_examples(body):
            try:
                exec(compile(example.source, where, "exec"), namespace)
            except Exception:
                if example.exc_msg is None:
                    raise
    else:
        exec(compile(body, where, "exec"), namespace)
