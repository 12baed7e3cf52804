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
"""

import base64
import contextlib
import io
import logging
import os
import shutil

import apilinks
import bookexec
import buildcache
import sitefeatures

os.environ.setdefault("DLBOOK_PROGRESS", "0")

_log = logging.getLogger("mkdocs.hooks.dlbook")  # under "mkdocs": --strict counts its warnings


def _figure_alt(fig):
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(titles) if titles else "Figure drawn by the code above"


def _figures_as_markdown(indent):
    """Render and close every open figure; return Markdown image lines."""
    import matplotlib.pyplot as plt

    lines = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        alt = _figure_alt(fig).replace("[", "(").replace("]", ")")
        lines.append(f"{indent}![{alt}](data:image/svg+xml;base64,{data}){{ .dlbook-figure }}")
    return lines


def _page_plots(markdown):
    return any(
        bookexec.is_collected(info) and "plt." in body for _, info, body in bookexec.iter_fences(markdown)
    )


_command = {"name": "build"}  # set by on_startup: "serve" turns the execution cache on
_cache = buildcache.PageCache(None)


def on_startup(command, **kwargs):
    _command["name"] = command


def _configure_cache(config):
    """One execution cache for plotting pages and notebooks (tools/buildcache.py)."""
    global _cache
    _cache = buildcache.PageCache(buildcache.cache_root(_command["name"]))
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None and _cache.notebook_dir() is not None:
        jupyter.config["cache"] = True
        jupyter.config["cache_dir"] = _cache.notebook_dir()  # keyed by the package too: never stale


def on_config(config, **kwargs):
    _configure_cache(config)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Agg is for this process only: the labs' Jupyter kernels inherit our environment, and
    # with MPLBACKEND=Agg there they would draw nothing inline.
    os.environ.pop("MPLBACKEND", None)

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
            images = _figures_as_markdown("")
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
    standalone = bookexec.is_standalone(f"docs/{page.file.src_uri}")
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
            pieces.append("\n\n" + "\n\n".join(indent + line for line in images) + "\n")
            last = m.end()
    pieces.append(markdown[last:])
    return "".join(pieces)


# ----------------------------------------------------------- glossary and page notebooks

_notebooks = {}  # dest dir (site-relative) / file name -> notebook, written after the build
_copies = {}  # page src_uri -> the script of each python fence, by fence number


def on_pre_build(config, **kwargs):
    _notebooks.clear()
    _copies.clear()


def on_page_markdown(markdown, page, config, files, **kwargs):
    if not page.file.src_uri.endswith(".md"):
        return markdown
    if page.file.src_uri == sitefeatures.GLOSSARY_PAGE:
        markdown = sitefeatures.render_glossary_page(markdown)
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
    markdown, scripts = sitefeatures.mark_fences(markdown, where=page.file.src_uri)
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
    return sitefeatures.insert_after_title(markdown, sitefeatures.download_link_html(name))


def on_post_build(config, **kwargs):
    import nbformat

    for rel, nb in _notebooks.items():
        path = os.path.join(config["site_dir"], rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        nbformat.write(nb, path)
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


def on_page_content(html, page, config, files, **kwargs):
    """Markdown pages: each python block gets its copy text (:func:`_add_copy_text`).
    Labs (notebook pages): resolve their links to other pages as mkdocs does for Markdown
    pages, and link the notebook (which mkdocs-jupyter's ``include_source`` copies next to
    the built page) at the top of the page."""
    if page.file.src_uri.endswith(".md"):
        return _add_copy_text(html, page)
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    html = sitefeatures.resolve_page_links(html, page.file, files, warn=_log.warning)
    name = os.path.basename(page.file.src_uri)
    return sitefeatures.download_link_html(name, what="lab") + "\n" + html
