"""The README's two commands work on a stock Debian or Ubuntu, and CI runs the test one exactly.

A system Python there refuses ``pip install`` (PEP 668, "externally-managed-environment"), so
both commands make a virtual environment first (``python3 -m venv``, which Debian and Ubuntu
ship as the ``python3-venv`` package: the README says so). ``--system-site-packages`` keeps
what the system has (the optional PyTorch that ``.ci/run`` installs) visible in it.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
VENV = "python3 -m venv --system-site-packages .venv && . .venv/bin/activate && "


def _section_command(title):
    """The one indented command line of the README section ``## title``."""
    m = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## |\Z)", README, re.M | re.S)
    assert m, f"README has no section {title!r}"
    commands = re.findall(r"^    (\S.*)$", m.group("body"), re.M)
    assert len(commands) == 1, f"section {title!r}: expected one command, found {commands}"
    return commands[0]


def test_readme_commands_make_a_virtual_environment_first():
    serve = _section_command("Read the book locally")
    test = _section_command("Run the whole test suite")
    assert serve == VENV + 'python -m pip install -e ".[docs]" && mkdocs serve'
    assert test == VENV + 'python -m pip install -e ".[docs,test]" && python -m pytest'
    assert "python3-venv" in README and "PEP 668" in README


def test_ci_runs_the_readme_test_command_exactly():
    command = _section_command("Run the whole test suite")
    lines = [line for line in CI_RUN.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[-1] == command, f".ci/run ends with {lines[-1]!r}, the README says {command!r}"
    # torch is installed before it, for the system's python3 (seen through --system-site-packages)
    # or into the same .venv
    torch = CI_RUN.index('"torch==2.13.0"')
    assert torch < CI_RUN.index(command)
    assert "--system-site-packages .venv" in CI_RUN[:torch + 200]


def test_the_virtual_environment_is_not_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {".venv/", "/.venv/"} & set(ignored)


def test_a_venv_with_system_site_packages_sees_the_system(tmp_path):
    """What the README's command relies on: ``python3 -m venv --system-site-packages`` works here
    and the environment imports what the system Python has (the packages .ci/run installed)."""
    venv = tmp_path / "venv"
    proc = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"python3 -m venv failed (python3-venv missing?): {proc.stderr}")
        pytest.skip(f"python3 -m venv is unavailable here: {proc.stderr.strip()[:200]}")
    python = venv / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import sys, numpy, mkdocs; print(sys.prefix != sys.base_prefix)"],
        capture_output=True, text=True,
    )
    assert probe.returncode == 0 and probe.stdout.strip() == "True", probe.stderr
