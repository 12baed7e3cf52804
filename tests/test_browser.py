"""The built site in a real browser (headless Chromium driven by Playwright).

Every page of the site is opened once and must load with
- 0 JavaScript console errors and 0 uncaught exceptions,
- 0 requests outside the site (every request is recorded; anything not served by the
  local test server fails, and is aborted so the test never waits on a network),
- math rendered by the vendored KaTeX: no raw TeX (``\\(``, ``\\[``, ``$$``, ``$...$``) left
  in the article's text, no KaTeX error boxes, and every arithmatex span rendered,
- every ``<img>`` loaded (``naturalWidth > 0``).
Then the light/dark toggle must switch the colour scheme, and the search box must find
"LSTM" and "感知机" (Chinese, which the search plugin's separator must split out).

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it; Playwright's own browser
download is never used); env ``DLBOOK_CHROMIUM`` may name another Chromium-based browser. Without it the tests skip with the reason, except under CI
(env ``CI`` set), where a missing browser fails them.
"""

import functools
import os
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, html_pages

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SEARCH_TERMS = ["LSTM", "感知机"]


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run there)")
    pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(built_site):
    """Serve the built site on 127.0.0.1 (a free port) for the duration of the module."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser_page(server):
    """One headless Chromium, one context, one page, reused by every test of this module.

    Every request of the context (pages, assets, the search worker's fetches) is recorded
    in ``page.dlbook_requests``; requests that would leave the site are aborted.
    """
    executable = (
        os.environ.get("DLBOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if executable is None:
        _unavailable("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (test extra)")

    origin = urlsplit(server).netloc
    profile = tempfile.mkdtemp(prefix="dlbook-chromium-")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS, timeout=60_000
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
        requests = []

        def route(r):
            url = r.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob") or parts.netloc == origin:
                r.continue_()
            else:
                r.abort()

        context.route("**/*", route)
        context.on("request", lambda req: requests.append(req.url))
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.dlbook_requests = requests
        page.dlbook_origin = origin
        try:
            yield page
        finally:
            context.close()
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)


# Run in the page after load: what is left of the math, and which images did not load.
_INSPECT_JS = r"""
async () => {
  const article = document.querySelector("article") || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll(
    "pre, code, script, style, textarea, .katex, .highlight, .jp-InputArea, .jp-OutputArea-output pre"
  ).forEach((e) => e.remove());
  const text = clone.textContent;
  const raw = text.match(/\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]*?\$/);
  const images = Array.from(document.images);
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  return {
    raw_tex: raw ? text.slice(Math.max(0, raw.index - 40), raw.index + 40) : null,
    katex: article.querySelectorAll(".katex").length,
    katex_errors: Array.from(article.querySelectorAll(".katex-error")).map((e) => e.textContent.slice(0, 80)),
    unrendered: Array.from(article.querySelectorAll(".arithmatex"))
      .filter((e) => !e.querySelector(".katex"))
      .map((e) => e.textContent.slice(0, 80)),
    download: (document.querySelector(".dlbook-download a") || {}).href || null,
    images: images.length,
    broken_images: images
      .filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => (img.getAttribute("src") || "").slice(0, 80)),
  };
}
"""


@pytest.fixture(scope="module")
def visits(built_site, server, browser_page):
    """Open every page once; return {page path: what was observed there}."""
    page = browser_page
    results = {}
    for html in html_pages(built_site):
        rel = html.relative_to(built_site).as_posix()
        url = f"{server}/{rel[: -len('index.html')] if rel.endswith('index.html') else rel}"
        errors = []
        on_console = lambda msg: msg.type == "error" and errors.append(f"console: {msg.text}")
        on_pageerror = lambda exc: errors.append(f"uncaught: {exc}")
        on_response = lambda resp: resp.status >= 400 and errors.append(f"HTTP {resp.status}: {resp.url}")
        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("response", on_response)
        start = len(page.dlbook_requests)
        try:
            page.goto(url, wait_until="load")
            # The KaTeX hook runs on Material's document$; give it the moment it needs.
            page.wait_for_function(
                "() => !document.querySelector('.arithmatex') || document.querySelector('.katex')",
                timeout=5_000,
            )
            observed = page.evaluate(_INSPECT_JS)
        except Exception as exc:  # a page that does not load is reported, not fatal to the rest
            observed = {"load_failure": repr(exc)}
        finally:
            page.remove_listener("console", on_console)
            page.remove_listener("pageerror", on_pageerror)
            page.remove_listener("response", on_response)
        observed["errors"] = errors
        observed["requests"] = page.dlbook_requests[start:]
        results[rel] = observed
    return results


def _report(problems):
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_every_page_was_opened(built_site, visits):
    failures = [f"{rel}: {v['load_failure']}" for rel, v in visits.items() if "load_failure" in v]
    assert not failures, _report(failures)
    assert len(visits) == len(html_pages(built_site)) >= 8


def test_no_javascript_errors(visits):
    problems = [f"{rel}: {e}" for rel, v in visits.items() for e in v["errors"]]
    assert not problems, _report(problems)


def test_no_request_leaves_the_site(visits, browser_page):
    origin = browser_page.dlbook_origin
    problems = [
        f"{rel}: {url}"
        for rel, v in visits.items()
        for url in v["requests"]
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != origin
    ]
    assert not problems, _report(problems)
    assert all(v["requests"] for v in visits.values()), "no request was recorded: recorder broken"


def test_math_is_rendered(visits):
    problems = []
    for rel, v in visits.items():
        if "load_failure" in v:
            continue
        if v["raw_tex"]:
            problems.append(f"{rel}: raw TeX left in the text: ...{v['raw_tex']}...")
        for bad in v["unrendered"]:
            problems.append(f"{rel}: math not rendered: {bad}")
        for bad in v["katex_errors"]:
            problems.append(f"{rel}: KaTeX error: {bad}")
    assert not problems, _report(problems)
    assert sum(v.get("katex", 0) for v in visits.values()) > 0, "no page rendered any math"


def test_math_pages_have_katex(built_site, visits):
    """Pages whose HTML carries math (arithmatex spans) show KaTeX output."""
    problems = []
    for rel, v in visits.items():
        text = (built_site / rel).read_text(encoding="utf-8")
        if 'class="arithmatex"' in text and not v.get("katex"):
            problems.append(f"{rel}: has math but no .katex element")
    assert not problems, _report(problems)


def test_every_image_loads(visits):
    problems = [f"{rel}: {src}" for rel, v in visits.items() for src in v.get("broken_images", [])]
    assert not problems, _report(problems)


def test_download_links_serve_notebooks(visits, browser_page):
    """Each page's "download as notebook" link serves a notebook (JSON with cells)."""
    import json

    links = {rel: v["download"] for rel, v in visits.items() if v.get("download")}
    assert links, "no page has a notebook download link"
    problems = []
    for rel, url in links.items():
        response = browser_page.request.get(url)
        if response.status != 200:
            problems.append(f"{rel}: {url} -> HTTP {response.status}")
            continue
        nb = json.loads(response.text())
        if nb.get("nbformat") != 4 or not nb.get("cells"):
            problems.append(f"{rel}: {url} is not a notebook")
    assert not problems, _report(problems)


def test_the_inspection_can_fail(browser_page):
    """Raw TeX, a KaTeX error and a broken image on a page are all reported."""
    page = browser_page
    page.set_content(
        '<article><p>Unrendered $x^2$ here.</p><span class="arithmatex">\\(y\\)</span>'
        '<span class="katex-error">bad</span><img src="no-such-image.png"></article>'
    )
    observed = page.evaluate(_INSPECT_JS)
    assert observed["raw_tex"] and "$x^2$" in observed["raw_tex"]
    assert observed["unrendered"] and observed["katex_errors"] == ["bad"]
    assert observed["broken_images"] == ["no-such-image.png"]


def test_light_dark_toggle(visits, browser_page, server):
    page = browser_page
    page.goto(f"{server}/", wait_until="load")
    scheme = lambda: page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
    before = scheme()
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"() => document.body.getAttribute('data-md-color-scheme') !== {before!r}")
    after = scheme()
    assert {before, after} == {"default", "slate"}
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"() => document.body.getAttribute('data-md-color-scheme') === {before!r}")


def _pages_mentioning(term):
    """Site paths (``02-networks/perceptron/``) of the Markdown pages whose source mentions ``term``."""
    found = set()
    for md in (ROOT / "docs").rglob("*.md"):
        if term.lower() in md.read_text(encoding="utf-8").lower() and md.stem != "glossary":
            rel = md.relative_to(ROOT / "docs").with_suffix("")
            rel = rel.parent if rel.name == "index" else rel
            found.add("" if rel.as_posix() == "." else rel.as_posix() + "/")
    return found


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_search_finds(term, visits, browser_page, server):
    page = browser_page
    page.goto(f"{server}/", wait_until="load")
    box = page.locator("input.md-search__input")
    box.click()
    # Typed text arrives as one insertText (no key events, like an IME); the search listens
    # to key presses, so end with one, as a reader's keyboard would.
    page.keyboard.type(term)
    page.keyboard.press("End")
    page.wait_for_selector(".md-search-result__item", timeout=20_000)
    links = page.eval_on_selector_all(
        ".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert links, f"search for {term!r} showed no results"
    hits = {urlsplit(href).path.lstrip("/") for href in links}
    expected = _pages_mentioning(term)
    if expected:
        assert hits & expected, f"search for {term!r} found {sorted(hits)}, none of {sorted(expected)}"
    page.keyboard.press("Escape")
