"""The API reference (mkdocstrings) covers the whole public package.

- every public module of ``dlbook`` has a page docs/reference/api/<module>.md with a
  ``::: dlbook.<module>`` directive, and the page is in the site's navigation;
- in the built site, every public function and class of every rendered module (its
  ``__all__``, or its public names) has an entry (an element with the id
  ``dlbook.module.name``): a public object without a docstring would be missing.
"""

import pkgutil
import re

import pytest
import yaml

import dlbook
from conftest import ROOT

API = ROOT / "docs" / "reference" / "api"
DIRECTIVE = re.compile(r"^:::\s*(dlbook(?:\.\w+)*)\s*$", re.M)


def _public_modules():
    return sorted(m.name for m in pkgutil.iter_modules(dlbook.__path__) if not m.name.startswith("_"))


def _rendered():
    """{page stem: [module paths rendered on it]}."""
    return {p.stem: DIRECTIVE.findall(p.read_text(encoding="utf-8")) for p in sorted(API.glob("*.md"))}


def _nav_files(nav):
    for item in nav:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from _nav_files(value) if isinstance(value, list) else [value]


def _nav():
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may hold python-specific tags (!!python/name:...); ignore them here.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    return set(_nav_files(config["nav"]))


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_module_has_a_reference_page(module):
    page = API / f"{module}.md"
    assert page.is_file(), f"no reference page docs/reference/api/{module}.md"
    assert f"dlbook.{module}" in DIRECTIVE.findall(page.read_text(encoding="utf-8"))
    assert f"reference/api/{module}.md" in _nav(), f"reference/api/{module}.md is not in mkdocs.yml's nav"


@pytest.fixture(scope="module")
def package():
    """dlbook as griffe reads it (statically: nothing is imported, so GPU modules load too)."""
    griffe = pytest.importorskip("griffe")
    return griffe.load("dlbook", search_paths=[str(ROOT)])


def _public_objects(package, module_path):
    module = package[module_path[len("dlbook.") :]] if module_path != "dlbook" else package
    exported = module.exports  # __all__ when the module defines it, else None
    for name, member in module.members.items():
        if member.is_alias or name.startswith("_") or not (member.is_function or member.is_class):
            continue
        if exported is None or name in [str(e) for e in exported]:
            yield name


@pytest.mark.slow
def test_every_public_object_has_an_entry(built_site, package):
    problems = []
    for stem, modules in _rendered().items():
        html = (built_site / "reference" / "api" / stem / "index.html").read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', html))
        for module_path in modules:
            for name in _public_objects(package, module_path):
                if f"{module_path}.{name}" not in ids:
                    problems.append(f"{module_path}.{name} (page reference/api/{stem}): no entry — a docstring missing?")
    assert not problems, "\n".join(problems)


def test_every_public_submodule_is_rendered(package):
    """Subpackages' modules (dlbook.layers.core, dlbook.cuda.gemm, ...) appear on a page too."""
    rendered = {m for modules in _rendered().values() for m in modules}

    def walk(module):
        for name, member in module.members.items():
            if not member.is_alias and member.is_module and not name.startswith("_"):
                yield member.path
                yield from walk(member)

    missing = sorted(set(walk(package)) - rendered)
    assert not missing, f"modules with no ::: directive under docs/reference/api/: {missing}"
