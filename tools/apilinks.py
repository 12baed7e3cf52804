"""Pages point at the lesson: `dlbook.x.y` in a page's prose becomes a link to its API entry.

A page names the code it teaches in backticks (`dlbook.layers.Affine`, `dlbook.conv`). At build
time each such name that is a public dlbook object becomes a link to its entry in the API
reference (whose "source" view shows the teaching code): objects through mkdocs-autorefs
identifiers (where the object is documented, e.g. ``dlbook.layers.core.Affine``), modules through
their reference page. Code blocks, headings and names already inside a link are left alone, and
a name that is not public stays plain text (so a strict build never sees a dangling reference).
"""

import importlib
import inspect
import posixpath
import re

# `dlbook.something` not already the text of a link: [`dlbook.x`][...] or [`dlbook.x`](...)
NAME_RE = re.compile(r"(?<!\[)`(dlbook(?:\.[A-Za-z]\w*)+)`(?!\]|\()")
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})")


def resolve(name):
    """``("page", "reference/api/conv.md")`` for a public module with a reference page,
    ``("ref", identifier)`` for a public object, or None."""
    parts = name.split(".")
    if any(p.startswith("_") for p in parts):
        return None
    for cut in range(len(parts), 1, -1):  # the longest importable module prefix
        module_name = ".".join(parts[:cut])
        try:
            module = importlib.import_module(module_name)
        except Exception:  # not a module, or one that needs what this machine lacks (a GPU)
            continue
        obj = module
        for attr in parts[cut:]:
            try:
                obj = getattr(obj, attr, None)
            except Exception:  # a lazy attribute that needs a GPU (dlbook.cuda's kernels)
                obj = None
            if obj is None:
                return None
        if inspect.ismodule(obj):
            top = obj.__name__.split(".")
            return ("page", f"reference/api/{top[1]}.md") if len(top) >= 2 else None
        top = module_name.split(".")[1]
        defined = inspect.isclass(obj) or (
            inspect.isfunction(obj) and inspect.unwrap(obj).__code__.co_name == parts[-1]
        )
        if not defined:
            # data, compiled ufuncs and functions made by a factory (dlbook.gates.AND) have no
            # entry of their own in the reference: link their module's page
            return "page", f"reference/api/{top}.md"
        home = getattr(obj, "__module__", None) or module_name
        if not home.startswith("dlbook") or not obj.__doc__:
            return None
        return "ref", f"{home}.{obj.__qualname__}"
    return None


def link_api_names(markdown, page_src_uri):
    """The page's Markdown with every resolvable `dlbook...` name in its prose turned into a link."""
    out, in_fence, fence = [], False, None
    page_dir = posixpath.dirname(page_src_uri)
    for line in markdown.split("\n"):
        m = FENCE_RE.match(line)
        if m:
            if not in_fence:
                in_fence, fence = True, m.group(2)
            elif m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence):
                in_fence = False
            out.append(line)
            continue
        if in_fence or line.lstrip().startswith("#"):
            out.append(line)
            continue
        out.append(NAME_RE.sub(lambda mm: _link(mm, page_dir), line))
    return "\n".join(out)


def _link(match, page_dir):
    name = match.group(1)
    target = resolve(name)
    if target is None:
        return match.group(0)
    kind, where = target
    if kind == "page":
        return f"[`{name}`]({posixpath.relpath(where, page_dir or '.')})"
    return f"[`{name}`][{where}]"
