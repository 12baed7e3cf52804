"""Fixtures shared by the site tests (build, links, browser, notebook downloads).

``built_site`` runs ``mkdocs build --strict`` once per test session; every site test
reads the same output directory, so the build's cost is paid once.
"""

import importlib.util
import os
import shutil
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


def _build_command(site_dir):
    """``mkdocs build --strict`` into ``site_dir``: (argv, env) for subprocess."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DLBOOK_PROGRESS="0", MPLBACKEND="Agg")
    return [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)], env


# The site build takes one core for two minutes or more. It starts in a subprocess as soon as
# the tests are collected (when a selected test needs it), and the tests that read the site run
# after the others, so the unit tests and the doctests run on the other core meanwhile.
_site_build = {}


def start_site_build():
    """Start ``mkdocs build --strict`` into a fresh temporary folder (once per session)."""
    if "proc" not in _site_build:
        site = Path(tempfile.mkdtemp(prefix="dlbook-site-"))
        out = tempfile.TemporaryFile(mode="w+")
        argv, env = _build_command(site)
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        _site_build.update(proc=proc, out=out, site=site, started=time.perf_counter())
    return _site_build


def finished_site_build():
    """Wait for the build of :func:`start_site_build`; fail with its output if it failed."""
    build = start_site_build()
    returncode = build["proc"].wait()
    if "seconds" not in build:
        build["seconds"] = time.perf_counter() - build["started"]
    build["out"].seek(0)
    assert returncode == 0, f"mkdocs build --strict failed:\n{build['out'].read()}"
    return build["site"]


@pytest.fixture(scope="session")
def built_site():
    """The built site (a directory), built once per session with ``mkdocs build --strict``.

    Set env ``DLBOOK_SITE_DIR`` to a site already built to test that one instead (quick
    iterations on the site tests; the suite itself always builds).
    """
    prebuilt = os.environ.get("DLBOOK_SITE_DIR")
    if prebuilt:
        return Path(prebuilt)
    site = finished_site_build()
    _build_stats.update(seconds=_site_build["seconds"], pages=len(html_pages(site)))
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


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what will not run
def pytest_collection_modifyitems(config, items):
    """Order the tests: those that need neither the site nor the CUDA simulator first, then the
    site's tests (fixture ``built_site``), then those that read the simulator's results
    (fixture ``sim_results``); start the site build and the simulator now, in subprocesses."""
    def needs(item, fixture):
        return fixture in getattr(item, "fixturenames", ())

    site = [item for item in items if needs(item, "built_site") and not needs(item, "sim_results")]
    waiting = [item for item in items if needs(item, "sim_results")]
    later = set(site) | set(waiting)
    items[:] = [item for item in items if item not in later] + site + waiting
    if site and not os.environ.get("DLBOOK_SITE_DIR"):
        start_site_build()
    if waiting:
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
    for started in (_cuda_simulator, _site_build):
        proc = started.get("proc")
        if proc is not None and proc.poll() is None:  # a run stopped early (-x, Ctrl-C)
            proc.kill()
            proc.wait()
    if "site" in _site_build:
        shutil.rmtree(_site_build["site"], ignore_errors=True)


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
