"""mkdocs hook: figures come from the page's own code, run at build time.

For every Markdown page that plots (a ``python`` fence mentioning ``plt.``), the hook
runs all of the page's ``python`` fences in order, in one namespace, exactly as the
tests do (tools/bookexec.py). After each fence, every open matplotlib figure is saved
as SVG and inserted as an image right below the fence that drew it, so the code a
reader sees is the code that made the figure. An exception fails the build: a page
whose code is broken is never published.
"""

import base64
import io
import os

import bookexec

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("DLBOOK_PROGRESS", "0")


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


def on_config(config, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Text stays text in the SVG (small files, the page's font); fixed hash salt keeps ids stable.
    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["svg.hashsalt"] = "dlbook"
    return config


def on_page_markdown(markdown, page, config, files, **kwargs):
    if not page.file.src_uri.endswith(".md") or not _page_plots(markdown):
        return markdown
    namespace = {"__name__": "__main__"}
    bookexec.page_setup(namespace)
    pieces, last = [], 0
    try:
        for m, info, body in bookexec.iter_fences(markdown):
            if not bookexec.is_collected(info) or bookexec.is_skipped(markdown, m.start()):
                continue
            bookexec.run_fence(body, namespace, where=f"{page.file.src_uri}:fence@{m.start()}")
            images = _figures_as_markdown(m.group("indent"))
            if images:
                pieces.append(markdown[last : m.end()])
                pieces.append("\n\n" + "\n\n".join(images) + "\n")
                last = m.end()
    finally:
        bookexec.page_teardown(namespace)
    pieces.append(markdown[last:])
    return "".join(pieces)
