"""The site builds under ``mkdocs build --strict`` and the built pages keep their promises.

The build runs once per test session (fixture ``built_site`` in tests/conftest.py); other site tests
(browser, links) reuse its output directory.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _html_pages(site):
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


@pytest.mark.slow
def test_build_strict_succeeds(built_site):
    assert (built_site / "index.html").exists()
    assert (built_site / "02-networks" / "index.html").exists()


@pytest.mark.slow
def test_no_page_references_anything_outside_the_site(built_site):
    """No <script src>, <link href> or <img src> points at another host (fonts, CDNs)."""
    external = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//(?!dlbook\.example\.org)""", re.I)
    asset = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*>", re.I)
    offenders = []
    for page in _html_pages(built_site):
        for tag in asset.findall(page.read_text(encoding="utf-8")):
            if external.search(tag) and "rel=\"canonical\"" not in tag:
                offenders.append(f"{page.relative_to(built_site)}: {tag[:120]}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.slow
def test_figures_are_drawn_at_build_time(built_site):
    """Pages that plot show their figures as files beside the page (SVG with text as text, a photo
    as a JPEG inside it), never as data: URIs; nothing under docs/ is a committed raster image."""
    committed = [p for p in (ROOT / "docs").rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif"}]
    assert not committed, f"hand-made images committed: {committed}"
    html = built_site / "02-networks" / "activations" / "index.html"
    if html.exists():
        text = html.read_text(encoding="utf-8")
        figures = re.findall(r'<img class="dlbook-figure" src="([^"]+)"', text)
        assert figures and all((html.parent / src).is_file() for src in figures), figures
    inlined = [
        p.relative_to(built_site).as_posix()
        for p in _html_pages(built_site)
        if re.search(r'<img\b[^>]*\bsrc="data:', p.read_text(encoding="utf-8"))
    ]
    assert not inlined, f"images inlined as data: URIs: {inlined}"


@pytest.mark.slow
def test_maths_assets_only_where_there_is_maths(built_site):
    """KaTeX is linked from the pages with maths, and only from them; where the build typeset
    the maths (tools/katexrender.py), no page loads KaTeX's JavaScript."""
    import importlib

    katexrender = importlib.import_module("tools.katexrender")
    prerendered = katexrender.available()
    with_math = 0
    for page in _html_pages(built_site):
        text = page.read_text(encoding="utf-8")
        has_math = 'class="arithmatex"' in text or 'class="katex"' in text
        links_css = "assets/katex/katex.min.css" in text
        assert links_css == has_math, f"{page.relative_to(built_site)}: maths {has_math}, KaTeX CSS {links_css}"
        if prerendered:
            assert "katex.min.js" not in text, f"{page.relative_to(built_site)} loads KaTeX's JavaScript"
        with_math += has_math
    assert with_math >= 5


def _nav_pages():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)

    def walk(items):
        for item in items:
            values = item.values() if isinstance(item, dict) else [item]
            for value in values:
                if isinstance(value, list):
                    yield from walk(value)
                elif isinstance(value, str) and not value.startswith(("http://", "https://")):
                    yield value

    return set(walk(config["nav"]))


def test_every_page_is_in_the_nav():
    """A page missing from the nav is built but no reader can find it (mkdocs only logs INFO)."""
    docs = ROOT / "docs"
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.suffix in {".md", ".ipynb"}}
    pages = {p for p in pages if ".ipynb_checkpoints" not in p and ".zh." not in p}  # twins: i18n
    nav = _nav_pages()
    assert not sorted(pages - nav), f"pages not in mkdocs.yml's nav: {sorted(pages - nav)}"
    assert not sorted(nav - pages), f"nav entries with no page: {sorted(nav - pages)}"
