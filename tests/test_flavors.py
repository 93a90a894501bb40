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
    assert "math.pi * radius" not in core and "import math" not in core
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


def test_assignment_gets_an_autograding_workflow_with_points(flavored):
    repo = flavored("assignment") / "tiny"
    grading = json.loads((repo / ".github" / "classroom" / "autograding.json").read_text())
    assert grading["tests"] == [
        {"name": "core", "setup": "", "run": "python -m pytest -q tests/test_core.py", "input": "",
         "output": "", "comparison": "included", "timeout": 10, "points": 1},
    ]  # fmt: skip
    workflow = repo / ".github" / "workflows" / "classroom.yml"
    done = tool("actionlint", "-no-color", str(workflow), cwd=repo)
    assert done.returncode == 0, done.stdout


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
