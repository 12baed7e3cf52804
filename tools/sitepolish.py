"""The site as a reader gets it: light pages, accessible markup, a search that finds the lesson.

Used by tools/mkdocs_hooks.py at build time; every function works on strings (or a folder to
write into), so the tests call them without a build. tests/test_browser.py measures the result.

Page weight (what a browser receives from a static host that compresses with gzip, the search
index included: median page <= 250 KiB, none over 600 KiB)
    - KaTeX is linked only from pages that have maths (:func:`has_math`, :func:`add_katex`);
      mkdocs.yml lists no KaTeX asset. The maths is typeset at build time
      (tools/katexrender.py), so those pages load KaTeX's stylesheet and fonts, cut down to the
      book's characters, and no JavaScript for it.
    - A notebook page's Jupyter CSS (about 580 KiB, identical on every lab) moves out of the
      page into one file, ``assets/notebook.<hash>.css``, that every lab links and a browser
      caches once: :func:`share_notebook_css`.
    - Images inlined as ``data:`` URIs in notebook outputs become files beside the page:
      :func:`extract_data_images` (base64 costs a third more, and gzip cannot win it back).
      The figures of Markdown pages are files too (tools/mkdocs_hooks.py).
    - The search index, which every page's search fetches, holds the prose: the API pages'
      "Source code in …" blocks, code blocks and notebook code cells, the exercises' collapsed
      answers and the notebook download link stay on the pages but out of the index
      (:func:`exclude_api_source_from_search`, :func:`exclude_code_and_answers_from_search`;
      Material's search skips ``data-search-exclude``), and an API entry keeps the first
      paragraph of its docstring (:func:`tune_search_index`).

Accessibility (axe-core: no serious or critical finding, light and dark)
    - the search dialog gets an accessible name, and Material's doubly escaped ``aria-label``
      (``&amp;amp;`` in "4 CNN &amp; RNN") is repaired: :func:`fix_aria`;
    - notebook code cells, which scroll sideways, are keyboard-focusable:
      :func:`focusable_notebook_code` (docs/assets/dlbook.js does the same for wide formulas
      and tables, where they do scroll);
    - colours, underlined links, the footer: docs/assets/dlbook.css.

Search (tools/mkdocs_hooks.py rewrites ``search/search_index.json`` after Material writes it)
    - :func:`tune_search_index`: every lesson page carries the glossary terms it teaches
      (data/glossary.yml, English, Chinese and aliases) as search *tags*, a field Material
      weighs far above titles, so "卷积" ranks 4.2 Convolution first; API pages and the
      glossary weigh less (``boost``), and are still found;
    - result snippets show maths as text (``σ(x) = 1/(1 + e^-x)``), never raw TeX:
      :func:`tex_to_text`.
"""

import hashlib
import html as html_lib
import json
import os
import posixpath
import re
from pathlib import Path

# ------------------------------------------------------------------------------ KaTeX

KATEX_CSS = "assets/katex/katex.min.css"
KATEX_JS = ("assets/katex/katex.min.js", "assets/katex/auto-render.min.js", "assets/katex-init.js")

_NOT_PROSE_RE = re.compile(r"<(pre|code|script|style|textarea)\b[^>]*>.*?</\1>", re.S | re.I)
# The delimiters assets/katex-init.js renders: $$…$$, \[…\], \(…\), $…$
_MATH_RE = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$\w])\$[^$\s][^$\n]*?(?<![\s\\])\$(?!\d)", re.S)


def has_math(html):
    """Whether a page's content has maths for KaTeX: an arithmatex element (Markdown pages) or
    TeX delimiters in its prose (notebook pages keep raw ``$…$``); code is not prose."""
    if 'class="arithmatex"' in html:
        return True
    return bool(_MATH_RE.search(_NOT_PROSE_RE.sub(" ", html)))


_BUNDLE_RE = re.compile(r'<script src="(?P<base>[^"]*?)assets/javascripts/bundle\.[^"]*"></script>')


def asset_base(output):
    """The relative prefix of the site's root in a built page (``../../``), from Material's bundle tag."""
    m = _BUNDLE_RE.search(output)
    return m.group("base") if m else None


def add_katex(output, scripts=True):
    """Link KaTeX's CSS in the ``<head>`` and, with ``scripts`` (maths not typeset at build
    time, tools/katexrender.py), its scripts after Material's bundle (which defines the
    ``document$`` that assets/katex-init.js subscribes to)."""
    base = asset_base(output)
    if base is None or KATEX_CSS in output:
        return output
    link = f'<link rel="stylesheet" href="{base}{KATEX_CSS}">\n'
    output = output.replace("</head>", link + "</head>", 1)
    if not scripts:
        return output
    tags = "".join(f'\n<script src="{base}{src}"></script>' for src in KATEX_JS)
    m = _BUNDLE_RE.search(output)
    return output[: m.end()] + tags + output[m.end() :]


# ------------------------------------------------------------------- notebook pages

_STYLE_RE = re.compile(r"<style\b[^>]*>(.*?)</style>\s*", re.S | re.I)
_FIRST_CELL_RE = re.compile(r'<div\b[^>]*\bclass="[^"]*\bjp-Cell\b')


def share_notebook_css(html, site_dir, page_dir):
    """Move the ``<style>`` blocks that mkdocs-jupyter puts above a notebook's first cell into
    ``assets/notebook.<hash>.css`` (written under ``site_dir``) and link it in their place;
    ``page_dir`` is the built page's folder, relative to the site. Styles inside cells (a
    DataFrame's, say) stay where they are."""
    first_cell = _FIRST_CELL_RE.search(html)
    head = html[: first_cell.start()] if first_cell else html
    blocks = list(_STYLE_RE.finditer(head))
    if not blocks:
        return html
    css = "\n".join(m.group(1).strip() for m in blocks) + "\n"
    name = f"assets/notebook.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"
    path = Path(site_dir) / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(css, encoding="utf-8")
    href = posixpath.relpath(name, page_dir or ".")
    pieces, last = [], 0
    for i, m in enumerate(blocks):
        pieces.append(head[last : m.start()])
        if i == 0:
            pieces.append(f'<link rel="stylesheet" href="{href}">\n')
        last = m.end()
    pieces.append(head[last:])
    return "".join(pieces) + html[len(head) :]


_DATA_IMG_RE = re.compile(
    r'<img\b(?P<before>[^>]*?)\bsrc="data:image/(?P<kind>png|jpeg|gif|webp|svg\+xml);base64,(?P<data>[A-Za-z0-9+/=\s]+)"(?P<after>[^>]*)>'
)
_JUPYTER_NO_ALT = "No description has been provided for this image"


def extract_data_images(html, write, alt=None, attributes=None):
    """Replace every ``<img src="data:image/…;base64,…">`` by a file: ``write(name, data)`` stores
    the bytes beside the page under a content-hashed ``name``, which becomes the ``src``.
    Jupyter's placeholder alt text is replaced by ``alt`` when given. ``attributes(data)``, when
    given, returns attributes for the image drawn from its bytes (a dict: name -> value, None
    for none), which replace the image's own of the same name (tools/figurefacts.py: a lab
    figure's description becomes its alt text)."""
    import base64

    def sub(m):
        data = base64.b64decode(m.group("data"))
        ext = {"jpeg": "jpg", "svg+xml": "svg"}.get(m.group("kind"), m.group("kind"))
        name = f"output-{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
        write(name, data)
        before, after = m.group("before"), m.group("after")
        if alt:
            before, after = before.replace(_JUPYTER_NO_ALT, alt), after.replace(_JUPYTER_NO_ALT, alt)
        tag = f'<img{before}src="{name}"{after}>'
        return _set_attributes(tag, attributes(data)) if attributes else tag

    return _DATA_IMG_RE.sub(sub, html)


_ATTR_RE = re.compile(r'\s(?P<name>[\w:-]+)(?:="(?P<value>[^"]*)")?')


def _set_attributes(tag, new):
    """``<img …>`` with the attributes of ``new`` set (escaped); a None value leaves one as it is."""
    attrs = {m.group("name"): m.group("value") for m in _ATTR_RE.finditer(tag[len("<img"):].rstrip("/>"))}
    attrs.update({k: html_lib.escape(str(v), quote=True) for k, v in new.items() if v is not None})
    return "<img" + "".join(f" {k}" if v is None else f' {k}="{v}"' for k, v in attrs.items()) + ">"


_NB_CODE_RE = re.compile(r'<div\b(?![^>]*\btabindex=)(?P<attrs>[^>]*\bclass="(?:[^"]*\s)?highlight-ipynb\b[^"]*"[^>]*)>')


def focusable_notebook_code(html):
    """``tabindex="0"`` on a notebook's code cells, which scroll sideways when a line is long, so
    that a keyboard can reach and scroll them (axe: scrollable-region-focusable). nbconvert
    already gives the outputs one."""
    return _NB_CODE_RE.sub(lambda m: f'<div{m.group("attrs")} tabindex="0">', html)


# ------------------------------------------------------------------- accessibility

_SEARCH_DIALOG_RE = re.compile(r'(<div class="md-search"[^>]*\brole="dialog")(?![^>]*\baria-label)')
_ARIA_LABEL_RE = re.compile(r'\baria-label="([^"]*)"')


def fix_aria(output, search_label="Search"):
    """Name Material's search dialog, and repair ``aria-label`` values escaped twice
    ("4 CNN &amp;amp; RNN", whose accessible name then differs from the link's text)."""
    output = _SEARCH_DIALOG_RE.sub(lambda m: f'{m.group(1)} aria-label="{search_label}"', output)

    def unescape_twice(m):
        return 'aria-label="' + re.sub(r"&amp;(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);", r"&\1;", m.group(1)) + '"'

    return _ARIA_LABEL_RE.sub(unescape_twice, output)


# -------------------------------------------------------------------------- search

_SOURCE_RE = re.compile(r'<details class="(?:[^"]*\s)?mkdocstrings-source\b[^"]*"')


def exclude_api_source_from_search(html):
    """Mark mkdocstrings' "Source code in …" blocks so that Material's search leaves them out
    (the plugin drops the attribute from the published page)."""
    return _SOURCE_RE.sub(lambda m: m.group(0) + ' data-search-exclude="source"', html)


_CODE_BLOCK_RE = re.compile(
    r'<div class="(?:[^"]*\s)?(?:highlight|jp-CodeCell)\b[^"]*"|<details class="(?:[^"]*\s)?dlbook-setup\b[^"]*"'
)
_ANSWER_RE = re.compile(r'<details class="[^"]*"(?=>\s*<summary>\s*(?:Answers?|答案)\s*</summary>)')


def exclude_code_and_answers_from_search(html):
    """Keep code blocks (a page's, a notebook's code cells with their outputs) and the collapsed
    answers to exercises out of the search index: a search finds the prose, the headings and the
    names in it; the index stays small enough for every page to fetch. The page is unchanged."""
    html = _CODE_BLOCK_RE.sub(lambda m: m.group(0) + ' data-search-exclude="code"', html)
    return _ANSWER_RE.sub(lambda m: m.group(0) + ' data-search-exclude="answer"', html)


_TEX_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "ast": "∗", "star": "⋆",
    "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "circ": "∘", "bullet": "•",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "equiv": "≡", "sim": "∼", "propto": "∝", "ll": "≪", "gg": "≫",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftrightarrow": "⇔",
    "mapsto": "↦", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "forall": "∀", "exists": "∃", "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "Σ",
    "prod": "Π", "int": "∫", "sqrt": "√", "ldots": "…", "cdots": "⋯", "dots": "…", "vdots": "⋮",
    "ddots": "⋱", "prime": "′", "top": "ᵀ", "intercal": "ᵀ", "lfloor": "⌊", "rfloor": "⌋",
    "lceil": "⌈", "rceil": "⌉", "langle": "⟨", "rangle": "⟩", "lVert": "‖", "rVert": "‖",
    "Vert": "‖", "vert": "|", "mid": "|", "{": "{", "}": "}", "%": "%", "_": "_", "&": "&", "#": "#",
}
_TEX_SPACES = {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace", "medspace"}
_TEX_DROP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
             "textstyle", "limits", "nolimits", "begin", "end", "hat", "bar", "tilde", "vec", "dot", "ddot",
             "overline", "underline", "widehat", "widetilde", "mathbf", "mathrm", "mathit", "mathcal",
             "mathbb", "boldsymbol", "bm", "text", "operatorname"}
_TEX_MATH_RE = re.compile(
    r"\\\((?P<inline>.+?)\\\)|\\\[(?P<display>.+?)\\\]|\$\$(?P<dollars>.+?)\$\$"
    # $…$ as notebooks write it; not "$5 and $10"
    r"|(?<![\\$\w])\$(?P<dollar>[^$\s][^$\n]*?)(?<![\s\\])\$(?!\d)",
    re.S,
)
_TEX_CMD_RE = re.compile(r"\\(?:(?P<name>[A-Za-z]+)\*?|(?P<char>.))")


def _tex_frac(tex):
    """``\\frac{a}{b}`` -> ``(a)/(b)`` (``a/b`` when both are one token), innermost first."""
    frac = re.compile(r"\\[dt]?frac\s*\{(?P<num>[^{}]*)\}\s*\{(?P<den>[^{}]*)\}")

    def sub(m):
        num, den = m.group("num").strip(), m.group("den").strip()
        wrap = lambda s: s if re.fullmatch(r"[\w.\\]+", s) else f"({s})"
        return f"{wrap(num)}/{wrap(den)}"

    for _ in range(5):
        tex, n = frac.subn(sub, tex)
        if not n:
            break
    return tex


def tex_to_text(tex):
    """Readable plain text for a TeX formula, as a search snippet shows it: ``\\sigma(x) \\le
    \\frac{1}{4}`` -> ``σ(x) ≤ 1/4``. No backslash command and no brace is left."""
    tex = _tex_frac(tex)
    tex = re.sub(r"\\(?:begin|end)\s*\{[^}]*\}(?:\{[^}]*\})?", " ", tex)
    tex = re.sub(r"\\(?:text|textrm|textbf|textit|mathrm|mathbf|mathit|mathcal|mathbb|mathsf|mathtt|operatorname|boldsymbol|bm|hat|bar|tilde|vec|dot|ddot|overline|underline|widehat|widetilde)\s*\{([^{}]*)\}", r"\1", tex)
    tex = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"√(\1)", tex)

    def command(m):
        if m.group("char") is not None:
            char = m.group("char")
            if char == "\\":
                return " "
            return " " if char in _TEX_SPACES else _TEX_SYMBOLS.get(char, char)
        name = m.group("name")
        if name in _TEX_SPACES:
            return " "
        if name in _TEX_DROP:
            return ""
        if name in _TEX_SYMBOLS:
            return _TEX_SYMBOLS[name]
        return name  # \tanh, \exp, \log, \max, \min, \operatorname … read as their names

    tex = _TEX_CMD_RE.sub(command, tex)
    tex = tex.replace("{", "").replace("}", "").replace("&", " ").replace("~", " ")
    return re.sub(r"\s+", " ", tex).strip()


def strip_tex(text):
    """``text`` with every ``\\(…\\)``, ``\\[…\\]``, ``$$…$$`` and ``$…$`` turned into readable text."""

    def sub(m):
        tex = m.group("inline") or m.group("display") or m.group("dollars") or m.group("dollar") or ""
        # the index holds HTML-escaped text: read the formula unescaped, write it escaped
        return html_lib.escape(tex_to_text(html_lib.unescape(tex)), quote=False)

    return _TEX_MATH_RE.sub(sub, text)


#: Search weight of a page (Material's per-document ``boost``) by its site path; the first match wins.
SEARCH_BOOSTS = (
    (re.compile(r"^reference/api/"), 0.5),  # the API reference: found, but after the lesson
    (re.compile(r"^glossary/"), 0.5),  # one line per term: found, but after the lesson
    (re.compile(r"^0\d-[^/]+/"), 1.5),  # the chapters' lessons
)


def search_boost(location):
    for pattern, boost in SEARCH_BOOSTS:
        if pattern.search(location):
            return boost
    return None


def page_location(src, use_directory_urls=True):
    """The site path a docs-relative page is published at (``04-cnn-rnn/lstm.md`` -> ``04-cnn-rnn/lstm/``)."""
    path = posixpath.splitext(src.split("#", 1)[0])[0]
    if not use_directory_urls:
        return path + ".html"
    if posixpath.basename(path) == "index":
        path = posixpath.dirname(path)
    return "" if path in ("", ".") else path + "/"


def lesson_terms(entries):
    """``{site path of a lesson: [terms it teaches]}`` from glossary entries: each entry's term,
    its aliases and its Chinese names (``zh``, several separated by 、)."""
    terms = {}
    for entry in entries:
        page = str(entry.get("page", "")).strip()
        if not page:
            continue
        names = [entry.get("term", ""), *entry.get("aliases", [])]
        chinese = [z.strip() for z in str(entry.get("zh", "")).split("、")]
        # the Chinese term as written (激活函数) and without 函数 (softmax 函数 -> softmax)
        names += chinese + [re.sub(r"\s*函数$", "", z) for z in chinese]
        found = terms.setdefault(page_location(page), [])
        for name in names:
            name = str(name).strip()
            if name and name not in found:
                found.append(name)
    return terms


_FIRST_PARAGRAPH_RE = re.compile(r"\s*<p>.*?</p>", re.S)


def tune_search_index(index, entries):
    """Material's search index (the parsed JSON) tuned for a textbook; returns it.

    - Each lesson's page entry (the one without ``#``) gets the glossary terms it teaches as
      ``tags`` (a field Material weighs 1e6, titles 1e3, text 1): the lesson that teaches a
      term ranks first for it. Sections do not repeat them (the index stays small).
    - Pages get their :data:`SEARCH_BOOSTS` weight.
    - An API entry (a function, a class, a method) keeps its name and the first paragraph
      of its docstring, which says what it is; the rest of the reference is a click away.
    - Titles and texts show maths as text, not TeX (:func:`strip_tex`).
    """
    terms = lesson_terms(entries)
    for doc in index.get("docs", []):
        location = doc.get("location", "")
        page = location.split("#", 1)[0]
        if page.startswith("reference/api/") and "#" in location and isinstance(doc.get("text"), str):
            first = _FIRST_PARAGRAPH_RE.match(doc["text"])
            doc["text"] = first.group(0).strip() if first else doc["text"][:300]
        for field in ("title", "text"):
            if isinstance(doc.get(field), str):
                doc[field] = strip_tex(doc[field])
        boost = search_boost(page)
        if boost is not None:
            doc["boost"] = boost
        if "#" not in location and terms.get(page):
            doc["tags"] = list(dict.fromkeys([*doc.get("tags", []), *terms[page]]))
    return index


def tune_search_index_file(path, entries):
    """Rewrite ``search/search_index.json`` in place with :func:`tune_search_index`."""
    path = Path(path)
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    tune_search_index(index, entries)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------ the reader's environment


def jupyter_path_with_base(environ, prefix, base_prefix):
    """``JUPYTER_PATH`` for a build in a virtual environment made with ``--system-site-packages``
    (the README's command): the environment imports the base Python's nbconvert, but Jupyter
    looks for nbconvert's templates under the environment's prefix only, and the notebook pages
    fail ("No template sub-directory with name 'lab'"). Returns the value with the base
    Python's ``share/jupyter`` appended, or None when nothing needs adding."""
    if os.path.realpath(prefix) == os.path.realpath(base_prefix):
        return None
    base = os.path.join(base_prefix, "share", "jupyter")
    if not os.path.isdir(os.path.join(base, "nbconvert", "templates")):
        return None
    paths = [p for p in environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if base in paths:
        return None
    return os.pathsep.join(paths + [base])

