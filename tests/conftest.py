"""Fixtures shared by the site tests (build, links, browser, notebook downloads).

``built_site`` runs ``mkdocs build --strict`` once per test session; every site test
reads the same output directory, so the build's cost is paid once.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# conftest.py files outside packages are all imported under the module name "conftest", so
# once this file is loaded, ``from conftest import make_sybil`` (tests/test_fences.py) finds
# this module rather than the repository root's. Pass the root's make_sybil through.
_spec = importlib.util.spec_from_file_location("_dlbook_root_conftest", ROOT / "conftest.py")
_root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root_conftest)
make_sybil = _root_conftest.make_sybil


def build_site(site_dir):
    """Run ``mkdocs build --strict`` into ``site_dir``; fail with the build's output."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DLBOOK_PROGRESS="0", MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The built site (a directory), built once per session with ``mkdocs build --strict``.

    Set env ``DLBOOK_SITE_DIR`` to a site already built to test that one instead (quick
    iterations on the site tests; the suite itself always builds).
    """
    prebuilt = os.environ.get("DLBOOK_SITE_DIR")
    if prebuilt:
        return Path(prebuilt)
    site = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    build_site(site)
    _build_stats.update(seconds=time.perf_counter() - start, pages=len(html_pages(site)))
    return site


_build_stats = {}
#: Lines a test wants in the run's summary (counts for CI logs): ``REPORT.append("...")``.
REPORT = []


def pytest_terminal_summary(terminalreporter):
    """Report the site build's time and page count, and what tests put in ``REPORT``."""
    if _build_stats:
        terminalreporter.write_line(
            f"site: mkdocs build --strict took {_build_stats['seconds']:.1f} s, {_build_stats['pages']} pages"
        )
    for line in REPORT:
        terminalreporter.write_line(line)


# The CUDA simulator checks (tests/cuda_sim_checks.py) keep one core busy for about 100 s in a
# subprocess of their own. They start as soon as the tests are collected and their results are
# checked last, so the rest of the suite runs on the other core meanwhile.
_cuda_simulator = {}


def pytest_collection_modifyitems(config, items):
    """Move the tests that read the simulator's results (fixture ``sim_results``) to the end and
    start the simulator now."""
    waiting = [item for item in items if "sim_results" in getattr(item, "fixturenames", ())]
    if waiting:
        items[:] = [item for item in items if item not in waiting] + waiting
        start_cuda_simulator()


def start_cuda_simulator():
    """Start tests/cuda_sim_checks.py under numba's CUDA simulator (once per session)."""
    if "proc" not in _cuda_simulator:
        out = tempfile.TemporaryFile(mode="w+")
        err = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "cuda_sim_checks.py")],
                                stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
        _cuda_simulator.update(proc=proc, out=out, err=err, started=time.perf_counter())
    return _cuda_simulator


def cuda_simulator_output(timeout=300):
    """Wait for the simulator checks; return (exit code, stdout, stderr)."""
    sim = start_cuda_simulator()
    sim["proc"].wait(timeout=max(1.0, timeout - (time.perf_counter() - sim["started"])))
    sim["out"].seek(0)
    sim["err"].seek(0)
    return sim["proc"].returncode, sim["out"].read(), sim["err"].read()


def pytest_sessionfinish(session):
    proc = _cuda_simulator.get("proc")
    if proc is not None and proc.poll() is None:  # a run stopped early (-x, Ctrl-C)
        proc.kill()


def is_twin(src):
    """Whether a docs-relative page is a Chinese twin (``x.zh.md``; tools/i18n.py)."""
    return Path(src).suffixes[-2:-1] == [".zh"]


def built_page_dir(site, src):
    """The built page's folder for docs-relative ``src`` (use_directory_urls); a Chinese twin
    ``x.zh.md`` is built under ``zh/`` (mkdocs-static-i18n)."""
    rel = Path(src)
    if is_twin(rel):
        rel = Path("zh") / rel.with_name(rel.name.replace(".zh.", "."))
    rel = rel.with_suffix("")
    return Path(site) / (rel.parent if rel.name == "index" else rel)


def html_pages(site):
    """Every built HTML page except the 404 page."""
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")
