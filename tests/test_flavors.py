"""Flavors from one template source: showcase, assignment (core bodies to write, hidden tests out,
autograding in) and solution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlstarter.cli import app
from mlstarter.errors import TreeCheckError
from mlstarter.flavors import transform

from .test_templates import tool

CORE = '''"""Geometry the student implements."""

import math


def area(radius: float) -> float:
    """The area of a circle."""
    # >>> assignment: return pi times the radius squared (math.pi)
    return math.pi * radius * radius
    # <<< assignment
'''
VISIBLE = "from tiny.core import area\n\n\ndef test_area_of_unit_circle():\n    assert abs(area(1) - 3.14159) < 1e-4\n"
HIDDEN = "from tiny.core import area\n\n\ndef test_area_scales_with_square():\n    assert abs(area(2) - 4 * area(1)) < 1e-9\n"


@pytest.fixture
def flavored(tiny_templates, runner, tmp_path):
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__init__.py", "")
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/core.py", CORE)
    tiny_templates("{{cookiecutter.project_slug}}/tests/test_core.py", VISIBLE)
    tiny_templates("{{cookiecutter.project_slug}}/tests/hidden/test_hidden.py", HIDDEN)

    def make(flavor: str) -> Path:
        out = tmp_path / flavor
        result = runner.invoke(
            app, ["new", "tiny", "--no-input", "-o", str(out), "--flavor", flavor]
        )
        assert result.exit_code == 0, result.stderr
        return out

    return make


def pytest_in(repo: Path, *paths: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.returncode


def test_showcase_is_complete_and_clean(flavored):
    repo = flavored("showcase") / "tiny"
    core = (repo / "src" / "tiny" / "core.py").read_text()
    assert "assignment" not in core and "math.pi * radius" in core
    assert (repo / "tests" / "hidden" / "test_hidden.py").is_file()
    assert pytest_in(repo) == 0


def test_assignment_leaves_the_core_to_write_and_hides_the_grader_tests(flavored):
    out = flavored("assignment")
    repo = out / "tiny"
    core = (repo / "src" / "tiny" / "core.py").read_text()
    assert 'raise NotImplementedError("TODO: return pi times the radius squared (math.pi)")' in core
    assert "math.pi * radius" not in core
    assert "import math  # noqa: F401 (the TODO needs it)" in core  # the student needs it too
    assert not (repo / "tests" / "hidden").exists()
    assert (out / "tiny-grader" / "tests" / "hidden" / "test_hidden.py").read_text() == HIDDEN
    assert pytest_in(repo) != 0
    assert tool("ruff", "check", "--no-cache", "--select", "F", "src", cwd=repo).returncode == 0


def test_assignment_passes_once_the_solutions_regions_are_copied_in(flavored):
    student = flavored("assignment") / "tiny"
    solution = flavored("solution") / "tiny"
    assert "# >>> assignment" in (solution / "src" / "tiny" / "core.py").read_text()
    assert pytest_in(solution) == 0  # visible and hidden
    (student / "src" / "tiny" / "core.py").write_text(
        (solution / "src" / "tiny" / "core.py").read_text()
    )
    assert pytest_in(student) == 0
    grader = student.parent / "tiny-grader" / "tests" / "hidden"
    assert pytest_in(student, str(grader)) == 0


def test_assignment_gets_an_autograding_workflow_for_feedback(flavored):
    repo = flavored("assignment") / "tiny"
    grading = json.loads((repo / ".github" / "classroom" / "autograding.json").read_text())
    assert grading["todos"] == [{"file": "src/tiny/core.py", "function": "area"}]
    assert grading["tests"] == [
        {"name": "core", "file": "tests/test_core.py",
         "run": "python -m pytest -q tests/test_core.py", "points": None},
    ]  # fmt: skip
    workflow = repo / ".github" / "workflows" / "classroom.yml"
    text = workflow.read_text()
    assert "python .github/classroom/graded_tests.py" in text and "mlstarter grade" in text
    assert (repo / ".github" / "classroom" / "graded_tests.py").is_file()
    done = tool("actionlint", "-no-color", str(workflow), cwd=repo)
    assert done.returncode == 0, done.stdout


def test_the_classroom_workflow_installs_into_a_venv_from_pinned_actions(flavored, tmp_path):
    """make setup refuses pip outside a venv, so one is made first; every action is pinned to a
    commit (a tag can be moved), the checkout keeps no token, torch comes the Makefile's way."""
    import re

    import yaml

    text = (flavored("assignment") / "tiny" / ".github" / "workflows" / "classroom.yml").read_text()
    workflow = yaml.safe_load(text)
    assert workflow["permissions"]["contents"] == "read"
    assert set(workflow["permissions"]) <= {"contents", "checks", "actions"}
    assert "PIP_EXTRA_INDEX_URL" not in text and "extra-index-url" not in text
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    for step in steps:
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", ref), step["uses"]
            assert re.search(rf"uses: {re.escape(step['uses'])}  # v\d", text), step["uses"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    runs = [s.get("run", "") for s in steps]
    venv = next(i for i, run in enumerate(runs) if "-m venv .venv" in run)
    setup = next(i for i, run in enumerate(runs) if "make setup" in run)
    tests = next(i for i, run in enumerate(runs) if "graded_tests.py" in run)
    assert venv < setup < tests
    assert "INSTALLER=pip" in runs[setup]  # the hashed lock and TORCH_INDEX, not a fresh uv lock
    assert 'python -m pip install -e ".[dev]"' in runs[setup]  # a template without a Makefile
    assert runs[tests].startswith(".venv/bin/python ")

    # The venv step as the runner runs it: later steps' `python` is the venv's, which the
    # Makefile's check (sys.prefix != sys.base_prefix) accepts.
    work = tmp_path / "runner"
    work.mkdir()
    github_env, github_path = work / "env", work / "path"
    env = {**os.environ, "GITHUB_ENV": str(github_env), "GITHUB_PATH": str(github_path)}
    script = runs[venv].replace("python -m venv", f"{sys.executable} -m venv --without-pip")
    done = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env, timeout=120)
    assert done.returncode == 0
    assert github_env.read_text().strip() == f"VIRTUAL_ENV={work / '.venv'}"
    (bin_dir,) = github_path.read_text().split()
    check = "import sys; sys.exit(sys.prefix == sys.base_prefix)"
    later = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    assert subprocess.run(["python", "-c", check], env=later, timeout=60).returncode == 0


def test_the_record_reproduces_the_flavor(flavored, runner, tmp_path):
    repo = flavored("assignment") / "tiny"
    again = tmp_path / "again"
    result = runner.invoke(
        app,
        ["new", "tiny", "--no-input", "--answers", str(repo / ".mlstarter.yml"), "-o", str(again)],
    )
    assert result.exit_code == 0
    assert (again / "tiny" / "src" / "tiny" / "core.py").read_text() == (
        repo / "src" / "tiny" / "core.py"
    ).read_text()


def test_unknown_flavor_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(app, ["new", "python-autocomplete", "--no-input", "--flavor", "x"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "text", ["    # >>> assignment: a\n    x = 1\n", "    x = 1\n    # <<< assignment\n"]
)
def test_unbalanced_markers_fail_the_tree_check(text):
    with pytest.raises(TreeCheckError, match="assignment"):
        transform(text, "assignment", "f.py")


def test_a_long_hint_is_wrapped_to_stay_within_100_columns():
    hint = "x" * 90
    text = f"def f():\n    # >>> assignment: {hint}\n    return 1\n    # <<< assignment\n"
    out, count = transform(text, "assignment")
    assert count == 1 and max(len(line) for line in out.splitlines()) <= 100
    namespace: dict = {}
    exec(compile(out, "f.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="TODO: x+"):
        namespace["f"]()


# --- the assignment's README and its Classroom feedback points --------------------------------

FEEDBACK_TESTS = """import subprocess
import sys

import pytest

from tiny.core import area, double


@pytest.fixture(scope="session")
def big():
    return area(10)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_area_is_positive(r):
    assert area(r) > 0


def test_double_needs_no_todo():
    assert double(2) == 4


def test_a_session_fixture_counts_for_every_test_that_uses_it(big):
    assert big > 300


def test_the_second_user_of_the_fixture(big):
    assert big < 400


def test_a_child_process_that_calls_a_todo_counts():
    code = "from tiny.core import area; area(1)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_skip_scores_nothing():
    pytest.skip("never runs")
"""
DOUBLE = CORE + "\n\ndef double(x: float) -> float:\n    return 2 * x\n"


def classroom_points(repo: Path, tmp_path: Path) -> dict:
    """Run the Classroom runner in `repo` as the workflow does; the result it reports."""
    output = tmp_path / "github-output"
    output.write_text("")
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(
        [sys.executable, ".github/classroom/graded_tests.py"], cwd=repo, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    import base64

    line = output.read_text().strip()
    assert line.startswith("result=")
    return json.loads(base64.b64decode(line.removeprefix("result=")))


@pytest.fixture
def feedback_repo(tiny_templates, runner, tmp_path):
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__init__.py", "")
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/core.py", DOUBLE)
    tiny_templates("{{cookiecutter.project_slug}}/tests/test_core.py", FEEDBACK_TESTS)
    tiny_templates("{{cookiecutter.project_slug}}/tests/hidden/test_hidden.py", HIDDEN)
    out = tmp_path / "classroom"
    result = runner.invoke(
        app, ["new", "tiny", "--no-input", "-o", str(out), "--flavor", "assignment"]
    )
    assert result.exit_code == 0, result.stderr
    return out / "tiny"


def test_classroom_points_go_only_to_tests_that_call_a_todo_and_a_skip_scores_nothing(
    feedback_repo, tmp_path
):
    untouched = classroom_points(feedback_repo, tmp_path)
    scored = {t["name"].split("::")[1] for t in untouched["tests"]}
    assert "test_double_needs_no_todo" not in scored  # passes without the student's code
    assert {"test_a_skip_scores_nothing", "test_a_child_process_that_calls_a_todo_counts",
            "test_the_second_user_of_the_fixture", "test_area_is_positive[3]"} <= scored  # fmt: skip
    assert untouched["max_score"] == 7 and sum(t["score"] for t in untouched["tests"]) == 0
    core = feedback_repo / "src" / "tiny" / "core.py"
    core.write_text(DOUBLE)  # the solution
    solved = classroom_points(feedback_repo, tmp_path)
    assert solved["max_score"] == 7 and sum(t["score"] for t in solved["tests"]) == 6
    (feedback_repo / "tests" / "conftest.py").write_text(
        "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
        "    for item in items:\n        item.add_marker(pytest.mark.skip('cheat'))\n"
    )
    core.write_text(DOUBLE.replace("return math.pi * radius * radius", "raise ValueError"))
    cheat = classroom_points(feedback_repo, tmp_path)
    assert sum(t["score"] for t in cheat["tests"]) == 0


def test_the_assignment_readme_lists_every_todo_and_says_how_it_is_graded(
    tiny_templates, runner, tmp_path
):
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__init__.py", "")
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/core.py", CORE + TWO_REGIONS)
    tiny_templates("{{cookiecutter.project_slug}}/tests/test_core.py", VISIBLE)
    tiny_templates("{{cookiecutter.project_slug}}/tests/hidden/test_hidden.py", HIDDEN)
    tiny_templates("{{cookiecutter.project_slug}}/src/tiny/__main__.py", "")
    tiny_templates(
        "{{cookiecutter.project_slug}}/Makefile",
        "setup:\n\tpip install -e .\nsmoke:\n\tpython -m tiny smoke\ntest:\n\tpytest\n",
    )
    tiny_templates(
        "{{cookiecutter.project_slug}}/README.md",
        "# {{ cookiecutter.project_name }}\n\nIntro.\n\n## Layout\n\n```\nsrc/\n"
        "tests/hidden/   the instructor's tests\n```\n",
    )
    out = tmp_path / "readme"
    result = runner.invoke(
        app, ["new", "tiny", "--no-input", "-o", str(out), "--flavor", "assignment"]
    )
    assert result.exit_code == 0, result.stderr
    assert "make setup && make test" in result.stdout
    assert "make smoke passes once they are done" in result.stdout
    readme = (out / "tiny" / "README.md").read_text()
    assert "hidden" not in readme  # nothing about files the student does not have
    assert readme.index("## Your assignment") < readme.index("## Layout")
    assert (
        "| `src/tiny/core.py` | `area` | return pi times the radius squared (math.pi) |" in readme
    )
    assert "| `src/tiny/core.py` | `Shape.scale` | multiply by k (a \\| b) |" in readme
    assert "| `src/tiny/core.py` | `outer.<locals>.inner` | the inner one |" in readme
    assert "Check your work with `make test`" in readme
    assert "`make smoke`" in readme and "passes once every TODO above is done" in readme
    assert "mlstarter grade" in readme and "skipped scores nothing" in readme
    showcase = tmp_path / "showcase"
    runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(showcase)])
    assert "Your assignment" not in (showcase / "tiny" / "README.md").read_text()


TWO_REGIONS = """

class Shape:
    def scale(self, k: float) -> float:
        # >>> assignment: multiply by k (a | b)
        return k * 2
        # <<< assignment


def outer() -> float:
    def inner() -> float:
        # >>> assignment: the inner one
        return 1.0
        # <<< assignment

    return inner()
"""


def test_an_import_only_a_region_used_stays_marked_in_every_form():
    text = (
        "import math\nimport random as rnd\nfrom os import (\n    path,\n    sep,\n)\n"
        "import json  # parsing\n\n\n"
        "def f():\n    # >>> assignment: use them\n    return math.pi, rnd, path, json\n"
        "    # <<< assignment\n\n\ndef g():\n    return sep\n"
    )
    out, count = transform(text, "assignment")
    assert count == 1
    lines = out.splitlines()
    assert "import math  # noqa: F401 (the TODO needs it)" in lines
    assert "import random as rnd  # noqa: F401 (the TODO needs it)" in lines
    assert "    path,  # noqa: F401 (the TODO needs it)" in lines and "    sep," in lines
    assert "import json  # parsing  # noqa: F401 (the TODO needs it)" in lines
    compile(out, "f.py", "exec")


def test_the_classroom_workflow_comes_from_shared_classroom_yml_byte_identical_to_before(flavored):
    import hashlib

    from mlstarter.flavors import classroom_workflow

    text = classroom_workflow()
    # the sha256 of the workflow flavors.py built with an f-string before it became a template file
    before = "49801dc91e13b93d26d6778537c375438c174113fa2e2e778d7fc9e33cdb3a71"
    assert hashlib.sha256(text.encode()).hexdigest() == before
    assert 'TESTS_RESULTS: "${{ steps.tests.outputs.result }}"' in text
    repo = flavored("assignment") / "tiny"
    assert (repo / ".github" / "workflows" / "classroom.yml").read_text() == text
