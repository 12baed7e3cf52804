"""Figures as a reader sees them (issue 15): legible, in both colour schemes, on a phone, described.

Every page of the built site that has an image is opened once in headless Chromium (the browser,
server and page of tests/test_browser.py) and every figure in its article is measured:

- legibility: its smallest text renders at >= 11 px in a 1280-wide window and >= 9 px in a
  390-wide one. For an SVG figure the text is read from the SVG file itself: a ``<text>``'s
  font size (in the SVG's user units, scaled by any ``transform``) times the image's rendered
  width over its ``viewBox`` width (a photo is an SVG too: the picture inside it, the text as
  text). A raster figure (a lab's photo, a PNG) cannot be read that way; the build writes its smallest text size, in CSS pixels at the image's natural width, in
  ``data-dlbook-text-px``, and the same rule scales it to the rendered width;
- clipping: at 390 wide no figure runs off the screen or out of a box that does not scroll (a
  figure wider than the screen scrolls inside its own container), and the page does not scroll
  sideways;
- colour scheme: in Material's light scheme the figure as painted (its pixels with its computed
  CSS filter, over the background behind it) shows a light background with darker ink, in its
  dark scheme (``data-md-color-scheme="slate"``, what the palette toggle sets) a dark background
  with lighter ink: no white boxes on a dark page;
- description: every ``<img>`` of every page has an alt text that says something (not empty, not
  Jupyter's "No description has been provided for this image", not the build's generic
  fallback).

The smallest rendered text of each figure goes to the run's summary (``REPORT``).
"""

import io
import math
import re
import time
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPORT, ROOT, html_pages
from test_browser import DESKTOP, PHONE, _FRAMES_JS, _SCHEME_JS, _served_path, browser_page, server  # noqa: F401

MIN_PX_DESKTOP = 11  # smallest text, CSS px, in a 1280-wide window
MIN_PX_PHONE = 9  # ... and in a 390-wide one
# Alt texts that describe nothing: Jupyter's placeholder and the build's fallbacks.
EMPTY_ALTS = {
    "no description has been provided for this image",
    "figure drawn by the code above",
    "figure drawn by the code cell above",
}
# A scheme's verdict on a painted figure: the background is the median of the image's outer frame
# (a figure's margin is its face colour); ink is what differs from it by more than INK_CONTRAST
# in luminance, and there must be at least INK_SHARE of it.
FRAME_PX = 3
INK_CONTRAST = 0.4
INK_SHARE = 0.002
LIGHT_BACKGROUND = 0.8  # luminance, 0..1: at least this in the light scheme
DARK_BACKGROUND = 0.25  # at most this in the dark scheme

# ---------------------------------------------------------------- SVG text, read from the file

_TRANSFORM_RE = re.compile(r"(matrix|scale|translate|rotate|skewX|skewY)\s*\(([^)]*)\)")
_FONT_SIZE_RE = re.compile(r"(?:^|;)\s*font-size\s*:\s*([\d.]+)(px)?\s*(?:;|$)")
_FONT_SHORTHAND_RE = re.compile(r"(?:^|;)\s*font\s*:[^;]*?([\d.]+)px")
_SVG = "{http://www.w3.org/2000/svg}"


def _transform_scale(transform):
    """How much an SVG ``transform`` attribute scales lengths (the square root of its determinant)."""
    scale = 1.0
    for name, args in _TRANSFORM_RE.findall(transform or ""):
        nums = [float(n) for n in re.split(r"[\s,]+", args.strip()) if n]
        if name == "matrix" and len(nums) == 6:
            scale *= math.sqrt(abs(nums[0] * nums[3] - nums[1] * nums[2]))
        elif name == "scale" and nums:
            scale *= math.sqrt(abs(nums[0] * (nums[1] if len(nums) > 1 else nums[0])))
    return scale


def _font_size(element):
    """The font size an element sets (style ``font-size``/``font`` shorthand or attribute), or None."""
    style = element.get("style") or ""
    m = _FONT_SIZE_RE.search(style) or _FONT_SHORTHAND_RE.search(style)
    if m:
        return float(m.group(1))
    size = element.get("font-size")
    return float(re.match(r"[\d.]+", size).group()) if size else None


def svg_text_sizes(svg):
    """``(viewBox width, [(text, size)])``: every non-empty text run of an SVG document (bytes)
    with its drawn font size in the SVG's user units (inherited sizes and transforms applied)."""
    root = ET.fromstring(svg)
    view_box = root.get("viewBox")
    width = float(view_box.split()[2]) if view_box else float(re.match(r"[\d.]+", root.get("width")).group())
    runs = []

    def walk(element, size, scale):
        scale *= _transform_scale(element.get("transform"))
        own = _font_size(element)
        size = own if own is not None else size
        if element.tag in (_SVG + "text", _SVG + "tspan") and (element.text or "").strip():
            runs.append((element.text.strip(), size * scale))
        for child in element:
            walk(child, size, scale)

    walk(root, 16.0, 1.0)  # 16: the browser's default font size, for text that sets none
    return width, runs


def smallest_rendered_px(figure, rendered_width, svg=None):
    """The smallest text of ``figure`` (what the page visit recorded about one image) in CSS px
    when it is shown ``rendered_width`` px wide; None if the figure has no text to measure."""
    if svg is not None:
        width, runs = svg_text_sizes(svg)
        return min(size for _, size in runs) * rendered_width / width if runs else None
    if figure.get("text_px"):
        natural = float(figure.get("width_attr") or figure["natural"])
        return float(figure["text_px"]) * rendered_width / natural
    return None


# ------------------------------------------------------------------ colours, as painted

# Each article image as the browser paints it: its pixels drawn with its computed CSS filter over
# the background behind it, at its rendered size; null for an image not shown. Each is summed up as
# [background luminance, ink share, mean ink luminance or null] (scheme_problem judges them).
_PAINTED_JS = r"""
({ frame, contrast }) => {
  const article = document.querySelector("article") || document.body;
  const backdrop = (e) => {
    for (let a = e; a; a = a.parentElement) {
      const colour = getComputedStyle(a).backgroundColor;
      if (colour && colour !== "transparent" && !/,\s*0\)$/.test(colour)) return colour;
    }
    return "white";
  };
  return Array.from(article.querySelectorAll("img")).map((img) => {
    const r = img.getBoundingClientRect();
    if (r.width < 2 * frame || r.height < 2 * frame) return null;
    const w = Math.round(r.width), h = Math.round(r.height);
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = backdrop(img.parentElement);
    ctx.fillRect(0, 0, w, h);
    ctx.filter = getComputedStyle(img).filter;
    ctx.drawImage(img, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    const lum = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) {
      lum[i] = (0.2126 * px[4 * i] + 0.7152 * px[4 * i + 1] + 0.0722 * px[4 * i + 2]) / 255;
    }
    const edge = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (x < frame || y < frame || x >= w - frame || y >= h - frame) edge.push(lum[y * w + x]);
      }
    }
    edge.sort((a, b) => a - b);
    const background = edge[Math.floor(edge.length / 2)];
    let n = 0, sum = 0;
    for (const v of lum) if (Math.abs(v - background) > contrast) { n++; sum += v; }
    return [background, n / lum.length, n ? sum / n : null];
  });
}
"""


def scheme_problem(scheme, verdict):
    """What is wrong with a figure's colours in ``scheme`` ("light"/"dark"), or None."""
    background, share, ink = verdict
    if scheme == "light" and background < LIGHT_BACKGROUND:
        return f"background luminance {background:.2f} in the light scheme (want >= {LIGHT_BACKGROUND})"
    if scheme == "dark" and background > DARK_BACKGROUND:
        return f"background luminance {background:.2f} in the dark scheme (want <= {DARK_BACKGROUND}): a light box"
    if share < INK_SHARE:
        return f"no {'dark' if scheme == 'light' else 'light'} text or lines on the background ({share:.4f} of pixels)"
    if (scheme == "light") != (ink < background):
        return f"ink luminance {ink:.2f} on background {background:.2f}: text is not {'darker' if scheme == 'light' else 'lighter'}"
    return None


def alt_problem(alt):
    """What is wrong with an image's alt text, or None."""
    if alt is None or not alt.strip():
        return "no alt text"
    if alt.strip().lower() in EMPTY_ALTS:
        return f"alt text that describes nothing: {alt!r}"
    return None


# ------------------------------------------------------------------------------ the page visits

# Every image of the page (alt) and, for each image of the article, what its size depends on.
_IMAGES_JS = r"""
async () => {
  const article = document.querySelector("article") || document.body;
  await Promise.all(Array.from(document.images).map((img) => img.decode().catch(() => null)));
  const figures = Array.from(article.querySelectorAll("img")).map((img, index) => {
    const r = img.getBoundingClientRect();
    return {
      index,
      src: img.currentSrc || img.src,
      natural: img.naturalWidth,
      width_attr: img.getAttribute("width"),
      text_px: img.dataset.dlbookTextPx || null,
      rendered: r.width,
      visible: r.width > 0 && r.height > 0,
    };
  });
  const alts = Array.from(document.images).map((img) => [(img.getAttribute("src") || "").slice(0, 80), img.getAttribute("alt")]);
  return { figures, alts };
}
"""

# At the width of a phone: each article image's rendered width and whether it is cut off (outside
# its nearest clipping ancestor and not reachable by scrolling it, or off the screen).
_PHONE_FIGURES_JS = r"""
() => {
  const W = document.documentElement.clientWidth;
  const article = document.querySelector("article") || document.body;
  const problems = [];
  if (document.documentElement.scrollWidth > W + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px in a ${W} px screen`);
  }
  const widths = Array.from(article.querySelectorAll("img")).map((img) => {
    const r = img.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return r.width;
    let left = 0, right = W, scrolls = false, scrolled = 0, by = "the screen";
    for (let a = img.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== "visible") {
        const ar = a.getBoundingClientRect();
        left = ar.left + a.clientLeft;
        right = left + a.clientWidth;
        scrolls = ["auto", "scroll"].includes(style.overflowX);
        scrolled = a.scrollLeft;
        by = a.tagName.toLowerCase() + (a.className ? "." + String(a.className).trim().split(/\s+/)[0] : "");
        break;
      }
    }
    const name = (img.getAttribute("src") || "").split("/").pop().slice(0, 60);
    if (r.left + scrolled < left - 1) problems.push(`${name}: clipped on the left by ${by}`);
    if (r.right > right + 1 && !scrolls) {
      problems.push(by === "the screen" ? `${name}: runs off the screen` :
                    `${name}: clipped on the right by ${by} (${Math.round(r.right)} > ${Math.round(right)})`);
    }
    return r.width;
  });
  return { widths, problems };
}
"""


def _painted_in_both_schemes(tab):
    """``{(scheme, index): verdict}`` for the article images shown in each scheme (:data:`_PAINTED_JS`)."""
    verdicts = {}
    for scheme, attribute in (("light", "default"), ("dark", "slate")):
        tab.evaluate(_SCHEME_JS, attribute)
        tab.evaluate(_FRAMES_JS)
        painted = tab.evaluate(_PAINTED_JS, {"frame": FRAME_PX, "contrast": INK_CONTRAST})
        verdicts.update({(scheme, i): v for i, v in enumerate(painted) if v is not None})
    tab.evaluate(_SCHEME_JS, "default")
    return verdicts


@pytest.fixture(scope="module")
def figure_visits(built_site, server, browser_page):
    """``{page: observed}`` for every page of the site with an image: its images' alt texts, and
    for each article image: its size facts at 1280 and 390 wide, and its colours in both schemes."""
    tab = browser_page
    results = {}
    started = time.perf_counter()
    for html in html_pages(built_site):
        if not html.is_file() or "<img" not in html.read_text(encoding="utf-8"):
            continue
        rel = html.relative_to(built_site).as_posix()
        if rel.startswith("zh/"):  # the same figures, words translated: see test_chinese_figures_match_english
            continue
        url = f"{server}/{rel[: -len('index.html')] if rel.endswith('index.html') else rel}"
        tab.set_viewport_size(DESKTOP)
        tab.goto(url, wait_until="load")
        observed = tab.evaluate(_IMAGES_JS)
        figures = [f for f in observed["figures"] if f["visible"]]
        observed["schemes"] = _painted_in_both_schemes(tab)
        tab.set_viewport_size(PHONE)
        tab.evaluate(_FRAMES_JS)
        phone = tab.evaluate(_PHONE_FIGURES_JS)
        tab.set_viewport_size(DESKTOP)
        for figure in figures:
            figure["phone"] = phone["widths"][figure["index"]]
            figure["svg"] = _svg_bytes(built_site, figure["src"])
        observed["figures"] = figures
        observed["phone_problems"] = phone["problems"]
        results[rel] = observed
    REPORT.append(f"figures: {len(results)} pages with images visited in {time.perf_counter() - started:.0f} s")
    return results


def _svg_bytes(site, url):
    """The SVG document an image shows (its file in the built site, or a data: URL), or None."""
    if url.startswith("data:image/svg+xml"):
        head, _, data = url.partition(",")
        import base64

        return base64.b64decode(data) if head.endswith(";base64") else unquote(data).encode()
    path = _served_path(site, url)
    if path is None or path.suffix != ".svg":
        return None
    return path.read_bytes()


def _name(rel, figure):
    return f"{rel}: {urlsplit(figure['src']).path.rsplit('/', 1)[-1]}"


def _report(problems):
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------- the tests


@pytest.mark.slow
def test_figures_are_legible(figure_visits):
    """Smallest text >= 11 px at 1280 wide and >= 9 px at 390 wide, for every figure."""
    problems, sizes = [], []
    for rel, observed in figure_visits.items():
        for figure in observed["figures"]:
            desktop = smallest_rendered_px(figure, figure["rendered"], figure["svg"])
            phone = smallest_rendered_px(figure, figure["phone"], figure["svg"])
            if desktop is None:
                if figure["svg"] is None:
                    problems.append(f"{_name(rel, figure)}: a raster figure without data-dlbook-text-px")
                continue
            sizes.append((rel, figure, desktop, phone))
            if desktop < MIN_PX_DESKTOP - 0.05:
                problems.append(f"{_name(rel, figure)}: smallest text {desktop:.1f} px at 1280 wide (< {MIN_PX_DESKTOP})")
            if phone < MIN_PX_PHONE - 0.05:
                problems.append(f"{_name(rel, figure)}: smallest text {phone:.1f} px at 390 wide (< {MIN_PX_PHONE})")
    REPORT.append(f"figures: {len(sizes)} measured; smallest rendered text (px) at 1280 / 390 wide:")
    REPORT.extend(f"  {_name(rel, f)}  {d:.1f} / {p:.1f}  ({f['rendered']:.0f} / {f['phone']:.0f} px wide)"
                  for rel, f, d, p in sizes)
    assert sizes, "no figure was measured"
    assert not problems, _report(problems)


@pytest.mark.slow
def test_no_figure_is_clipped_on_a_phone(figure_visits):
    problems = [f"{rel}: {p}" for rel, observed in figure_visits.items() for p in observed["phone_problems"]]
    assert not problems, _report(problems)


@pytest.mark.slow
def test_figures_follow_the_colour_scheme(figure_visits):
    """Light scheme: light background, dark ink; dark scheme (the toggle's): dark background, light ink."""
    problems, checked = [], 0
    for rel, observed in figure_visits.items():
        names = {f["index"]: _name(rel, f) for f in observed["figures"]}
        for (scheme, index), verdict in observed["schemes"].items():
            checked += 1
            problem = scheme_problem(scheme, verdict)
            if problem:
                problems.append(f"{names.get(index, f'{rel}: image {index}')}, {scheme}: {problem}")
    assert checked, "no figure was looked at"
    assert not problems, _report(problems)


@pytest.mark.slow
def test_every_image_is_described(figure_visits):
    problems = [f"{rel}: {src}: {alt_problem(alt)}" for rel, observed in figure_visits.items()
                for src, alt in observed["alts"] if alt_problem(alt)]
    assert sum(len(o["alts"]) for o in figure_visits.values()), "no image was found"
    assert not problems, _report(problems)


_IMG_RE = re.compile(r"<img\b[^>]*>")
_ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"')


def _images(html_path):
    return [dict(_ATTR_RE.findall(tag)) for tag in _IMG_RE.findall(html_path.read_text(encoding="utf-8"))]


@pytest.mark.slow
def test_chinese_figures_match_english(built_site):
    """A Chinese page shows its English page's figures (same code, the words translated at build
    time): the same number of figures with the same sizes and phone widths, which the browser
    checked on the English page, and every image described."""
    problems, pages = [], 0
    for html in sorted((built_site / "zh").rglob("index.html")):
        english = built_site / html.relative_to(built_site / "zh")
        if not english.is_file():
            continue
        zh_imgs, en_imgs = _images(html), _images(english)
        pages += bool(zh_imgs)
        rel = html.relative_to(built_site).as_posix()
        problems += [f"{rel}: {img.get('src', '')[:60]}: {alt_problem(img.get('alt'))}"
                     for img in zh_imgs if alt_problem(img.get("alt"))]
        figures = lambda imgs: [(i.get("width"), i.get("height"), i.get("style")) for i in imgs  # noqa: E731
                                if "dlbook-figure" in i.get("class", "")]
        if figures(zh_imgs) != figures(en_imgs):
            problems.append(f"{rel}: figures {figures(zh_imgs)} differ from the English page's {figures(en_imgs)}")
    assert pages, "no Chinese page with figures"
    assert not problems, _report(problems)


@pytest.mark.slow
def test_chinese_pages_draw_their_figures_in_chinese(built_site):
    """Every figure with words is an SVG with its text as text (a photo too: the picture inside
    it), on the pages and in the labs; a Chinese page shows its English page's figures with every
    word label through the label table (data/figure_labels.yml): nothing left in English."""
    from tools import i18n

    labels, figures, problems = i18n.figure_labels(), 0, []
    for zh_html in sorted((built_site / "zh").rglob("index.html")):
        en_html = built_site / zh_html.relative_to(built_site / "zh")
        if not en_html.is_file():
            continue
        pair = [[html.parent / img["src"].split("#")[0] for img in _images(html) if "dlbook-figure" in img.get("class", "")]
                for html in (en_html, zh_html)]
        rel = zh_html.relative_to(built_site).as_posix()
        if len(pair[0]) != len(pair[1]):
            problems.append(f"{rel}: {len(pair[1])} figures, the English page has {len(pair[0])}")
            continue
        for en, zh in zip(*pair):
            figures += 1
            if en.suffix != ".svg":
                problems.append(f"{rel}: {en.name} is not an SVG figure")
                continue
            expected, missing = i18n.translate_svg(en.read_text(encoding="utf-8"), labels)
            if missing:
                problems.append(f"{rel}: {en.name}: labels with no Chinese in the label table: {missing}")
            elif zh.read_text(encoding="utf-8") != expected:
                problems.append(f"{rel}: {zh.name} is not {en.name} with its labels in Chinese")
    assert figures, "no figure found"
    assert not problems, _report(problems)


# ----------------------------------------------------------------- each check can fail (issue 15)

_SMALL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="504pt" height="72pt" viewBox="0 0 504 72">'
    b'<text style="font-size: 10px" x="5" y="20">big enough</text>'
    b'<g transform="translate(5 40) scale(0.5)"><text><tspan style="font-size: 12px">scaled</tspan></text></g>'
    b'<text style="font: 7px \'DejaVu Sans\'" x="5" y="60">tiny</text></svg>'
)


def test_the_legibility_check_can_fail():
    width, runs = svg_text_sizes(_SMALL_SVG)
    assert width == 504 and dict(runs) == {"big enough": 10, "scaled": 6, "tiny": 7}
    at_natural = smallest_rendered_px({}, 672, _SMALL_SVG)  # 504 pt = 672 px
    assert at_natural == pytest.approx(8.0) and at_natural < MIN_PX_DESKTOP
    raster = {"natural": 1400, "width_attr": "700", "text_px": "12"}
    assert smallest_rendered_px(raster, 350) == pytest.approx(6.0)
    assert smallest_rendered_px({"natural": 700}, 350) is None  # unmeasurable: the test reports it


@pytest.mark.slow
def test_the_clipping_check_can_fail(browser_page):
    page = browser_page
    page.set_viewport_size(PHONE)
    try:
        page.set_content(
            '<article><div style="overflow:hidden"><img src="a.svg" style="width:600px;height:10px"></div>'
            '<img src="b.svg" style="width:700px;height:10px">'
            '<div style="overflow-x:auto"><img src="ok.svg" style="width:600px;height:10px"></div></article>'
        )
        problems = page.evaluate(_PHONE_FIGURES_JS)["problems"]
    finally:
        page.set_viewport_size(DESKTOP)
    assert any(p.startswith("a.svg: clipped on the right") for p in problems), problems
    assert any(p.startswith("b.svg: runs off the screen") for p in problems), problems
    assert any("scrolls sideways" in p for p in problems), problems
    assert not any(p.startswith("ok.svg") for p in problems), problems


@pytest.mark.slow
def test_the_colour_scheme_check_can_fail(browser_page):
    """A plain white SVG figure on a dark page fails, and so does black text on the dark page
    without a background of its own; the book's stylesheet makes the white figure pass."""
    import base64

    def data_url(svg):
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()

    white = data_url(b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><rect width="300" '
                     b'height="100" fill="#ffffff"/><text x="10" y="60" style="font-size: 40px">Text</text></svg>')
    clear = data_url(b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100">'
                     b'<text x="10" y="60" style="font-size: 40px">Text</text></svg>')
    page = browser_page
    page.set_content(f'<body data-md-color-scheme="slate" style="background:#1e2129"><article>'
                     f'<img class="dlbook-figure" src="{white}" alt="x"><img src="{clear}" alt="y"></article></body>')
    page.evaluate("() => Promise.all(Array.from(document.images).map((img) => img.decode()))")
    painted = lambda: page.evaluate(_PAINTED_JS, {"frame": FRAME_PX, "contrast": INK_CONTRAST})
    plain, transparent = painted()
    assert "a light box" in scheme_problem("dark", plain)
    assert scheme_problem("light", plain) is None
    assert "no light text" in scheme_problem("dark", transparent)
    page.add_style_tag(path=str(ROOT / "docs" / "assets" / "dlbook.css"))
    styled, _ = painted()
    assert scheme_problem("dark", styled) is None, styled


def test_the_description_check_can_fail():
    assert alt_problem(None) and alt_problem("  ")
    assert alt_problem("No description has been provided for this image")
    assert alt_problem("Figure drawn by the code cell above")
    assert alt_problem("Training loss; Test accuracy") is None


# -------------------------------------------------- what the build reads off a figure (fast)


def _figurefacts():
    from tools import figurefacts

    return figurefacts


def test_a_figure_is_described_by_its_titles():
    import matplotlib.pyplot as plt

    describe = _figurefacts().describe
    fig, (a, b) = plt.subplots(1, 2)
    try:
        assert describe(fig) is None
        a.set_title("Loss")
        b.set_title("Accuracy")
        assert describe(fig) == "Loss; Accuracy"
        fig.suptitle("Training")
        assert describe(fig) == "Training"
    finally:
        plt.close(fig)


def test_smallest_text_counts_subscripts_and_exponents():
    import matplotlib.pyplot as plt

    smallest = _figurefacts().smallest_text_points
    fig, ax = plt.subplots()
    try:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("plain", fontsize=12)
        fig.savefig(io.BytesIO(), format="svg")
        assert smallest(fig) == 12
        ax.set_xlabel("$x_0$", fontsize=10)  # the 0 is drawn at 0.7 of 10 points
        fig.savefig(io.BytesIO(), format="svg")
        assert smallest(fig) == pytest.approx(7.0)
    finally:
        plt.close(fig)


def test_a_lab_figure_carries_its_facts_in_its_png():
    import matplotlib.pyplot as plt

    facts = _figurefacts()
    fig, ax = plt.subplots(figsize=(6, 3))
    try:
        ax.set_title("Loss → zero")  # not Latin-1: an iTXt chunk
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=facts.LAB_DPI)
    finally:
        plt.close(fig)
    png = facts.palette_png(buf.getvalue(), {facts.DESCRIPTION_KEY: "Loss → zero", facts.TEXT_POINTS_KEY: "7.00"})
    assert len(png) < len(buf.getvalue())
    description, text_px, width, height = facts.png_facts(png)
    assert description == "Loss → zero" and text_px == pytest.approx(7 * 96 / 72)
    assert (width, height) == (576, 288)  # 6 x 3 inches at 96 px per inch
    assert facts.png_facts(_plain_png())[:2] == (None, None)


def test_a_lab_figure_is_svg_with_its_text_as_text_and_its_facts():
    """A lab's plot: an SVG whose labels stay text (the Chinese lab translates them) carrying its
    description and smallest text; a photo: a PNG. Drawn by the formatters the lab's kernel gets."""
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell

    import matplotlib
    import matplotlib.pyplot as plt

    facts = _figurefacts()
    shell = InteractiveShell.instance()
    kept = {key: matplotlib.rcParams[key] for key in ("figure.figsize", "svg.fonttype", "svg.hashsalt")}
    try:
        facts.install_in_kernel(shell)
        shell.events.trigger("pre_run_cell", None)
        plot, ax = plt.subplots(figsize=(6, 3))
        ax.plot([0, 1], [1, 0])
        ax.set_title("Loss & \"accuracy\"")
        ax.set_xlabel("$x_0$", fontsize=10)  # the 0 is drawn at 0.7 of 10 points
        photo, ax = plt.subplots(figsize=(6, 3))
        ax.imshow(np.zeros((80, 80)))
        ax.set_title("A photo")
        data, _ = shell.display_formatter.format(plot)
        assert set(data) >= {"image/svg+xml"} and "image/png" not in data
        svg = data["image/svg+xml"].encode("utf-8")
        assert b">Loss &amp; &quot;accuracy&quot;<" in svg or b">Loss &amp; \"accuracy\"<" in svg  # text as text
        description, text_px, width = facts.svg_facts(svg)
        assert description == 'Loss & "accuracy"' and text_px == pytest.approx(7 * 96 / 72)
        assert 400 < width <= 576  # 6 in at 96 px per inch, cut to what is drawn
        data, _ = shell.display_formatter.format(photo)
        assert "image/png" in data and "image/svg+xml" not in data
        assert facts.png_facts(data["image/png"])[0] == "A photo"
    finally:
        plt.close("all")
        matplotlib.rcParams.update(kept)
        InteractiveShell.clear_instance()


def _plain_png():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format="png")
    return buf.getvalue()


def test_data_images_get_the_attributes_drawn_from_their_bytes():
    import base64

    from tools import sitepolish

    png = _plain_png()
    html = (f'<img alt="No description has been provided for this image" class="" '
            f'src="data:image/png;base64,{base64.b64encode(png).decode()}"/>')
    out = sitepolish.extract_data_images(
        html, lambda name, data: None, alt="fallback",
        attributes=lambda data: {"alt": "Loss & \"accuracy\"", "class": "dlbook-figure", "width": 300, "style": None})
    assert out.startswith("<img ") and out.endswith(">") and "data:" not in out
    assert 'alt="Loss &amp; &quot;accuracy&quot;"' in out and 'class="dlbook-figure"' in out and 'width="300"' in out
    assert "style" not in out
