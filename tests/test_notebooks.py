"""Every chapter page and every lab can be downloaded as a notebook from its page.

- Markdown pages with ``python`` fences: the build writes ``<page>.ipynb`` next to the built
  page (tools/sitefeatures.py, via tools/mkdocs_hooks.py) and links it at the top. The
  notebook is valid nbformat and its code cells are exactly the page's tested fences.
- Labs (docs/labs/*.ipynb): mkdocs-jupyter's ``include_source`` copies the notebook next to
  the built page; the hook links it at the top.
"""

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, built_page_dir
from tools.sitefeatures import doctest_to_code, notebook_name, page_code_cells, page_notebook

DOCS = ROOT / "docs"


def _pages_with_code():
    pages = []
    for md in sorted(DOCS.rglob("*.md")):
        if page_code_cells(md.read_text(encoding="utf-8")):
            pages.append(md)
    return pages


def _built_dir(site, src):
    """The built page's directory for docs-relative ``src`` (twins under zh/)."""
    return built_page_dir(site, src)


def _link_target(html):
    m = re.search(r'<p class="dlbook-download"><a [^>]*\bhref="([^"]+)" download', html)
    return m.group(1) if m else None


PAGE = '''# A page

Some prose with $x^2$ math.

```python
import numpy as np
a = np.arange(3)
```

!!! note "A note"
    Indented prose inside an admonition.

    ```python
    >>> a.sum()
    3
    >>> for i in range(2):
    ...     print(i)
    0
    1
    ```

```text
not python
```

```python {.notest}
this does not run
```

??? question "Exercise 1"
    Why?

    ??? success "Answer"
        ```python
        >>> int("x")
        Traceback (most recent call last):
        ValueError: invalid literal for int() with base 10: 'x'
        ```
'''


def test_page_notebook_cells():
    nb = page_notebook(PAGE, title="A page", source="x/a-page.md")
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == [
        "import numpy as np\na = np.arange(3)",
        "a.sum()\nfor i in range(2):\n    print(i)",
        'try:\n    int("x")\nexcept Exception as error:\n    print(f"{type(error).__name__}: {error}")',
    ]
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "# A page" in prose and "$x^2$" in prose
    assert "**A note**" in prose and "\nIndented prose inside an admonition." in prose
    assert "**Exercise 1**" in prose and "**Answer**" in prose
    assert "not python" in prose and "this does not run" in prose  # other fences stay as Markdown
    assert "x/a-page.md" in nb.cells[0].source


def test_notebook_runs_top_to_bottom():
    """The converted code runs in one namespace, as the page's tests do."""
    namespace = {}
    for cell in page_notebook(PAGE).cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    assert namespace["a"].sum() == 3


def test_no_notebook_without_code():
    assert page_notebook("# Prose only\n\n```text\nx\n```\n") is None
    assert doctest_to_code("x = 1\n") == "x = 1"


def test_notebook_names():
    assert notebook_name("02-networks/perceptron.md") == "02-networks-perceptron.ipynb"
    assert notebook_name("02-networks/index.md") == "02-networks.ipynb"
    assert notebook_name("index.md") == "dlbook.ipynb"


@pytest.mark.slow
def test_every_page_with_code_is_downloadable(built_site):
    pages = _pages_with_code()
    assert pages, "no page has python fences"
    problems = []
    for md in pages:
        src = md.relative_to(DOCS).as_posix()
        folder = _built_dir(built_site, src)
        html = (folder / "index.html").read_text(encoding="utf-8")
        href = _link_target(html)
        if href != notebook_name(src):
            problems.append(f"{src}: download link {href!r}, expected {notebook_name(src)!r}")
            continue
        nb = nbformat.read(folder / href, as_version=4)
        nbformat.validate(nb)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        expected = page_code_cells(md.read_text(encoding="utf-8"))
        if code != expected:
            problems.append(f"{src}: notebook code cells differ from the page's python fences")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_every_lab_is_downloadable(built_site):
    labs = sorted((DOCS / "labs").glob("*.ipynb"))  # Chinese twins (x.zh.ipynb) too, under zh/
    if not labs:
        pytest.skip("no lab notebooks yet")
    problems = []
    for lab in labs:
        twin = lab.stem.endswith(".zh")
        folder = built_site / ("zh/labs" if twin else "labs") / lab.stem.removesuffix(".zh")
        href = _link_target((folder / "index.html").read_text(encoding="utf-8"))
        if href != lab.name or not (folder / lab.name).is_file():
            problems.append(f"{lab.name}: download link {href!r} or its file is missing")
            continue
        nbformat.validate(nbformat.read(folder / lab.name, as_version=4))
    assert not problems, "\n".join(problems)


def test_lab_links_resolve_like_markdown_links():
    """A lab's Markdown links to pages (``../x/page.md#a``) become the built pages' URLs."""
    from mkdocs.structure.files import File, Files

    from tools.sitefeatures import resolve_page_links

    def f(path):
        return File(path, src_dir="/docs", dest_dir="/site", use_directory_urls=True)

    # mkdocs-jupyter turns a lab into a page at labs/xor/; a .md source stands in for it here.
    lab, page, index = f("labs/xor.md"), f("03-training/backprop.md"), f("02-networks/index.md")
    files = Files([lab, page, index])
    warnings = []
    html = (
        '<a href="../03-training/backprop.md#chain-rule">x</a> <a href="../02-networks/index.md">y</a> '
        '<a href="https://example.org/a.md">z</a> <a href="../nowhere.md">w</a>'
    )
    out = resolve_page_links(html, lab, files, warn=warnings.append)
    assert '<a href="../../03-training/backprop/#chain-rule">x</a>' in out
    assert '<a href="../../02-networks/">y</a>' in out
    assert 'href="https://example.org/a.md"' in out and 'href="../nowhere.md"' in out
    assert len(warnings) == 1 and "nowhere.md" in warnings[0]
