"""Copy → run: every Python block of a standalone page runs alone, as a reader copies it.

A page shows the doctest form (``>>>`` prompts, printed outputs) and, collapsed, the block's
hidden ``# setup`` lines; the copy button copies the block's script instead: setup and
visible statements, no prompts, no outputs (tools/bookexec.py ``split_fence``,
tools/sitefeatures.py ``mark_fences`` / ``add_copy_text``). Checked here:

- the rendering, on a sample page with the site's Markdown extensions (fast);
- every python block of the built site carries its fence's script (slow);
- in Chromium, each copy button of every standalone page puts exactly that script on the
  clipboard, and every copied text runs alone (fresh globals, one worker process,
  ``MPLBACKEND=Agg``; tests/copy_runner.py) (slow);
- the Get-started page links the wheel the build serves, and that wheel, installed from the
  site's address into a fresh virtual environment, runs the copied blocks of chapter 2 (slow).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPORT, ROOT, built_page_dir, is_twin
from test_browser import CHROMIUM_FLAGS, _unavailable, server  # noqa: F401 (server is a fixture)
from tools.bookexec import is_standalone, page_fences, split_fence
from tools.sitefeatures import (
    WHEEL_PLACEHOLDERS,
    add_copy_text,
    fill_wheel_placeholders,
    mark_fences,
    page_code_cells,
    project_version,
    wheel_name,
)

DOCS = ROOT / "docs"
RUNNER = Path(__file__).with_name("copy_runner.py")


def _built_html(site, src):
    """The built HTML of docs-relative Markdown ``src`` (use_directory_urls; twins under zh/)."""
    return built_page_dir(site, src) / "index.html"


def _standalone_pages():
    # The English pages: a Chinese twin's blocks are the same code (tests/test_i18n.py), and
    # test_every_built_block_carries_its_copy_text checks its copy texts.
    return [md for md in sorted(DOCS.rglob("*.md")) if is_standalone(md) and not is_twin(md)]


class _Blocks(HTMLParser):
    """The attributes of every rendered python block (``data-dlbook-fence``), in page order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-dlbook-fence" in attrs:
            self.blocks.append(attrs)


def _blocks(html_path):
    parser = _Blocks()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser.blocks


def start_copies(blocks, python=sys.executable, cwd=None):
    """Start tests/copy_runner.py under ``python`` on ``[{"id", "code"}]``; :func:`copies_report`
    collects what it found. Meanwhile the caller may do other work (the runner has a core)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", DLBOOK_PROGRESS="0")
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as given:
        json.dump(blocks, given)
        given.seek(0)
        return subprocess.Popen([str(python), str(RUNNER)], stdin=given, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)


def copies_report(proc, timeout=900):
    """Wait for a runner started by :func:`start_copies`; return its report."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, f"copy runner failed:\n{stderr[-4000:]}"
    return json.loads(stdout)


def run_copies(blocks, python=sys.executable, cwd=None, timeout=900):
    """Run ``[{"id", "code"}]`` with tests/copy_runner.py under ``python``; return its report."""
    return copies_report(start_copies(blocks, python, cwd), timeout)


def _failures(report):
    return [f"{r['id']}:\n{r['error']}" for r in report["results"] if not r["ok"]]


# ------------------------------------------------------------------------ rendering (fast)

SAMPLE = '''# Page

A paragraph right above the fence:
```python
>>> import numpy as np  # setup
>>> x = np.arange(3)  # setup
>>> x.sum()
3
```

??? question "Exercise"
    ```python
    total = 0  # setup
    for i in range(3):
        total += i
    print(total)
    ```

```python
print("no setup")
```
'''


def test_rendered_block_shows_setup_collapsed_and_copies_the_script():
    import markdown

    text, scripts = mark_fences(SAMPLE)
    assert scripts == [
        "import numpy as np\nx = np.arange(3)\nx.sum()",
        "total = 0\nfor i in range(3):\n    total += i\nprint(total)",
        'print("no setup")',
    ]
    md = markdown.Markdown(
        extensions=["attr_list", "admonition", "pymdownx.details", "pymdownx.highlight", "pymdownx.superfences"]
    )
    html, seen = add_copy_text(md.convert(text), scripts)
    assert seen == [0, 1, 2]
    assert "# setup" not in html  # the marker is never shown
    details = re.findall(r'<details class="dlbook-setup no-copy">\s*<summary>([^<]*)</summary>', html)
    assert details == ["setup, 2 lines", "setup, 1 line"]
    parser = _Blocks()
    parser.feed(html)
    assert [b["data-copy"] for b in parser.blocks] == scripts
    # Each setup sits right above its block, which shows the doctest form without the setup.
    first = html[html.index("setup, 2 lines") : html.index('data-dlbook-fence="1"')]
    visible = first[first.index('data-dlbook-fence="0"') :]
    assert "numpy" not in visible.split("data-copy=")[0] and "&gt;&gt;&gt;" in visible


def test_notebook_cells_are_the_copy_texts():
    """A page's notebook (tools/sitefeatures.py) holds, per fence, what its copy button copies."""
    assert page_code_cells(SAMPLE) == mark_fences(SAMPLE)[1]


def test_copy_runner_reports_a_block_that_needs_an_earlier_one(tmp_path):
    report = run_copies(
        [{"id": "defines", "code": "x = 1\nprint(x)"}, {"id": "leans", "code": "print(x + 1)"}], cwd=tmp_path
    )
    assert [r["ok"] for r in report["results"]] == [True, False]
    assert "NameError" in report["results"][1]["error"]


def test_wheel_placeholders():
    page = "pip install {{ wheel_url }}\n[{{ wheel_name }}]({{ wheel_path }})\n"
    name = wheel_name()
    assert name == f"dlbook-{project_version()}-py3-none-any.whl"
    out = fill_wheel_placeholders(page, "https://example.org/book/", "get-started/index.html")
    assert out == f"pip install https://example.org/book/downloads/{name}\n[{name}](../downloads/{name})\n"
    assert not any(p in out for p in WHEEL_PLACEHOLDERS)


# --------------------------------------------------------------------- the built site


@pytest.mark.slow
def test_every_built_block_carries_its_copy_text(built_site):
    """On every page (standalone or not), each python fence became one block whose
    ``data-copy`` is that fence's script."""
    problems = []
    for md in sorted(DOCS.rglob("*.md")):
        src = md.relative_to(DOCS).as_posix()
        fences = page_fences(md.read_text(encoding="utf-8"))
        blocks = _blocks(_built_html(built_site, src))
        if [int(b["data-dlbook-fence"]) for b in blocks] != list(range(len(fences))):
            problems.append(f"{src}: {len(fences)} python fences, blocks {[b['data-dlbook-fence'] for b in blocks]}")
            continue
        for block, (m, body, _) in zip(blocks, fences):
            if block.get("data-copy") != split_fence(body).script:
                problems.append(f"{src}: block {block['data-dlbook-fence']} copies something else than its script")
    assert not problems, "\n".join(problems)


# In the page: click every python block's copy button (scrolled into view, and only where the
# button is what a pointer at its centre would hit) and read what it put on the clipboard.
# One round trip per page: clicking through Playwright block by block took a minute.
_COPY_EVERY_BLOCK_JS = r"""
async () => {
  const sentinel = "\0sentinel";
  const copies = [];
  for (const block of document.querySelectorAll("div.dlbook-code")) {
    const data = block.getAttribute("data-copy");
    const button = block.querySelector('button.md-code__button[data-md-type="copy"]');
    if (!button) { copies.push({ error: "no copy button", data }); continue; }
    button.scrollIntoView({ block: "center" });
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!(box.width > 0 && box.height > 0 && hit && (hit === button || button.contains(hit)))) {
      copies.push({ error: "the copy button cannot be clicked: " + (hit ? hit.outerHTML.slice(0, 80) : "nothing there"), data });
      continue;
    }
    await navigator.clipboard.writeText(sentinel);
    button.click();
    let text = sentinel;
    for (let tries = 0; tries < 400 && text === sentinel; tries++) {
      await new Promise((done) => setTimeout(done, 5));
      text = await navigator.clipboard.readText();
    }
    copies.push({ text, data });
  }
  return copies;
}
"""


@pytest.mark.slow
def test_copy_button_copies_the_script_and_it_runs(built_site, server, tmp_path):  # noqa: F811
    """Chromium clicks every copy button of every standalone page; the clipboard holds the
    build's copy text, and every copied text runs alone (run while the browser clicks: the
    clipboard must hold exactly the texts that ran)."""
    executable = os.environ.get("DLBOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _unavailable("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (test extra)")

    pages = _standalone_pages()
    assert pages, "no standalone page"
    # What each copy button must copy (each fence's script) starts running now, beside the
    # browser; the clicks below prove the clipboard holds exactly these texts.
    to_run = [{"id": f"{md.relative_to(DOCS).as_posix()} block {i}", "code": split_fence(body).script.rstrip()}
              for md in pages for i, (_, body, skipped) in enumerate(page_fences(md.read_text(encoding="utf-8")))
              if not skipped]
    runner = start_copies(to_run, cwd=tmp_path)
    problems, n_blocks = [], 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS, timeout=60_000)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            for md in pages:
                src = md.relative_to(DOCS).as_posix()
                url = "/" + _built_html(built_site, src).relative_to(built_site).as_posix()
                page.goto(server + url[: -len("index.html")], wait_until="load")
                fences = page_fences(md.read_text(encoding="utf-8"))
                # A reader opens an exercise's answer before copying from it.
                page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
                copies = page.evaluate(_COPY_EVERY_BLOCK_JS)
                if len(copies) != len(fences):
                    problems.append(f"{src}: {len(copies)} python blocks on the page, {len(fences)} fences")
                    continue
                if copies:  # one copy button per page is also clicked as a mouse does (Playwright's checks)
                    page.evaluate("t => navigator.clipboard.writeText(t)", "\0sentinel")
                    page.locator('div.dlbook-code button.md-code__button[data-md-type="copy"]').first.click()
                    page.wait_for_function("async () => (await navigator.clipboard.readText()) !== '\\0sentinel'")
                    if page.evaluate("() => navigator.clipboard.readText()") != copies[0].get("text"):
                        problems.append(f"{src}: a mouse click on the first copy button copied something else")
                for i, ((_, body, _), copy) in enumerate(zip(fences, copies)):
                    expected = split_fence(body).script
                    n_blocks += 1
                    if "error" in copy:
                        problems.append(f"{src} block {i}: {copy['error']}")
                    elif copy["data"] != expected:
                        problems.append(f"{src} block {i}: data-copy is not the fence's script")
                    elif copy["text"] != expected.rstrip():
                        problems.append(f"{src} block {i}: the clipboard holds\n{copy['text']}\nexpected\n{expected}")
        except BaseException:
            runner.kill()
            runner.wait()
            raise
        finally:
            context.close()
            browser.close()
    report = copies_report(runner)
    assert not problems, "\n".join(problems)
    failures = _failures(report)
    REPORT.append(
        f"copy → run (Chromium): {len(pages)} pages × {n_blocks} blocks copied, "
        f"{len(to_run) - len(failures)} of {len(to_run)} runnable ran alone"
    )
    assert not failures, f"{len(failures)} copied block(s) failed to run alone:\n" + "\n".join(failures)


@pytest.mark.slow
def test_get_started_links_the_served_wheel(built_site):
    name = wheel_name()
    wheel = built_site / "downloads" / name
    assert wheel.is_file(), f"the build did not serve {name}"
    html = _built_html(built_site, "get-started.md").read_text(encoding="utf-8")
    assert not any(p.replace(" ", "") in html.replace(" ", "") for p in WHEEL_PLACEHOLDERS)
    m = re.search(r'<a class="dlbook-wheel" href="([^"]+)"', html)
    assert m and m.group(1) == f"../downloads/{name}"
    site_url = re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(), re.M).group(1)
    text = unescape(re.sub(r"<[^>]+>", "", html))  # highlighted code is split into spans
    assert f"python3 -m pip install {site_url.rstrip('/')}/downloads/{name}" in text
    # The wheel holds exactly the package's modules, at the project's version.
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(f"dlbook-{project_version()}.dist-info/METADATA").decode()
    ours = {p.relative_to(ROOT).as_posix() for p in (ROOT / "dlbook").rglob("*.py")}
    assert {n for n in names if n.endswith(".py")} == ours
    assert f"Version: {project_version()}" in metadata


@pytest.mark.slow
def test_served_wheel_runs_chapter_2_in_a_fresh_venv(built_site, server, tmp_path):  # noqa: F811
    """pip installs the wheel from the site's own address into a new virtual environment
    (system site-packages for NumPy and numba; ``dlbook`` itself must come from the wheel),
    and the copied blocks of chapter 2 run there, each alone."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    url = f"{server}/downloads/{wheel_name()}"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
         "--disable-pip-version-check", "-q", url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert install.returncode == 0, f"pip install {url} failed:\n{install.stdout}\n{install.stderr}"
    blocks = []
    for md in sorted(p for p in (DOCS / "02-networks").glob("*.md") if not is_twin(p)):
        src = md.relative_to(DOCS).as_posix()
        fences = page_fences(md.read_text(encoding="utf-8"))
        for block, (_, _, skipped) in zip(_blocks(_built_html(built_site, src)), fences):
            if not skipped:
                blocks.append({"id": f"{src} block {block['data-dlbook-fence']}", "code": block["data-copy"]})
    assert len(blocks) >= 40, f"only {len(blocks)} blocks in chapter 2"
    report = run_copies(blocks, python=python, cwd=tmp_path)
    assert report["dlbook_file"] and Path(report["dlbook_file"]).resolve().is_relative_to(venv.resolve()), (
        f"dlbook was imported from {report['dlbook_file']}, not from the wheel in {venv}"
    )
    failures = _failures(report)
    REPORT.append(f"wheel in a fresh venv: {len(blocks) - len(failures)} of {len(blocks)} chapter 2 blocks ran")
    assert not failures, "\n".join(failures)
