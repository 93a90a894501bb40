"""The README's front door: its test command is what CI runs, and its catalog table is current."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from .conftest import REPO


def fenced_commands(text: str) -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)


def test_ci_runs_exactly_the_readmes_test_command():
    readme = (REPO / "README.md").read_text()
    test_section = readme.split("## Test it", 1)[1].split("##", 1)[0]
    (command,) = fenced_commands(test_section)
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert f"{command} || status=$?" in ci_lines


SHIM = """#!/usr/bin/env bash
# stands in for {name}: logs its call; pytest answers with $FAKE_PYTEST_STATUS
echo "{name} $*" >> "$CALLS"
case "{name} $*" in
  "python3 -m venv .venv") mkdir -p .venv/bin && echo 'export PATH="$SHIMS:$PATH"' > .venv/bin/activate ;;
  "pytest "*) exit "$FAKE_PYTEST_STATUS" ;;
esac
"""


@pytest.mark.parametrize("pytest_status", [0, 1, 5])
def test_ci_fails_whenever_a_test_tier_fails(tmp_path, pytest_status):
    # `set -e` does not stop inside an && list: a failing tier must still be CI's exit status,
    # and the timing table (which needs a finished e2e tier) must not mask it
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", repo / ".ci" / "run")
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in ("python3", "python", "pip", "pytest"):
        (shims / name).write_text(SHIM.replace("{name}", name))
        (shims / name).chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": f"{shims}:{os.environ['PATH']}",
        "SHIMS": str(shims),
        "CALLS": str(calls),
        "FAKE_PYTEST_STATUS": str(pytest_status),
    }
    run = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, stdin=subprocess.DEVNULL)
    assert run.returncode == pytest_status
    log = calls.read_text()
    assert ("python bench/record_verify.py" in log) == (pytest_status == 0)
    assert log.count("pytest -m") == (3 if pytest_status == 0 else 1)


def test_readme_catalog_table_lists_every_project(catalog):
    readme = (REPO / "README.md").read_text()
    table = readme.split("<!-- catalog:begin -->", 1)[1].split("<!-- catalog:end -->", 1)[0]
    keys = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert keys == catalog.keys
    for project in catalog.projects:
        assert project.upstream in table and project.tagline in table
