"""Build-time features of the site beyond figures: the glossary and page notebooks.

Used by tools/mkdocs_hooks.py (at build time) and by the tests (without a build).

Glossary
    One data file, ``data/glossary.yml`` (term, Chinese, short definition, page), is the
    single source of truth: the page docs/glossary.md holds the marker
    ``<!-- glossary -->`` that the build replaces with the table. :func:`bold_terms`
    lists every term the book sets in bold; tests/test_glossary.py checks they are all in it.

Page notebooks
    Every Markdown page with ``python`` fences can be downloaded as a notebook: Markdown
    cells for the prose, a code cell for each ``python`` fence holding exactly what that
    fence's copy button copies (its hidden setup included, ``>>>`` prompts and expected
    output dropped). :func:`page_notebook` builds it;
    the hook writes it next to the built page and links it at the top of the page.

Copy → run
    :func:`mark_fences` shows each ``python`` fence's hidden setup collapsed above it and tags
    the fence; :func:`add_copy_text` gives the rendered block its script (``data-copy``), so
    the copy button copies the runnable script while the page shows the doctest.

The package's wheel
    The site serves the exact ``dlbook`` its pages were tested against, as
    ``downloads/dlbook-<version>-py3-none-any.whl`` (:data:`DOWNLOADS`, :func:`wheel_name`);
    :func:`build_wheel` makes it offline at build time, and the Get-started page links it
    with its real name (:func:`fill_wheel_placeholders`).
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:  # imported as tools.sitefeatures (tests) or as sitefeatures (the mkdocs hook)
    from tools import bookexec
except ImportError:  # pragma: no cover - the hook's sys.path has tools/ itself
    import bookexec

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY_FILE = ROOT / "data" / "glossary.yml"
GLOSSARY_MARKER = "<!-- glossary -->"
GLOSSARY_PAGE = "glossary.md"

# ---------------------------------------------------------------------------- glossary

# A bold term may run over a line break (not over a blank line): Markdown bolds it all the same.
_BOLD_RE = re.compile(r"(?<![*\\])\*\*(?![*\s])(?P<term>(?:[^*\n]|\n(?![ \t]*\n))+?)(?<![\s*])\*\*(?!\*)")
_CODE_SPAN_RE = re.compile(r"(`+)(?:.+?)\1", re.S)
_MATH_RE = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
_PAREN_CJK_RE = re.compile(r"\s*[(（][^()（）]*[\u3400-\u9fff][^()（）]*[)）]")


def normalize_term(term):
    """Lower-case, Chinese in parentheses and surrounding punctuation removed, spaces collapsed."""
    term = _PAREN_CJK_RE.sub("", term)
    term = re.sub(r"\s+", " ", term).strip().strip(".,;:!?").strip()
    return term.lower()


def bold_terms(markdown):
    """The terms set in bold in ``markdown`` (code, math and fenced blocks ignored), normalized."""
    spans = [(m.start(), m.end()) for m, _, _ in bookexec.iter_fences(markdown)]
    text = list(markdown)
    for start, end in spans:
        text[start:end] = " " * (end - start)
    text = "".join(text)
    text = _CODE_SPAN_RE.sub(" ", text)
    text = _MATH_RE.sub(" ", text)
    terms = []
    for m in _BOLD_RE.finditer(text):
        term = normalize_term(m.group("term"))
        if term:
            terms.append(term)
    return terms


def book_bold_terms(docs=ROOT / "docs"):
    """``{normalized term: [pages]}`` for every bold term on every Markdown page except the glossary."""
    found = {}
    for page in sorted(Path(docs).rglob("*.md")):
        rel = page.relative_to(docs).as_posix()
        if rel in (GLOSSARY_PAGE, GLOSSARY_PAGE.replace(".md", ".zh.md")):  # it says what bold means
            continue
        for term in bold_terms(page.read_text(encoding="utf-8")):
            found.setdefault(term, []).append(rel)
    return found


def load_glossary(path=GLOSSARY_FILE):
    """The glossary entries (list of dicts: term, zh, definition, page, optional aliases)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return sorted(data, key=lambda e: e["term"].lower())


def glossary_index(entries):
    """``{normalized term, alias or Chinese term: entry}``."""
    index = {}
    for entry in entries:
        for name in [entry["term"], *entry.get("aliases", []), *str(entry.get("zh", "")).split("、")]:
            index[normalize_term(name)] = entry
    return index


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def glossary_markdown(entries, page_dir=""):
    """The glossary as a Markdown table; page links relative to ``page_dir`` (docs-relative)."""
    rows = [
        "| English | 中文 | meaning | where |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        page = entry.get("page", "")
        if page:
            target = page if not page_dir else "../" * len(Path(page_dir).parts) + page
            label = _cell(_page_label(page)).replace("[", "\\[").replace("]", "\\]")
            where = f"[{label}]({target})"
        else:
            where = ""
        rows.append(
            f"| **{_cell(entry['term'])}** | {_cell(entry['zh'])} | {_cell(entry['definition'])} | {where} |"
        )
    return "\n".join(rows) + "\n"


def _page_label(page):
    """A link's text for a book page: its title (:func:`page_title`)."""
    return page_title(page.split("#", 1)[0])


# ------------------------------------------------------------------------- page titles

_H1_RE = re.compile(r"^#[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$", re.M)
_ATTR_LIST_RE = re.compile(r"\s*\{[:.#][^}]*\}\s*$")


def _nav_titles(config_file):
    """``{docs-relative path: title}`` for the pages that mkdocs.yml's nav gives a title."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may carry !!python/name or !ENV tags; a title lookup needs none of them.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        config = yaml.load(Path(config_file).read_text(encoding="utf-8"), Loader=Loader) or {}
    except (OSError, yaml.YAMLError):
        return {}
    titles = {}

    def walk(items):
        for item in items or []:
            if isinstance(item, dict):
                for title, value in item.items():
                    if isinstance(value, list):
                        walk(value)
                    elif isinstance(value, str):
                        titles[value] = str(title)
    walk(config.get("nav"))
    return titles


def _first_heading(path):
    """The text of the first ``# `` heading of a Markdown page, or of a notebook's first Markdown cell."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    if Path(path).suffix == ".ipynb":
        import json

        try:
            cells = json.loads(text).get("cells", [])
        except ValueError:
            return None
        text = "\n\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")
    fences = [(m.start(), m.end()) for m, _, _ in bookexec.iter_fences(text)]
    for m in _H1_RE.finditer(text):
        if not any(start <= m.start() < end for start, end in fences):  # a comment in code is no title
            return _ATTR_LIST_RE.sub("", m.group("title")).strip() or None
    return None


def page_title(page, docs=None, config_file=None):
    """The title a reader sees for a book page (docs-relative path): the nav's title for it in
    mkdocs.yml, else the page's first ``# `` heading, else a label made from its file name."""
    docs = Path(docs) if docs is not None else ROOT / "docs"
    config_file = Path(config_file) if config_file is not None else docs.parent / "mkdocs.yml"
    title = _nav_titles_cached(str(config_file)).get(page) or _first_heading(docs / page)
    if title:
        return title
    path = Path(page)
    stem = path.stem if path.stem != "index" else path.parent.name
    return stem.replace("-", " ").lstrip("0123456789 ").capitalize() or "Home"


def _nav_titles_cached(config_file):
    import os

    try:
        stamp = os.stat(config_file).st_mtime_ns
    except OSError:
        return {}
    key = (config_file, stamp)
    if key not in _NAV_TITLES:
        _NAV_TITLES.clear()
        _NAV_TITLES[key] = _nav_titles(config_file)
    return _NAV_TITLES[key]


_NAV_TITLES = {}


def render_glossary_page(markdown, entries=None, language="en"):
    """Replace the glossary marker of docs/glossary.md (or its Chinese twin, ``language="zh"``)
    with the table."""
    if GLOSSARY_MARKER not in markdown:
        return markdown
    entries = load_glossary() if entries is None else entries
    table = glossary_markdown(entries) if language == "en" else glossary_markdown_zh(entries)
    return markdown.replace(GLOSSARY_MARKER, table)


def pinyin_key(text):
    """Sort key of a Chinese term by its pinyin (pypinyin), letters and digits as they are."""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(str(text))).lower()


def glossary_markdown_zh(entries):
    """The glossary for the Chinese edition: Chinese term first, sorted by pinyin, the Chinese
    definition (``definition_zh``; the English one where there is none yet)."""
    rows = ["| 中文 | English | 释义 | 出处 |", "|---|---|---|---|"]
    for entry in sorted(entries, key=lambda e: pinyin_key(str(e["zh"]).split("、")[0])):
        page = entry.get("page", "")
        where = ""
        if page:
            label = _cell(page_title_zh(page.split("#", 1)[0])).replace("[", "\\[").replace("]", "\\]")
            where = f"[{label}]({page})"
        meaning = entry.get("definition_zh") or entry["definition"]
        rows.append(f"| **{_cell(entry['zh'])}** | {_cell(entry['term'])} | {_cell(meaning)} | {where} |")
    return "\n".join(rows) + "\n"


def page_title_zh(page, docs=None):
    """The title of a page's Chinese twin (its first heading), else the English title."""
    docs = Path(docs) if docs is not None else ROOT / "docs"
    twin = (docs / page).with_name(Path(page).stem + ".zh.md")
    return (_first_heading(twin) if twin.is_file() else None) or page_title(page, docs)


# ---------------------------------------------------------------------- page notebooks

_ADMONITION_RE = re.compile(r'^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?|===)[ \t]*(?P<kind>[\w-]*)(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$')
_SKIP_LINE_RE = re.compile(r"^\s*<!--\s*skip:.*-->\s*$")
_ATTR_RE = re.compile(r"\{\s*[.#:][^}]*\}")


def doctest_to_code(body):
    """A fence as a notebook cell: the same script a reader's copy button copies
    (:func:`bookexec.fence_script`: hidden setup included, ``>>>`` prompts removed, expected
    output dropped, an example shown raising an exception turned into a ``try`` that prints
    the error), so every cell runs from top to bottom."""
    return bookexec.fence_script(body)


def _prose(markdown):
    """Markdown for a notebook cell: admonition and tab headers become bold titles, and every
    line loses its indent (in the book, indentation only nests text inside admonitions, which
    a notebook would otherwise show as code)."""
    out = []
    for line in markdown.splitlines():
        if _SKIP_LINE_RE.match(line):
            continue
        m = _ADMONITION_RE.match(line)
        if m:
            out.extend([f"**{m.group('title') or m.group('kind').capitalize()}**", ""])
            continue
        out.append(line.strip())
    text = _ATTR_RE.sub("", "\n".join(out))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def page_code_cells(markdown):
    """The script of every ``python`` fence that the tests run, in order (what each fence's copy
    button copies)."""
    return [
        doctest_to_code(body)
        for m, info, body in bookexec.iter_fences(markdown)
        if bookexec.is_collected(info) and not bookexec.is_skipped(markdown, m.start())
    ]


def page_notebook(markdown, title=None, source=None):
    """A notebook (nbformat v4 node) of a Markdown page, or None when it has no python fence."""
    import nbformat

    cells, last = [], 0
    for m, info, body in bookexec.iter_fences(markdown):
        if not bookexec.is_collected(info) or bookexec.is_skipped(markdown, m.start()):
            continue
        prose = _prose(markdown[last : m.start()])
        if prose:
            cells.append(nbformat.v4.new_markdown_cell(prose))
        cells.append(nbformat.v4.new_code_cell(doctest_to_code(body)))
        last = m.end()
    if not any(c.cell_type == "code" for c in cells):
        return None
    tail = _prose(markdown[last:])
    if tail:
        cells.append(nbformat.v4.new_markdown_cell(tail))
    if source:
        note = (
            f"*Made from the page `docs/{source}` of the dlbook book: its code, in order. Run it where "
            "the `dlbook` package is installed (the book's *Get started* page says how).*"
        )
        cells.insert(0, nbformat.v4.new_markdown_cell(note))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if title:
        nb.metadata["title"] = title
    return nb


def notebook_name(src_uri):
    """File name of a page's notebook: ``02-networks/perceptron.md`` -> ``02-networks-perceptron.ipynb``."""
    path = Path(src_uri).with_suffix("")
    parts = path.parts[:-1] if path.name == "index" else path.parts
    return ("-".join(parts) or "dlbook") + ".ipynb"


# Material's "download" icon (Material Design Icons, Apache 2.0), drawn in the text's colour.
_DOWNLOAD_ICON = (
    '<svg class="dlbook-download__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
    '<path d="M5 20h14v-2H5m14-9h-4V3H9v6H5l7 7z"/></svg>'
)


def download_link_html(name, what="page", language="en"):
    """The small link placed under a page's title (raw HTML: mkdocs validates only Markdown links):
    an icon and "Download notebook (.ipynb)", in small type, so it never fills a phone's screen.
    Material's search leaves it out of the index (and drops the attribute from the page)."""
    words = UI_TEXT[language]
    title = words["page_notebook"] if what == "page" else words["lab_notebook"]
    return (
        f'<p class="dlbook-download" data-search-exclude="link"><a href="{name}" download="{name}" title="{title}">'
        f'{_DOWNLOAD_ICON}{words["download"]}</a></p>'
    )


def insert_after_html_title(html, snippet):
    """Insert ``snippet`` after the first ``</h1>`` of rendered HTML (a lab's title), or at the top."""
    end = html.find("</h1>")
    if end < 0:
        return snippet + "\n" + html
    end += len("</h1>")
    return html[:end] + "\n" + snippet + html[end:]


def insert_after_title(markdown, html):
    """Insert ``html`` after the page's first ``# `` heading (or at the very top)."""
    m = re.search(r"^# .*$", markdown, re.M)
    if m is None:
        return html + "\n\n" + markdown
    return markdown[: m.end()] + "\n\n" + html + "\n" + markdown[m.end() :]


# ------------------------------------------------------------------------- copy → run


def _indented(text, indent):
    return "\n".join(indent + line if line.strip() else "" for line in text.split("\n"))


# The words the build adds to a page, in each language of the site.
UI_TEXT = {
    "en": {"setup": "setup, {n} line{s}", "download": "Download notebook (.ipynb)",
           "page_notebook": "Every code block of this page, as a Jupyter notebook",
           "lab_notebook": "This lab as a Jupyter notebook"},
    "zh": {"setup": "准备语句，{n} 行", "download": "下载 Notebook（.ipynb）",
           "page_notebook": "本页全部代码块，作为一个 Jupyter Notebook",
           "lab_notebook": "本实验的 Jupyter Notebook"},
}


def mark_fences(markdown, where="<page>", language="en"):
    """Rewrite a page's ``python`` fences for display; return ``(markdown, scripts)``.

    Each fence's hidden setup (``bookexec.split_fence``) goes into a collapsed block above
    it (``??? dlbook-setup no-copy "setup, 3 lines"``: a native ``<details>``, readable
    without JavaScript, whose own code gets no copy button); the fence keeps its visible
    statements and is tagged ``data-dlbook-fence="<n>"``, its number among the page's fences
    (``bookexec.page_fences``). ``scripts[n]`` is fence n's copy text, which
    :func:`add_copy_text` attaches to the rendered block. A misplaced ``# setup`` marker
    raises ``bookexec.SetupError`` naming the page and line.
    """
    scripts, pieces, last = [], [], 0
    for number, (m, body, _skipped) in enumerate(bookexec.page_fences(markdown)):
        try:
            fence = bookexec.split_fence(body)
        except bookexec.SetupError as err:
            line = markdown.count("\n", 0, m.start()) + 1
            raise bookexec.SetupError(f"{where}, fence at line {line}: {err}") from None
        scripts.append(fence.script)
        indent, ticks = m.group("indent"), m.group("fence")
        block = []
        if fence.setup:
            n = fence.setup_lines
            block += [
                f'{indent}??? dlbook-setup no-copy "{UI_TEXT[language]["setup"].format(n=n, s="s" if n != 1 else "")}"',
                f"{indent}    {ticks}{{.python .dlbook-setup-code}}",
                _indented(fence.setup, indent + "    "),
                f"{indent}    {ticks}",
                "",
            ]
        block += [
            f'{indent}{ticks}{{.python .dlbook-code data-dlbook-fence="{number}"}}',
            _indented(fence.visible, indent),
            f"{indent}{ticks}",
        ]
        pieces += [markdown[last : m.start()], "\n".join(block)]
        last = m.end()
    pieces.append(markdown[last:])
    return "".join(pieces), scripts


_FENCE_TAG_RE = re.compile(r'(<div\b[^>]*\bdata-dlbook-fence="(\d+)")')


def add_copy_text(html_text, scripts):
    """Add ``data-copy="<script>"`` to each block tagged by :func:`mark_fences`; return
    ``(html, numbers of the blocks found)``.

    Material for MkDocs' copy button copies the ``data-copy`` attribute of the nearest
    enclosing element that has one, instead of the code's text (its clipboard integration,
    9.x), so the reader gets the script and the page keeps showing the doctest.
    """
    import html

    seen = []

    def sub(m):
        number = int(m.group(2))
        seen.append(number)
        return f'{m.group(1)} data-copy="{html.escape(scripts[number], quote=True)}"'

    return _FENCE_TAG_RE.sub(sub, html_text), seen


# ------------------------------------------------------------------- links in notebooks

_HREF_RE = re.compile(r'(?P<attr>\bhref=")(?P<url>[^"#?]+\.(?:md|ipynb))(?P<frag>#[^"]*)?"')


def resolve_page_links(html, file, files, warn=print):
    """Rewrite ``href="../x/page.md#a"`` in a notebook page's HTML to the built page's URL.

    mkdocs does this for Markdown pages but not for what mkdocs-jupyter renders, so a lab's
    Markdown cells can link pages the way every page of the book does. A link to a file that
    is not in the book is reported through ``warn`` (a warning: ``--strict`` fails on it).
    """
    import posixpath
    from urllib.parse import unquote, urlsplit

    def sub(m):
        url = m.group("url")
        if urlsplit(url).scheme or url.startswith("/"):
            return m.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(file.src_uri), unquote(url)))
        found = files.get_file_from_path(target)
        if found is None or not found.is_documentation_page():
            warn(f"Doc file '{file.src_uri}' contains a link '{url}', but the target '{target}' is not a page of the book.")
            return m.group(0)
        return f'{m.group("attr")}{found.url_relative_to(file)}{m.group("frag") or ""}"'

    return _HREF_RE.sub(sub, html)


# -------------------------------------------------------------------------- the wheel

DOWNLOADS = "downloads"  # site folder that serves the wheel
WHEEL_PLACEHOLDERS = ("{{ wheel_name }}", "{{ wheel_url }}", "{{ wheel_path }}")
# What a wheel is made of: nothing else of the repository goes into it.
_WHEEL_SOURCES = ("pyproject.toml", "README.md", "dlbook")


def project_version(root=ROOT):
    """The package version, from pyproject.toml (the wheel's name carries it)."""
    import tomllib

    return tomllib.loads((Path(root) / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def wheel_name(version=None):
    """``dlbook-<version>-py3-none-any.whl``: the file name pip gives the pure-Python wheel."""
    return f"dlbook-{version or project_version()}-py3-none-any.whl"


def build_wheel(dest, root=ROOT):
    """Build the ``dlbook`` wheel into ``dest`` and return its path; works offline.

    The sources are copied to a temporary directory first: an in-tree build would leave
    ``build/`` in the repository, and setuptools' ``build/lib`` keeps modules deleted since
    the last build, which would then ship in the wheel.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc")
    with tempfile.TemporaryDirectory(prefix="dlbook-wheel-") as tmp:
        for name in _WHEEL_SOURCES:
            src = Path(root) / name
            if src.is_dir():
                shutil.copytree(src, Path(tmp) / name, ignore=ignore)
            else:
                shutil.copy2(src, Path(tmp) / name)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
             "--disable-pip-version-check", "-q", "-w", str(dest), tmp],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"building the dlbook wheel failed:\n{proc.stdout}\n{proc.stderr}")
    wheel = dest / wheel_name(project_version(root))
    if not wheel.is_file():
        raise RuntimeError(f"pip built {sorted(p.name for p in dest.iterdir())}, expected {wheel.name}")
    return wheel


def fill_wheel_placeholders(markdown, site_url, page_dest_uri):
    """Replace ``{{ wheel_name }}``, ``{{ wheel_url }}`` (absolute, from ``site_url``) and
    ``{{ wheel_path }}`` (relative to the page being built) in a page's Markdown."""
    import posixpath

    name = wheel_name()
    site_path = f"{DOWNLOADS}/{name}"
    url = (site_url or "").rstrip("/") + "/" + site_path if site_url else site_path
    page_dir = posixpath.dirname(page_dest_uri)
    rel = posixpath.relpath(site_path, page_dir or ".")
    for placeholder, value in zip(WHEEL_PLACEHOLDERS, (name, url, rel)):
        markdown = markdown.replace(placeholder, value)
    return markdown
