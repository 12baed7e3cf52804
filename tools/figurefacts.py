"""What the site build reads off a matplotlib figure, for Markdown pages and labs alike.

- :func:`describe`: the figure's own words for its alt text (its suptitle, else its axes' titles);
- :func:`smallest_text_points`: the size of its smallest drawn text, sub- and superscripts of
  mathtext measured glyph by glyph (``$x_0$``'s "0" is 0.7 of the label's size), so that the page
  can keep that text legible on a phone (tools/mkdocs_hooks.py);
- :func:`shows_photo`: whether a figure shows a photo (drawn as a raster image, not as SVG);
- :func:`install_in_kernel`: in a lab's Jupyter kernel (tools/labkernel.py, run at the kernel's
  start during the build), every figure the inline backend shows becomes an SVG whose text stays
  text, as the pages' figures are (so a Chinese lab shows its labels in Chinese: the build
  translates them, tools/i18n.py), or for a photo a PNG drawn at :data:`LAB_DPI` with a
  256-colour palette. Either carries both facts (:data:`DESCRIPTION_KEY`,
  :data:`TEXT_POINTS_KEY`: attributes of an SVG's root, text chunks of a PNG), where the build
  reads them back (:func:`svg_facts`, :func:`png_facts`).
"""

import html
import io
import re

#: PNG text chunks of a lab figure: its description and its smallest text, in points.
DESCRIPTION_KEY = "Description"
TEXT_POINTS_KEY = "dlbook smallest text pt"
#: A lab figure's PNG: twice the 96 px per inch at which the page shows it (sharp on a phone).
LAB_DPI = 192
#: A lab's output area: the text column (7 in, ``dlbook.diagrams.COLUMN_INCHES``) less the empty
#: prompt column Jupyter keeps on its left (584 px wide in a 1280-wide window). A lab's figures are
#: drawn this wide by default, as the pages' figures are column-wide (tools/bookexec.py).
LAB_COLUMN_INCHES = 6.0
CSS_PX_PER_INCH = 96
CSS_PX_PER_POINT = CSS_PX_PER_INCH / 72
# A figure that shows an image at least this many pixels large is a photo: a raster image, not SVG
# (matplotlib's SVG would embed it as base64 PNG, several times larger).
PHOTO_PIXELS = 64 * 64
# A collection of more vertices than this (a filled contour map, a mesh) is drawn as an image
# inside a lab's SVG: as vectors it costs hundreds of kilobytes. Text and lines stay vectors.
DENSE_VERTICES = 5000
#: The same facts on the root of a lab's SVG figure.
SVG_DESCRIPTION_ATTR = "data-dlbook-description"
SVG_TEXT_POINTS_ATTR = "data-dlbook-text-pt"


def describe(fig):
    """The figure's suptitle, else its axes' titles joined by "; ", else None."""
    if fig.get_suptitle().strip():
        return fig.get_suptitle().strip()
    titles = [ax.get_title().strip() for ax in fig.axes if ax.get_title().strip()]
    return "; ".join(titles) or None


def smallest_text_points(fig):
    """The size in points of the smallest text ``fig`` draws (None if it draws none).

    Call it after the figure is drawn (saved), when its tick labels hold their text. A mathtext
    label is measured glyph by glyph: its sub- and superscripts, fractions and the exponents of a
    log axis's tick labels are drawn smaller than the label's font size.
    """
    from matplotlib import cbook
    from matplotlib.mathtext import MathTextParser
    from matplotlib.text import Text

    parser = MathTextParser("path")
    sizes = []
    for text in fig.findobj(Text):
        s = text.get_text()
        if not text.get_visible() or not s.strip():
            continue
        if not text.get_usetex() and text.get_parse_math() and cbook.is_math_text(s):
            sizes += [glyph[1] for glyph in parser.parse(s, 72, text.get_fontproperties()).glyphs]
        else:
            sizes.append(text.get_fontsize())
    return min(sizes) if sizes else None


def shows_photo(fig):
    """Whether ``fig`` shows an image of at least :data:`PHOTO_PIXELS` pixels."""
    for ax in fig.axes:
        for image in ax.get_images():
            shape = image.get_array().shape
            if shape[0] * shape[1] >= PHOTO_PIXELS:
                return True
    return False


def install_in_kernel(shell):
    """Make the inline backend of the IPython ``shell`` show every figure as an SVG with its text
    as text (a photo: a PNG at :data:`LAB_DPI`), carrying :func:`describe` and
    :func:`smallest_text_points`.

    The inline backend registers its PNG formatter when pyplot is first imported (and again on
    ``%matplotlib inline``), so ours are put back before every cell and before the figures of a
    cell are shown (``post_execute``: registered now, it runs before the backend's own). A
    formatter that returns None adds nothing to the output: each figure gets one of the two.
    """
    import sys

    import matplotlib

    matplotlib.rcParams["figure.figsize"] = (LAB_COLUMN_INCHES, LAB_COLUMN_INCHES * 4 / 7)
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: translatable, drawn by the browser
    matplotlib.rcParams["svg.hashsalt"] = "dlbook"  # the same figure, the same bytes

    def facts(fig):  # after the figure is drawn: its tick labels hold their text
        return {DESCRIPTION_KEY: describe(fig) or "", TEXT_POINTS_KEY: f"{smallest_text_points(fig) or 0:.2f}"}

    def png(fig):
        from IPython.core.pylabtools import print_figure

        if not shows_photo(fig):
            return None
        data = print_figure(fig, "png", bbox_inches="tight", dpi=LAB_DPI)
        return palette_png(data, facts(fig))

    def svg(fig):
        from IPython.core.pylabtools import print_figure

        if shows_photo(fig):
            return None
        rasterize_dense_collections(fig)
        data = print_figure(fig, "svg", bbox_inches="tight", dpi=LAB_DPI, metadata={"Date": None})
        return svg_with_facts(data, facts(fig))

    def register(*_):
        if "matplotlib.figure" in sys.modules:
            from matplotlib.figure import Figure

            shell.display_formatter.formatters["image/png"].for_type(Figure, png)
            shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, svg)

    shell.events.register("pre_run_cell", register)
    shell.events.register("post_execute", register)


def palette_png(data, facts):
    """A PNG (bytes) again, its colours cut to a palette of 256 (a plot has few: a third of the
    bytes) and ``facts`` (text -> text) in its text chunks; its resolution is kept."""
    from PIL import Image, PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    for key, value in facts.items():
        chunks.add_text(key, value)  # an iTXt chunk when the text is not Latin-1
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as img:
        palette = img.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
        palette.save(out, format="png", optimize=True, pnginfo=chunks, dpi=img.info.get("dpi", (LAB_DPI, LAB_DPI)))
    return out.getvalue()


def rasterize_dense_collections(fig):
    """Mark each collection of ``fig`` with more than :data:`DENSE_VERTICES` vertices to be drawn
    as an image (at the resolution the figure is saved at) when the figure is saved as SVG."""
    from matplotlib.collections import Collection

    for collection in fig.findobj(Collection):
        if sum(len(path.vertices) for path in collection.get_paths()) > DENSE_VERTICES:
            collection.set_rasterized(True)


def svg_with_facts(svg, facts):
    """An SVG document (text) with ``facts`` (:data:`DESCRIPTION_KEY`, :data:`TEXT_POINTS_KEY`)
    as attributes of its root element."""
    attrs = (f' {SVG_DESCRIPTION_ATTR}="{html.escape(facts[DESCRIPTION_KEY], quote=True)}"'
             f' {SVG_TEXT_POINTS_ATTR}="{html.escape(facts[TEXT_POINTS_KEY], quote=True)}"')
    return re.sub(r"<svg\b", lambda m: m.group(0) + attrs, svg, count=1)


_SVG_ROOT_RE = re.compile(rb"<svg\b[^>]*>")
_ATTRIBUTE_RE = re.compile(rb'([\w:-]+)="([^"]*)"')


def is_svg(data):
    """Whether ``data`` (bytes) is an SVG document."""
    return _SVG_ROOT_RE.search(data[:4096]) is not None


def svg_facts(data):
    """``(description, smallest text in CSS px, width in CSS px)`` of an SVG (bytes) drawn by
    :func:`install_in_kernel`; the first two are None when it does not carry them."""
    root = _SVG_ROOT_RE.search(data)
    attrs = {k.decode(): html.unescape(v.decode("utf-8")) for k, v in _ATTRIBUTE_RE.findall(root.group(0))}
    points = float(attrs.get(SVG_TEXT_POINTS_ATTR) or 0)
    width = attrs.get("width", "0")
    width_px = float(re.match(r"[\d.]*", width).group() or 0) * (CSS_PX_PER_POINT if width.endswith("pt") else 1)
    return attrs.get(SVG_DESCRIPTION_ATTR) or None, (points * CSS_PX_PER_POINT if points else None), width_px


def png_facts(data):
    """``(description, smallest text in CSS px, width and height in CSS px)`` of a PNG (bytes)
    drawn by :func:`install_in_kernel`, shown at 96 px per inch; the first two are None when
    the PNG does not carry them."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        dpi = img.info.get("dpi", (CSS_PX_PER_INCH,))[0] or CSS_PX_PER_INCH
        width, height = (round(n * CSS_PX_PER_INCH / dpi) for n in img.size)
        chunks = getattr(img, "text", {}) or {}
    points = float(chunks.get(TEXT_POINTS_KEY) or 0)
    return chunks.get(DESCRIPTION_KEY) or None, (points * CSS_PX_PER_POINT if points else None), width, height
