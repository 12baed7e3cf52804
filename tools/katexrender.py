"""Maths typeset at build time by the vendored KaTeX (docs/assets/katex/katex.min.js), so that a
reader's browser downloads no maths JavaScript: only KaTeX's stylesheet and the fonts it uses.

KaTeX runs in an embedded V8 (the ``mini-racer`` package, in the ``docs`` extra): about 0.1 s to
load and a millisecond a formula. Where it cannot be imported, :func:`available` says so and the
build links KaTeX's scripts instead (assets/katex-init.js typesets in the browser, as before).

What is typeset, in a built page's ``<article>`` (:func:`render_article`):

- Markdown pages: every ``pymdownx.arithmatex`` element, ``\\(…\\)`` inline and ``\\[…\\]`` display;
- notebook pages (``delimiters=True``): TeX in the text of the prose, as KaTeX's auto-render
  finds it: ``$$…$$`` and ``\\[…\\]`` display, ``\\(…\\)`` and ``$…$`` inline, never inside
  ``pre``, ``code``, ``script``, ``style`` or ``textarea``.

KaTeX's options are auto-render's (``throwOnError: false``: a bad formula shows as a red
``.katex-error`` in the page, which tests/test_browser.py reports).

Fonts: every character KaTeX set is recorded (:data:`USED`), and after the build
:func:`subset_fonts` cuts each of KaTeX's fonts in the site down to those characters
(fontTools, with ``brotli`` for WOFF2: both in the ``docs`` extra); the main fonts shrink to
less than half. Skipped where maths was typeset in the browser (any formula may appear there).
"""

import html as html_lib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KATEX_JS = ROOT / "docs" / "assets" / "katex" / "katex.min.js"

_state = {"ctx": None, "error": None}


def _context():
    if _state["ctx"] is None and _state["error"] is None:
        try:
            from py_mini_racer import MiniRacer

            ctx = MiniRacer()
            ctx.eval(KATEX_JS.read_text(encoding="utf-8"))
            _state["ctx"] = ctx
        except Exception as exc:  # no mini-racer (or no V8 for this platform): typeset in the browser
            _state["error"] = f"{type(exc).__name__}: {exc}"
    return _state["ctx"]


def available():
    """Whether maths can be typeset at build time here."""
    return _context() is not None


def unavailable_reason():
    _context()
    return _state["error"]


#: Every character in the typeset maths of this build (for :func:`subset_fonts`).
USED = set()


def render(tex, display=False):
    """KaTeX's HTML (with MathML for screen readers) for one formula."""
    out = _context().call("katex.renderToString", tex, {"displayMode": bool(display), "throwOnError": False})
    USED.update(html_lib.unescape(re.sub(r"<[^>]*>", "", out)))
    return out


def subset_fonts(fonts_dir, chars=None):
    """Cut every ``*.woff2`` in ``fonts_dir`` down to ``chars`` (default :data:`USED`) plus printable
    ASCII; return ``(bytes before, bytes after)``, or None when fontTools or brotli is missing."""
    try:
        import brotli  # noqa: F401  (fontTools writes WOFF2 with it)
        from fontTools import subset
    except ImportError:
        return None
    chars = set(USED if chars is None else chars) | {chr(c) for c in range(0x20, 0x7F)}
    unicodes = sorted(ord(c) for c in chars)
    before = after = 0
    for path in sorted(Path(fonts_dir).glob("*.woff2")):
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(path), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        before += path.stat().st_size
        tmp = path.with_suffix(".tmp")
        subset.save_font(font, str(tmp), options)
        tmp.replace(path)
        after += path.stat().st_size
    return before, after


_ARITHMATEX_RE = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])\s*</(?P=tag)>', re.S
)
# KaTeX's auto-render, in its order: $$ … $$, \[ … \], \( … \), $ … $
_DELIMITED_RE = re.compile(r"\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\]|\\\((?P<i1>.+?)\\\)|\$(?P<i2>.+?)\$", re.S)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w-]*)\b[^>]*?(/?)>|<!--.*?-->", re.S)
_SKIP_TAGS = {"pre", "code", "script", "style", "textarea", "option", "noscript"}
_ARTICLE_RE = re.compile(r"(<article\b[^>]*>)(.*)(</article>)", re.S)


def _render_arithmatex(m):
    display = m.group("display") is not None
    tex = html_lib.unescape(m.group("display") if display else m.group("inline"))
    return f'<{m.group("tag")} class="arithmatex">{render(tex, display)}</{m.group("tag")}>'


def _render_text(text):
    def sub(m):
        display = m.group("d1") is not None or m.group("d2") is not None
        tex = next(g for g in (m.group("d1"), m.group("d2"), m.group("i1"), m.group("i2")) if g is not None)
        if not tex.strip():
            return m.group(0)
        return render(html_lib.unescape(tex), display)

    return _DELIMITED_RE.sub(sub, text)


def _render_delimited(html):
    """TeX delimited in the text of ``html`` (outside tags and the :data:`_SKIP_TAGS`), typeset."""
    out, last, skip = [], 0, []
    for m in _TAG_RE.finditer(html):
        text = html[last : m.start()]
        out.append(_render_text(text) if not skip and text.strip() else text)
        out.append(m.group(0))
        last = m.end()
        closing, name, selfclosing = m.group(1), (m.group(2) or "").lower(), m.group(3)
        if name in _SKIP_TAGS and not selfclosing:
            if closing:
                if skip and skip[-1] == name:
                    skip.pop()
            else:
                skip.append(name)
    text = html[last:]
    out.append(_render_text(text) if not skip and text.strip() else text)
    return "".join(out)


def render_article(output, delimiters=False):
    """The page with the maths of its ``<article>`` typeset (see the module's docstring)."""
    m = _ARTICLE_RE.search(output)
    if m is None:
        return output
    article = _ARITHMATEX_RE.sub(_render_arithmatex, m.group(2))
    if delimiters:
        article = _render_delimited(article)
    return output[: m.start(2)] + article + output[m.end(2) :]
