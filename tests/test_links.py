"""Every internal link of the built site resolves: pages, assets and ``#anchors``.

Checked over the HTML that ``mkdocs build`` wrote (fixture ``built_site``), so links made
by the theme, the hooks, mkdocstrings and mkdocs-jupyter are checked too, not only the ones
written in Markdown. External links (another scheme or host) are not fetched: the site must
work offline, and tests/test_browser.py makes sure no page loads anything from outside.
"""

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import html_pages

# (tag, attribute) pairs that point at something the browser loads or navigates to.
LINK_ATTRS = {
    ("a", "href"),
    ("link", "href"),
    ("area", "href"),
    ("img", "src"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
}


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (tag, attr, url, line)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "link" and "canonical" in (attrs.get("rel") or "").split():
            return  # the site's public address, not a file of this build
        for t, a in LINK_ATTRS:
            if t == tag and attrs.get(a) is not None:
                self.links.append((tag, a, attrs[a], self.getpos()[0]))

    handle_startendtag = handle_starttag


def _parse(path):
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _is_external(url):
    parts = urlsplit(url)
    return bool(parts.scheme) or url.startswith("//")


def _target_file(site, page, path):
    """The file a relative URL path points at, or None when it leaves the site."""
    base = page.parent.relative_to(site).as_posix()
    joined = posixpath.normpath(posixpath.join(base, unquote(path)))
    if joined.startswith(".."):
        return None
    target = site / joined if joined != "." else site
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def broken_links(site):
    """Return a list of ``page:line: <tag attr=url>: reason`` for every link that does not resolve."""
    site = Path(site)
    parsed = {}

    def ids_of(path):
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path].ids

    problems = []
    for page in html_pages(site):
        info = parsed.setdefault(page, _parse(page))
        where = page.relative_to(site).as_posix()
        for tag, attr, url, line in info.links:
            url = url.strip()
            if not url or _is_external(url):
                continue
            parts = urlsplit(url)
            if parts.path:
                target = _target_file(site, page, parts.path)
                if target is None or not target.is_file():
                    problems.append(f"{where}:{line}: <{tag} {attr}={url!r}>: no such file")
                    continue
            else:
                target = page
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in ids_of(target):
                problems.append(f"{where}:{line}: <{tag} {attr}={url!r}>: no element with id {fragment!r}")
    return problems


@pytest.mark.slow
def test_no_broken_internal_links(built_site):
    problems = broken_links(built_site)
    assert not problems, f"{len(problems)} broken internal link(s):\n" + "\n".join(problems)


@pytest.mark.slow
def test_the_site_has_links_to_check(built_site):
    """Guard against a checker that passes because it found nothing."""
    pages = html_pages(built_site)
    links = sum(len(_parse(p).links) for p in pages)
    assert len(pages) >= 8 and links >= 5 * len(pages)


def test_checker_reports_missing_pages_assets_and_anchors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a> <a href="a/#here">ok</a> <a href="#top">ok</a> <p id="top"></p>'
        '<a href="https://example.org/x">external, not checked</a> <a href="mailto:x@y">mail</a>'
        '<a href="missing/">page</a> <a href="a/#nowhere">anchor</a> <img src="img/x.svg">'
        '<script src="../outside.js"></script> <a href="#">top</a>'
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2><a href="../index.html#top">up</a>')
    problems = broken_links(tmp_path)
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    for bad in ("missing/", "a/#nowhere", "img/x.svg", "../outside.js"):
        assert bad in text
