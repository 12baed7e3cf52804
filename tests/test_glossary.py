"""The glossary: one data file (data/glossary.yml), one generated page (docs/glossary.md),
and every term the book sets in bold is in it.

Bold (``**term**``) is reserved for glossary-worthy terms (see the conventions); use
*italics* for emphasis. Matching is case-insensitive and ignores Chinese in parentheses,
so ``**perceptron (感知机)**`` and ``**Perceptron**`` both count as "perceptron"; plural or
verb forms go in an entry's ``aliases``.
"""

import re

import pytest

from conftest import ROOT
from tools.sitefeatures import (
    GLOSSARY_FILE,
    GLOSSARY_MARKER,
    book_bold_terms,
    bold_terms,
    glossary_index,
    glossary_markdown,
    load_glossary,
    normalize_term,
    render_glossary_page,
)

DOCS = ROOT / "docs"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def entries():
    return load_glossary()


def test_every_bold_term_is_in_the_glossary(entries):
    index = glossary_index(entries)
    missing = {term: pages for term, pages in book_bold_terms().items() if term not in index}
    assert not missing, (
        f"{len(missing)} bold term(s) are not in {GLOSSARY_FILE.relative_to(ROOT)} "
        "(add them, or use *italics* if the bold is only emphasis):\n"
        + "\n".join(f"  {term!r}  ({', '.join(sorted(set(pages)))})" for term, pages in sorted(missing.items()))
    )


def test_entries_are_complete_and_unique(entries):
    problems, seen = [], {}
    for e in entries:
        name = e.get("term", "?")
        for key in ("term", "zh", "definition", "page"):
            if not str(e.get(key, "")).strip():
                problems.append(f"{name}: no {key}")
        if e.get("zh") and not CJK.search(e["zh"]):
            problems.append(f"{name}: zh {e['zh']!r} has no Chinese")
        page = str(e.get("page", "")).split("#", 1)[0]
        if page and not (DOCS / page).is_file():
            problems.append(f"{name}: page docs/{page} does not exist")
        for alias in [name, *e.get("aliases", [])]:  # a Chinese name may be shared
            key = normalize_term(alias)
            if key in seen:
                problems.append(f"{alias!r} is listed twice ({seen[key]} and {name})")
            seen[key] = name
    assert not problems, "\n".join(problems)
    assert len(entries) >= 1


def test_bold_terms_are_found_outside_code_and_math():
    md = (
        "A **perceptron (感知机)** and the **Multi-layer  Perceptron**. `x**2 + y**2` and "
        "$a**b**c$ are not bold.\n\n```python\nx = 2**3 + 4**5\n```\n\n**多层感知机** alone is Chinese.\n"
        "**Loss function.** ends with a full stop; ***not*** a term? It is: **not**.\n"
    )
    assert bold_terms(md) == ["perceptron", "multi-layer perceptron", "多层感知机", "loss function", "not"]


def test_the_page_is_generated_from_the_data():
    entries = [
        {"term": "perceptron", "zh": "感知机", "definition": "A unit | with a bar.", "page": "02-networks/perceptron.md"},
    ]
    table = glossary_markdown(entries)
    # the link reads as the page's title (its nav title in mkdocs.yml)
    assert "| **perceptron** | 感知机 | A unit \\| with a bar. | [2.1 Perceptron and logic gates](02-networks/perceptron.md) |" in table
    page = (DOCS / "glossary.md").read_text(encoding="utf-8")
    assert GLOSSARY_MARKER in page and "| English |" not in page  # the table is not written by hand
    assert GLOSSARY_MARKER not in render_glossary_page(page, entries)


@pytest.mark.slow
def test_the_built_glossary_lists_every_entry(built_site, entries):
    html = (built_site / "glossary" / "index.html").read_text(encoding="utf-8")
    missing = [e["term"] for e in entries if f"<strong>{e['term']}</strong>" not in html or e["zh"] not in html]
    assert not missing, f"not on the built glossary page: {missing}"


def test_a_bold_term_over_a_line_break_is_seen():
    """Markdown bolds across a line break (not across a blank line): so must the check."""
    from tools.sitefeatures import bold_terms

    assert bold_terms("the **overlapping\nmax pooling** of AlexNet") == ["overlapping max pooling"]
    assert bold_terms("**a\n\nb**") == []
