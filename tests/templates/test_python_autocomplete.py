"""The python-autocomplete template: what its answers change, and what every bake must hold.

Fast checks only (no torch): the generated repo is installed and run by tests/starters/.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

from mlstarter.answers import COMMON_QUESTIONS
from mlstarter.flavors import apply_flavor

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "python-autocomplete"

MODULES = [
    "__init__",
    "__main__",
    "checkpoint",
    "criteria",
    "data",
    "demo",
    "demo_server",
    "evaluate",
    "model",
    "ngram",
    "predict",
    "report",
    "runs",
    "showcase",
    "smoke",
    "space",
    "targets",
    "tokenizer",
    "train",
    "vocab",
]
TEST_FILES = [
    "breakages.py",
    "browser.py",
    "conftest.py",
    "samples.py",
    "test_checkpoint.py",
    "test_cli.py",
    "test_criteria.py",
    "test_data.py",
    "test_demo.py",
    "test_demo_server.py",
    "test_evaluate.py",
    "test_model.py",
    "test_ngram.py",
    "test_predict.py",
    "test_rehearsal.py",
    "test_report.py",
    "test_runs.py",
    "test_showcase.py",
    "test_smoke.py",
    "test_space.py",
    "test_targets.py",
    "test_tokenizer.py",
    "test_train.py",
    "test_vocab.py",
]
README_SECTIONS = [
    "The problem",
    "Success criteria",
    "Quickstart",
    "Real run",
    "Milestones",
    "Stretch goals",
    "Project layout",
    "Results",
    "References",
    "License",
]

CUSTOM = {
    "project_name": "Code Complete",
    "project_slug": "code-complete",
    "package_name": "codecomplete",
    "license": "none",
    "model_size": "large",
    "train_minutes": "240",
}
# Free text with quotes, a backslash and non-ASCII must reach the files literally and
# never break Python or TOML.
AWKWARD = {
    "project_name": 'Zoë\'s "Auto\\complete"',
    "description": 'Completes "Python" code; C:\\path\\to\\it & more',
    "author_name": "O'Brien \\ Zoë",
    "license": "BSD-3-Clause",
    "model_size": "medium",
    "train_minutes": "10",
}


def bake(cookies, **answers) -> Path:
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def package_of(project: Path) -> str:
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    return package


def text_files(project: Path) -> list[Path]:
    return [path for path in project.rglob("*") if path.is_file()]


def test_the_questions_are_the_common_block_then_model_size_train_minutes_and_seed():
    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    keys = [key for key in questions if not key.startswith("_")]
    assert keys == [*COMMON_QUESTIONS, "model_size", "train_minutes", "seed"]
    assert questions["seed"] == "0"
    assert questions["model_size"] == ["small", "medium", "large"]
    assert questions["train_minutes"][0] == "30"
    assert set(questions["__prompts__"]) == set(keys)
    assert (TEMPLATE / "templates").is_symlink()


def test_the_default_bake_holds_the_pipeline_and_its_tests(cookies):
    project = bake(cookies)
    package = project / "src" / "python_autocomplete"
    assert sorted(path.stem for path in package.glob("*.py")) == sorted(MODULES)
    assert sorted(path.name for path in (project / "tests").glob("*.py")) == sorted(TEST_FILES)
    for name in (".gitignore", ".pre-commit-config.yaml", ".github/workflows/ci.yml", "LICENSE"):
        assert (project / name).is_file(), name
    assert not (project / "templates").exists()


def test_every_generated_text_file_is_fully_rendered(cookies):
    for answers in ({}, CUSTOM, AWKWARD):
        project = bake(cookies, **answers)
        for path in text_files(project):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\{\{ *cookiecutter|\{%|%\}", text), path


@pytest.mark.parametrize("answers", [{}, CUSTOM, AWKWARD], ids=["default", "custom", "awkward"])
def test_every_python_file_parses_and_imports_its_own_package(cookies, answers):
    project = bake(cookies, **answers)
    package = package_of(project)
    assert package == answers.get("package_name", package)
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    conftest = (project / "tests" / "conftest.py").read_text(encoding="utf-8")
    assert f"from {package}.model import" in conftest
    assert 'os.environ.setdefault("HF_HUB_OFFLINE", "1")' in conftest


def test_the_answers_reach_the_cli_defaults_makefile_and_readme(cookies):
    project = bake(cookies, **CUSTOM)
    main = (project / "src" / "codecomplete" / "__main__.py").read_text(encoding="utf-8")
    assert 'DEFAULT_SIZE = "large"' in main
    assert "DEFAULT_MINUTES = 240" in main
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("#")
    assert "PACKAGE := codecomplete" in makefile
    assert "train --minutes 240" in makefile
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Code Complete\n")
    assert "python -m codecomplete predict" in readme
    assert 'model size "large"' in readme
    assert not (project / "LICENSE").exists()
    assert "No license chosen yet" in readme


def criteria_constants(project: Path) -> dict[str, float]:
    """The thresholds criteria.py sets, read without importing it (no torch here)."""
    tree = ast.parse((project / "src" / package_of(project) / "criteria.py").read_text())
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, float)
    }


def test_the_readme_has_every_section_in_order_and_states_the_targets_the_code_checks(cookies):
    project = bake(cookies)
    readme = (project / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert headings == README_SECTIONS
    # the headline target is the upstream claim, quoted and linked
    assert "saving above 30% key strokes in most files" in readme
    assert "https://github.com/lab-ml/python_autocomplete" in readme
    constants = criteria_constants(project)
    assert constants["UPSTREAM_KEYSTROKES_SAVED"] == 0.30
    # every threshold the commands check is the one the README states
    rows = {
        "keystrokes_saved": f">= {constants['UPSTREAM_KEYSTROKES_SAVED']:.2f}",
        "top1_over_fourgram": f"4-gram's top-1 + {constants['REAL_TOP1_MARGIN']:g}",
        "top1_over_bigram": f"bigram's top-1 + {constants['SMOKE_TOP1_MARGIN']:g}",
        "loss_under_bigram": f"bigram's loss - {constants['SMOKE_LOSS_MARGIN']:g} nats",
    }
    for target, threshold in rows.items():
        (row,) = [
            line  # the rows of the targets table start with the command
            for line in readme.splitlines()
            if line.startswith("| `") and f"`{target}`" in line
        ]
        assert threshold in row, (target, row)
    # uncited thresholds of earlier versions are gone
    for stale in (">= 0.60", ">= 0.80", "**< 20 ms**"):
        assert stale not in readme


def test_pyproject_pins_cpu_friendly_dependencies_and_registers_markers(cookies):
    for answers in ({}, AWKWARD):
        project = bake(cookies, **answers)
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        meta = pyproject["project"]
        assert meta["dependencies"] == ["torch==2.13.0", "numpy==2.4.6"]
        assert set(meta["optional-dependencies"]) == {"dev"}  # the dev group again, for pip
        groups = pyproject["dependency-groups"]
        assert set(groups) == {"dev", "demo"}  # the live demo's group: make setup-demo
        assert groups["demo"] == ["gradio==6.31.0", "selenium==4.51.0"]
        assert {"mypy==2.4.1", "pytest==9.2.0", "ruff==0.17.6"} <= set(groups["dev"])
        assert "matplotlib==3.11.2" in groups["dev"]  # make report draws the run's figures
        assert all("==" in dep for dep in groups["dev"])
        assert not any("torchvision" in dep for dep in meta["dependencies"] + groups["dev"])
        assert meta["description"] == answers.get(
            "description", "An LSTM that completes Python code, trained on real source files."
        )
        markers = pyproject["tool"]["pytest"]["ini_options"]["markers"]
        assert {marker.split(":")[0] for marker in markers} == {
            "real",
            "gpu",
            "rehearsal",
            "browser",
        }
        assert meta["scripts"] == {project.name: f"{package_of(project)}.__main__:main"}


def test_free_text_never_reaches_python_source(cookies):
    project = bake(cookies, **AWKWARD)
    for path in project.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "Zoë" not in text and "O'Brien" not in text, path
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith('# Zoë\'s "Auto\\complete"\n')
    assert "Copyright" in (project / "LICENSE").read_text(encoding="utf-8")


MARKED = {"tokenizer": "_model_token", "model": "encode", "evaluate": "accuracy"}


def test_the_seed_answer_becomes_the_default_seed(cookies):
    for seed in ("0", "123456"):
        data = bake(cookies, seed=seed) / "src" / "python_autocomplete" / "data.py"
        assert f"DEFAULT_SEED = {seed}\n" in data.read_text(encoding="utf-8")


def test_the_assignment_flavor_leaves_todos_in_the_marked_code_and_no_hidden_tests(
    cookies, tmp_path: Path
):
    project = bake(cookies)
    assert (project / "tests" / "hidden" / "test_core_strict.py").is_file()
    result = apply_flavor(project, "assignment", grader=tmp_path / "grader")
    assert result.regions == len(MARKED)
    assert not (project / "tests" / "hidden").exists()
    assert (tmp_path / "grader" / "tests" / "hidden" / "test_core_strict.py").is_file()
    package = project / "src" / "python_autocomplete"
    for module, function in MARKED.items():
        tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
        (node,) = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function
        ]
        last = node.body[-1]
        assert isinstance(last, ast.Raise), (module, function)
        assert "NotImplementedError" in ast.unparse(last) and "TODO:" in ast.unparse(last)
    for path in project.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "# >>> assignment" not in text and "# <<< assignment" not in text, path
