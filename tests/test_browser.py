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

The site as a reader gets it (issue 17), checked on the same visit of every page:
- page weight: what a browser receives from a static host that compresses text (gzip): the
  page, every request it makes (CSS, JS, fonts, images, the search worker and its index),
  every image it references (lazy or not); median <= 250 KiB, no page over 600 KiB;
- accessibility: axe-core (from the npm registry: ``.ci/run`` installs it; env ``DLBOOK_AXE``
  names its ``axe.min.js``) finds no serious or critical violation, in light and in dark mode;
- a phone (390x844): nothing is clipped (overflow is fine inside a scroll container), no maths
  wraps inside a table cell, and no code line runs under a code block's copy button;
and the search ranks the lesson first for the queries of ``SEARCH_RANKS``, with no raw TeX in
the result snippets.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it; Playwright's own browser
download is never used); env ``DLBOOK_CHROMIUM`` may name another Chromium-based browser. Without it the tests skip with the reason, except under CI
(env ``CI`` set), where a missing browser fails them.
"""

import functools
import gzip
import os
import statistics
import time
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPORT, ROOT, html_pages

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
# Query -> the lesson the search must rank first (site path of the page).
SEARCH_RANKS = {
    "softmax": "02-networks/activations/",
    "反向传播": "03-training/backprop/",
    "卷积": "04-cnn-rnn/convolution/",
    "LSTM": "04-cnn-rnn/lstm/",
    "感知机": "02-networks/perceptron/",
    "gradient descent": "03-training/gradient-descent/",
    "池化": "04-cnn-rnn/pooling/",
}
# The same on the Chinese site (/zh/), which has its own search index (tools/i18n.py).
SEARCH_RANKS_ZH = {
    "感知机": "zh/02-networks/perceptron/",
    "激活函数": "zh/02-networks/activations/",
    "反向传播": "zh/03-training/backprop/",
    "池化": "zh/04-cnn-rnn/pooling/",
}
# Page weight as a reader receives it from a gzip-compressing static host.
MEDIAN_PAGE_KIB = 250
MAX_PAGE_KIB = 600
# Served as they are (already compressed); everything else is counted gzip-compressed.
COMPRESSED_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".woff", ".woff2", ".whl", ".zip", ".gz"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The axe rules whose outcome depends on colours: the only ones run again in the dark scheme.
AXE_COLOUR_RULES = ["color-contrast", "link-in-text-block"]


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
    image_urls: images.map((img) => img.currentSrc || img.src).filter((u) => u && !u.startsWith("data:")),
    broken_images: images
      .filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => (img.getAttribute("src") || "").slice(0, 80)),
  };
}
"""


def _axe_script():
    """Path of axe-core's ``axe.min.js``: env ``DLBOOK_AXE``, else where ``.ci/run`` installs it
    (``~/.cache/dlbook-axe``), else a ``node_modules`` of the repository."""
    candidates = [os.environ.get("DLBOOK_AXE", "")]
    candidates.append(str(Path.home() / ".cache" / "dlbook-axe" / "node_modules" / "axe-core" / "axe.min.js"))
    candidates.append(str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    for path in candidates:
        if path and Path(path).is_file():
            return path
    return None


# axe-core's verdict on the page as it is now: every violation, by rule, with a few examples.
# Called with a list of rule ids, only those run (the dark scheme changes colours, nothing else:
# there the colour rules run, the rest of the page was checked in the light scheme).
_AXE_JS = r"""
async (rules) => {
  const options = { resultTypes: ["violations"] };
  if (rules) options.runOnly = { type: "rule", values: rules };
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.length,
    examples: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\n").slice(1, 2).join(" ").trim()),
  }));
}
"""

# Dark mode as Material's palette toggle sets it (the second palette of mkdocs.yml), without
# the colour transitions, so that axe reads the final colours.
_SCHEME_JS = r"""
(scheme) => {
  if (!document.getElementById("dlbook-test-no-transitions")) {
    const style = document.createElement("style");
    style.id = "dlbook-test-no-transitions";
    style.textContent = "*, *::before, *::after { transition: none !important; animation: none !important; }";
    document.head.appendChild(style);
  }
  document.body.setAttribute("data-md-color-scheme", scheme);
  return getComputedStyle(document.body).backgroundColor;
}
"""

# On a phone: what is clipped (outside the box of its nearest clipping ancestor and not
# reachable by scrolling it, or off the screen), maths broken across lines in a table cell,
# and code text under a code block's copy button. Returns a list of problems.
_PHONE_JS = r"""
() => {
  const W = document.documentElement.clientWidth;
  const problems = [];
  const say = (e) => {
    const cls = typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).slice(0, 2).join(".") : "";
    return e.tagName.toLowerCase() + cls + ' "' + (e.textContent || "").replace(/\s+/g, " ").trim().slice(0, 50) + '"';
  };
  if (document.documentElement.scrollWidth > W + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px in a ${W} px screen`);
  }
  const article = document.querySelector("article") || document.body;
  const clipperOf = new Map();
  const clipper = (e) => {
    for (let a = e.parentElement; a && a !== article.parentElement; a = a.parentElement) {
      if (clipperOf.has(a)) return clipperOf.get(a);
      if (getComputedStyle(a).overflowX !== "visible") { clipperOf.set(a, a); return a; }
    }
    return null;
  };
  let reported = 0;
  for (const e of article.querySelectorAll("*")) {
    if (reported >= 10) break;
    const inMath = e.closest(".katex");
    if (inMath && !e.classList.contains("base")) continue;  // KaTeX's inner boxes: check its runs (.base)
    if (e.closest("details:not([open]) > :not(summary)")) continue;
    const r = e.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;  // nothing drawn (or visually hidden for screen readers)
    const a = clipper(e);
    let left = 0, right = W, scrolls = false, scrolled = 0;
    if (a) {
      const ar = a.getBoundingClientRect();
      left = ar.left + a.clientLeft;
      right = left + a.clientWidth;
      scrolls = ["auto", "scroll"].includes(getComputedStyle(a).overflowX);
      scrolled = a.scrollLeft;
    }
    if (r.left + scrolled < left - 1) {
      problems.push(`clipped on the left${a ? " by " + say(a).slice(0, 40) : ""}: ${say(e)}`);
      reported++;
    } else if (r.right > right + 1 && !scrolls) {
      problems.push(`clipped on the right${a ? " by " + say(a).slice(0, 40) : " (off the screen)"}: ${say(e)}`);
      reported++;
    }
  }
  for (const math of article.querySelectorAll("td .katex-html, th .katex-html")) {
    // KaTeX sets a formula as a row of .base boxes; one that starts well before its predecessor
    // ends is on a new line (a negative space moves it back a few pixels at most)
    const boxes = Array.from(math.querySelectorAll(":scope > .base")).map((b) => b.getBoundingClientRect());
    if (boxes.some((box, i) => i > 0 && box.left < boxes[i - 1].right - 6)) {
      problems.push(`maths wraps inside a table cell: ${say(math.closest("td, th"))}`);
    }
  }
  for (const nav of article.querySelectorAll(".md-code__nav")) {
    const b = nav.getBoundingClientRect();
    if (b.width < 1 || getComputedStyle(nav).visibility === "hidden") continue;
    const code = nav.closest("pre") && nav.closest("pre").querySelector("code");
    if (!code) continue;
    const box = code.getBoundingClientRect();
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let under = null;
    for (let node = walker.nextNode(); node && !under; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const t of range.getClientRects()) {
        if (t.top >= b.bottom) break;
        const visible = t.right > box.left && t.left < box.right && t.bottom > box.top && t.top < box.bottom;
        if (visible && t.right > b.left && t.left < b.right && t.bottom > b.top && t.top < b.bottom) {
          under = node.textContent.trim().slice(0, 40);
          break;
        }
      }
    }
    if (under) problems.push(`code runs under the copy button: "${under}"`);
  }
  return problems;
}
"""


def _served_path(site, url):
    """The file of ``site`` that serves ``url`` (a directory URL serves its index.html), or None."""
    path = unquote(urlsplit(url).path).lstrip("/")
    target = site / path
    if not path or path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


@functools.lru_cache(maxsize=None)
def _transfer_size(path):
    """Bytes a compressing static host sends for ``path``: gzip for text, as is for media."""
    data = Path(path).read_bytes()
    if Path(path).suffix.lower() in COMPRESSED_SUFFIXES:
        return len(data)
    return len(gzip.compress(data, compresslevel=6))


def _page_weight(site, urls):
    """``(KiB, {file: bytes})``: the transfer size of everything the page made the browser fetch."""
    sizes = {}
    for url in urls:
        if urlsplit(url).scheme in ("data", "blob"):
            continue
        path = _served_path(site, url)
        if path is not None:
            sizes[path.relative_to(site).as_posix()] = _transfer_size(str(path))
    return sum(sizes.values()) / 1024, sizes


def _search_assets(site, language_root=""):
    """The search index and the worker that fetches it: a reader's browser gets both. A page of
    the Chinese site (``language_root="zh/"``) loads that site's own index."""
    workers = sorted((site / "assets" / "javascripts" / "workers").glob("search*.js"))
    index = site / language_root / "search" / "search_index.json"
    return [index if index.is_file() else site / "search" / "search_index.json"] + workers[:1]


# axe-core in light, then (its colour rules) in dark mode, started without waiting for it: the
# result lands in window.__dlbookAxe while the test loads the next page in another tab.
_AXE_START_JS = r"""
({ colourRules, setScheme, sameColours }) => {
  window.__dlbookAxe = null;
  const scheme = new Function("return (" + setScheme.trim() + ");")();
  const run = async (rules, skip) => {
    // preload fetches the stylesheets for experimental rules only, which do not run by default
    const options = { resultTypes: ["violations"], preload: false };
    if (rules) options.runOnly = { type: "rule", values: rules };
    if (skip) options.rules = Object.fromEntries(skip.map((id) => [id, { enabled: false }]));
    const result = await axe.run(document, options);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      examples: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\n").slice(1, 2).join(" ").trim()),
    }));
  };
  (async () => {
    scheme("default");
    if (sameColours) {  // a Chinese twin: the English page's stylesheet and markup, other words
      return { light: await run(null, colourRules), dark: [], version: axe.version };
    }
    const light = await run(null);
    scheme("slate");
    const dark = await run(colourRules);
    scheme("default");
    return { light, dark, version: axe.version };
  })().then((r) => { window.__dlbookAxe = r; }, (e) => { window.__dlbookAxe = { error: String(e) }; });
}
"""
_FRAMES_JS = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
TABS = 2  # pages checked at once: axe-core runs in one tab while the next page loads in the other


def _chinese_fallback(rel):
    """Whether a built page (site path) is an English page shown on the Chinese site because it
    has no twin (the API reference): its article is the English page's, which axe-core checks."""
    if not rel.startswith("zh/"):
        return False
    page = rel[len("zh/"):]
    page = page[: -len("index.html")].rstrip("/") if page.endswith("index.html") else page
    docs = ROOT / "docs"
    candidates = [docs / f"{page}.md", docs / page / "index.md", docs / f"{page}.ipynb"] if page else [docs / "index.md"]
    source = next((c for c in candidates if c.is_file()), None)
    return source is not None and not source.with_name(source.stem + ".zh" + source.suffix).is_file()


@pytest.fixture(scope="module")
def visits(built_site, server, browser_page):
    """Open every page once; return {page path: what was observed there}.

    Each page: load (desktop, light), inspect the maths and images, weigh what was fetched,
    shrink the window to a phone and look for clipping, then run axe-core in light and in dark
    mode. axe-core runs in the page while the next page loads in a second tab (two CPU cores:
    half the time). Without axe-core (see :func:`_axe_script`) the axe results are None.
    """
    axe = _axe_script()
    def search_urls(rel):
        root = "zh/" if rel.startswith("zh/") else ""
        return [f"{server}/{p.relative_to(built_site).as_posix()}" for p in _search_assets(built_site, root)]

    tabs = [browser_page] + [browser_page.context.new_page() for _ in range(TABS - 1)]
    current = {}  # tab -> (errors, requests) of the page it is on

    def listen(tab):
        tab.set_default_timeout(30_000)
        tab.on("console", lambda msg: msg.type == "error" and current[tab][0].append(f"console: {msg.text}"))
        tab.on("pageerror", lambda exc: current[tab][0].append(f"uncaught: {exc}"))
        tab.on("response", lambda resp: resp.status >= 400 and current[tab][0].append(f"HTTP {resp.status}: {resp.url}"))
        tab.on("request", lambda req: current[tab][1].append(req.url))

    for tab in tabs:
        current[tab] = ([], [])
        listen(tab)
    results, versions, pending = {}, set(), {}

    def finish(tab):
        """Wait for the axe-core run of the page this tab is on; file its results."""
        rel, observed = pending.pop(tab)
        try:
            tab.wait_for_function("() => window.__dlbookAxe !== null", timeout=120_000)
            outcome = tab.evaluate("() => window.__dlbookAxe")
            if "error" in outcome:
                raise RuntimeError(outcome["error"])
            observed["axe_light"], observed["axe_dark"] = outcome["light"], outcome["dark"]
            versions.add(outcome["version"])
        except Exception as exc:
            observed["load_failure"] = f"axe-core: {exc!r}"
        observed["seconds"]["total"] = time.perf_counter() - observed["seconds"].pop("start")

    started = time.perf_counter()
    for i, html in enumerate(html_pages(built_site)):
        rel = html.relative_to(built_site).as_posix()
        url = f"{server}/{rel[: -len('index.html')] if rel.endswith('index.html') else rel}"
        tab = tabs[i % len(tabs)]
        if tab in pending:
            finish(tab)
        errors, requests = current[tab] = ([], [])
        observed = {}
        t0 = time.perf_counter()
        try:
            tab.set_viewport_size(DESKTOP)
            tab.goto(url, wait_until="load")
            # Maths are typeset at build time; where they are not, KaTeX runs on Material's document$.
            tab.wait_for_function(
                "() => !document.querySelector('.arithmatex') || document.querySelector('.katex')",
                timeout=5_000,
            )
            observed = tab.evaluate(_INSPECT_JS)
            observed["seconds"] = {"start": t0, "load": time.perf_counter() - t0}
            fetched = requests + observed["image_urls"] + search_urls(rel)
            observed["weight"], observed["weight_parts"] = _page_weight(built_site, fetched)
            tab.set_viewport_size(PHONE)
            tab.evaluate(_FRAMES_JS)
            observed["phone"] = tab.evaluate(_PHONE_JS)
            tab.set_viewport_size(DESKTOP)
            tab.evaluate(_FRAMES_JS)  # assets/dlbook.js updates what scrolls at this width
            if axe and _chinese_fallback(rel):  # the same article as the English page axe checks
                observed["axe_light"] = observed["axe_dark"] = []
                observed["axe_same_as_english"] = True
            elif axe:
                tab.add_script_tag(path=axe)
                # Colour contrast depends on the stylesheet and the markup, which a Chinese twin
                # shares with its English page (checked in both schemes there): not run again.
                tab.evaluate(_AXE_START_JS, {"colourRules": AXE_COLOUR_RULES, "setScheme": _SCHEME_JS,
                                             "sameColours": rel.startswith("zh/")})
                pending[tab] = (rel, observed)
        except Exception as exc:  # a page that does not load is reported, not fatal to the rest
            observed["load_failure"] = repr(exc)
        observed["errors"] = errors
        observed["requests"] = requests
        results[rel] = observed
        if tab not in pending and "seconds" in observed:
            observed["seconds"]["total"] = time.perf_counter() - observed["seconds"].pop("start")
    for tab in list(pending):
        finish(tab)
    for tab in tabs[1:]:
        tab.close()
    REPORT.append(
        f"browser: {len(results)} pages visited in {time.perf_counter() - started:.0f} s"
        + (f" (axe-core {', '.join(sorted(versions))}, light and dark)" if versions else " (no axe-core)")
    )
    dump = os.environ.get("DLBOOK_BROWSER_DUMP")
    if dump:  # everything observed, for a closer look (JSON)
        import json

        Path(dump).write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
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
    problems += [f"(any page): {url}" for url in browser_page.dlbook_requests
                 if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != origin]
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
        if ".zh." in md.name:  # the Chinese site has its own search index
            continue
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


# ------------------------------------------------------------- the site as a reader gets it


def test_page_weight(visits):
    """Median page <= 250 KiB and none over 600 KiB, as received from a gzip-compressing host."""
    weights = {rel: v["weight"] for rel, v in visits.items() if "weight" in v}
    assert len(weights) == len(visits), "some pages were not weighed"
    median = statistics.median(weights.values())
    heaviest = max(weights, key=weights.get)
    REPORT.append(
        f"page weight (gzip, search index included): median {median:.0f} KiB, "
        f"max {weights[heaviest]:.0f} KiB ({heaviest})"
    )
    too_heavy = [
        f"{rel}: {kib:.0f} KiB: " + ", ".join(
            f"{name} {size / 1024:.0f}" for name, size in sorted(
                visits[rel]["weight_parts"].items(), key=lambda kv: -kv[1])[:5])
        for rel, kib in sorted(weights.items(), key=lambda kv: -kv[1]) if kib > MAX_PAGE_KIB
    ]
    assert not too_heavy, _report(too_heavy)
    assert median <= MEDIAN_PAGE_KIB, f"median page weight {median:.0f} KiB > {MEDIAN_PAGE_KIB} KiB"


def _axe_violations(visits, serious=True):
    """``{(scheme, rule, impact): [(page, nodes, examples)]}`` over every page."""
    found = {}
    for rel, v in visits.items():
        for scheme in ("light", "dark"):
            for violation in v.get(f"axe_{scheme}") or []:
                if serious and violation["impact"] not in ("serious", "critical"):
                    continue
                key = (scheme, violation["id"], violation["impact"])
                found.setdefault(key, []).append((rel, violation["nodes"], violation["examples"]))
    return found


def test_no_serious_accessibility_violations(visits):
    """axe-core finds no serious or critical violation on any page, in light or dark mode."""
    if _axe_script() is None:
        _unavailable("axe-core is not installed (npm install axe-core; .ci/run does, or set DLBOOK_AXE)")
    assert all(v.get("axe_light") is not None and v.get("axe_dark") is not None
               for v in visits.values() if "load_failure" not in v), "axe did not run on every page"
    every = _axe_violations(visits, serious=False)
    if every:
        REPORT.append("axe-core, all impacts: " + "; ".join(
            f"{scheme} {rule} ({impact}): {sum(n for _, n, _ in hits)} nodes on {len(hits)} pages"
            for (scheme, rule, impact), hits in sorted(every.items())))
    problems = [
        f"{scheme} mode, {rule} ({impact}): {sum(n for _, n, _ in hits)} elements on {len(hits)} pages, "
        f"e.g. {hits[0][0]}: {hits[0][2][:2]}"
        for (scheme, rule, impact), hits in sorted(_axe_violations(visits).items())
    ]
    assert not problems, _report(problems)


def test_nothing_clipped_on_a_phone(visits):
    """At 390x844 nothing is cut off (a scroll container is fine), maths in a table cell stays on
    one line, and no code line starts under a copy button."""
    problems = [f"{rel}: {p}" for rel, v in visits.items() for p in v.get("phone", [])]
    assert all("phone" in v for v in visits.values() if "load_failure" not in v)
    assert not problems, _report(problems)


def test_the_phone_check_can_fail(browser_page):
    page = browser_page
    page.set_viewport_size(PHONE)
    try:
        page.set_content(
            '<article><div style="overflow:hidden;width:200px"><span style="display:inline-block;width:300px">'
            "wide</span></div><div style=\"width:600px\">too wide</div>"
            '<div style="overflow:auto;width:200px"><span style="display:inline-block;width:300px">ok</span></div>'
            '<table style="width:60px"><tr><td><span class="katex"><span class="katex-html">'
            '<span class="base" style="display:inline-block;width:40px">a</span> '
            '<span class="base" style="display:inline-block;width:40px">b</span></span></span></td></tr></table>'
            "</article>"
        )
        problems = page.evaluate(_PHONE_JS)
    finally:
        page.set_viewport_size(DESKTOP)
    assert any("clipped on the right by div" in p and "wide" in p for p in problems), problems
    assert any("off the screen" in p and "too wide" in p for p in problems), problems
    assert any("scrolls sideways" in p for p in problems), problems
    assert any("maths wraps inside a table cell" in p for p in problems), problems
    assert not any('"ok"' in p for p in problems), problems


def test_the_axe_check_can_fail(browser_page):
    axe = _axe_script()
    if axe is None:
        _unavailable("axe-core is not installed (npm install axe-core; .ci/run does, or set DLBOOK_AXE)")
    page = browser_page
    page.set_content('<html lang="en"><body><main><p style="color:#aaa;background:#fff">faint</p>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>')
    page.add_script_tag(path=axe)
    rules = {v["id"] for v in page.evaluate(_AXE_JS, None)}
    assert {"color-contrast", "image-alt"} <= rules, rules


def _search(page, server, query, home="/"):
    """Type ``query`` in the search box of the home page (``home``: ``/zh/`` for the Chinese
    site); return the result items as ``[(page path, teaser text)]``, best first."""
    page.goto(f"{server}{home}", wait_until="load")
    page.locator("input.md-search__input").click()
    page.keyboard.type(query)
    page.keyboard.press("End")
    page.wait_for_selector(".md-search-result__item", timeout=20_000)
    page.wait_for_timeout(300)  # the list is replaced as the query settles
    items = page.eval_on_selector_all(
        ".md-search-result__item",
        """els => els.map(e => [
          (e.querySelector("a") || {getAttribute: () => ""}).getAttribute("href"),
          e.textContent.replace(/\\s+/g, " ")])""",
    )
    page.keyboard.press("Escape")
    return [(urlsplit(href).path.lstrip("/"), text) for href, text in items]


@pytest.mark.parametrize("query", list(SEARCH_RANKS_ZH))
def test_chinese_search_ranks_the_chinese_lesson_first(query, visits, browser_page, server, built_site):
    """The Chinese site searches its own index: its lesson first, never a page of the English site."""
    expected = SEARCH_RANKS_ZH[query]
    if not (built_site / expected / "index.html").is_file():
        pytest.skip(f"{expected} is not part of this site")
    results = _search(browser_page, server, query, home="/zh/")
    assert results, f"search for {query!r} on /zh/ showed no results"
    ranked = [path for path, _ in results]
    REPORT.append(f"search /zh/ {query!r}: {expected} ranks {ranked.index(expected) + 1 if expected in ranked else '-'}")
    assert ranked[0] == expected, f"search for {query!r} on /zh/ ranks {ranked[:5]}; {expected} should be first"
    assert all(path.startswith("zh/") for path in ranked), f"English pages among /zh/ results: {ranked[:8]}"


@pytest.mark.parametrize("query", list(SEARCH_RANKS))
def test_search_ranks_the_lesson_first(query, visits, browser_page, server, built_site):
    expected = SEARCH_RANKS[query]
    if not (built_site / expected / "index.html").is_file():
        pytest.skip(f"{expected} is not part of this site")
    results = _search(browser_page, server, query)
    assert results, f"search for {query!r} showed no results"
    ranked = [path for path, _ in results]
    REPORT.append(f"search {query!r}: {expected} ranks {ranked.index(expected) + 1 if expected in ranked else '-'}")
    assert ranked[0] == expected, f"search for {query!r} ranks {ranked[:5]}; the lesson {expected} should be first"
    raw = [text[:120] for _, text in results if any(s in text for s in ("\\(", "\\)", "\\[", "\\]", "$$", "\\frac"))]
    assert not raw, f"raw TeX in the results for {query!r}: {raw}"
