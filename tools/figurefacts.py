"""What the site build reads off a matplotlib figure, for Markdown pages and labs alike.

- :func:`describe`: the figure's own words for its alt text (its suptitle, else its axes' titles);
- :func:`smallest_text_points`: the size of its smallest drawn text, sub- and superscripts of
  mathtext measured glyph by glyph (``$x_0$``'s "0" is 0.7 of the label's size), so that the page
  can keep that text legible on a phone (tools/mkdocs_hooks.py);
- :func:`install_in_kernel`: in a lab's Jupyter kernel (tools/labkernel.py, run at the kernel's
  start during the build), every figure the inline backend shows becomes a PNG drawn at
  :data:`LAB_DPI`, with a 256-colour palette, that carries both facts in its text chunks
  (:data:`DESCRIPTION_KEY`, :data:`TEXT_POINTS_KEY`), where the build reads them back
  (:func:`png_facts`).
"""

import io

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


def install_in_kernel(shell):
    """Make the inline backend of the IPython ``shell`` show every figure as a PNG at
    :data:`LAB_DPI` carrying :func:`describe` and :func:`smallest_text_points` in text chunks.

    The inline backend registers its PNG formatter when pyplot is first imported (and again on
    ``%matplotlib inline``), so ours is put back before every cell and before the figures of a
    cell are shown (``post_execute``: registered now, it runs before the backend's own).
    """
    import sys

    import matplotlib

    matplotlib.rcParams["figure.figsize"] = (LAB_COLUMN_INCHES, LAB_COLUMN_INCHES * 4 / 7)

    def png(fig):
        from IPython.core.pylabtools import print_figure

        data = print_figure(fig, "png", bbox_inches="tight", dpi=LAB_DPI)
        facts = {DESCRIPTION_KEY: describe(fig) or "", TEXT_POINTS_KEY: f"{smallest_text_points(fig) or 0:.2f}"}
        return palette_png(data, facts)

    def register(*_):
        if "matplotlib.figure" in sys.modules:
            from matplotlib.figure import Figure

            shell.display_formatter.formatters["image/png"].for_type(Figure, png)

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
