"""mkdocs hook: figures come from the page's own code, run at build time.

For every Markdown page that plots (a ``python`` fence mentioning ``plt.``), the hook
runs all of the page's ``python`` fences in order, exactly as the tests do
(tools/bookexec.py): on a standalone page (``bookexec.STANDALONE_PAGES``) each fence runs
alone in a fresh namespace, its script being exactly what the reader's copy button
copies; other pages share one namespace. After each fence, every open matplotlib figure
is saved as SVG and inserted as an image right below the fence that drew it, so the code
a reader sees is the code that made the figure. An exception fails the build: a page
whose code is broken is never published.

Copy → run: every ``python`` fence is rendered with its hidden ``# setup`` lines in a
collapsed ``<details>`` ("setup, 3 lines") above the visible code, and the rendered block
carries ``data-copy`` with the fence's script (setup + visible statements, no prompts, no
outputs). Material's copy button copies an enclosing ``data-copy`` attribute instead of the
code's text when there is one, so no JavaScript of ours is involved.

The package: the build makes the ``dlbook`` wheel and serves it under ``downloads/``; pages
name it through placeholders (``{{ wheel_url }}`` and friends, tools/sitefeatures.py).

Pages point at the lesson (tools/apilinks.py): a public name in backticks, `dlbook.layers.Affine`,
becomes a link to its API reference entry.

Also (tools/sitefeatures.py): the glossary page's table is generated from data/glossary.yml,
and every page with ``python`` fences gets a notebook of its code (written next to the built
page) and a download link at its top.

The site as a reader gets it (tools/sitepolish.py): figures are files beside their page (SVG
with text as text; a photo inside it as JPEG), KaTeX is linked only from pages with
maths, the labs share one Jupyter stylesheet and keep their plots as files, the API pages'
source code stays out of the search index, which is then tuned so that a term's lesson ranks
first, and a few accessibility repairs are made to Material's markup.
"""

import base64
import contextlib
import hashlib
import html as html_lib
import io
import json
import logging
import math
import atexit
import os
import re
import shutil
import tempfile

from mkdocs.plugins import CombinedEvent, event_priority

import apilinks
import bookexec
import buildcache
import convwidget
import figurefacts
import i18n
import katexrender
import sitefeatures
import sitepolish

os.environ.setdefault("DLBOOK_PROGRESS", "0")

_log = logging.getLogger("mkdocs.hooks.dlbook")  # under "mkdocs": --strict counts its warnings


def _figure_alt(fig):
    return figurefacts.describe(fig) or "Figure drawn by the code above"


RASTER_WIDTH_PX = 1100  # a photo figure's width in pixels: 1.6x the 688 px column (drawn twice: light and dark)
CSS_PX_PER_INCH = 96
# On a phone a figure shrinks with the column; below this width its smallest text would be under
# MIN_PHONE_TEXT_PX, so it keeps that width and scrolls sideways in its box instead (issue 15).
MIN_PHONE_TEXT_PX = 9
# A photo's figure in the dark scheme: Material's slate background and text colour. (Other figures
# are inverted by the stylesheet; a photo must not be, so it is drawn twice.)
DARK_BACKGROUND = "#1e2129"
DARK_TEXT = "#e2e4e9"


def _save_jpeg(fig, dpi, bbox_inches):
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg", dpi=dpi, bbox_inches=bbox_inches,
                pil_kwargs={"quality": 76, "optimize": True, "progressive": True})
    return buf.getvalue()


@contextlib.contextmanager
def _hidden(artists):
    """The ``artists`` made invisible for the duration of the block."""
    for artist in artists:
        artist.set_visible(False)
    try:
        yield
    finally:
        for artist in artists:
            artist.set_visible(True)


def _photo_svg(fig, dpi):
    """A photo figure as SVG (bytes): everything it draws except its text as one JPEG at ``dpi``
    inside the SVG (matplotlib's own SVG would embed a PNG, several times larger), and its text
    as text, drawn by the browser and translated on a Chinese page like any figure's labels."""
    import matplotlib
    from matplotlib.text import Text

    fig.canvas.draw()  # one crop for both drawings: "tight" would crop the JPEG without its text
    bbox = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    texts = [text for text in fig.findobj(Text) if text.get_visible() and text.get_text().strip()]
    with _hidden(texts):
        jpeg = _save_jpeg(fig, dpi, bbox)
    painted = [fig.patch] + [ax.patch for ax in fig.axes] + [image for ax in fig.axes for image in ax.get_images()]
    buf = io.BytesIO()
    with _hidden(painted):
        fig.savefig(buf, format="svg", bbox_inches=bbox, metadata={"Date": None})
    svg = buf.getvalue()
    _, _, width, height = re.search(rb'viewBox="([^"]+)"', svg).group(1).split()
    image = (b'<image x="0" y="0" width="' + width + b'" height="' + height + b'" preserveAspectRatio="none" '
             b'xlink:href="data:image/jpeg;base64,' + base64.b64encode(jpeg) + b'"/>\n')
    first_group = svg.index(b"<g ", svg.index(b"</defs>") if b"</defs>" in svg else 0)
    return svg[:first_group] + image + svg[first_group:]


def _darken(fig):
    """Recolour ``fig`` for the dark scheme: its background dark, its dark text and axes light;
    images and coloured marks keep their colours."""
    from matplotlib.colors import to_rgb
    from matplotlib.text import Text

    def is_dark(colour):
        r, g, b = to_rgb(colour)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5

    fig.patch.set_facecolor(DARK_BACKGROUND)
    for text in fig.findobj(Text):
        if is_dark(text.get_color()):
            text.set_color(DARK_TEXT)
    for ax in fig.axes:
        ax.set_facecolor(DARK_BACKGROUND)
        ax.tick_params(colors=DARK_TEXT)
        for spine in ax.spines.values():
            spine.set_edgecolor(DARK_TEXT)


def _render_figure(fig):
    """One figure as a JSON record (for the cache): ``alt``, ``ext`` ("svg"), ``data`` (base64),
    ``natural_width`` (CSS px), ``text_px`` (its smallest text, CSS px at that width) and, for a
    photo (:func:`_photo_svg`), ``dark``: the figure drawn again for the dark scheme
    (:func:`_darken`)."""
    dark = None
    photo = figurefacts.shows_photo(fig)
    dpi = max(100, min(220, RASTER_WIDTH_PX / fig.get_figwidth()))
    if photo:
        data = _photo_svg(fig, dpi)
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})  # same figure, same bytes
        data = buf.getvalue()
    natural_width = float(re.search(rb'<svg[^>]*\swidth="([\d.]+)pt"', data).group(1)) * CSS_PX_PER_INCH / 72
    points = figurefacts.smallest_text_points(fig)  # after saving: the tick labels hold their text
    alt = _figure_alt(fig)
    if photo:
        _darken(fig)
        dark = base64.b64encode(_photo_svg(fig, dpi)).decode("ascii")
    return {"alt": alt, "ext": "svg", "data": base64.b64encode(data).decode("ascii"), "natural_width": natural_width,
            "text_px": points * CSS_PX_PER_INCH / 72 if points else None, "dark": dark}


def _figures_rendered():
    """Render and close every open figure; return their records (:func:`_render_figure`)."""
    import matplotlib.pyplot as plt

    records = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        records.append(_render_figure(fig))
        plt.close(fig)
    return records


_figure_files = {}  # site-relative path -> bytes, written after the build


def _figure_html(record, page):
    """A figure record as HTML: its ``<img>`` in a box that scrolls sideways when the figure is
    wider than a phone's column; its file is queued for writing beside the page.

    The image keeps the width at which its smallest text is :data:`MIN_PHONE_TEXT_PX` (a
    ``min-width``, never above its natural width). A photo comes twice, drawn for each colour
    scheme, and Material shows the one of the palette toggle's scheme."""
    alt = html_lib.escape(record["alt"], quote=True)
    attrs = ""
    if record.get("text_px"):
        attrs += f' style="min-width: {_phone_width(record["natural_width"], record["text_px"])}px"'
    src = _queue_figure_file(record["data"], record["ext"], page)
    if record.get("dark"):  # Material shows an image whose src ends in #only-light/#only-dark by the scheme
        dark = _queue_figure_file(record["dark"], record["ext"], page)
        images = [f'<img class="dlbook-figure" src="{src}#only-light" alt="{alt}"{attrs}>',
                  f'<img class="dlbook-figure" src="{dark}#only-dark" alt="{alt}"{attrs}>']
    else:
        images = [f'<img class="dlbook-figure" src="{src}" alt="{alt}"{attrs}>']
    # raw HTML: mkdocs checks Markdown image links against docs/, where these files are not
    return f'<div class="dlbook-figure-box">{"".join(images)}</div>'


def _phone_width(natural_width, text_px):
    """The narrowest a figure may be shown (CSS px): where its smallest text, ``text_px`` at its
    ``natural_width``, is :data:`MIN_PHONE_TEXT_PX`; never wider than its natural width."""
    return min(math.ceil(natural_width), math.ceil(natural_width * MIN_PHONE_TEXT_PX / text_px))


def _lab_figure_attributes(data):
    """A lab's figure (an SVG or, for a photo, a PNG its kernel drew: tools/figurefacts.py) as the
    page's figures are: its description as alt text, the narrowest it may be shown, the class that
    the stylesheet sizes and themes; a PNG also its size at 96 px per inch and its smallest text
    (an SVG's text is read from the SVG itself). Other images keep their attributes."""
    if data.startswith(b"\x89PNG"):
        description, text_px, width, height = figurefacts.png_facts(data)
        attrs = {"class": "dlbook-figure", "alt": description, "width": width, "height": height}
        if text_px:
            attrs["data-dlbook-text-px"] = f"{text_px:.2f}"
    elif figurefacts.is_svg(data):
        description, text_px, width = figurefacts.svg_facts(data)
        attrs = {"class": "dlbook-figure", "alt": description}
    else:
        return {}
    if text_px:
        attrs["style"] = f"min-width: {_phone_width(width, text_px)}px"
    return attrs


def _describe_lab_figures():
    """The labs' Jupyter kernels inherit this process's environment: start them with
    tools/labkernel.py, which makes their figures carry a description and their smallest text
    size (tools/figurefacts.py) for :func:`_lab_figure_attributes`."""
    os.environ["PYTHONSTARTUP"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "labkernel.py")


def _queue_figure_file(data, ext, page):
    """Queue a figure's bytes (base64) for writing beside the page; return its file name."""
    data = base64.b64decode(data)
    name = f"figure-{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
    _figure_files[os.path.join(os.path.dirname(page.file.dest_uri), name)] = data
    return name


_executed_dir = {}  # this process's folder of executed notebook copies


def _executed_notebook(path):
    """A copy of the notebook at ``path`` with its outputs, for mkdocs-jupyter to render (which
    runs nothing itself: ``execute: false``). The outputs come from the execution cache, keyed by
    the notebook's code cells and the package (:func:`buildcache.notebook_key`); else the notebook
    runs here, in its own folder, as Jupyter runs it. A lab's Chinese twin has the same code
    (tests/test_i18n.py), so it shows the English lab's run instead of running again, and an
    edit of a lab's prose runs nothing."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    key = "notebook-" + buildcache.notebook_key(nb.cells)
    ran = _cache.get(key)
    if ran is None:
        executed = nbformat.from_dict(nb)
        nbclient.NotebookClient(executed, timeout=900, allow_errors=False, record_timing=False,
                                resources={"metadata": {"path": os.path.dirname(path)}}).execute()
        ran = [{"outputs": cell.outputs, "execution_count": cell.execution_count}
               for cell in executed.cells if cell.cell_type == "code"]
        _cache.put(key, ran)
    for cell, result in zip(code, ran):
        cell.outputs = [nbformat.from_dict(output) for output in result["outputs"]]
        cell.execution_count = result["execution_count"]
        if i18n.is_twin(path):  # the Chinese lab: its figures' labels in Chinese
            for output in cell.outputs:
                if "image/svg+xml" in output.get("data", {}):
                    svg = output.data["image/svg+xml"]
                    output.data["image/svg+xml"] = _translated_svg("".join(svg) if isinstance(svg, list) else svg, path)
    if "dir" not in _executed_dir:
        _executed_dir["dir"] = tempfile.mkdtemp(prefix="dlbook-labs-")
        atexit.register(shutil.rmtree, _executed_dir["dir"], ignore_errors=True)
    copy = os.path.join(_executed_dir["dir"], key[-16:], os.path.basename(path))  # the same file name:
    os.makedirs(os.path.dirname(copy), exist_ok=True)                            # the download link uses it
    nbformat.write(nb, copy)
    return copy


@event_priority(50)  # before mkdocs-jupyter's, which renders page.file.abs_src_path
def on_pre_page(page, config, files, **kwargs):
    """A lab is rendered from its executed copy (:func:`_executed_notebook`); :func:`on_page_content`
    points the page back at its source, which mkdocs-jupyter then offers for download."""
    if page.file.src_uri.endswith(".ipynb") and config.plugins.get("mkdocs-jupyter") is not None:
        page.file.dlbook_source = page.file.abs_src_path
        page.file.abs_src_path = _executed_notebook(page.file.abs_src_path)
    return page


def _english_anchors(html, page):
    """A Chinese lab's headings and table of contents get the English lab's anchors (tools/i18n.py)."""
    ids = i18n.notebook_heading_ids(os.path.join(page.file.src_dir, i18n.english_src(page.file.src_uri)))
    html, ok = i18n.with_english_heading_ids(html, ids)
    if not ok:
        _log.warning(f"{page.file.src_uri}: its headings do not pair with the English lab's; anchors left as they are")
        return html
    items = []

    def flatten(entries):
        for item in entries:
            items.append(item)
            flatten(item.children)

    flatten(page.toc)
    if len(items) == len(ids):  # the table of contents lists the same headings, in order
        for item, new_id in zip(items, ids):
            item.id = new_id
    return html


def _translated_alt(alt, labels):
    """A figure's description in Chinese: its title, or its panels' titles joined by "; "."""
    return "; ".join(i18n.translate_label(part, labels) for part in alt.split("; "))


def _in_page_language(record, page):
    """A figure record for a Chinese page: its SVG labels and alt text through the one label
    table (tools/i18n.py), so the page's code stays the English page's."""
    if not i18n.is_twin(page.file.src_uri):
        return record
    labels = i18n.figure_labels()
    record = dict(record, alt=_translated_alt(record["alt"], labels))
    for key in ("data", "dark"):  # every figure is an SVG (a photo's dark drawing too)
        if record.get(key):
            svg = _translated_svg(base64.b64decode(record[key]).decode("utf-8"), page.file.src_uri)
            record[key] = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return record


def _translated_svg(svg, src_uri):
    """An SVG figure (text) of the Chinese page ``src_uri`` with its labels in Chinese."""
    svg, missing = i18n.translate_svg(svg, i18n.figure_labels())
    for text in missing:
        _log.info(f"{src_uri}: figure label with no Chinese in the label table: {text!r}")
    return svg


def _page_plots(markdown):
    return any(
        bookexec.is_collected(info) and ("plt." in body or "diagrams." in body)
        for _, info, body in bookexec.iter_fences(markdown)
    )


_command = {"name": "build"}  # set by on_startup: "serve" turns the execution cache on
_cache = buildcache.PageCache(None)


def on_startup(command, dirty=False, **kwargs):
    _command["name"] = command
    _command["dirty"] = dirty


_process_cache = {}  # the cache folder of this process when no persistent one is asked for


def _cache_root():
    """The persistent execution cache where asked for (tools/buildcache.py), else a folder of this
    process only: a build still starts cold, and the Chinese edition's pages, which run the same
    code, reuse what the English ones just ran (figures, notebooks, the wheel)."""
    root = buildcache.cache_root(_command["name"])
    if root is None:
        if "root" not in _process_cache:
            _process_cache["root"] = tempfile.mkdtemp(prefix="dlbook-build-")
            atexit.register(shutil.rmtree, _process_cache["root"], ignore_errors=True)
        root = _process_cache["root"]
    return root


def _configure_cache(config):
    """One execution cache for plotting pages and notebooks (tools/buildcache.py)."""
    global _cache
    # Each build hashes the package again: in a long serve it may have changed since the last one.
    buildcache.environment_key.cache_clear()
    _cache = buildcache.PageCache(_cache_root())
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and _cache.notebook_dir() is not None:
        jupyter.config["cache"] = True
        jupyter.config["cache_dir"] = _cache.notebook_dir()  # keyed by the package too: never stale


@event_priority(-150)  # after mkdocs-static-i18n (-100), which remakes every File of the site
def on_files(files, config, **kwargs):
    """The labs stay notebook pages: mkdocs-static-i18n rebuilds each file as a plain File, which
    drops mkdocs-jupyter's notebook wrapper, so the notebooks would be copied as raw JSON; let
    mkdocs-jupyter wrap them again."""
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or config.plugins.get("i18n") is None:
        return files
    from mkdocs_jupyter.plugin import NotebookFile

    language = _building_language(config)
    prefix = "" if language == "en" else f"{language}/"
    for file in list(files):  # in place: the plugin's own Files class must stay
        if not isinstance(file, NotebookFile) and jupyter.should_include(file):
            files.remove(file)
            page = NotebookFile(file, **config)
            # The page of x.ipynb (or of its twin x.zh.ipynb) is x/ on the English site and zh/x/
            # on the Chinese one, where a lab with no twin shows the English notebook, as
            # mkdocs-static-i18n does for Markdown pages (never over the English page).
            stem = prefix + i18n.english_src(file.src_uri)[: -len(".ipynb")]
            page.dest_path = f"{stem}/index.html" if config["use_directory_urls"] else f"{stem}.html"
            page.abs_dest_path = os.path.normpath(os.path.join(config["site_dir"], page.dest_path))
            page.url = f"{stem}/" if config["use_directory_urls"] else page.dest_path
            files.append(page)
    return files


def on_config(config, **kwargs):
    _configure_cache(config)
    _restore_served_site(config)
    import sys

    # In the README's virtual environment (--system-site-packages), nbconvert may come from the
    # base Python, whose templates Jupyter would not find: point it there (tools/sitepolish.py).
    jupyter_path = sitepolish.jupyter_path_with_base(os.environ, sys.prefix, sys.base_prefix)
    if jupyter_path:
        os.environ["JUPYTER_PATH"] = jupyter_path
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Agg is for this process only: the labs' Jupyter kernels inherit our environment, and
    # with MPLBACKEND=Agg there they would draw nothing inline.
    os.environ.pop("MPLBACKEND", None)
    _describe_lab_figures()

    # Text stays text in the SVG (small files, the page's font); fixed hash salt keeps ids stable.
    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["svg.hashsalt"] = "dlbook"
    return config


def _code_fences(markdown):
    """The fences the build runs: ``(match, info, body)`` of every collected, not skipped, python fence."""
    return [(m, info, body) for m, info, body in bookexec.iter_fences(markdown)
            if bookexec.is_collected(info) and not bookexec.is_skipped(markdown, m.start())]


def _run_figures(fences, page):
    """Run the page's fences as the tests do; return ``{fence number: [image Markdown, ...]}``."""
    standalone = bookexec.is_standalone(f"docs/{page.file.src_uri}")
    namespace = {"__name__": "__main__"}
    bookexec.page_setup(namespace)
    figures = {}
    try:
        for i, (m, info, body) in enumerate(fences):
            if standalone:  # each fence alone, as its copy runs
                bookexec.page_teardown(namespace)
                namespace = {"__name__": "__main__"}
                bookexec.page_setup(namespace)
            with contextlib.redirect_stdout(io.StringIO()):  # what the code prints is the page's, not the log's
                bookexec.run_fence(body, namespace, where=f"{page.file.src_uri}:fence@{m.start()}")
            images = _figures_rendered()
            if images:
                figures[str(i)] = images
    finally:
        bookexec.page_teardown(namespace)
    return figures


def _insert_figures(markdown, page):
    """Below each fence that draws, its figures: from the execution cache when the page's code
    and the package are unchanged (tools/buildcache.py), else by running the page."""
    if not page.file.src_uri.endswith(".md") or not _page_plots(markdown):
        return markdown
    fences = _code_fences(markdown)
    standalone = bookexec.is_standalone(f"docs/{i18n.english_src(page.file.src_uri)}")
    key = buildcache.page_key([(f"standalone={standalone}", "")] + [(info, body) for _, info, body in fences])
    figures = _cache.get(key)
    if figures is None:
        figures = _run_figures(fences, page)
        _cache.put(key, figures)
    pieces, last = [], 0
    for i, (m, _, _) in enumerate(fences):
        images = figures.get(str(i))
        if images:
            indent = m.group("indent")
            pieces.append(markdown[last : m.end()])
            lines = [_figure_html(_in_page_language(record, page), page) for record in images]
            pieces.append("\n\n" + "\n\n".join(indent + line for line in lines) + "\n")
            last = m.end()
    pieces.append(markdown[last:])
    return "".join(pieces)


# ----------------------------------------------------------- glossary and page notebooks

_notebooks = {}  # dest dir (site-relative) / file name -> notebook, written after the build
_copies = {}  # page src_uri -> the script of each python fence, by fence number


def on_pre_build(config, **kwargs):
    _notebooks.clear()
    _copies.clear()
    _figure_files.clear()
    katexrender.USED.clear()
    _maths["in_browser"] = False


def on_page_markdown(markdown, page, config, files, **kwargs):
    if not page.file.src_uri.endswith(".md"):
        return markdown
    if i18n.english_src(page.file.src_uri) == sitefeatures.GLOSSARY_PAGE:
        markdown = sitefeatures.render_glossary_page(markdown, language=_page_language(page))
    markdown = sitefeatures.fill_wheel_placeholders(markdown, config.site_url, page.file.dest_uri)
    markdown = _add_notebook(markdown, page)
    markdown = _insert_figures(markdown, page)
    if not page.file.src_uri.startswith("reference/api/"):
        markdown = apilinks.link_api_names(markdown, page.file.src_uri)  # names of the code -> API entries
    return _mark_fences(markdown, page)


# --------------------------------------------------------------------- copy → run


def _mark_fences(markdown, page):
    """Show each python fence's setup collapsed and tag the fence with its number; keep its
    script for :func:`on_page_content`. A misplaced ``# setup`` marker fails the build."""
    markdown, scripts = sitefeatures.mark_fences(markdown, where=page.file.src_uri, language=_page_language(page))
    _copies[page.file.src_uri] = scripts
    return markdown


def _add_copy_text(html_text, page):
    """Give each rendered python block its script as ``data-copy`` (what its copy button copies)."""
    scripts = _copies.get(page.file.src_uri, [])
    html_text, seen = sitefeatures.add_copy_text(html_text, scripts)
    if sorted(seen) != list(range(len(scripts))):
        _log.warning(f"{page.file.src_uri}: {len(scripts)} python fences, but copy texts went to blocks {seen}")
    return html_text


def _add_notebook(markdown, page):
    """Queue the page's notebook for writing and link it at the top of the page."""
    nb = sitefeatures.page_notebook(markdown, title=page.title, source=page.file.src_uri)
    if nb is None:
        return markdown
    name = sitefeatures.notebook_name(page.file.src_uri)
    dest_dir = os.path.dirname(page.file.dest_uri)
    _notebooks[os.path.join(dest_dir, name)] = nb
    return sitefeatures.insert_after_title(markdown, sitefeatures.download_link_html(name, language=_page_language(page)))


@event_priority(-50)  # after Material's search plugin, before mkdocs-static-i18n builds the next language
def _write_build_outputs(config, **kwargs):
    import nbformat

    for rel, nb in _notebooks.items():
        path = os.path.join(config["site_dir"], rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        nbformat.write(nb, path)
    for rel, data in _figure_files.items():
        path = os.path.join(config["site_dir"], rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    _subset_katex_fonts(config)
    # The exact package these pages were tested against, served for `pip install <url>`.
    downloads = os.path.join(config["site_dir"], sitefeatures.DOWNLOADS)
    cached = _cache.wheel_dir()
    if cached is None:
        sitefeatures.build_wheel(downloads)
    else:  # the wheel depends on the package and its metadata only: build it once per change
        wheel = cached / sitefeatures.wheel_name()
        if not wheel.is_file():
            sitefeatures.build_wheel(cached)
        os.makedirs(downloads, exist_ok=True)
        shutil.copy2(wheel, downloads)
    _cache.prune()
    if _cache.hits or _cache.misses:
        _log.info(f"dlbook execution cache: {_cache.hits} pages reused, {_cache.misses} run")


@event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and merged their search entries
def _search_indexes(config, **kwargs):
    """Each language its own search index (tools/i18n.py), tuned so a term's lesson ranks first."""
    plugin = config.plugins.get("i18n")
    if plugin is not None and getattr(plugin, "building", False):
        return  # a language's own build, inside the first one: the merged index is not written yet
    site = config["site_dir"]
    _merge_served_search_index(site)
    indexes = i18n.split_search_index(site) if plugin is not None else None
    if indexes is None:
        indexes = [os.path.join(site, "search", "search_index.json")]
    entries = sitefeatures.load_glossary() if sitefeatures.GLOSSARY_FILE.is_file() else []
    for index in indexes:
        if os.path.isfile(index):  # Material's search plugin wrote it
            sitepolish.tune_search_index_file(index, entries)


# mkdocs serve builds into a new temporary folder each time it starts, so a --dirty serve still
# built every page once. It now starts from the site the last such serve (or a mkdocs build with
# the persistent cache) built, kept in the execution cache under the site's key (buildcache.site_key:
# the package, the tools, mkdocs.yml, the data tables, the set of pages, the plugins): mkdocs'
# dirty build then builds only the pages whose files are newer than their copy. Any other change
# starts from nothing.
_served = {}


def _served_site_slot():
    """Where the site is kept for the next dirty ``mkdocs serve``: by a dirty serve, and by
    ``mkdocs build`` when it uses the persistent cache (DLBOOK_BUILD_CACHE); None otherwise."""
    dirty_serve = _command["name"] == "serve" and _command.get("dirty")
    if not dirty_serve and _command["name"] != "build":
        return None
    root = buildcache.cache_root(_command["name"])
    return None if root is None else os.path.join(root, "served-site")


def _restore_served_site(config):
    """Copy the kept site (file times kept) into a dirty serve's folder before its first build.
    Each build that keeps its site notes the site's key as it starts: what it is built from."""
    slot = _served_site_slot()
    if slot is None:
        return
    _served["key"] = buildcache.site_key()
    if _command["name"] != "serve" or _served.get("restored"):
        return
    _served["restored"] = True
    site = os.path.join(slot, "site")
    try:
        with open(os.path.join(slot, "key"), encoding="utf-8") as f:
            kept = f.read()
        with open(os.path.join(slot, "search_index.json"), encoding="utf-8") as f:
            search_index = json.load(f)
    except (OSError, ValueError):
        return
    if kept == _served["key"] and os.path.isdir(site):
        shutil.copytree(site, config["site_dir"], dirs_exist_ok=True)
        _served["search_index"] = search_index
        _log.info(f"served site restored from {slot}: only pages changed since are built")


def _page_of(entry):
    return entry["location"].split("#", 1)[0]


def _merge_served_search_index(site):
    """A dirty build indexes only the pages it built: in a dirty serve the search index keeps the
    other pages' entries from the build before (this serve's last one, or the kept site's), so the
    preview's search still finds every page. Works on Material's index as written, before
    :func:`_search_indexes` splits it by language and tunes it."""
    path = os.path.join(site, "search", "search_index.json")
    if _served_site_slot() is None or not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    before = _served.get("search_index")
    built = {_page_of(entry) for entry in index["docs"]}
    docs = index["docs"] + [entry for entry in (before or {"docs": []})["docs"] if _page_of(entry) not in built]
    # Material's own dirty-reload merge adds the English entries to the Chinese build's index,
    # which mkdocs-static-i18n merges back: each entry once.
    seen = set()
    index["docs"] = [entry for entry in docs
                     if (key := json.dumps(entry, sort_keys=True)) not in seen and not seen.add(key)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(index, f, ensure_ascii=False, separators=(",", ":"))
    _served["search_index"] = index


@event_priority(-300)  # after every language is built and the search indexes are written
def _keep_served_site(config, **kwargs):
    """Keep what a dirty serve built, with its key, for the next serve (:func:`_restore_served_site`)."""
    slot = _served_site_slot()
    plugin = config.plugins.get("i18n")
    if slot is None or (plugin is not None and getattr(plugin, "building", False)):
        return
    fresh = slot + ".new"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(config["site_dir"], os.path.join(fresh, "site"))
    with open(os.path.join(fresh, "search_index.json"), "w", encoding="utf-8") as f:
        json.dump(_served.get("search_index", {"docs": []}), f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(fresh, "key"), "w", encoding="utf-8") as f:
        f.write(_served["key"])
    shutil.rmtree(slot, ignore_errors=True)
    os.replace(fresh, slot)


on_post_build = CombinedEvent(_write_build_outputs, _search_indexes, _keep_served_site)


def on_page_content(html, page, config, files, **kwargs):
    """Markdown pages: each python block gets its copy text (:func:`_add_copy_text`); the API
    pages' source code is kept out of the search index.
    Labs (notebook pages): resolve their links to other pages as mkdocs does for Markdown
    pages, link the notebook (which mkdocs-jupyter's ``include_source`` copies next to the
    built page) under the title, share one Jupyter stylesheet, keep plots as files beside the
    page and make code cells keyboard-focusable (tools/sitepolish.py)."""
    if page.file.src_uri.endswith(".md"):
        html = _add_copy_text(html, page)
        html = sitepolish.exclude_api_source_from_search(html)
        return sitepolish.exclude_code_and_answers_from_search(html)
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    page.file.abs_src_path = getattr(page.file, "dlbook_source", page.file.abs_src_path)  # on_pre_page
    html = sitefeatures.resolve_page_links(html, page.file, files, warn=_log.warning)
    if i18n.is_twin(page.file.src_uri):
        html = _english_anchors(html, page)
    html = sitepolish.exclude_code_and_answers_from_search(html)
    html = sitepolish.share_notebook_css(html, config["site_dir"], os.path.dirname(page.file.dest_uri))
    page_dir = os.path.join(config["site_dir"], os.path.dirname(page.file.dest_uri))

    def write(name, data):
        os.makedirs(page_dir, exist_ok=True)
        with open(os.path.join(page_dir, name), "wb") as f:
            f.write(data)

    def attributes(data):  # a Chinese lab's figures are described in Chinese (the label table)
        attrs = _lab_figure_attributes(data)
        if attrs.get("alt") and _page_language(page) != "en":
            attrs["alt"] = _translated_alt(attrs["alt"], i18n.figure_labels())
        return attrs

    html = sitepolish.extract_data_images(html, write, alt="Figure drawn by the code cell above",
                                          attributes=attributes)
    html = sitepolish.focusable_notebook_code(html)
    name = os.path.basename(page.file.src_uri)
    link = sitefeatures.download_link_html(name, what="lab", language=_page_language(page))
    return sitefeatures.insert_after_html_title(html, link)


_maths = {"in_browser": False}  # whether some page's maths is typeset in the browser


def _subset_katex_fonts(config):
    """KaTeX's fonts in the site cut down to the characters of the book's maths. Not for a
    dirty rebuild (pages not rebuilt may need other characters: the full fonts go back) nor
    when the browser typesets maths."""
    fonts = os.path.join(config["site_dir"], "assets", "katex", "fonts")
    if not os.path.isdir(fonts):
        return
    if _command.get("dirty") or _maths["in_browser"] or not katexrender.USED:
        source = os.path.join(config["docs_dir"], "assets", "katex", "fonts")
        if os.path.isdir(source):
            shutil.copytree(source, fonts, dirs_exist_ok=True)
        return
    sizes = katexrender.subset_fonts(fonts)
    if sizes is None:
        _log.info("KaTeX fonts not subset: fontTools or brotli is missing")
    else:
        _log.info(f"KaTeX fonts cut to the book's {len(katexrender.USED)} characters: "
                  f"{sizes[0] // 1024} KiB -> {sizes[1] // 1024} KiB")


def on_post_page(output, page, config, **kwargs):
    """Maths typeset at build time (tools/katexrender.py; in the browser where it cannot be) on
    the pages that have maths, which alone link KaTeX; Material's markup made accessible
    (tools/sitepolish.py). This runs after the search plugin has indexed the page's TeX, which
    the index then shows as text (:func:`sitepolish.strip_tex`)."""
    if sitepolish.has_math(page.content or ""):
        if katexrender.available():
            output = katexrender.render_article(output, delimiters=page.file.src_uri.endswith(".ipynb"))
            output = sitepolish.add_katex(output, scripts=False)
        else:
            _warn_once(f"maths typeset in the browser: {katexrender.unavailable_reason()} (pip install mini-racer)")
            _maths["in_browser"] = True
            output = sitepolish.add_katex(output)
    # The convolution widget where a page marks its place, and its script and style on that page only.
    output = convwidget.add_widget(output, sitepolish.asset_base(output))
    output = i18n.drop_alternate_head_links(output)
    output = i18n.language_switch_links(output, sitepolish.asset_base(output), page.file.src_uri)
    if _building_language(config) != "en":  # each language's search loads its own index
        output = i18n.base_at_language_root(output, _building_language(config))
    return sitepolish.fix_aria(output)


def _page_language(page):
    """The language of a page's text: "zh" for a Chinese twin, else English (also an English page
    that the Chinese site falls back to)."""
    return i18n.LANGUAGE if i18n.is_twin(page.file.src_uri) else "en"


def _building_language(config):
    """The language mkdocs-static-i18n is building now ("en" without the plugin)."""
    plugin = config.plugins.get("i18n")
    return getattr(plugin, "current_language", None) or "en"


_warned = set()


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        _log.info(message)  # info, not a warning: --strict must not fail where V8 is missing
