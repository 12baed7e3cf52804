"""The build's execution cache: re-run a page's code only when its result can have changed.

Executing every plotting page and notebook is most of a build's time. A page's figures depend on
its code and on the package it imports, so a cached result is keyed by

- the page's python fences (info string and body, in order) or the notebook's code cells, and
- the *environment*: every ``dlbook/**/*.py`` (path and bytes), the build tools that run the code
  (tools/bookexec.py, tools/mkdocs_hooks.py, tools/buildcache.py) and the versions of Python,
  numpy, numba and matplotlib.

Change a kernel in ``dlbook`` and every page re-runs: a stale figure is impossible. Change one
page's code and only that page re-runs; change its prose and nothing runs.

``mkdocs serve --dirty`` also keeps the site it served (:func:`site_key`, tools/mkdocs_hooks.py)
and starts the next serve from it: only the pages whose files changed since are built again.

Where: ``$DLBOOK_BUILD_CACHE`` if set, else ``~/.cache/dlbook-build`` — outside the tree, like the
numba cache. When: on by default for ``mkdocs serve``; ``mkdocs build`` (CI, a release) starts cold
unless ``DLBOOK_BUILD_CACHE`` is set. ``DLBOOK_BUILD_CACHE=off`` turns it off everywhere.
"""

import functools
import hashlib
import json
import os
import platform
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("tools/bookexec.py", "tools/mkdocs_hooks.py", "tools/buildcache.py", "tools/figurefacts.py",
         "tools/labkernel.py")
KEEP_ENVIRONMENTS = 3  # older environment folders are removed after a build


def cache_root(command):
    """The cache folder for this mkdocs ``command`` ("serve", "build", ...), or None when off."""
    setting = os.environ.get("DLBOOK_BUILD_CACHE", "").strip()
    default = Path.home() / ".cache" / "dlbook-build"
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    if setting.lower() in ("on", "1", "true", "yes"):  # on, in the usual place
        return default
    if setting:
        return Path(setting).expanduser()
    return default if command == "serve" else None


@functools.lru_cache(maxsize=4)
def environment_key(root=ROOT):
    """A hash of everything a page's output depends on besides the page itself."""
    h = hashlib.sha256()
    for path in sorted((root / "dlbook").rglob("*.py")) + [root / t for t in TOOLS]:
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    import matplotlib
    import numba
    import numpy

    versions = (platform.python_version(), numpy.__version__, numba.__version__, matplotlib.__version__)
    h.update(repr(versions).encode())
    return h.hexdigest()[:20]


# What a built page depends on besides its own source file and the environment: the site's
# configuration, data tables and build tools, the set of pages (a new twin changes the language
# switch of its English page), and mkdocs and its plugins.
SITE_INPUTS = ("mkdocs.yml", "data", "tools")
SITE_PACKAGES = ("mkdocs", "mkdocs-material", "mkdocs-static-i18n", "mkdocs-jupyter", "mkdocstrings",
                 "mkdocstrings-python", "pymdown-extensions", "markdown")


def site_key(root=ROOT):
    """A hash of everything a served site's pages depend on besides each page's own source:
    :func:`environment_key`, :data:`SITE_INPUTS`, the names of the files under docs/, the language
    setting (``DLBOOK_ONLY_LANGUAGE``) and the versions of :data:`SITE_PACKAGES`."""
    from importlib import metadata

    h = hashlib.sha256(environment_key(root).encode())
    for name in SITE_INPUTS:
        path = root / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file() and "__pycache__" not in file.parts:
                h.update(b"\0" + file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    for file in sorted((root / "docs").rglob("*")):
        h.update(b"\0" + file.relative_to(root).as_posix().encode())
    h.update(os.environ.get("DLBOOK_ONLY_LANGUAGE", "").encode())
    for package in SITE_PACKAGES:
        try:
            h.update(f"\0{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"\0{package}=none".encode())
    return h.hexdigest()[:20]


def notebook_key(cells):
    """Key of a notebook's code: ``cells`` its cells (nbformat); only the code cells count, so a
    lab's prose (and its Chinese twin, whose code is the same) shares one run."""
    h = hashlib.sha256(environment_key().encode() + b"\0notebook")
    for cell in cells:
        if cell.cell_type == "code":
            h.update(b"\0" + cell.source.encode())
    return h.hexdigest()


def page_key(fences):
    """Key of a Markdown page's code: ``fences`` is a list of ``(info, body)`` in page order."""
    h = hashlib.sha256(environment_key().encode())
    for info, body in fences:
        h.update(b"\0" + info.encode() + b"\0" + body.encode())
    return h.hexdigest()


class PageCache:
    """Figures of plotting pages, stored as JSON under ``<root>/<environment>/pages/<key>.json``."""

    def __init__(self, root):
        self.dir = None if root is None else Path(root) / environment_key() / "pages"
        self.root = None if root is None else Path(root)
        self.hits = self.misses = 0

    def get(self, key):
        if self.dir is None:
            return None
        path = self.dir / f"{key}.json"
        if not path.exists():
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(path.read_text(encoding="utf-8"))

    def put(self, key, value):
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f"{key}.json.tmp"
        tmp.write_text(json.dumps(value), encoding="utf-8")
        tmp.replace(self.dir / f"{key}.json")  # atomic: a killed build never leaves half a file

    def notebook_dir(self):
        """Where mkdocs-jupyter keeps the HTML of the notebooks it renders for this environment
        (its own key is the executed notebook's bytes and its options)."""
        return None if self.root is None else str(self.root / environment_key() / "notebooks")

    def wheel_dir(self):
        """Where the wheel for this package and this pyproject.toml/README.md is kept (None when off)."""
        if self.root is None:
            return None
        meta = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "README.md").read_bytes())
        return self.root / environment_key() / f"wheel-{meta.hexdigest()[:12]}"

    def prune(self):
        """Remove the oldest environment folders, keeping :data:`KEEP_ENVIRONMENTS`."""
        if self.root is None or not self.root.is_dir():
            return
        envs = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        current = self.root / environment_key()
        for old in [p for p in envs if p != current][KEEP_ENVIRONMENTS - 1:]:
            shutil.rmtree(old, ignore_errors=True)
