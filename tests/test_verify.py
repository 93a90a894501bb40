"""`mlstarter verify` on a tiny repo: a pass, a broken test, a missed smoke target, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlstarter.cli import app

TINY_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.27"]
build-backend = "hatchling.build"

[project]
name = "tiny"
version = "0.1.0"
requires-python = ">=3.11"

[project.optional-dependencies]
dev = ["pytest"]

[tool.hatch.build.targets.wheel]
packages = ["src/tiny"]
"""
TINY_MAIN = """\
import json, sys
accuracy = sum(1 for x in range(100) if x % 10) / 100
ok = accuracy >= float(sys.argv[2]) if len(sys.argv) > 2 else accuracy >= 0.5
print("training...", file=sys.stderr)
print(json.dumps({"ok": ok, "seconds": 0.0, "metrics": {"accuracy": accuracy}}))
sys.exit(0 if ok else 1)
"""


def make_tiny_repo(root: Path, test_body: str = "assert 1 + 1 == 2") -> Path:
    repo = root / "tiny"
    (repo / "src" / "tiny").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text(TINY_PYPROJECT)
    (repo / "src" / "tiny" / "__init__.py").write_text("")
    (repo / "src" / "tiny" / "__main__.py").write_text(TINY_MAIN)
    (repo / "tests" / "test_tiny.py").write_text(f"def test_it():\n    {test_body}\n")
    return repo


@pytest.fixture(scope="module")
def shared_venv(tmp_path_factory) -> Path:
    """One venv for the module's cases, as `--venv` allows: the install happens once."""
    return tmp_path_factory.mktemp("venv") / "venv"


def test_verify_passes_a_working_repo_and_reports_steps_and_metrics(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["steps"]] == ["venv", "setup", "test", "smoke"]
    assert all(s["ok"] and s["seconds"] >= 0 for s in data["steps"])
    assert data["smoke"]["metrics"] == {"accuracy": 0.9}
    assert (shared_venv / "bin" / "python").exists()


def test_verify_reuses_the_venv_and_prints_a_table(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 0, result.stderr
    assert "venv" not in [line.split(":")[0].strip() for line in result.stderr.splitlines()]
    assert "smoke" in result.stderr and "accuracy=0.9" in result.stderr


def test_a_broken_test_is_exit_7_naming_the_step_with_its_output(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path, test_body="assert 'broken' == 'fixed'")
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv), "--json"])
    assert result.exit_code == 7
    assert "verification failed at step 'test'" in result.stderr
    assert "AssertionError" in result.stderr or "assert" in result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == 7
    assert [s["name"] for s in data["steps"]][-1] == "test"


def test_a_missed_smoke_target_is_exit_7(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    main = repo / "src" / "tiny" / "__main__.py"
    main.write_text(main.read_text().replace(">= 0.5", ">= 0.95"))
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 7
    assert "step 'smoke'" in result.stderr


def test_verify_of_a_missing_folder_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(app, ["verify", str(tmp_path / "nope")])
    assert result.exit_code == 2


def test_ctrl_c_stops_the_child_processes(tmp_path, shared_venv):
    pid_file = tmp_path / "child.pid"
    repo = make_tiny_repo(
        tmp_path,
        test_body=(
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(120)"
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlstarter", "verify", str(repo), "--venv", str(shared_venv)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the test step never started"
    time.sleep(0.2)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_new_with_verify_generates_then_proves_the_repo(runner, tmp_path, tiny_templates):
    tiny_templates("{{cookiecutter.project_slug}}/pyproject.toml", TINY_PYPROJECT)
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__init__.py", "")
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__main__.py", TINY_MAIN)
    tiny_templates("{{cookiecutter.project_slug}}/tests/test_tiny.py", "def test_it():\n    assert True\n")
    result = runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path), "--verify", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["verify"]["ok"] is True
    assert [s["name"] for s in data["verify"]["steps"]] == ["venv", "setup", "test", "smoke"]
    assert data["verify"]["smoke"]["metrics"] == {"accuracy": 0.9}
