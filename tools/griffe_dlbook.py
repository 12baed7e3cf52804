"""griffe extension for the API reference (mkdocstrings): make dlbook's docstrings read well.

dlbook's docstrings are plain prose with shape lines and Sphinx-style roles. At build time,
without touching the source:

- ``:func:`softmax``` (and ``:class:``, ``:meth:``, ``:mod:`` ...) becomes a link to that
  object's entry in the reference when it has one (a public, documented object), else code;
- ``docs/02-networks/activations.md`` (a module naming its book page) becomes a link to
  that page when the page exists, reading as the page's title ("2.4 Activation functions");
- a ``>>>`` example (with its expected output) becomes a code block, not the nested
  blockquotes that Markdown would make of its ``>`` characters.

Configured in mkdocs.yml under ``plugins.mkdocstrings.handlers.python.options.extensions``.
"""

import re
from pathlib import Path

import griffe

try:  # loaded by mkdocstrings after tools/mkdocs_hooks.py imported it, or as tools.* by the tests
    import sitefeatures
except ImportError:  # pragma: no cover - outside a build
    from tools import sitefeatures

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Every API page lives at docs/reference/api/<module>.md.
API_DIR = "reference/api"

ROLE_RE = re.compile(r":(?:py:)?(?P<role>func|class|mod|meth|data|attr|exc|obj|const):`~?(?P<name>[\w.]+)(?P<call>\(\))?`")
PAGE_RE = re.compile(r"(?<![\w/.])docs/(?P<path>[\w\-./]+?\.(?:md|ipynb))\b")


def _lookup(pkg, path):
    """The object at a dotted ``path`` under ``pkg`` (aliases followed), or None."""
    parts = path.split(".")
    if parts[0] != pkg.name:
        return None
    obj = pkg
    try:
        for part in parts[1:]:
            obj = obj.members[part]
            if obj.is_alias:
                obj = obj.final_target
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return obj


def _rendered(obj):
    """Whether the reference renders ``obj`` with an anchor (public, documented, not a module)."""
    if obj.is_module:
        return False  # module headings are not shown on every page: refer to them as code
    if any(part.startswith("_") and part != "__init__" for part in obj.path.split(".")):
        return False
    return bool(obj.docstring and obj.docstring.value.strip())


def _resolve(name, where, pkg):
    """The full path of what ``name`` means inside object ``where``, or None."""
    module = where if where.is_module else where.module
    candidates = [name] if name.startswith(pkg.name + ".") or name == pkg.name else []
    scope = where
    while scope is not None:
        candidates.append(f"{scope.path}.{name}")
        scope = scope.parent
    candidates.append(f"{module.path}.{name}")
    for path in candidates:
        obj = _lookup(pkg, path)
        if obj is not None:
            return obj
    return None


_DOCTEST_START_RE = re.compile(r"^(?P<indent>[ \t]*)>>> ")


def fence_doctests(text):
    """Wrap every doctest example of a docstring (``>>>``/``...`` lines and the expected output
    down to the next blank line) in a ```` ```pycon ```` fence; text already in a fence is kept."""
    lines, out, i, fence = text.split("\n"), [], 0, None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        m = _DOCTEST_START_RE.match(line) if fence is None else None
        if m is None:
            out.append(line)
            i += 1
            continue
        indent, block = m.group("indent"), []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].strip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
    return "\n".join(out)


def rewrite(text, where, pkg, page_exists=lambda p: (DOCS / p).is_file(), title=None):
    """Return ``text`` with roles and book-page paths turned into Markdown links (labelled with
    the page's title, ``title(path)``) or code, and doctest examples fenced as code."""
    title = title or sitefeatures.page_title

    def role(m):
        name, call = m.group("name"), m.group("call") or ""
        label = f"`{name.rsplit('.', 1)[-1] if m.group('role') != 'mod' else name}{call}`"
        target = _resolve(name, where, pkg)
        if target is not None and _rendered(target):
            return f"[{label}][{target.path}]"
        return label

    def page(m):
        path = m.group("path")
        if not page_exists(path):
            return f"`docs/{path}`"
        label = title(path).replace("[", "\\[").replace("]", "\\]")
        return f"[{label}](../../{path})"

    return PAGE_RE.sub(page, ROLE_RE.sub(role, fence_doctests(text)))


class DlbookDocstrings(griffe.Extension):
    """Rewrite every docstring of the dlbook package once it is fully loaded."""

    def on_package(self, *, pkg, **kwargs):
        if pkg.name != "dlbook":
            return
        seen = set()

        def walk(obj):
            if obj.path in seen:
                return
            seen.add(obj.path)
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, pkg)
            for member in obj.members.values():
                if not member.is_alias:
                    walk(member)

        walk(pkg)
