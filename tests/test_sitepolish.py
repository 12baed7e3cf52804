"""The site as a reader gets it (issue 17), piece by piece: tools/sitepolish.py (page weight,
accessibility repairs, search tuning), tools/katexrender.py (maths typeset at build time),
the API reference's docstrings (tools/griffe_dlbook.py) and page titles (tools/sitefeatures.py).

The fast tests call the functions on small strings; the slow ones read the built site (the
session's one build, tests/conftest.py). tests/test_browser.py checks the result in a browser.
"""

import gzip
import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, html_pages
from tools import griffe_dlbook, katexrender, sitefeatures, sitepolish

needs_v8 = pytest.mark.skipif(not katexrender.available(), reason="mini-racer (docs extra) is not installed")


# ------------------------------------------------------------------------------ KaTeX


def test_has_math_sees_arithmatex_and_notebook_tex_but_not_code_or_prices():
    assert sitepolish.has_math('<p><span class="arithmatex">\\(x\\)</span></p>')
    assert sitepolish.has_math("<p>separates $(0,1), (1,0)$ from</p>")
    assert sitepolish.has_math("<p>$$\\sum_i x_i$$</p>")
    assert not sitepolish.has_math("<pre>$x$</pre><p><code>$y$</code> costs $5 and $10</p>")
    assert not sitepolish.has_math("<p>No maths here.</p>")


PAGE = (
    '<html><head><title>t</title></head><body><article class="md-content__inner">{}</article>'
    '<script src="../../assets/javascripts/bundle.abc.min.js"></script></body></html>'
)


def test_add_katex_links_css_and_optionally_scripts_once():
    page = PAGE.format("<p>x</p>")
    css_only = sitepolish.add_katex(page, scripts=False)
    assert '<link rel="stylesheet" href="../../assets/katex/katex.min.css">' in css_only
    assert "katex.min.js" not in css_only
    both = sitepolish.add_katex(page)
    order = [both.index(s) for s in ("bundle.abc", "katex.min.js", "auto-render.min.js", "katex-init.js")]
    assert order == sorted(order)  # after Material's bundle, which defines document$
    assert sitepolish.add_katex(both) == both


@needs_v8
def test_katex_typesets_arithmatex_and_notebook_delimiters_but_not_code():
    article = (
        '<p>a <span class="arithmatex">\\(x^2 &lt; 1\\)</span></p><div class="arithmatex">\\[\\frac{a}{b}\\]</div>'
        "<p>in a notebook: $y_1$ and $$z$$</p><pre>$kept$</pre><p><code>$kept too$</code></p>"
    )
    out = katexrender.render_article(PAGE.format(article), delimiters=True)
    assert out.count('<span class="katex">') == 4 and out.count('<span class="katex-display">') == 2
    assert "$kept$" in out and "$kept too$" in out
    assert "\\(" not in out and "\\[" not in out
    assert '<annotation encoding="application/x-tex">x^2 &lt; 1</annotation>' in out  # unescaped, then escaped
    markdown_only = katexrender.render_article(PAGE.format(article))
    assert "$y_1$" in markdown_only  # Markdown pages: only arithmatex (a $ in prose is a dollar)
    assert {"x", "2", "a", "b"} <= katexrender.USED


@needs_v8
def test_font_subsets_keep_every_character_used(tmp_path):
    from fontTools.ttLib import TTFont

    pytest.importorskip("brotli")
    src = ROOT / "docs" / "assets" / "katex" / "fonts" / "KaTeX_Main-Regular.woff2"
    (tmp_path / src.name).write_bytes(src.read_bytes())
    before, after = katexrender.subset_fonts(tmp_path, chars="σ≤∑(x)")
    assert after < before / 2
    cmap = TTFont(tmp_path / src.name).getBestCmap()
    assert {ord(c) for c in "≤(x)"} <= set(cmap) and ord("∞") not in cmap


# ------------------------------------------------------------------- notebook pages


def test_notebook_css_moves_to_one_shared_file(tmp_path):
    html = (
        "<style>.a{color:red}</style>\n<script>x()</script><style type=\"text/css\">.b{}</style>"
        '<div class="jp-Cell jp-CodeCell"><style scoped>.df{}</style></div>'
    )
    out = sitepolish.share_notebook_css(html, tmp_path, "labs/xor-mlp")
    files = list((tmp_path / "assets").glob("notebook.*.css"))
    assert len(files) == 1 and files[0].read_text() == ".a{color:red}\n.b{}\n"
    assert out.count("<style") == 1 and "<style scoped>.df{}</style>" in out  # a cell's own style stays
    assert f'<link rel="stylesheet" href="../../assets/{files[0].name}">' in out
    again = sitepolish.share_notebook_css(html, tmp_path, "labs/other")
    assert len(list((tmp_path / "assets").glob("notebook.*.css"))) == 1 and files[0].name in again


def test_data_images_become_files_with_a_better_alt():
    import base64

    png = b"\x89PNG fake bytes"
    html = f'<img alt="No description has been provided for this image" class="" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
    written = {}
    out = sitepolish.extract_data_images(html, written.__setitem__, alt="Figure drawn by the code cell above")
    (name, data), = written.items()
    assert data == png and name.endswith(".png") and f'src="{name}"' in out
    assert 'alt="Figure drawn by the code cell above"' in out and "data:" not in out


def test_notebook_code_cells_get_tabindex_once():
    html = '<div class="highlight-ipynb hl-python"><pre>x</pre></div><div class="highlight-ipynb" tabindex="0"></div>'
    out = sitepolish.focusable_notebook_code(html)
    assert out.count('tabindex="0"') == 2 and sitepolish.focusable_notebook_code(out) == out


# ------------------------------------------------------------------- accessibility


def test_fix_aria_names_the_search_dialog_and_unescapes_labels():
    out = sitepolish.fix_aria(
        '<div class="md-search" data-md-component="search" role="dialog">'
        '<a class="md-footer__link" aria-label="Previous: 4 CNN &amp;amp; RNN">'
    )
    assert 'role="dialog" aria-label="Search"' in out
    assert 'aria-label="Previous: 4 CNN &amp; RNN"' in out
    assert sitepolish.fix_aria(out) == out


def test_download_link_is_small_and_named():
    html = sitefeatures.download_link_html("02-networks-perceptron.ipynb")
    assert html.startswith('<p class="dlbook-download" data-search-exclude="link"><a href="02-networks-perceptron.ipynb" download')
    assert "md-button" not in html and "Download notebook (.ipynb)" in html and 'aria-hidden="true"' in html
    lab = sitefeatures.insert_after_html_title('<h1 id="t">Lab</h1><p>text</p>', "<p>LINK</p>")
    assert lab == '<h1 id="t">Lab</h1>\n<p>LINK</p><p>text</p>'


# -------------------------------------------------------------------------- search


def test_tex_becomes_readable_text():
    assert sitepolish.tex_to_text(r"\sigma(1-\sigma) \le \frac{1}{4}") == "σ(1-σ) ≤ 1/4"
    assert sitepolish.tex_to_text(r"\tilde C_t = \tanh(W_C \cdot [h_{t-1}, x_t] + b_C)") == "C_t = tanh(W_C · [h_t-1, x_t] + b_C)"
    for tex in [r"\frac{\partial L}{\partial \mathbf{W}}", r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
                r"\left( \sqrt{x} \right)^{\top}", r"\operatorname{softmax}(a)_k"]:
        text = sitepolish.tex_to_text(tex)
        assert "\\" not in text and "{" not in text and "}" not in text, (tex, text)
    snippet = sitepolish.strip_tex("loss \\(L = h_T \\cdot w\\), \\[ y = \\frac{a}{b} \\] and $x_1$, at $5 or $10")
    assert snippet == "loss L = h_T · w, y = a/b and x_1, at $5 or $10"


def test_search_index_tuning():
    entries = [
        {"term": "pooling", "zh": "池化", "page": "04-cnn-rnn/pooling.md"},
        {"term": "long short-term memory", "zh": "长短期记忆网络", "page": "04-cnn-rnn/lstm.md", "aliases": ["LSTM"]},
        {"term": "softmax", "zh": "softmax 函数", "page": "02-networks/activations.md"},
    ]
    index = {"config": {}, "docs": [
        {"location": "04-cnn-rnn/pooling/", "title": "4.3 Pooling", "text": "<p>Pooling \\(2\\times 2\\)</p>"},
        {"location": "04-cnn-rnn/pooling/#max", "title": "Max", "text": "<p>max</p>"},
        {"location": "04-cnn-rnn/lstm/", "title": "4.6 LSTM", "text": ""},
        {"location": "reference/api/pooling/#dlbook.pooling.max_pool2d", "title": "max_pool2d",
         "text": "<p>Max pooling.</p> <p>Shapes and more.</p>"},
        {"location": "glossary/", "title": "Glossary", "text": "<p>pooling 池化</p>"},
    ]}
    docs = {d["location"]: d for d in sitepolish.tune_search_index(index, entries)["docs"]}
    assert docs["04-cnn-rnn/pooling/"]["tags"] == ["pooling", "池化"]
    assert "tags" not in docs["04-cnn-rnn/pooling/#max"]  # the page entry only: the index stays small
    assert docs["04-cnn-rnn/lstm/"]["tags"] == ["long short-term memory", "LSTM", "长短期记忆网络"]
    assert docs["04-cnn-rnn/pooling/"]["text"] == "<p>Pooling 2× 2</p>"
    api = docs["reference/api/pooling/#dlbook.pooling.max_pool2d"]
    assert api["text"] == "<p>Max pooling.</p>" and api["boost"] < 1  # still found, after the lesson
    assert docs["glossary/"]["boost"] < 1 and docs["04-cnn-rnn/pooling/"]["boost"] > 1
    # the Chinese name as written, and without 函数 (a reader types either)
    assert sitepolish.lesson_terms(entries)["02-networks/activations/"] == ["softmax", "softmax 函数"]
    activation = [{"term": "activation function", "zh": "激活函数", "page": "02-networks/activations.md"}]
    assert sitepolish.lesson_terms(activation)["02-networks/activations/"] == ["activation function", "激活函数", "激活"]


def test_code_answers_and_source_are_marked_for_the_search_to_skip():
    html = (
        '<div class="language-python highlight"><pre>x</pre></div>'
        '<details class="dlbook-setup no-copy"><summary>setup, 2 lines</summary></details>'
        '<details class="success">\n<summary>Answer</summary><p>42</p></details>'
        '<details class="question"><summary>Exercise 1</summary></details>'
        '<div class="jp-Cell jp-CodeCell jp-Notebook-cell">'
        '<details class="mkdocstrings-source"><summary>Source code in <code>x.py</code></summary>'
    )
    out = sitepolish.exclude_api_source_from_search(sitepolish.exclude_code_and_answers_from_search(html))
    assert out.count("data-search-exclude") == 5
    assert '<details class="question">' in out  # the exercise itself stays searchable


def test_page_location():
    assert sitepolish.page_location("04-cnn-rnn/lstm.md") == "04-cnn-rnn/lstm/"
    assert sitepolish.page_location("02-networks/index.md#x") == "02-networks/"
    assert sitepolish.page_location("index.md") == ""
    assert sitepolish.page_location("labs/xor-mlp.ipynb") == "labs/xor-mlp/"


# ------------------------------------------------------------ the reader's environment


def test_a_venv_finds_the_base_pythons_notebook_templates(tmp_path):
    base, venv = tmp_path / "base", tmp_path / "venv"
    (base / "share" / "jupyter" / "nbconvert" / "templates" / "lab").mkdir(parents=True)
    venv.mkdir()
    shared = str(base / "share" / "jupyter")
    assert sitepolish.jupyter_path_with_base({}, str(venv), str(base)) == shared
    assert sitepolish.jupyter_path_with_base({"JUPYTER_PATH": "/x"}, str(venv), str(base)) == "/x" + os.pathsep + shared
    assert sitepolish.jupyter_path_with_base({"JUPYTER_PATH": shared}, str(venv), str(base)) is None
    assert sitepolish.jupyter_path_with_base({}, str(base), str(base)) is None  # not in a venv
    assert sitepolish.jupyter_path_with_base({}, str(venv), str(venv)) is None


# ------------------------------------------------------------ titles and docstrings


def test_page_titles_come_from_the_nav_or_the_heading():
    assert sitefeatures.page_title("04-cnn-rnn/cnn-architectures.md") == "4.4 CNN structure and architectures"
    assert sitefeatures.page_title("04-cnn-rnn/index.md").startswith("4 ")  # no nav title: its # heading
    assert sitefeatures.page_title("labs/xor-mlp.ipynb").startswith("Lab")
    assert sitefeatures.page_title("no/such-page.md") == "Such page"


def test_glossary_links_read_as_page_titles():
    entries = sitefeatures.load_glossary()
    table = sitefeatures.glossary_markdown(entries)
    for stem in ("Cnn architectures", "Lstm", "Mlp", "Rnn"):
        assert f"[{stem}]" not in table
    assert "[4.6 LSTM](04-cnn-rnn/lstm.md)" in table


def test_docstring_examples_become_code_and_page_paths_titles():
    text = "See docs/04-cnn-rnn/convolution.md.\n\nThe formula.\n\n>>> f(28, 5)\n(10, 11)\n>>> for i in x:\n...     g(i)\n"
    out = griffe_dlbook.rewrite(text, where=None, pkg=None, page_exists=lambda p: True,
                                title=lambda p: "4.2 Convolution")
    assert "[4.2 Convolution](../../04-cnn-rnn/convolution.md)" in out
    assert "```pycon\n>>> f(28, 5)\n(10, 11)\n>>> for i in x:\n...     g(i)\n```" in out
    fenced = "```python\n>>> kept\n```"
    assert griffe_dlbook.fence_doctests(fenced) == fenced


# ---------------------------------------------------------------- the built site


@pytest.mark.slow
def test_built_search_index(built_site):
    """No source code, no answers, no raw TeX; lessons carry their terms; the glossary and the
    API pages are still there; small enough for every page to fetch."""
    path = built_site / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    docs = index["docs"]
    text = "\n".join(d["text"] for d in docs)
    assert "Source code in" not in text and "def conv2d(" not in text
    assert not re.search(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac", text)
    assert any(d["location"] == "glossary/" for d in docs)
    assert sum(d["location"].startswith("reference/api/") for d in docs) >= 16
    tagged = {d["location"] for d in docs if d.get("tags")}
    assert {"04-cnn-rnn/lstm/", "04-cnn-rnn/pooling/", "03-training/backprop/"} <= tagged
    assert len(gzip.compress(path.read_bytes())) < 150 * 1024


@pytest.mark.slow
def test_built_notebook_pages_share_their_css(built_site):
    labs = [p for p in html_pages(built_site) if p.parent.parent.name == "labs"]
    assert labs
    shared = set()
    for page in labs:
        text = page.read_text(encoding="utf-8")
        shared.update(re.findall(r'href="[./]*(assets/notebook\.[0-9a-f]+\.css)"', text))
        assert ".jupyter-wrapper{" not in text, f"{page}: Jupyter CSS still inlined"
        assert len(text.encode()) < 200 * 1024, f"{page}: {len(text.encode()) // 1024} KiB"
    assert len(shared) == 1 and (built_site / shared.pop()).is_file()


def _katex_html_text(html):
    """The characters drawn by KaTeX in ``html``: the text inside its ``.katex-html`` boxes."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.chars = 0, set()

        def handle_starttag(self, tag, attrs):
            if self.depth:
                self.depth += tag not in ("br", "img", "path", "line")
            elif "katex-html" in (dict(attrs).get("class") or "").split():
                self.depth = 1

        def handle_endtag(self, tag):
            if self.depth and tag not in ("br", "img", "path", "line"):
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.chars.update(data)

    parser = Parser()
    parser.feed(html)
    return parser.chars


@pytest.mark.slow
def test_built_katex_fonts_cover_the_maths(built_site):
    """The subset fonts still have every character the pages' maths shows."""
    from fontTools.ttLib import TTFont

    if not katexrender.available():
        pytest.skip("maths typeset in the browser: fonts are not subset")
    used = set()
    for page in html_pages(built_site):
        used |= _katex_html_text(page.read_text(encoding="utf-8"))
    assert used, "no typeset maths found"
    original = ROOT / "docs" / "assets" / "katex" / "fonts"
    fonts = built_site / "assets" / "katex" / "fonts"
    missing = []
    for font in sorted(original.glob("*.woff2")):
        want = {ord(c) for c in used} & set(TTFont(font).getBestCmap())
        have = set(TTFont(fonts / font.name).getBestCmap())
        missing += [f"{font.name}: {chr(c)!r}" for c in sorted(want - have)]
    assert not missing, missing
    assert (fonts / "KaTeX_Main-Regular.woff2").stat().st_size < (original / "KaTeX_Main-Regular.woff2").stat().st_size


@pytest.mark.slow
def test_built_api_reference_shows_examples_as_code(built_site):
    html = (built_site / "reference" / "api" / "conv" / "index.html").read_text(encoding="utf-8")
    assert "<blockquote>" not in html
    assert '<span class="gp">&gt;&gt;&gt; </span><span class="n">conv_output_size</span>' in html  # a prompt, highlighted
    modules = [(built_site / "reference" / "api" / m / "index.html").read_text(encoding="utf-8")
               for m in ("activations", "gates")]
    assert all(">docs/" not in m for m in modules)  # module docstrings link their page by its title
    assert any(">2.4 Activation functions<" in m for m in modules)
