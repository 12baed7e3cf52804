"""The Chinese edition (中文版) is held to the English one (tools/i18n.py):

- every twin ``x.zh.md`` has its English page and runs the same code, fence by fence (comments
  inside code may be translated; printed outputs and the ``# setup`` marker may not) — Sybil
  tests the English blocks, so this is what proves the Chinese ones;
- every twin is fresh: its ``translated_from`` stamp is the hash of the English prose it
  translates (``python3 tools/i18n.py status`` shows what changed since, ``stamp`` records it);
- every twin reads as Chinese: in its prose, Chinese characters >= 2x Latin letters and no run
  of 25 or more English words (API reference pages are exempt: docstrings stay English);
- every twin's typography is what the linter autocorrect writes: spaces between Chinese and
  Latin letters or digits, full-width punctuation (in prose: not in front matter, code, maths,
  HTML or link targets);
- every English page and lab has its twin (API reference pages excepted).
Each check has a self-test that shows it can fail.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from tools import i18n  # noqa: E402

TWINS = i18n.twins()
# Every English page and lab has its twin, except the API pages (docstrings stay English).
REQUIRED = [p.relative_to(i18n.DOCS).as_posix() for p in i18n.english_pages()
            if not i18n.is_exempt(p.relative_to(i18n.DOCS).as_posix())]


def _ids(paths):
    return [p.relative_to(i18n.DOCS).as_posix() for p in paths]


def _read(path):
    return i18n.page_text(path)


@pytest.mark.parametrize("rel", REQUIRED)
def test_the_promised_pages_have_twins(rel):
    assert i18n.twin_of(i18n.DOCS / rel).is_file(), f"docs/{rel} has no Chinese twin"


@pytest.mark.parametrize("zh", TWINS, ids=_ids(TWINS))
def test_twin_runs_the_same_code(zh):
    en = i18n.english_page(zh)
    assert en.is_file(), f"{zh.name} translates {en.name}, which does not exist"
    problems = i18n.code_differences(_read(en), _read(zh))
    assert not problems, (
        "\n".join(problems) + "\n(the code is never translated: `python3 tools/i18n.py sync-code "
        f"{zh.relative_to(ROOT)}` copies the English fences)"
    )


@pytest.mark.parametrize("zh", TWINS, ids=_ids(TWINS))
def test_twin_is_fresh(zh):
    en = _read(i18n.english_page(zh))
    assert not i18n.is_stale(en, _read(zh)), (
        f"{zh.relative_to(ROOT)} translates other English prose than the page has now: "
        f"`python3 tools/i18n.py status {zh.relative_to(ROOT)}` shows what changed; translate it, "
        "then `python3 tools/i18n.py stamp` the page"
    )


@pytest.mark.parametrize("zh", TWINS, ids=_ids(TWINS))
def test_twin_reads_as_chinese(zh):
    rel = zh.relative_to(i18n.DOCS).as_posix()
    if i18n.is_exempt(rel):
        pytest.skip("API reference pages stay English")
    assert not i18n.untranslated(_read(zh))


@pytest.mark.parametrize("zh", TWINS, ids=_ids(TWINS))
def test_twin_typography(zh):
    findings = i18n.typography_of_page(zh)
    assert not findings, "\n".join(findings) + "\n(autocorrect's Chinese typography; fix the prose)"


def test_the_typography_check_can_fail():
    assert i18n.typography("这是test。\n") == [(1, "'这是test。' -> '这是 test。'")]
    assert i18n.typography("---\ntitle: 标题\n---\n\n好的。\n\n用Python写。\n")[0][0] == 7  # lines of the page
    assert i18n.typography("!!! note \"注意\"\n    缩进的test。\n")  # an admonition's body is prose
    assert i18n.typography("正向+反向，1：2 来自平方。\n")
    # not prose: front matter, fences (comments too: the code is the English code), inline code,
    # maths, HTML tags and comments, attribute lists, link targets
    assert i18n.typography("""---
translated_from: abc中文123
---
# 标题 {#id中文abc}

代码 `中文code` 和数学 $中文x$、$$中文y$$、\\(中文z\\)，见[链接](https://例子test.com/中文abc)。

$$
中文abc
$$

<img alt="中文abc" src="x.png"> <!-- 中文abc -->

```python
x = 1  # 中文abc
```

!!! note "注意"

    ```python
    y = "中文abc"
    ```
""") == []
    # the book's exception: a hyphen joins Chinese words without spaces
    assert i18n.typography("编码器-解码器和卷积-激活-池化。\n") == []


def test_the_typography_check_reads_notebook_cells(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1  # 中文abc"),
                                         nbformat.v4.new_markdown_cell("# 标题\n\n这是test。")])
    path = tmp_path / "lab.zh.ipynb"
    nbformat.write(nb, path)
    assert i18n.typography_of_page(path) == [f"{path} cell 2, line 3: '这是test。' -> '这是 test。'"]


ENGLISH = """# Title

Some prose about the perceptron, in plain words.

```python
>>> import numpy as np  # setup
>>> x = np.ones(2)  # two inputs
>>> print(x.sum())
2.0
```
"""
CHINESE = """---
translated_from: {stamp}
---
# 标题

关于感知机的一些说明，用简单的话来讲，这里全部是中文的句子，没有英文。

```python
>>> import numpy as np  # setup
>>> x = np.ones(2)  # 两个输入
>>> print(x.sum())
2.0
```
"""


def test_the_checks_can_fail():
    good = CHINESE.format(stamp=i18n.prose_hash(ENGLISH))
    assert i18n.code_differences(ENGLISH, good) == []  # a translated comment is fine
    assert not i18n.is_stale(ENGLISH, good)
    assert i18n.untranslated(good) == []
    # code, outputs and the setup marker must match
    assert i18n.code_differences(ENGLISH, good.replace("np.ones(2)", "np.ones(3)"))
    assert i18n.code_differences(ENGLISH, good.replace("2.0\n", "2.00\n"))
    assert i18n.code_differences(ENGLISH, good.replace("np  # setup", "np"))
    assert i18n.code_differences(ENGLISH, good + "\n```python\n>>> 1\n1\n```\n")
    # English prose changes make the twin stale; code changes do not (the pair check sees those)
    assert i18n.is_stale(ENGLISH.replace("plain words", "simple words"), good)
    assert not i18n.is_stale(ENGLISH.replace("np.ones(2)", "np.ones(3)"), good)
    assert i18n.is_stale(ENGLISH, CHINESE.format(stamp="0" * 12))
    # English left in the Chinese prose
    english_paragraph = " ".join(["word"] * 25)
    assert i18n.untranslated(good + "\n" + english_paragraph + "\n")
    assert i18n.untranslated(good.replace("关于感知机的一些说明，用简单的话来讲，这里全部是中文的句子，没有英文。",
                                          "Mostly English prose here, 感知机."))


def test_sync_code_copies_english_fences(tmp_path):
    en = tmp_path / "page.md"
    zh = tmp_path / "page.zh.md"
    en.write_text(ENGLISH.replace("np.ones(2)", "np.ones(3)").replace("2.0\n", "3.0\n"), encoding="utf-8")
    zh.write_text(CHINESE.format(stamp="x"), encoding="utf-8")
    assert i18n.code_differences(_read(en), _read(zh))
    i18n.sync_code([zh])
    assert i18n.code_differences(_read(en), _read(zh)) == []
    assert "关于感知机" in _read(zh)  # the prose is left alone


def test_twin_paths():
    assert i18n.english_page(Path("docs/a/b.zh.md")) == Path("docs/a/b.md")
    assert i18n.twin_of(Path("docs/a/b.md")) == Path("docs/a/b.zh.md")
    assert i18n.is_twin("x.zh.md") and not i18n.is_twin("x.md") and not i18n.is_twin("zh.md")


# ------------------------------------------------------------------ the built site, both languages

_SWITCH_RE = __import__("re").compile(r'<a href="([^"]*)" hreflang="([^"]+)" class="md-select__link">')
_LANG_RE = __import__("re").compile(r'<html lang="([^"]+)"')


def _built(site, rel):
    from conftest import built_page_dir

    return built_page_dir(site, rel) / "index.html"


@pytest.mark.slow
@pytest.mark.parametrize("zh", TWINS, ids=_ids(TWINS))
def test_language_switch_keeps_the_reader_on_the_page(zh, built_site):
    """The header's switch on a page leads to its twin and back; each page says its language."""
    rel = zh.relative_to(i18n.DOCS).as_posix()
    en_html, zh_html = _built(built_site, i18n.english_src(rel)), _built(built_site, rel)
    for html, lang, other in ((en_html, "en", zh_html), (zh_html, "zh", en_html)):
        text = html.read_text(encoding="utf-8")
        assert _LANG_RE.search(text).group(1) == lang, f"{html} is not lang={lang}"
        links = dict((code, href) for href, code in _SWITCH_RE.findall(text))
        target = (html.parent / links["zh" if lang == "en" else "en"]).resolve() / "index.html"
        assert target == other.resolve(), f"{html.relative_to(built_site)}: the switch leads to {target}"


@pytest.mark.slow
def test_each_language_has_its_own_search_index(built_site):
    import json

    english = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    chinese = json.loads((built_site / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [d for d in english["docs"] if d["location"].startswith("zh/")]
    titles = {d["location"]: d["title"] for d in chinese["docs"]}
    assert "感知机" in titles["02-networks/perceptron/"].replace("\u200b", "")
    assert "perceptron" in {d["location"]: d["title"] for d in english["docs"]}["02-networks/perceptron/"].lower()
    zh_home = (built_site / "zh" / "index.html").read_text(encoding="utf-8")
    assert '"base": "."' in zh_home  # its own root: the Chinese pages load zh/search/search_index.json


@pytest.mark.slow
def test_chinese_figures_are_labelled_in_chinese(built_site):
    """Figures on a Chinese page: the same drawing, its word labels from the label table."""
    import re

    svgs = sorted((built_site / "zh" / "02-networks" / "perceptron").glob("figure-*.svg"))
    assert svgs, "no figure on the Chinese perceptron page"
    texts = [t for svg in svgs for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg.read_text(encoding="utf-8"))]
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), texts[:10]
    english_words = [t for t in texts if re.fullmatch(r"[A-Za-z][A-Za-z ]{3,}", t.strip())]
    assert not english_words, f"untranslated labels on the Chinese page: {english_words}"


def test_the_label_table_translates_diagram_and_plot_labels():
    labels = i18n.figure_labels()
    assert i18n.translate_label("hidden layer", labels) != "hidden layer"
    assert i18n.translate_label("not a label anyone uses", labels) == "not a label anyone uses"
    svg, missing = i18n.translate_svg('<svg><text x="1">hidden layer</text><text>nonsense words</text></svg>', labels)
    assert "hidden layer" not in svg and missing == ["nonsense words"]


def test_glossary_is_sorted_by_pinyin_in_chinese():
    from tools import sitefeatures

    entries = sitefeatures.load_glossary()
    table = sitefeatures.glossary_markdown_zh(entries).splitlines()[2:]
    names = [row.split("|")[1].strip().strip("*") for row in table]
    keys = [sitefeatures.pinyin_key(n.split("、")[0]) for n in names]
    assert keys == sorted(keys) and len(names) == len(entries)
    assert all("definition_zh" in e for e in entries), [e["term"] for e in entries if "definition_zh" not in e]
