"""The build's execution cache (tools/buildcache.py): reused when nothing changed, never stale.

The slow test builds a two-page copy of the site three times in a temporary folder: cold (the
plotting page runs), warm (it is reused), and after a change to a dlbook source file (it runs
again, because the package it imports changed).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import buildcache

ROOT = Path(__file__).resolve().parents[1]


def test_keys_follow_code_and_package(tmp_path):
    for part in ("dlbook", "tools"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    before = buildcache.environment_key(tmp_path)
    assert before == buildcache.environment_key(tmp_path)
    with open(tmp_path / "dlbook" / "activations.py", "a") as f:
        f.write("\n# a change\n")
    buildcache.environment_key.cache_clear()
    assert buildcache.environment_key(tmp_path) != before  # a kernel change re-runs every page
    a = buildcache.page_key([("python", "print(1)")])
    assert a == buildcache.page_key([("python", "print(1)")])
    assert a != buildcache.page_key([("python", "print(2)")])  # a code change re-runs the page


def test_a_lab_is_keyed_by_its_code_only():
    import nbformat

    def cells(*sources):
        return [nbformat.v4.new_markdown_cell(s) if s.startswith("#") else nbformat.v4.new_code_cell(s)
                for s in sources]

    key = buildcache.notebook_key(cells("# XOR", "x = 1", "# Train", "print(x)"))
    assert key == buildcache.notebook_key(cells("# 异或", "x = 1", "# 训练，说明更长", "print(x)"))  # prose
    assert key != buildcache.notebook_key(cells("# XOR", "x = 2", "# Train", "print(x)"))  # code


def test_where_and_when(monkeypatch, tmp_path):
    monkeypatch.delenv("DLBOOK_BUILD_CACHE", raising=False)
    assert buildcache.cache_root("build") is None  # CI builds start cold
    assert buildcache.cache_root("serve") == Path.home() / ".cache" / "dlbook-build"
    monkeypatch.setenv("DLBOOK_BUILD_CACHE", str(tmp_path))
    assert buildcache.cache_root("build") == tmp_path
    monkeypatch.setenv("DLBOOK_BUILD_CACHE", "off")
    assert buildcache.cache_root("serve") is None
    monkeypatch.setenv("DLBOOK_BUILD_CACHE", "1")  # "on": the usual place, not a folder named 1
    assert buildcache.cache_root("build") == Path.home() / ".cache" / "dlbook-build"
    cache = buildcache.PageCache(tmp_path)
    assert cache.get("k") is None and cache.misses == 1
    cache.put("k", {"0": ["![a](b)"]})
    assert cache.get("k") == {"0": ["![a](b)"]} and cache.hits == 1


PAGE = """# A page that draws

```python
>>> import matplotlib.pyplot as plt  # setup
>>> from dlbook.activations import sigmoid
>>> fig, ax = plt.subplots(figsize=(3, 2))
>>> _ = ax.plot([0, 1], [float(sigmoid(0.0)), 1.0])
```
"""


def _mini_site(tmp_path):
    """A copy of the package and the build tools, with a two-page site that uses the same hooks."""
    site = tmp_path / "repo"
    for part in ("dlbook", "tools"):
        shutil.copytree(ROOT / part, site / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, site / name)
    (site / "docs").mkdir()
    (site / "docs" / "index.md").write_text("# Home\n\nNo code here.\n")
    (site / "docs" / "plot.md").write_text(PAGE)
    (site / "mkdocs.yml").write_text(
        "site_name: mini\nhooks:\n  - tools/mkdocs_hooks.py\n"
        "markdown_extensions:\n  - attr_list\n  - admonition\n  - pymdownx.details\n  - pymdownx.superfences\n"
        "nav:\n  - index.md\n  - plot.md\n"
    )
    return site


def _build(site, cache):
    env = dict(os.environ, DLBOOK_BUILD_CACHE=str(cache), NO_MKDOCS_2_WARNING="1", DLBOOK_PROGRESS="0",
               MPLBACKEND="Agg", PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", str(site / "site")],
                          cwd=site, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = re.search(r"execution cache: (\d+) pages reused, (\d+) run", proc.stdout + proc.stderr)
    assert m, proc.stderr
    return int(m.group(1)), int(m.group(2))


@pytest.mark.slow
def test_a_package_change_reruns_the_page_that_imports_it(tmp_path):
    site, cache = _mini_site(tmp_path), tmp_path / "cache"
    assert _build(site, cache) == (0, 1)   # cold: the plotting page runs
    assert _build(site, cache) == (1, 0)   # nothing changed: reused
    with open(site / "dlbook" / "activations.py", "a") as f:
        f.write("\n# a kernel change\n")
    assert _build(site, cache) == (0, 1)   # the package changed: runs again, never a stale figure
    (site / "docs" / "plot.md").write_text(PAGE + "\nMore prose.\n")
    assert _build(site, cache) == (1, 0)   # prose only: reused
    assert "<svg" in (site / "site" / "plot" / "index.html").read_text() or "data:image/svg" in (
        site / "site" / "plot" / "index.html").read_text()


def test_a_served_site_is_kept_for_what_it_was_built_from(tmp_path, monkeypatch):
    """The site a dirty serve keeps is reused only while everything its pages depend on, besides
    each page's own file (which mkdocs' dirty build compares by time), is the same."""
    for part in ("dlbook", "tools", "data"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: mini\n")
    monkeypatch.delenv("DLBOOK_ONLY_LANGUAGE", raising=False)

    def key():
        buildcache.environment_key.cache_clear()
        return buildcache.site_key(tmp_path)

    kept = key()
    assert key() == kept
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nMore prose.\n")
    assert key() == kept  # a page's own edit: mkdocs rebuilds that page
    changes = [
        lambda: (tmp_path / "docs" / "index.zh.md").write_text("# 首页\n"),  # a new page (a twin)
        lambda: (tmp_path / "mkdocs.yml").write_text("site_name: mini\nnav:\n  - index.md\n"),
        lambda: (tmp_path / "data" / "figure_labels.yml").write_text('"a": "甲"\n'),
        lambda: (tmp_path / "tools" / "sitepolish.py").write_text("# changed\n"),
        lambda: (tmp_path / "dlbook" / "activations.py").write_text("# changed\n"),
        lambda: monkeypatch.setenv("DLBOOK_ONLY_LANGUAGE", "en"),
    ]
    for change in changes:
        change()
        assert key() != kept
        kept = key()


@pytest.mark.slow
def test_a_dirty_serve_starts_from_the_site_it_kept(tmp_path):
    """A ``mkdocs serve --dirty`` starts from the site the last dirty serve, or ``mkdocs build``
    with the cache, built: it builds only the page edited in between, and serves that edit."""
    import socket
    import time
    import urllib.request

    site, cache = _mini_site(tmp_path), tmp_path / "cache"
    env = dict(os.environ, DLBOOK_BUILD_CACHE=str(cache), NO_MKDOCS_2_WARNING="1", DLBOOK_PROGRESS="0",
               PYTHONPATH=str(site))

    def serve(until):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = tmp_path / "serve.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--dirty", "--no-strict",
                                     "-a", f"127.0.0.1:{port}"], cwd=site, env=env, stdout=out, stderr=out)
            try:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/plot/", timeout=2) as r:
                            page = r.read().decode()
                        if until in page:
                            break
                    except OSError:
                        pass
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        return page, log.read_text()

    page, log = serve("A page that draws")
    assert "served site restored" not in log and 'class="dlbook-figure"' in page
    (site / "docs" / "index.md").write_text("# Home\n\nA build with the cache keeps its site too.\n")
    assert _build(site, cache) == (1, 0)
    page, log = serve("A page that draws")
    assert "served site restored" in log, log
    (site / "docs" / "plot.md").write_text(PAGE + "\nAn edit while no server ran.\n")
    page, log = serve("An edit while no server ran.")
    assert "served site restored" in log, log
    assert 'class="dlbook-figure"' in page
