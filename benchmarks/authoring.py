"""``python3 -m benchmarks.authoring [--repeat 3] [--first-calls-only]``: the authoring loop and a
reader's first call, in seconds.

Works on a temporary copy of the repository (the tracked files), never on the tree itself:

- cold build: ``mkdocs build`` with an empty execution cache (every plotting page and notebook runs);
- warm serve start: ``mkdocs serve --dirty --no-strict`` (mkdocs refuses a dirty build in strict
  mode) with that cache, until the home page answers;
- edit to visible: append a line to docs/02-networks/perceptron.md while serving, until the served
  page shows it; then the same with its Chinese twin (both languages are served, so each rebuild
  builds both: target 10 s); and once more serving the English site alone
  (``DLBOOK_ONLY_LANGUAGE=en mkdocs serve``, mkdocs-static-i18n's ``build_only_locale``: target 5 s);
- first call: ``import`` + one call in a fresh process with a fresh ``NUMBA_CACHE_DIR`` (nothing
  compiled yet) for an activation, ``conv2d`` and ``lstm_forward``.

Prints medians (of ``--repeat`` runs for serve and edit, 5 processes for first calls) and the targets
of the issue that set them.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDITED_PAGES = {"en": ("docs/02-networks/perceptron.md", "/02-networks/perceptron/"),
                "zh": ("docs/02-networks/perceptron.zh.md", "/zh/02-networks/perceptron/")}
FIRST_CALLS = {
    "activation (sigmoid)": "import numpy as np; from dlbook.activations import sigmoid; sigmoid(np.ones(3))",
    "conv2d": "import numpy as np; from dlbook.conv import conv2d; conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)))",
    "lstm_forward": (
        "import numpy as np; from dlbook.rnn import lstm_forward; "
        "lstm_forward(np.ones((1, 2, 3)), np.zeros((1, 4)), np.zeros((1, 4)), np.ones((3, 16)), np.ones((4, 16)), np.zeros(16))"
    ),
}
TARGETS = {"warm serve start": 15.0, "edit to visible, English page": 10.0, "edit to visible, Chinese page": 10.0,
           "edit to visible, English site alone": 5.0, "activation (sigmoid)": 1.5, "conv2d": 2.5,
           "lstm_forward": 2.5}


def copy_repo(dest):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src, dst = ROOT / rel, Path(dest) / rel
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return Path(dest)


def _env(cache, **extra):
    return dict(os.environ, DLBOOK_BUILD_CACHE=str(cache), NO_MKDOCS_2_WARNING="1", DLBOOK_PROGRESS="0", **extra)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url, contains=None, timeout=300):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read().decode("utf-8", "replace")
            if contains is None or contains in body:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not show {contains!r} within {timeout} s")


def cold_build(repo, cache):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(repo / "site")], cwd=repo,
                   env=_env(cache), check=True, capture_output=True)
    return time.perf_counter() - start


def serve_and_edit(repo, cache, run, languages=("en", "zh"), **env):
    """Seconds until ``mkdocs serve --dirty`` answers, then from an edit of the perceptron page in
    each of ``languages`` to the served page showing it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--dirty", "--no-strict", "-a", f"127.0.0.1:{port}"],
                            cwd=repo, env=_env(cache, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start = time.perf_counter()
        _wait_for(f"http://127.0.0.1:{port}/")
        ready, edits = time.perf_counter() - start, []
        for language in languages:
            source, url = EDITED_PAGES[language]
            marker = f"authoring-benchmark-edit-{language}-{run}-{time.time_ns()}"
            page = repo / source
            time.sleep(1.0)  # let the watcher settle after the last build
            page.write_text(page.read_text(encoding="utf-8") + f"\n{marker}\n", encoding="utf-8")
            edits.append(_wait_for(f"http://127.0.0.1:{port}{url}", contains=marker))
        return ready, *edits
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def first_call(code):
    with tempfile.TemporaryDirectory() as numba_cache:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=dict(os.environ, NUMBA_CACHE_DIR=numba_cache),
                       check=True, capture_output=True)
        return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.authoring", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--first-calls-only", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    if not args.first_calls_only:
        with tempfile.TemporaryDirectory(prefix="dlbook-authoring-") as tmp:
            repo, cache = copy_repo(Path(tmp) / "repo"), Path(tmp) / "cache"
            rows.append(("cold build (empty cache)", [cold_build(repo, cache)]))
            ready, edit_en, edit_zh = zip(*(serve_and_edit(repo, cache, run) for run in range(args.repeat)))
            rows += [("warm serve start", list(ready)), ("edit to visible, English page", list(edit_en)),
                     ("edit to visible, Chinese page", list(edit_zh))]
            alone = [serve_and_edit(repo, cache, run, ("en",), DLBOOK_ONLY_LANGUAGE="en")
                     for run in range(args.repeat)]
            rows += [("warm serve start, English site alone", [r[0] for r in alone]),
                     ("edit to visible, English site alone", [r[1] for r in alone])]
    for name, code in FIRST_CALLS.items():
        rows.append((name, [first_call(code) for _ in range(5)]))
    print("| measure | median (s) | runs (s) | target (s) |")
    print("|---|---:|---|---:|")
    for name, times in rows:
        target = TARGETS.get(name)
        print(f"| {name} | {statistics.median(times):.1f} | {', '.join(f'{t:.1f}' for t in times)} | "
              f"{'<= %g' % target if target else ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
