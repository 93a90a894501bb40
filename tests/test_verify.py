"""`mlstarter verify` on a tiny repo: a pass, a broken test, a missed smoke target, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
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
threshold = 0.5
ok = accuracy >= threshold
target = {"value": accuracy, "op": ">=", "threshold": threshold, "met": ok,
          "source": "baseline:majority + 0.4"}
print("training...", file=sys.stderr)
print(json.dumps({"ok": ok, "seconds": 0.0, "metrics": {"accuracy": accuracy},
                  "targets": {"accuracy_over_majority": target}}))
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
    assert data["targets"] == [
        {
            "name": "accuracy_over_majority",
            "value": 0.9,
            "op": ">=",
            "threshold": 0.5,
            "met": True,
            "source": "baseline:majority + 0.4",
        }
    ]
    assert (shared_venv / "bin" / "python").exists()


def test_verify_reuses_the_venv_and_prints_a_table(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 0, result.stderr
    assert "venv" not in [line.split(":")[0].strip() for line in result.stderr.splitlines()]
    assert "smoke" in result.stderr and "accuracy=0.9" in result.stdout
    (row,) = [line for line in result.stdout.splitlines() if "accuracy_over_majority" in line]
    assert row.split() == [
        "accuracy_over_majority",
        "0.9",
        ">=",
        "0.5",
        "met",
        "baseline:majority",
        "+",
        "0.4",
    ]


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
    main.write_text(main.read_text().replace("threshold = 0.5", "threshold = 0.95"))
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 7
    assert "step 'smoke'" in result.stderr
    assert "missed target 'accuracy_over_majority': 0.9 >= 0.95" in result.stderr


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
    tiny_templates(
        "{{cookiecutter.project_slug}}/tests/test_tiny.py", "def test_it():\n    assert True\n"
    )
    result = runner.invoke(
        app, ["new", "tiny", "--no-input", "-o", str(tmp_path), "--verify", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["verify"]["ok"] is True
    assert [s["name"] for s in data["verify"]["steps"]] == ["venv", "setup", "test", "smoke"]
    assert data["verify"]["smoke"]["metrics"] == {"accuracy": 0.9}


# --- the smoke report's targets ------------------------------------------------------------------


def report(**changes):
    target = {"value": 0.9, "op": ">=", "threshold": 0.5, "met": True, "source": "baseline:x + 0.1"}
    data = {"ok": True, "seconds": 1.5, "metrics": {"acc": 0.9}, "targets": {"acc_over_x": target}}
    for key, value in changes.items():
        if key.startswith("t_"):
            if value is ...:
                del target[key[2:]]
            else:
                target[key[2:]] = value
        elif value is ...:
            del data[key]
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"targets": ...}, "has no targets"),
        ({"targets": {}}, "has no targets"),
        ({"targets": []}, "has no targets"),
        ({"ok": "yes"}, "'ok' is missing or not true or false"),
        ({"seconds": ...}, "'seconds' is missing"),
        ({"metrics": [1]}, "'metrics' is missing or not a mapping"),
        ({"t_op": "=="}, "has 'op' '=='"),
        ({"t_threshold": "0.5"}, "'threshold' that is not a finite number"),
        ({"t_threshold": float("inf")}, "'threshold' that is not a finite number"),
        ({"t_value": "high"}, "'value' that is not a number"),
        ({"t_met": "true"}, "'met' that is not true or false"),
        ({"t_source": " "}, "has no 'source'"),
        ({"t_source": ...}, "has no 'source'"),
        ({"t_met": False, "ok": False}, "says met=false, but 0.9 >= 0.5 is true"),
        ({"t_threshold": 0.95}, "says met=true, but 0.9 >= 0.95 is false"),
        ({"ok": False}, "says ok=false, but every target is met"),
        ({"t_threshold": 0.95, "t_met": False}, "says ok=true, but 'acc_over_x' is missed"),
        (
            {"t_threshold": 0.95, "t_met": False, "ok": False},
            "missed target 'acc_over_x': 0.9 >= 0.95",
        ),
        ({"t_value": None}, "is met without a value"),
    ],
)
def test_a_smoke_report_that_is_malformed_or_disagrees_fails_with_its_reason(changes, says):
    from mlstarter.verify import check_smoke_report

    _, problem = check_smoke_report(report(**changes))
    assert problem is not None and says in problem


def test_a_sound_report_passes_also_at_the_rounding_boundary():
    from mlstarter.verify import check_smoke_report

    rows, problem = check_smoke_report(report())
    assert problem is None and rows[0]["name"] == "acc_over_x"
    # 0.4000004 > 0.4000001 was true before both were rounded to 0.4 in the report
    _, problem = check_smoke_report(report(t_value=0.4, t_op=">", t_threshold=0.4))
    assert problem is None
    _, problem = check_smoke_report(report(t_value=None, t_met=False, ok=False))
    assert problem is not None and "missed target" in problem  # NaN values are missed, honestly


def test_a_smoke_that_exits_1_with_a_sound_ok_report_fails(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    main = repo / "src" / "tiny" / "__main__.py"
    main.write_text(main.read_text().replace("sys.exit(0 if ok else 1)", "sys.exit(1)"))
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 7
    assert "the smoke run exited 1 although its report says ok" in result.stderr


# --- steps: time limit, whole process group, bounded output -------------------------------------


def run_step(command, timeout=60.0):
    from mlstarter import verify as verify_mod

    return verify_mod._run_step("step", command, Path.cwd(), dict(os.environ),
                                lambda *a: None, timeout)  # fmt: skip


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for(path: Path) -> int:
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(path.read_text())


def test_a_step_over_its_time_limit_is_stopped_with_its_whole_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = f"sleep 600 & echo $! > {pid_file}; wait"
    step, _ = run_step(["sh", "-c", script], timeout=1)
    assert not step.ok and step.timed_out
    assert "timed out after 1 s" in step.reason
    child = wait_for(pid_file)
    deadline = time.monotonic() + 30
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_what_a_step_leaves_running_in_the_background_is_stopped(tmp_path):
    pid_file = tmp_path / "child.pid"
    step, _ = run_step(["sh", "-c", f"sleep 600 & echo $! > {pid_file}; echo done"])
    assert step.ok and step.tail == ["done"]
    child = wait_for(pid_file)
    deadline = time.monotonic() + 30
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_a_background_child_outside_the_group_holding_the_output_is_not_waited_for(tmp_path):
    """`setsid` puts it beyond the group's reach; it keeps the pipe open for 600 s."""
    pid_file = tmp_path / "escaped.pid"
    code = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "print('done')\n"
    )
    probe = (
        "import os, sys; from pathlib import Path; from mlstarter import verify as v\n"
        f"step, _ = v._run_step('s', [sys.executable, '-c', {code!r}], Path.cwd(), dict(os.environ), lambda *a: None, 600)\n"
        "print(step.ok, step.tail)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
        )
        assert done.stdout.strip() == "True ['done']", done.stderr
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_the_output_kept_of_a_step_is_bounded(tmp_path):
    from mlstarter import verify as verify_mod

    code = "import sys\nfor i in range(200000): print('line', i)\nsys.stdout.write('{' + 'x' * 3_000_000)\n"
    step, last_json = run_step([sys.executable, "-c", code])
    assert step.ok and len(step.tail) == verify_mod.TAIL_LINES
    assert all(len(line) <= verify_mod.TAIL_WIDTH for line in step.tail)
    assert last_json is not None and last_json.endswith("[line cut by mlstarter]")
    assert len(last_json) < verify_mod.MAX_LINE_BYTES + 100


# --- a repo whose record or Makefile is malformed -------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        "answers: [1, 2]\n",
        "answers: {package_name: [x]\n",
        "- just\n- a list\n",
        b"answers:\n  x: \xff\n",
    ],
    ids=["answers-a-list", "broken-yaml", "not-a-mapping", "not-utf8"],
)
def test_a_malformed_record_fails_verification_with_one_line(runner, tmp_path, record):
    repo = make_tiny_repo(tmp_path)
    path = repo / ".mlstarter.yml"
    path.write_bytes(record if isinstance(record, bytes) else record.encode())
    result = runner.invoke(app, ["verify", str(repo), "--json"])
    assert result.exit_code == 7, result.stderr
    assert json.loads(result.stdout)["exit_code"] == 7
    assert "internal error" not in result.stderr and ".mlstarter.yml" in result.stderr


def test_a_makefile_that_is_not_utf8_is_used_not_a_crash(runner, tmp_path, shared_venv):
    repo = make_tiny_repo(tmp_path)
    (repo / "Makefile").write_bytes(b"# caf\xe9\nsetup:\n\t@echo 'setup \xe9' && exit 3\n")
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(shared_venv)])
    assert result.exit_code == 7
    assert "verification failed at step 'setup'" in result.stderr
    assert "internal error" not in result.stderr


def test_ctrl_c_during_new_verify_says_the_repo_is_kept(tmp_path, tiny_templates):
    tiny_templates("{{cookiecutter.project_slug}}/pyproject.toml", TINY_PYPROJECT)
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__init__.py", "")
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__main__.py", TINY_MAIN)
    script = (
        "import sys\nfrom pathlib import Path\nfrom mlstarter import catalog, cli\n"
        f"catalog.templates_root = lambda: Path({str(tiny_templates.root)!r})\n"
        f"sys.argv = ['mlstarter', 'new', 'tiny', '--no-input', '--verify', '-o', {str(tmp_path / 'out')!r}]\n"
        "cli.main()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    repo = tmp_path / "out" / "tiny"
    while proc.poll() is None and not (repo / ".mlstarter.yml").exists():
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "nothing was written" not in err
    assert f"{repo}" in err and ("is kept" in err or "created completely" in err)
    assert (repo / ".mlstarter.yml").is_file()


# --- installer and lint (the 2026 toolchain) ---------------------------------------------------


def test_auto_takes_uv_only_when_it_is_on_the_path(tmp_path):
    from mlstarter.verify import choose_installer

    fake = tmp_path / "bin"
    fake.mkdir()
    assert choose_installer("auto", str(fake)) == "pip"
    (fake / "uv").write_text("#!/bin/sh\n")
    (fake / "uv").chmod(0o755)
    assert choose_installer("auto", str(fake)) == "uv"
    assert choose_installer("pip", str(fake)) == "pip"


def test_asking_for_uv_without_uv_or_for_an_unknown_installer_is_a_usage_error(runner, tmp_path):
    repo = make_tiny_repo(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for args in (["--installer", "uv"], ["--installer", "conda"]):
        env = {"PATH": str(empty)} if args[1] == "uv" else {}
        result = runner.invoke(app, ["verify", str(repo), *args, "--json"], env=env)
        assert result.exit_code == 2, result.output
        assert json.loads(result.stdout.splitlines()[-1])["exit_code"] == 2


MAKEFILE = """\
# tiny
PYTHON ?= python
INSTALLER ?= pip
setup:
\techo "installer=$(INSTALLER)" > installed-with.txt
\t$(PYTHON) -m pip install -q -e ".[dev]"
lint:
\t{lint}
"""


def test_setup_is_told_the_installer_and_a_failing_lint_fails_verification(
    runner, tmp_path, shared_venv
):
    repo = make_tiny_repo(tmp_path)
    (repo / "Makefile").write_text(MAKEFILE.format(lint="@echo lint ok"))
    args = ["verify", str(repo), "--venv", str(shared_venv), "--installer", "pip", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["installer"] == "pip"
    steps = [s["name"] for s in report["steps"] if s["name"] != "venv"]  # venv: first use only
    assert steps == ["setup", "lint", "test", "smoke"]
    assert (repo / "installed-with.txt").read_text().strip() == "installer=pip"
    (repo / "Makefile").write_text(
        MAKEFILE.format(lint="@echo 'src/x.py:1: error: bad type' && false")
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 7
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["steps"][-1]["name"] == "lint" and not report["steps"][-1]["ok"]
    assert "bad type" in result.stderr


GROUPS_PYPROJECT = '\n[dependency-groups]\nextra = ["pytest"]\nother = []\n'
NEEDS_EXTRA = """

def test_that_needs_the_extra_group():
    import pathlib

    import pytest

    if "extra" not in pathlib.Path("installed-with.txt").read_text():
        pytest.skip("the extra group is not installed: make setup WITH=extra")
"""
RECORDING_MAKEFILE = """\
PYTHON ?= python
setup:
\techo "with=$(WITH)" > installed-with.txt
\t$(PYTHON) -m pip install -q -e ".[dev]"
"""


def test_with_a_group_installs_it_and_the_report_lists_what_was_skipped(
    runner, tmp_path, shared_venv
):
    """--with passes the groups to `make setup`; a test that needs one skips without it, and the
    report (JSON and table) names every skipped test with its reason."""
    repo = make_tiny_repo(tmp_path)
    (repo / "pyproject.toml").write_text(TINY_PYPROJECT + GROUPS_PYPROJECT)
    (repo / "Makefile").write_text(RECORDING_MAKEFILE)
    with (repo / "tests" / "test_tiny.py").open("a") as tests:
        tests.write(NEEDS_EXTRA)
    args = ["verify", str(repo), "--venv", str(shared_venv), "--installer", "pip"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["groups"] == []
    (skip,) = report["skipped"]
    assert skip["count"] == 1 and skip["where"].startswith("tests/test_tiny.py:")
    assert skip["reason"] == "the extra group is not installed: make setup WITH=extra"

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tests skipped: 1" in result.stdout and "make setup WITH=extra" in result.stdout

    result = runner.invoke(app, [*args, "--with", "extra", "--with", "extra", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (repo / "installed-with.txt").read_text().strip() == "with=extra"
    assert report["groups"] == ["extra"] and report["skipped"] == []


def test_with_a_group_the_repo_lacks_is_a_usage_error_before_anything_runs(runner, tmp_path):
    repo = make_tiny_repo(tmp_path)
    (repo / "pyproject.toml").write_text(TINY_PYPROJECT + GROUPS_PYPROJECT)
    venv = tmp_path / "venv"
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(venv), "--with", "demo"])
    assert result.exit_code == 2, result.output
    assert "--with demo: the repo has no such dependency group (has: extra, other)" in (
        result.stderr
    )
    assert not venv.exists()
    result = runner.invoke(app, ["verify", str(repo), "--venv", str(venv), "--with", "$(shell id)"])
    assert result.exit_code == 2 and "not a dependency group name" in result.stderr
    assert not venv.exists()


def test_a_refused_installer_leaves_no_temporary_folder(runner, tmp_path, monkeypatch):
    """verify without --venv makes a temporary folder; a usage error after it removes it too."""
    repo = make_tiny_repo(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = runner.invoke(app, ["verify", str(repo), "--installer", "uv"],
                           env={"PATH": str(empty)})  # fmt: skip
    assert result.exit_code == 2, result.output
    assert list(scratch.iterdir()) == []
