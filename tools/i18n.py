"""The Chinese edition's bookkeeping: each page ``docs/x.md`` may have a twin ``docs/x.zh.md``.

The two run the same code, so the English blocks are the ones Sybil tests, and the twin is held
to them by three checks (tests/test_i18n.py), each a function here:

- :func:`code_differences` — the same fences, in order: code and printed outputs identical
  (a comment inside code may be translated; the ``# setup`` marker may not).
- :func:`is_stale` — the twin's front matter ``translated_from`` is the :func:`prose_hash` of the
  English page it translates; when the English prose changes, the twin is stale until someone
  translates the change and stamps it again.
- :func:`untranslated` — in the twin's prose (outside code and maths): Chinese characters at
  least twice the Latin letters, and no run of 25 or more English words.

And :func:`typography`: the twin's prose (outside front matter, code, maths and HTML) as the
linter autocorrect would write it — spaces between Chinese and Latin letters or digits,
full-width punctuation.

Command line, for whoever keeps the Chinese pages (``python3 tools/i18n.py --help``):
``status`` lists twins that are stale, differ in code or look untranslated, with the English
prose diff to translate (from git history); ``stamp PAGE...`` records that a twin is up to date;
``sync-code PAGE...`` copies the English page's fences into its twin (the code is never
translated, so a code-only change needs no translator).
"""

import argparse
import difflib
import hashlib
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

try:
    from tools import bookexec
except ImportError:  # the mkdocs hook's sys.path has tools/ itself (as tools/sitefeatures.py does)
    import bookexec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGUAGE = "zh"
SUFFIX = f".{LANGUAGE}"
STAMP_KEY = "translated_from"
# Pages whose text is generated from docstrings: they stay English (their index page does not).
EXEMPT_FROM_TRANSLATION = ("reference/api/",)
MIN_CJK_PER_LATIN = 2.0
MAX_ENGLISH_RUN = 25  # words

_FRONT_MATTER_RE = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n", re.S)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[A-Za-z]")


# ------------------------------------------------------------------------- which page is which


def is_twin(path):
    """Whether ``path`` (a docs page or notebook) is a Chinese twin, e.g. ``x.zh.md``."""
    return Path(path).suffixes[-2:-1] == [SUFFIX]


def english_page(path):
    """The English page a twin translates: ``x.zh.md`` -> ``x.md`` (any other path unchanged)."""
    p = Path(path)
    return p.with_name(p.name.replace(SUFFIX + p.suffix, p.suffix)) if is_twin(p) else p


def twin_of(path):
    """The Chinese twin's path of an English page: ``x.md`` -> ``x.zh.md``."""
    p = Path(path)
    return p.with_name(p.stem + SUFFIX + p.suffix)


PAGE_SUFFIXES = (".md", ".ipynb")  # Markdown pages and the labs' notebooks


def twins(docs=DOCS):
    """Every Chinese twin under ``docs`` (pages and notebooks), sorted."""
    return sorted(p for p in Path(docs).rglob(f"*{SUFFIX}.*") if p.suffix in PAGE_SUFFIXES and is_twin(p))


def english_pages(docs=DOCS):
    """Every English page and notebook under ``docs``, sorted."""
    return sorted(p for p in Path(docs).rglob("*") if p.suffix in PAGE_SUFFIXES and not is_twin(p)
                  and ".ipynb_checkpoints" not in p.parts)


def page_text(path):
    """A page as the checks read it: a Markdown page as it is; a notebook as Markdown (its
    Markdown cells as prose, its code cells as ``python`` fences, its stamp as front matter)."""
    path = Path(path)
    return as_page_text(path.read_text(encoding="utf-8"), path.suffix)


def as_page_text(raw, suffix):
    """:func:`page_text` of a file's content (``suffix``: ".md" or ".ipynb")."""
    if suffix != ".ipynb":
        return raw
    import nbformat

    nb = nbformat.reads(raw, as_version=4)
    stamp = nb.metadata.get("dlbook", {}).get(STAMP_KEY)
    parts = [f"---\n{STAMP_KEY}: {stamp}\n---\n"] if stamp else []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source.strip() + "\n")
        elif cell.cell_type == "code":
            parts.append(f"```python\n{cell.source.rstrip()}\n```\n")
    return "\n".join(parts)


def is_exempt(rel):
    """API pages (docstrings) stay English."""
    return str(rel).replace("\\", "/").startswith(EXEMPT_FROM_TRANSLATION)


# ------------------------------------------------------------------------------- front matter


def split_front_matter(markdown):
    """``(front matter dict, the rest)``; ``({}, markdown)`` when there is none."""
    m = _FRONT_MATTER_RE.match(markdown)
    if not m:
        return {}, markdown
    import yaml

    return (yaml.safe_load(m.group("yaml")) or {}), markdown[m.end():]


def with_stamp(markdown, stamp):
    """``markdown`` with ``translated_from: stamp`` in its front matter (added or replaced)."""
    meta, body = split_front_matter(markdown)
    meta[STAMP_KEY] = stamp
    lines = "".join(f"{k}: {v}\n" for k, v in meta.items())
    return f"---\n{lines}---\n{body}"


# ------------------------------------------------------------------------------ same code


def _strip_comment(code):
    """One line of Python without its comment (kept: the ``# setup`` marker); unchanged if it
    does not tokenize on its own (a line inside a bracket, a string...)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code.rstrip()
    for tok in tokens:
        if tok.type == tokenize.COMMENT and tok.string.strip() != "# setup":
            return code[: tok.start[1]].rstrip()
    return code.rstrip()


def comparable_code(info, body):
    """A fence as the pair check compares it: Python code lines without their comments,
    printed outputs and other fences exactly."""
    if info != "python" and not bookexec.is_pythonish(info):
        return body.rstrip()
    out = []
    doctest = body.lstrip().startswith(">>>")
    for line in body.rstrip().splitlines():
        prompt = re.match(r"^(\s*)(>>> |\.\.\. |>>>$|\.\.\.$)", line)
        if prompt:
            out.append(prompt.group(0) + _strip_comment(line[prompt.end():]))
        elif doctest:
            out.append(line.rstrip())  # printed output: identical
        else:
            out.append(_strip_comment(line))
    return "\n".join(out)


def fences(markdown):
    """``[(info, body)]`` of every fence of a page, in order."""
    return [(info, body) for _, info, body in bookexec.iter_fences(markdown)]


def code_differences(english, chinese):
    """Human-readable differences between the fences of two pages (an empty list: the same code)."""
    a, b = fences(english), fences(chinese)
    problems = []
    if len(a) != len(b):
        problems.append(f"{len(a)} fences in English, {len(b)} in Chinese")
    for k, ((ia, ba), (ib, bb)) in enumerate(zip(a, b)):
        if ia != ib or comparable_code(ia, ba) != comparable_code(ib, bb):
            diff = difflib.unified_diff(ba.splitlines(), bb.splitlines(), "English", "Chinese", lineterm="", n=1)
            problems.append(f"fence {k + 1} differs:\n" + "\n".join(list(diff)[:12]))
            break  # later fences are usually shifted by the first difference
    return problems


# ----------------------------------------------------------------------------- fresh prose


def prose(markdown):
    """A page's prose: front matter and fences removed, whitespace collapsed per paragraph."""
    _, body = split_front_matter(markdown)
    body = bookexec.FENCE_RE.sub("\n", body)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body)]
    return "\n\n".join(p for p in paragraphs if p)


def prose_hash(markdown):
    """The stamp of an English page's prose (its code is held equal by the pair check instead)."""
    return hashlib.sha256(prose(markdown).encode("utf-8")).hexdigest()[:12]


def stamp_of(chinese):
    """The ``translated_from`` stamp of a twin, or None."""
    return split_front_matter(chinese)[0].get(STAMP_KEY)


def is_stale(english, chinese):
    """Whether the twin was translated from other English prose than the page has now."""
    return stamp_of(chinese) != prose_hash(english)


def prose_at_stamp(english_path, stamp, root=ROOT):
    """The English page's prose as it was when ``stamp`` was taken (from git history), or None."""
    rel = Path(english_path).resolve().relative_to(root).as_posix()
    try:
        log = subprocess.run(["git", "log", "--format=%H", "--", rel], cwd=root, capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    for commit in log:
        old = subprocess.run(["git", "show", f"{commit}:{rel}"], cwd=root, capture_output=True, text=True)
        text = as_page_text(old.stdout, Path(rel).suffix) if old.returncode == 0 else None
        if text is not None and prose_hash(text) == stamp:
            return prose(text)
    return None


def prose_diff(english_path, chinese):
    """The English prose changes since the twin's stamp, as a unified diff ('' if unknown)."""
    english_path = Path(english_path)
    before = prose_at_stamp(english_path, stamp_of(chinese))
    if before is None:
        return ""
    now = prose(page_text(english_path))
    return "\n".join(difflib.unified_diff(before.split("\n\n"), now.split("\n\n"), "translated", "now", lineterm=""))


# ------------------------------------------------------------------------ translated at all


def prose_for_language_check(markdown):
    """What a reader reads as text: prose without code, maths, HTML, link targets and ids."""
    text = prose(markdown)
    for pattern in (r"<!--.*?-->", r"\$\$.+?\$\$", r"\$[^$\n]+\$", r"`[^`\n]+`", r"\]\([^)]*\)", r"\]\[[^\]\n]*\]",
                    r"\{[#.:][^}]*\}", r"<[^>]+>", r"https?://\S+"):
        text = re.sub(pattern, " ", text, flags=re.S)
    return text


def untranslated(chinese):
    """Why a twin's prose does not read as Chinese (an empty list: it does)."""
    text = prose_for_language_check(chinese)
    cjk, latin = len(_CJK_RE.findall(text)), len(_LATIN_RE.findall(text))
    problems = []
    if cjk < MIN_CJK_PER_LATIN * latin:
        problems.append(f"{cjk} Chinese characters for {latin} Latin letters (expected at least {MIN_CJK_PER_LATIN:g}x)")
    for paragraph in text.split("\n\n"):
        for run in re.split(r"[\u3000-\u303f\uff00-\uffef\u3400-\u9fff]+", paragraph):
            words = re.findall(r"[A-Za-z][A-Za-z'’-]*", run)
            if len(words) >= MAX_ENGLISH_RUN:
                problems.append(f"a run of {len(words)} English words: {run.strip()[:100]!r}")
    return problems


# ---------------------------------------------------------------------------------- typography
# Chinese typography (spaces between Chinese and Latin letters or digits, full-width punctuation)
# is autocorrect's (https://github.com/huacnlee/autocorrect, the autocorrect-py package), with
# one exception of the book's, below.

AUTOCORRECT_CONFIG = """
rules:
  # A hyphen joins Chinese words without spaces (GB/T 15834's 连接号: 编码器-解码器, 卷积-池化);
  # autocorrect would write 编码器 - 解码器, which reads as a minus sign.
  space-dash: 0
"""

# What is not prose, as autocorrect's Markdown mode sees it: it lints maths, HTML attributes and
# comments and attribute lists ({#id}), but leaves inline code alone, so these become inline code.
_NOT_PROSE_RE = re.compile(
    r"(?P<code>(`+).+?\2)"  # inline code: kept as it is
    r"|\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]"  # maths
    r"|<!--.*?-->|<[A-Za-z/][^>\n]*>"  # HTML comments, tags (attributes) and autolinks
    r"|\{[#.:][^}\n]*\}",  # attribute lists
    re.S,
)


def _as_inline_code(m):
    if m.group("code"):
        return m.group(0)
    first, *rest = m.group(0).split("\n")
    return "`" + first.replace("`", "'") + "`" + "\n" * len(rest)  # the same lines


def typography_text(markdown):
    """The prose of a Chinese page as :func:`typography` lints it, line for line: front matter
    and fences blanked, maths, HTML and attribute lists as inline code, and no indentation
    (autocorrect reads an admonition's or a list's indented body as an indented code block)."""
    def blank(m):
        return "\n" * m.group(0).count("\n")

    text = _FRONT_MATTER_RE.sub(blank, markdown)
    text = bookexec.FENCE_RE.sub(blank, text)  # code stays the English code (comments included)
    text = _NOT_PROSE_RE.sub(_as_inline_code, text)
    return "\n".join(line.strip() for line in text.split("\n"))


def _difference(old, new, context=12):
    """``old -> new`` around where they differ."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    a, b = max(0, start - context), max(0, end - context)
    cut = (lambda s: ("…" if a else "") + s[a:len(s) - b] + ("…" if b else ""))
    return f"{cut(old)!r} -> {cut(new)!r}"


def typography(markdown):
    """autocorrect's findings in a Chinese page's prose: ``[(line, 'old -> new')]``, lines
    counted in ``markdown`` (an empty list: none)."""
    import autocorrect_py

    autocorrect_py.load_config(AUTOCORRECT_CONFIG)
    result = autocorrect_py.lint_for(typography_text(markdown), "md")
    return [(r.line, _difference(r.old, r.new)) for r in result.lines]


def typography_of_page(path):
    """:func:`typography` of a twin, as ``'where: old -> new'`` lines: a page's lines, or a
    notebook's Markdown cells and their lines."""
    path = Path(path)
    if path.suffix != ".ipynb":
        return [f"{_rel(path)}:{line}: {change}"
                for line, change in typography(path.read_text(encoding="utf-8"))]
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    return [f"{_rel(path)} cell {k + 1}, line {line}: {change}"
            for k, cell in enumerate(cells) if cell.cell_type == "markdown"
            for line, change in typography(cell.source)]


# ------------------------------------------------------------------------ the built site
# What the build (tools/mkdocs_hooks.py) does for the Chinese edition, besides what
# mkdocs-static-i18n does (the /zh/ site, the language switch, Material's interface language).

FIGURE_LABELS_FILE = ROOT / "data" / "figure_labels.yml"


def english_src(src_uri):
    """A page's English source (docs-relative): ``a/b.zh.md`` -> ``a/b.md``."""
    return english_page(Path(src_uri)).as_posix()


def figure_labels():
    """English -> Chinese for every word a figure draws: the diagrams' ``LABELS_ZH`` and the
    book's own plots (data/figure_labels.yml). One table, looked up by the page's language, so
    a page's code is the same in both languages."""
    import yaml

    from dlbook.diagrams import LABELS_ZH

    labels = dict(LABELS_ZH)
    if FIGURE_LABELS_FILE.is_file():
        labels.update(yaml.safe_load(FIGURE_LABELS_FILE.read_text(encoding="utf-8")) or {})
    return labels


_SVG_TEXT_RE = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")


def translate_label(text, labels):
    """One label in Chinese (``{}`` in a key stands for a number), or ``text`` unchanged."""
    from dlbook.diagrams._draw import translate

    found = translate(text, labels)
    return text if found is None else found


def translate_svg(svg, labels):
    """An SVG figure (text kept as text) with each label that ``labels`` knows in Chinese;
    returns ``(svg, [labels not found])`` (the ones with letters, for the build's log)."""
    import html

    missing = []

    from dlbook.diagrams._draw import translate

    def swap(m):
        text = html.unescape(m.group(2))
        found = translate(text, labels)  # None: not in the table (a name like "LSTM" maps to itself)
        if found is None:
            if re.search(r"[A-Za-z]{2}", text):
                missing.append(text)
            found = text
        return m.group(1) + html.escape(found, quote=False) + m.group(3)

    return _SVG_TEXT_RE.sub(swap, svg), missing


_ALTERNATE_RE = re.compile(r'[ \t]*<link rel="alternate" href="[^"]*" hreflang="[^"]*">\n?')


def drop_alternate_head_links(html):
    """Without ``<link rel=alternate hreflang>`` in the head: Material fetches ``sitemap.xml``
    beside each of them (a 404 per page, since they point at pages, not at site roots). The
    language switch in the header links each page's twin already."""
    return _ALTERNATE_RE.sub("", html)


_SWITCH_RE = re.compile(r'(<a href=")([^"]*)(" hreflang="(?P<lang>[^"]+)" class="md-select__link">)')


def language_switch_links(html, root, src_uri=None):
    """The header's language switch, made to work wherever the site is served: the home page's
    absolute links (``/``, ``/zh/``) become relative to the site's ``root`` (``../..``). A lab
    (``src_uri`` a notebook), which mkdocs-static-i18n does not pair with its twin, links its
    page in each language: ``labs/x/`` and ``zh/labs/x/``."""
    root = (root or "./").rstrip("/") or "."
    page = None
    if src_uri and src_uri.endswith(".ipynb"):
        page = english_src(src_uri)[: -len(".ipynb")] + "/"

    def fix(m):
        href, language = m.group(2), m.group("lang")
        if page is not None:
            href = f"{root}/{'' if language == 'en' else language + '/'}{page}"
        elif href.startswith("/"):
            href = f"{root}{href}"
        return m.group(1) + href + m.group(3)

    return _SWITCH_RE.sub(fix, html)


_HEADING_RE = re.compile(r'<h(?P<level>[1-6]) id="(?P<id>[^"]*)"(?P<rest>[^>]*)>(?P<body>.*?)</h(?P=level)>', re.S)


def notebook_heading_ids(path):
    """The ids of an (English) notebook's headings, in order, as its page gives them (markdown's
    slugify of the heading text, as mkdocs-jupyter's table of contents does)."""
    import nbformat
    from markdown.extensions.toc import slugify, unique

    ids, used = [], set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                ids.append(unique(slugify(m.group(2), "-"), used))
    return ids


def with_english_heading_ids(html, ids):
    """A Chinese lab's page with its headings' ids (and their ¶ links) set to the English lab's:
    Chinese heading text slugifies to nothing, and the English anchors work in both languages.
    Returns ``(html, ok)``; unchanged and ``ok`` False when the headings do not pair up."""
    found = list(_HEADING_RE.finditer(html))
    if len(found) != len(ids):
        return html, False
    out, last = [], 0
    for m, new_id in zip(found, ids):
        body = re.sub(r'(<a class="anchor-link" href=")#[^"]*(")', rf"\g<1>#{new_id}\g<2>", m.group("body"))
        out.append(html[last:m.start()])
        out.append(f'<h{m.group("level")} id="{new_id}"{m.group("rest")}>{body}</h{m.group("level")}>')
        last = m.end()
    out.append(html[last:])
    return "".join(out), True


_BASE_RE = re.compile(r'("base":\s*")([^"]*)(")')


def base_at_language_root(html, language):
    """A page of the ``language`` site (under ``/zh/``) with Material's ``base`` at that site's
    root, so that its search loads ``zh/search/search_index.json``: each language its own index."""
    def up_one(m):
        parts = m.group(2).split("/")
        if parts and parts[-1] == "..":
            parts.pop()
        return m.group(1) + ("/".join(parts) or ".") + m.group(3)

    return _BASE_RE.sub(up_one, html, count=1)


def split_search_index(site_dir, language=LANGUAGE):
    """mkdocs-static-i18n leaves one index for both languages at ``search/search_index.json``:
    keep the English entries there and write the ``language`` ones (locations relative to its
    root) to ``<language>/search/search_index.json``, with the English pages it falls back to.
    Returns the two paths."""
    import json

    root = Path(site_dir) / "search" / "search_index.json"
    if not root.is_file():
        return None
    index = json.loads(root.read_text(encoding="utf-8"))
    prefix = f"{language}/"
    english = [d for d in index["docs"] if not d["location"].startswith(prefix)]
    own = [dict(d, location=d["location"][len(prefix):]) for d in index["docs"] if d["location"].startswith(prefix)]
    own_pages = {d["location"].split("#", 1)[0] for d in own}
    fallback = [d for d in english if d["location"].split("#", 1)[0] not in own_pages]
    paths = []
    for path, docs in ((root, english), (Path(site_dir) / language / "search" / "search_index.json", own + fallback)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(index, docs=docs), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- command line


def _rel(path):
    path = Path(path).resolve()
    return path.relative_to(DOCS).as_posix() if path.is_relative_to(DOCS) else str(path)


def status(pages):
    """Print each twin's problems; return how many twins have any."""
    bad = 0
    for zh in pages:
        en = english_page(zh)
        chinese = page_text(zh)
        english = page_text(en) if en.is_file() else ""
        problems = code_differences(english, chinese) + untranslated(chinese)
        try:
            problems += [f"typography: {finding}" for finding in typography_of_page(zh)]
        except ImportError:  # autocorrect-py comes with the test extra
            pass
        stale = is_stale(english, chinese)
        if stale:
            problems.append(f"stale: stamped {stamp_of(chinese)}, the English prose is now {prose_hash(english)}")
        if problems:
            bad += 1
            print(f"== {_rel(zh)}")
            for p in problems:
                print("  " + p.replace("\n", "\n  "))
            if stale:
                diff = prose_diff(en, chinese)
                print("  English prose to translate:\n" + (diff or "  (no history for this stamp: compare by hand)"))
    print(f"{len(pages)} Chinese pages, {bad} need work")
    return bad


def stamp(pages):
    for zh in pages:
        value = prose_hash(page_text(english_page(zh)))
        if zh.suffix == ".ipynb":
            import nbformat

            nb = nbformat.read(zh, as_version=4)
            nb.metadata.setdefault("dlbook", {})[STAMP_KEY] = value
            nbformat.write(nb, zh)
        else:
            zh.write_text(with_stamp(zh.read_text(encoding="utf-8"), value), encoding="utf-8")
        print(f"stamped {_rel(zh)}")


def synced(english, chinese):
    """The Chinese page with the English page's fences, fence by fence (None if their counts differ)."""
    source = [m for m, _, _ in bookexec.iter_fences(english)]
    target = [m for m, _, _ in bookexec.iter_fences(chinese)]
    if len(source) != len(target):
        return None
    out, last = [], 0
    for s, t in zip(source, target):
        out.append(chinese[last:t.start()])
        same = comparable_code(*_fence(t)) == comparable_code(*_fence(s))
        out.append(chinese[t.start():t.end()] if same else _reindent(s, t))  # keeps translated comments
        last = t.end()
    out.append(chinese[last:])
    return "".join(out)


def _sync_notebook(zh):
    """A notebook twin's code cells replaced by the English notebook's, cell by cell."""
    import nbformat

    nb, en = nbformat.read(zh, as_version=4), nbformat.read(english_page(zh), as_version=4)
    ours = [c for c in nb.cells if c.cell_type == "code"]
    theirs = [c for c in en.cells if c.cell_type == "code"]
    if len(ours) != len(theirs):
        print(f"{_rel(zh)}: the English notebook has another number of code cells: place them by hand")
        return
    changed = False
    for a, b in zip(ours, theirs):
        if a.source != b.source:
            a.source, changed = b.source, True
    if changed:
        nbformat.write(nb, zh)
        print(f"synced {_rel(zh)}")


def sync_code(pages):
    """Copy the English fences into each twin, fence by fence (same count required)."""
    for zh in pages:
        if zh.suffix == ".ipynb":
            _sync_notebook(zh)
            continue
        chinese = zh.read_text(encoding="utf-8")
        new = synced(english_page(zh).read_text(encoding="utf-8"), chinese)
        if new is None:
            print(f"{_rel(zh)}: the English page has another number of fences: place them by hand")
        elif new != chinese:
            zh.write_text(new, encoding="utf-8")
            print(f"synced {_rel(zh)}")


def _fence(m):
    import textwrap

    return m.group("info").strip(), textwrap.dedent(m.group("body"))


def _reindent(source, target):
    """The English fence's text, moved to the Chinese fence's indentation (an admonition's, say)."""
    src, dst = source.group("indent"), target.group("indent")
    return "\n".join(dst + line[len(src):] if line.startswith(src) else line
                     for line in source.group(0).split("\n"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 tools/i18n.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("status", "list twins that need work, with the English prose diff"),
                       ("stamp", "record that twins translate the English prose as it is now"),
                       ("sync-code", "copy the English fences into twins")):
        p = sub.add_parser(name, help=text)
        p.add_argument("pages", nargs="*", type=Path, help="Chinese pages (default: all)")
    args = parser.parse_args(argv)
    pages = [p if is_twin(p) else twin_of(p) for p in args.pages] or twins()
    pages = [p.resolve() for p in pages]
    if args.command == "status":
        return 1 if status(pages) else 0
    (stamp if args.command == "stamp" else sync_code)(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
