"""`mlstarter grade`: a class graded on the same ground, with the student's own tests, conftest and
pytest settings never applying, points that mean something, and a leaderboard on one seed."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlstarter.cli import app

from .conftest import COMMON_JSON

CORE = '''"""Geometry the student implements."""

import math


def area(radius: float) -> float:
    """The area of a circle."""
    # >>> assignment: return pi times the radius squared (math.pi)
    return math.pi * radius * radius
    # <<< assignment


def double(x: float) -> float:
    """Twice x (given: the student writes nothing here)."""
    return 2 * x
'''
SOLUTION_LINE = "    return math.pi * radius * radius\n"
TODO_LINE = '    raise NotImplementedError("TODO: return pi times the radius squared (math.pi)")\n'
MAIN = '''"""python -m tiny smoke [--seed S]: the report every starter prints last."""

import argparse
import json
import math
import random
import sys
import time

from tiny.core import area


def main() -> int:
    parser = argparse.ArgumentParser(prog="tiny")
    commands = parser.add_subparsers(dest="command", required=True)
    smoke = commands.add_parser("smoke")
    smoke.add_argument("--seed", type=int, default={{ cookiecutter.seed }})
    args = parser.parse_args()
    started = time.monotonic()
    rng = random.Random(args.seed)
    radii = [rng.uniform(0.5, 2.0) for _ in range(40)]
    score = sum(abs(area(r) - math.pi * r * r) < 1e-9 for r in radii) / len(radii)
    met = score >= 0.99
    print(json.dumps({
        "ok": met, "seconds": round(time.monotonic() - started, 3),
        "metrics": {"score": score, "first_radius": round(radii[0], 6)},
        "targets": {"score": {"value": score, "op": ">=", "threshold": 0.99, "met": met,
                              "source": "published: the area formula"}},
    }))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
'''
VISIBLE = """import pytest

from tiny.core import area, double


def test_area_of_unit_circle():
    assert abs(area(1) - 3.14159) < 1e-4


@pytest.mark.parametrize("r", [1, 2, 3])
def test_area_is_positive(r):
    assert area(r) > 0


def test_double_needs_no_work():
    assert double(2) == 4
"""
HIDDEN = """import subprocess
import sys

import pytest

from tiny.core import area


def test_area_scales_with_the_square():
    assert area(2) == pytest.approx(4 * area(1))


def test_the_smoke_meets_its_target():
    done = subprocess.run([sys.executable, "-m", "tiny", "smoke", "--seed", "3"], check=False)
    assert done.returncode == 0
"""
PYPROJECT = """[project]
name = "{{ cookiecutter.project_slug }}"
version = "0.1.0"

[project.scripts]
{{ cookiecutter.project_slug }} = "tiny.__main__:main"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
CHEAT_CONFTEST = """import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.skip(reason="nothing to see"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
"""
BUG_LINE = (
    "    return math.pi * radius * min(radius, 1.5)\n"  # right up to 1.5: the visible tests pass
)
MAX_POINTS = 6  # unit circle 1 + positive x3, hidden: scaling 1 + smoke 1 (double needs no work)
GIT_ENV = {"GIT_AUTHOR_NAME": "S", "GIT_AUTHOR_EMAIL": "s@uni.example",
           "GIT_COMMITTER_NAME": "S", "GIT_COMMITTER_EMAIL": "s@uni.example",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def commit(repo: Path, message: str = "my work") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


@pytest.fixture
def tiny_grading(tiny_templates):
    """The tiny template with a smoke, a hidden test and a per-student seed."""
    (tiny_templates.template / "cookiecutter.json").write_text(
        json.dumps({**COMMON_JSON, "seed": "0"}), encoding="utf-8"
    )
    slug = "{{cookiecutter.project_slug}}"
    tiny_templates(f"{slug}/pyproject.toml", PYPROJECT)
    tiny_templates(f"{slug}/src/tiny/__init__.py", "")
    tiny_templates(f"{slug}/src/tiny/core.py", CORE)
    tiny_templates(f"{slug}/src/tiny/__main__.py", MAIN)
    tiny_templates(f"{slug}/tests/test_core.py", VISIBLE)
    tiny_templates(f"{slug}/tests/hidden/test_hidden.py", HIDDEN)
    return tiny_templates


def make_class(runner, tmp_path: Path, ids: list[str], *extra: str) -> Path:
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\n" + "".join(
        f"{i},Student {i},{i}@uni.example,{i}\n" for i in ids))  # fmt: skip
    out = tmp_path / "class"
    result = runner.invoke(app, ["batch", str(roster), "--project", "tiny", "--flavor",
                                 "assignment", "--git", "-o", str(out), *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def grade(runner, class_dir: Path, *extra: str):
    return runner.invoke(app, ["grade", str(class_dir), "--venv", sys.prefix, "-j", "2", *extra])


def solve(repo: Path, line: str = SOLUTION_LINE) -> None:
    core = repo / "src" / "tiny" / "core.py"
    core.write_text(core.read_text().replace(TODO_LINE, line))


@pytest.fixture
def class_of_four(tiny_grading, runner, tmp_path):
    out = make_class(runner, tmp_path, ["correct", "untouched", "cheat", "buggy"])
    solve(out / "tiny-correct")
    commit(out / "tiny-correct")
    cheat = out / "tiny-cheat"
    (cheat / "tests" / "conftest.py").write_text(CHEAT_CONFTEST)
    (cheat / "tests" / "hidden").mkdir()
    (cheat / "tests" / "hidden" / "conftest.py").write_text(CHEAT_CONFTEST)
    (cheat / "conftest.py").write_text(CHEAT_CONFTEST)
    (cheat / "src" / "sitecustomize.py").write_text("import os\nos._exit(0)\n")
    with (cheat / "pyproject.toml").open("a") as f:
        f.write('addopts = "-p no:python"\n')
    (cheat / "tests" / "test_core.py").write_text("def test_area_of_unit_circle():\n    pass\n")
    commit(cheat, "a few improvements")
    solve(out / "tiny-buggy", BUG_LINE)
    commit(out / "tiny-buggy")
    return out


def test_a_class_of_four_is_ranked_honestly_and_the_cheat_earns_nothing(class_of_four, runner):
    result = grade(runner, class_of_four, "--seed", "7")
    assert result.exit_code == 0, result.output
    data = json.loads((class_of_four / "grades.json").read_text())
    points = {s["student_id"]: s["points"] for s in data["students"]}
    assert {s["max_points"] for s in data["students"]} == {MAX_POINTS}
    assert points == {"correct": MAX_POINTS, "untouched": 0, "cheat": 0, "buggy": MAX_POINTS - 2}
    buggy = next(s for s in data["students"] if s["student_id"] == "buggy")
    assert {f["nodeid"] for f in buggy["failed"]} == {
        "tests/hidden/test_hidden.py::test_area_scales_with_the_square",
        "tests/hidden/test_hidden.py::test_the_smoke_meets_its_target",
    }
    tests = {t["nodeid"]: t for t in data["projects"]["tiny"]["tests"]}
    assert not tests["tests/test_core.py::test_double_needs_no_work"]["graded"]  # no work needed
    assert tests["tests/test_core.py::test_area_is_positive[3]"]["graded"]  # each case a point
    with (class_of_four / "grades.csv").open(newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["correct"]["points"] == "6" and rows["buggy"]["tests/hidden/test_hidden.py"] == "0"
    assert rows["buggy"]["tests/test_core.py"] == "4" and rows["correct"]["smoke_ok"] == "yes"
    assert rows["buggy"]["smoke_ok"] == "no" and float(rows["correct"]["smoke:score"]) == 1.0
    # one common seed: the same first radius for everyone whose smoke ran
    firsts = {s["smoke"]["metrics"].get("first_radius") for s in data["students"]
              if s["smoke"] and s["smoke"]["metrics"]}  # fmt: skip
    assert len(firsts) == 1
    board = (class_of_four / "leaderboard.md").read_text()
    assert board.index("| 1 | correct |") < board.index("| 2 | buggy |")
    feedback = (class_of_four / "feedback" / "buggy.md").read_text()
    assert "**Points: 4 / 6**" in feedback and "test_area_scales_with_the_square" in feedback
    cheat = (class_of_four / "feedback" / "cheat.md").read_text()
    assert "Points: 0 / 6" in cheat
    assert "cut (network namespace)" in result.stdout or "network while grading" in result.stdout


def test_the_hidden_tests_and_the_solution_never_reach_the_student(class_of_four):
    student = class_of_four / "tiny-untouched"
    everything = "".join(
        p.read_text(errors="replace")
        for p in student.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    assert "math.pi * radius * radius" not in everything
    assert "test_area_scales_with_the_square" not in everything
    assert (class_of_four / "_grader" / "tiny" / "tests" / "hidden" / "test_hidden.py").is_file()


def test_a_test_the_student_s_code_skips_or_xfails_scores_nothing(tiny_grading, runner, tmp_path):
    """The package is the student's: code that skips the test calling it (or marks it an expected
    failure) earns no points for it."""
    out = make_class(runner, tmp_path, ["skipper"])
    solve(out / "tiny-skipper", "    import pytest\n    if radius == 2:\n        pytest.xfail('later')\n"
                                "    pytest.skip('later')\n")  # fmt: skip
    commit(out / "tiny-skipper")
    result = grade(runner, out, "--no-smoke")
    assert result.exit_code == 0, result.output
    student = json.loads((out / "grades.json").read_text())["students"][0]
    assert student["points"] == 0 < student["max_points"]
    outcomes = {f["nodeid"]: f["outcome"] for f in student["failed"]}
    assert outcomes["tests/test_core.py::test_area_of_unit_circle"] == "skipped"
    assert outcomes["tests/test_core.py::test_area_is_positive[2]"] in ("skipped", "xfailed")


def test_only_the_committed_code_is_graded(tiny_grading, runner, tmp_path):
    out = make_class(runner, tmp_path, ["late"])
    solve(out / "tiny-late")  # written, never committed
    result = grade(runner, out, "--no-smoke")
    assert result.exit_code == 0, result.output
    student = json.loads((out / "grades.json").read_text())["students"][0]
    assert student["points"] == 0 and student["graded"]["source"] == "git"
    assert student["graded"]["commit"] == git(out / "tiny-late", "rev-parse", "HEAD")


def test_a_repo_without_git_is_graded_from_its_files_and_says_so(tiny_grading, runner, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\nnogit,N,n@uni.example,n\n")
    out = tmp_path / "class"
    runner.invoke(
        app, ["batch", str(roster), "--project", "tiny", "--flavor", "assignment", "-o", str(out)]
    )
    solve(out / "tiny-nogit")
    result = grade(runner, out, "--no-smoke")
    assert result.exit_code == 0, result.output
    student = json.loads((out / "grades.json").read_text())["students"][0]
    assert student["points"] == MAX_POINTS
    assert student["graded"]["source"] == "files"
    assert any("not a git repository" in n for n in student["notes"])


def test_changes_outside_the_marked_files_are_not_graded_and_are_named(
    tiny_grading, runner, tmp_path
):
    out = make_class(runner, tmp_path, ["faker"])
    repo = out / "tiny-faker"
    main = repo / "src" / "tiny" / "__main__.py"
    main.write_text(main.read_text().replace("score = sum(", "score = 1.0 or sum("))
    (repo / "src" / "tiny" / "helpers.py").write_text("HELP = 1\n")  # new files are the student's
    commit(repo)
    result = grade(runner, out)
    assert result.exit_code == 0, result.output
    student = json.loads((out / "grades.json").read_text())["students"][0]
    assert any("not yours to change" in n and "__main__.py" in n for n in student["notes"])
    assert student["smoke"]["ok"] is False  # the pristine smoke ran, not the faked one


def test_a_test_that_kills_the_process_or_hangs_costs_only_itself(tiny_grading, runner, tmp_path):
    out = make_class(runner, tmp_path, ["crash"])
    (out / "_grader" / "tiny" / "grading.yml").write_text("test_timeout: 10\nsmoke: no\n")
    repo = out / "tiny-crash"
    solve(repo, "    import os\n    if radius == 3:\n        os._exit(3)\n"
                "    while radius == 2 and abs(radius) > 1:\n        pass\n"
                "    return math.pi * radius * radius\n")  # fmt: skip
    commit(repo)
    result = grade(runner, out)
    assert result.exit_code == 0, result.output
    student = json.loads((out / "grades.json").read_text())["students"][0]
    failed = {f["nodeid"]: f["message"] for f in student["failed"]}
    assert "ended during this test" in failed["tests/test_core.py::test_area_is_positive[3]"]
    assert "longer than 10 s" in failed["tests/test_core.py::test_area_is_positive[2]"]
    assert student["tests"]["tests/test_core.py::test_area_of_unit_circle"] == "passed"
    assert (
        student["tests"]["tests/hidden/test_hidden.py::test_the_smoke_meets_its_target"] == "passed"
    )


def test_the_grading_spec_sets_points_per_test(tiny_grading, runner, tmp_path):
    out = make_class(runner, tmp_path, ["a"])
    (out / "_grader" / "tiny" / "grading.yml").write_text(
        'points:\n  "tests/hidden/*": 5\n  "tests/test_core.py::test_area_is_positive*": 0\n'
        "default_points: 2\nsmoke: no\n"
    )
    solve(out / "tiny-a")
    commit(out / "tiny-a")
    result = grade(runner, out, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["students"][0]["points"] == payload["students"][0]["max_points"] == 2 + 5 + 5
    (out / "_grader" / "tiny" / "grading.yml").write_text("pionts: {}\n")
    result = grade(runner, out, "--json")
    assert (
        result.exit_code == 2 and "unknown setting 'pionts'" in json.loads(result.stdout)["error"]
    )


def test_a_missing_repo_is_graded_zero_and_the_exit_code_says_so(tiny_grading, runner, tmp_path):
    out = make_class(runner, tmp_path, ["here", "gone"])
    import shutil

    shutil.rmtree(out / "tiny-gone")
    result = grade(runner, out, "--no-smoke", "--json")
    assert result.exit_code == 9
    payload = json.loads(result.stdout)
    assert {s["student_id"]: s["status"] for s in payload["students"]} == {
        "here": "graded", "gone": "missing"
    }  # fmt: skip
    assert payload["exit_code"] == 9 and (out / "grades.csv").is_file()


def test_an_edited_grades_file_is_backed_up_and_an_untouched_one_replaced(
    tiny_grading, runner, tmp_path
):
    out = make_class(runner, tmp_path, ["a"])
    assert grade(runner, out, "--no-smoke").exit_code == 0
    assert grade(runner, out, "--no-smoke").exit_code == 0
    assert not list(out.glob("grades.backup-*"))
    with (out / "grades.csv").open("a") as f:
        f.write("my own notes\n")
    result = grade(runner, out, "--no-smoke")
    assert result.exit_code == 0
    backups = list(out.glob("grades.backup-*.csv"))
    assert len(backups) == 1 and "my own notes" in backups[0].read_text()
    assert "my own notes" not in (out / "grades.csv").read_text()


def test_a_folder_that_is_not_a_class_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(app, ["grade", str(tmp_path), "--json"])
    assert result.exit_code == 2
    assert "batch-summary.json" in json.loads(result.stdout)["error"]


# --- private templates: new, batch and grade ------------------------------------------------------


@pytest.fixture
def private_template(tiny_grading, tmp_path):
    import shutil

    own = tmp_path / "course" / "circle-area"
    shutil.copytree(tiny_grading.template, own)
    return own


def test_a_private_template_goes_through_new_batch_and_grade(private_template, runner, tmp_path):
    made = runner.invoke(app, ["new", "--template", str(private_template), "--no-input",
                               "--flavor", "assignment", "-o", str(tmp_path / "one")])  # fmt: skip
    assert made.exit_code == 0, made.output
    record = (tmp_path / "one" / "tiny" / ".mlstarter.yml").read_text()
    assert "template: circle-area" in record and "template_origin: private" in record
    assert str(private_template) not in record  # the student never learns where it is
    assert (tmp_path / "one" / "tiny-grader" / "tests" / "hidden" / "test_hidden.py").is_file()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\nann,Ann,a@uni.example,ann\n"
                      "bob,Bob,b@uni.example,bob\n")  # fmt: skip
    out = tmp_path / "class"
    result = runner.invoke(app, ["batch", str(roster), "--template", str(private_template),
                                 "--flavor", "assignment", "--git", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["templates"]["circle-area"]["path"] == str(private_template.resolve())
    solve(out / "circle-area-ann")
    commit(out / "circle-area-ann")
    result = grade(runner, out, "--no-smoke")  # the summary says where the template is
    assert result.exit_code == 0, result.output
    points = {
        s["student_id"]: s["points"]
        for s in json.loads((out / "grades.json").read_text())["students"]
    }
    assert points == {"ann": MAX_POINTS, "bob": 0}
    moved = tmp_path / "elsewhere" / "circle-area"
    moved.parent.mkdir()
    private_template.rename(moved)
    result = grade(runner, out, "--no-smoke", "--json")
    assert result.exit_code == 2 and "--template" in json.loads(result.stdout)["error"]
    result = grade(runner, out, "--no-smoke", "--template", str(moved))
    assert result.exit_code == 0, result.output


def test_a_template_without_a_smoke_is_graded_without_one(private_template, runner, tmp_path):
    """A smoke is optional in a private template: none is run, none is reported failed."""
    (private_template / "{{cookiecutter.project_slug}}" / "src" / "tiny" / "__main__.py").unlink()
    made = runner.invoke(app, ["new", "--template", str(private_template), "--no-input",
                               "--flavor", "assignment", "-o", str(tmp_path / "one")])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert 'pip install -e ".[dev]" && python -m pytest' in made.stdout  # no Makefile either
    assert "smoke" not in made.stdout
    readme = (tmp_path / "one" / "tiny" / "README.md").read_text()
    assert "Check your work with `python -m pytest`" in readme and "smoke" not in readme
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\nann,Ann,a@uni.example,ann\n")
    out = tmp_path / "class"
    result = runner.invoke(app, ["batch", str(roster), "--template", str(private_template),
                                 "--flavor", "assignment", "--git", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    solve(out / "circle-area-ann")
    commit(out / "circle-area-ann")
    result = grade(runner, out)
    assert result.exit_code == 0, result.output
    (student,) = json.loads((out / "grades.json").read_text())["students"]
    assert student["smoke"] is None
    assert student["points"] == student["max_points"] == MAX_POINTS - 1  # the smoke test: none
    assert "smoke did not pass" not in (out / "feedback" / "ann.md").read_text()


@pytest.mark.parametrize(
    "damage, says",
    [
        ("hooks", "hooks"),
        ("no-json", "no cookiecutter.json"),
        ("bad-name", "folder name"),
        ("featured", "featured project"),
        ("no-regions", "marks no region"),
    ],
)
def test_a_private_template_is_checked_strictly(private_template, runner, tmp_path, damage, says):
    import shutil

    template = private_template
    if damage == "hooks":
        (template / "hooks").mkdir()
        (template / "hooks" / "post_gen_project.py").write_text("print('hi')\n")
    elif damage == "no-json":
        (template / "cookiecutter.json").unlink()
    elif damage == "bad-name":
        template = template.rename(template.with_name("Circle_Area"))
    elif damage == "featured":
        template = template.rename(template.with_name("tiny"))
    else:
        core = template / "{{cookiecutter.project_slug}}" / "src" / "tiny" / "core.py"
        core.write_text(
            core.read_text()
            .replace("    # >>> assignment: return pi times the radius squared (math.pi)\n", "")
            .replace("    # <<< assignment\n", "")
        )
    result = runner.invoke(app, ["new", "--template", str(template), "--no-input", "--flavor",
                                 "assignment", "-o", str(tmp_path / "out"), "--json"])  # fmt: skip
    assert result.exit_code in (2, 6), result.output
    assert says in json.loads(result.stdout)["error"]
    assert not (tmp_path / "out" / "tiny").exists()
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


# --- the sandbox ---------------------------------------------------------------------------------


def test_the_sandbox_ends_every_process_a_run_starts_and_keeps_the_environment_scrubbed(tmp_path):
    from mlstarter import sandbox

    script = (
        "import os, subprocess, sys\n"
        "daemon = subprocess.Popen(['setsid', sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "open('daemon.pid', 'w').write(str(daemon.pid))\n"
        "print(sorted(os.environ))\n"
    )
    spec = sandbox.SandboxSpec([sys.executable, "-c", script], str(tmp_path), {"ONLY": "this"},
                               60, str(tmp_path / "out"), str(tmp_path / "err"), str(tmp_path / "status"))  # fmt: skip
    os.environ["MLSTARTER_TEST_SECRET"] = "token"
    try:
        result = sandbox.run(spec)
    finally:
        del os.environ["MLSTARTER_TEST_SECRET"]
    assert result.returncode == 0, (tmp_path / "err").read_text()
    pid = int((tmp_path / "daemon.pid").read_text())
    assert (
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )
    shown = (tmp_path / "out").read_text()
    assert "MLSTARTER_TEST_SECRET" not in shown and "ONLY" in shown


def test_the_sandbox_stops_a_run_at_its_time_limit_or_when_asked(tmp_path):
    import threading

    from mlstarter import sandbox

    spec = sandbox.SandboxSpec([sys.executable, "-c", "import time; time.sleep(600)"], str(tmp_path),
                               {}, 1, str(tmp_path / "out"), str(tmp_path / "err"), str(tmp_path / "status"))  # fmt: skip
    assert sandbox.run(spec).timed_out
    spec.timeout = 600
    stop = threading.Event()
    stop.set()
    result = sandbox.run(spec, stop)
    assert result.stopped and not result.timed_out


def test_the_sandbox_keeps_code_off_the_network(tmp_path):
    from mlstarter import sandbox

    script = (
        "import socket\n"
        "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=5)\n    print('open')\n"
        "except OSError as exc:\n    print('refused', exc)\n"
    )
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    from importlib import resources

    (plugin / "sitecustomize.py").write_text(
        resources.files("mlstarter").joinpath("grade_site.py").read_text()
    )
    spec = sandbox.SandboxSpec([sys.executable, "-c", script], str(tmp_path), {"PYTHONPATH": str(plugin)},
                               60, str(tmp_path / "out"), str(tmp_path / "err"), str(tmp_path / "status"))  # fmt: skip
    result = sandbox.run(spec)
    assert result.returncode == 0, (tmp_path / "err").read_text()
    assert (tmp_path / "out").read_text().startswith("refused")
    assert result.network.startswith(("cut", "not cut"))


@pytest.mark.stress
def test_sigint_while_grading_ends_every_test_process_and_writes_no_grades(
    private_template, runner, tmp_path
):
    # a private template: the grading process started below finds it through the summary
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\nslow,S,s@uni.example,slow\n")
    out = tmp_path / "class"
    made = runner.invoke(app, ["batch", str(roster), "--template", str(private_template),
                               "--flavor", "assignment", "--git", "-o", str(out)])  # fmt: skip
    assert made.exit_code == 0, made.output
    marker = tmp_path / "running.pid"
    repo = out / "circle-area-slow"
    solve(repo, f"    import os, time\n    if radius == 2:\n"
                f"        open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                "        time.sleep(600)\n    return math.pi * radius * radius\n")  # fmt: skip
    commit(repo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlstarter", "grade", str(out), "--venv", sys.prefix, "--no-smoke", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        while not marker.exists():  # the student's test is running
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert json.loads(stdout)["exit_code"] == 130 and "no grades were written" in stderr
    assert not (out / "grades.csv").exists()
    pid = int(marker.read_text())
    assert (
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )
