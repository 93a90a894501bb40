"""The medicalnet template: what its answers change in a baked starter, and what it must contain.

Fast checks only (no torch, no MONAI): the generated repo is installed and run by tests/starters/.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from mlstarter.flavors import apply_flavor

from ..test_templates import tool

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "medicalnet"

ANSWER_SETS = {
    "defaults": {},
    "resnet18-apache": {
        "project_name": "Hippo Transfer",
        "backbone": "resnet18",
        "real_epochs": "100",
        "license": "Apache-2.0",
    },
    "resnet50-no-license": {
        "project_name": "Med3D Lab",
        "package_name": "med3d_lab",
        "backbone": "resnet50",
        "real_epochs": "20",
        "license": "none",
    },
}
MODULES = ["__init__", "__main__", "config", "data", "demo", "demo_server", "errors", "evaluate",
           "model", "report", "runs", "showcase", "smoke", "space", "targets", "train",
           "weights"]  # fmt: skip
TEST_FILES = ["browser.py", "conftest.py", "test_cli.py", "test_data.py", "test_demo.py",
              "test_demo_server.py", "test_evaluate.py", "test_model.py",
              "test_pipeline.py", "test_real.py", "test_rehearsal.py", "test_report.py",
              "test_runs.py", "test_showcase.py", "test_space.py",
              "test_targets.py", "test_train.py", "test_weights.py"]  # fmt: skip
README_SECTIONS = ["The problem", "Success criteria", "Quickstart", "Real run", "Milestones",
                   "Stretch goals", "Project layout", "Results", "References", "License"]  # fmt: skip


def bake(cookies, **answers) -> Path:
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def read(project: Path, name: str) -> str:
    return (project / name).read_text(encoding="utf-8")


def test_the_questions_are_the_common_block_then_backbone_real_epochs_and_seed():
    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    keys = [key for key in questions if not key.startswith("_")]
    assert keys == ["project_name", "project_slug", "package_name", "description", "author_name",
                    "author_email", "github_username", "license", "copyright_year", "backbone",
                    "real_epochs", "seed"]  # fmt: skip
    assert questions["project_name"] == "Med3D Transfer"
    assert questions["backbone"][0] == "resnet10"
    assert questions["real_epochs"][0] == "40"
    assert questions["seed"] == "0" and "each student" in questions["__prompts__"]["seed"]
    assert set(questions["__prompts__"]) == set(keys)
    assert (TEMPLATE / "templates").is_symlink()


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_every_bake_holds_the_pipeline_its_tests_and_parses(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, **answers)
    package = answers.get("package_name", "med3d_transfer" if name == "defaults" else None)
    (found,) = [path.name for path in (project / "src").iterdir()]
    assert package is None or found == package
    assert sorted(p.stem for p in (project / "src" / found).glob("*.py")) == sorted(MODULES)
    assert sorted(p.name for p in (project / "tests").glob("*.py")) == sorted(TEST_FILES)
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\{\{ *cookiecutter|\{%|%\}", text), path
            if path.suffix == ".py":
                ast.parse(text, filename=str(path))
    assert (project / "LICENSE").exists() == (answers.get("license", "MIT") != "none")
    assert not (project / "templates").exists()


def test_the_default_package_is_med3d_transfer_and_the_tests_import_it(cookies):
    project = bake(cookies)
    assert project.name == "med3d-transfer"
    conftest = read(project, "tests/conftest.py")
    assert 'os.environ["HF_HUB_OFFLINE"] = "1"' in conftest
    assert "from med3d_transfer.data import make_context_scans" in conftest
    assert "from med3d_transfer.model import smoke_unet" in conftest  # the breakages' base
    assert "from med3d_transfer.weights import (" in read(project, "tests/test_weights.py")


def test_the_answers_reach_the_config_makefile_and_readme(cookies):
    project = bake(cookies, **ANSWER_SETS["resnet50-no-license"])
    config = read(project, "src/med3d_lab/config.py")
    assert 'DEFAULT_BACKBONE = "resnet50"' in config
    assert "DEFAULT_EPOCHS = 20\n" in config
    makefile = read(project, "Makefile")
    assert makefile.startswith("#")
    assert "PACKAGE := med3d_lab" in makefile
    assert "weights --depth 50" in makefile
    for target in ("setup-real:", "test-real:", "weights:", "run:"):
        assert target in makefile
    assert "train --init medicalnet" in makefile and "train --init scratch" in makefile
    readme = read(project, "README.md")
    assert readme.startswith("# Med3D Lab\n")
    assert "MedicalNet ResNet-50 (`resnet50`)" in readme
    assert "python -m med3d_lab evaluate runs/medicalnet-seed0/best.pt" in readme
    assert "(six runs of 20 epochs" in readme
    assert "No license chosen yet" in readme


def test_the_study_runs_three_seeds_from_the_seed_answer(cookies):
    project = bake(cookies, seed="41")
    makefile = read(project, "Makefile")
    assert "SEEDS := 41 42 43\n" in makefile
    assert (
        "--init medicalnet --seed $$seed" in makefile and "--init scratch --seed $$seed" in makefile
    )
    compare = (
        "compare $(foreach seed,$(SEEDS),runs/medicalnet-seed$(seed) runs/scratch-seed$(seed))"
    )
    assert compare in makefile
    assert "for seeds 41, 42\nand 43" in read(project, "README.md")


def test_the_readme_has_every_section_in_order_and_the_published_targets(cookies):
    readme = read(bake(cookies), "README.md")
    assert re.findall(r"^## (.+)$", readme, flags=re.MULTILINE) == README_SECTIONS
    for needle in ("**+3 % to +20 %**", "**10x**", "**71.30 %** scratch, **87.16 %** MedicalNet",
                   "**target >= 0.03**", "by **0.25**", "by **0.1** Dice", "dilation 2 and 4",
                   "--accept-architecture-mismatch", "3DSeg-8", "Task04_Hippocampus",
                   "https://github.com/Tencent/MedicalNet", "arXiv:1904.00625"):  # fmt: skip
        assert needle in readme, needle


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_pyproject_pins_monai_and_torch_and_registers_markers(cookies, name):
    project = bake(cookies, **ANSWER_SETS[name])
    pyproject = tomllib.loads(read(project, "pyproject.toml"))
    meta = pyproject["project"]
    assert meta["dependencies"] == ["torch==2.13.0", "monai==1.6.1", "nibabel==5.4.2",
                                    "numpy==2.4.6"]  # fmt: skip
    assert set(meta["optional-dependencies"]) == {"dev"}  # groups now: make setup WITH=real
    groups = pyproject["dependency-groups"]
    assert set(groups) == {"dev", "real", "demo"}  # the live demo: make setup-demo
    assert {"mypy==2.4.1", "pytest==9.2.0", "ruff==0.17.6"} <= set(groups["dev"])
    assert "matplotlib==3.11.2" in groups["dev"]  # the curves of compare --plot (make run)
    assert all("==" in dep for group in groups.values() for dep in group)
    assert {dep.split("==")[0] for dep in groups["real"]} == {"huggingface_hub", "requests", "tqdm"}
    assert not any("torchvision" in dep for group in groups.values() for dep in group)
    markers = pyproject["tool"]["pytest"]["ini_options"]["markers"]
    assert {marker.split(":")[0] for marker in markers} == {"real", "gpu", "rehearsal", "browser"}
    package = ANSWER_SETS[name].get("package_name") or project.name.replace("-", "_")
    assert meta["scripts"] == {project.name: f"{package}.__main__:main"}


def test_the_real_run_is_a_dependency_group_and_no_text_says_extra(cookies):
    """`real` is a dependency group (make setup WITH=real): no file still installs an extra, and
    the messages that say what to install name the group."""
    project = bake(cookies)
    readme = read(project, "README.md")
    assert "make setup WITH=real" in readme
    assert "extra" not in readme.split("## Quickstart")[1].split("## Real run")[0]
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert ".[real]" not in text and ".[dev" not in text, path
            assert "real`` extra" not in text and "real extra" not in text, path
    model = read(project, "src/med3d_transfer/model.py")
    assert "downloading MedicalNet weights needs huggingface_hub: make setup WITH=real" in model
    makefile = read(project, "Makefile")
    assert "$(MAKE) setup WITH=real" in makefile
    lock = read(project, "requirements-real-lock.txt")
    assert lock.count("\nhuggingface-hub==2.4.0 ") == 1 and "matplotlib" not in lock
    assert read(project, "requirements-lock.txt").count("\nmatplotlib==3.11.2 ") == 1


def test_the_strict_tests_ignore_no_warning_without_a_reason(cookies):
    """filterwarnings = error: each ignore is narrow (a message and a category) and the
    pyproject says why it cannot be fixed here, in the comment line above it."""
    project = bake(cookies)
    text = read(project, "pyproject.toml")
    filters = tomllib.loads(text)["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert filters[0] == "error"
    lines = text.splitlines()
    for entry in filters[1:]:
        action, message, category, *_ = entry.split(":") + [""]
        assert action == "ignore" and message and category.endswith("Warning"), entry
        at = next(i for i, line in enumerate(lines) if f'"{entry}"' in line)
        assert lines[at - 1].strip().startswith("#"), entry


def test_the_real_tests_are_marked_and_the_gpu_test_too(cookies):
    project = bake(cookies)
    assert "pytestmark = pytest.mark.real" in read(project, "tests/test_real.py")
    assert "@pytest.mark.gpu" in read(project, "tests/test_train.py")
    rehearsal = read(project, "tests/test_rehearsal.py")
    assert "pytestmark = pytest.mark.rehearsal" in rehearsal  # offline: runs in make test
    for local in ("MSD_HIPPOCAMPUS_URL", "--weights", '"module.'):
        assert local in rehearsal
    readme = read(project, "README.md")
    assert "MSD_HIPPOCAMPUS_URL=file://" in readme and "pytest -m rehearsal" in readme


def test_the_assignment_flavor_leaves_three_cores_to_write_and_lints_clean(cookies, tmp_path):
    project = shutil.copytree(bake(cookies), tmp_path / "assignment")
    result = apply_flavor(project, "assignment")
    assert result.regions == 3
    for name in ("weights.py", "evaluate.py"):
        source = read(project, f"src/med3d_transfer/{name}")
        assert "raise NotImplementedError" in source
        ast.parse(source)
    done = tool("ruff", "check", "--no-cache", ".", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("seed", ["0", "000042", "123456"])
def test_the_seed_answer_reaches_the_config_the_defaults_and_the_readme(cookies, seed):
    project = bake(cookies, seed=seed)
    package = project / "src" / "med3d_transfer"
    config = (package / "config.py").read_text(encoding="utf-8")
    assert f"\nDEFAULT_SEED = {int(seed)}\n" in config  # leading zeros dropped: valid Python
    assert "    seed: int = DEFAULT_SEED\n" in config  # the real run's default
    assert "    seed: int = DEFAULT_SEED,\n" in (package / "smoke.py").read_text(encoding="utf-8")
    cli = (package / "__main__.py").read_text(encoding="utf-8")
    assert cli.count('"--seed",\n        type=int_at_least(0),\n        default=DEFAULT_SEED,') == 2
    assert f"this repo's seed, {int(seed)} (`DEFAULT_SEED`" in read(project, "README.md")
    # the baked tests check that the seed picks the scans and that the smoke holds for others
    assert "make_context_scans(4, 24, seed=DEFAULT_SEED + 1)" in read(project, "tests/test_data.py")
    assert "run_smoke(seed=DEFAULT_SEED + 1)" in read(project, "tests/test_train.py")


HIDDEN = ["test_hidden_compare.py", "test_hidden_dice.py", "test_hidden_weights.py"]
MARKED = {
    "evaluate.py": ["dice_per_class", "compare_runs"],
    "weights.py": ["load_state_dict_checked"],
}


def new_repo(runner, out: Path, *args: str) -> Path:
    from mlstarter.cli import app

    result = runner.invoke(app, ["new", "medicalnet", "--no-input", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out / "med3d-transfer"


def test_the_assignment_flavor_leaves_todos_and_moves_the_hidden_tests_out(runner, tmp_path):
    project = new_repo(runner, tmp_path, "--flavor", "assignment")
    package = project / "src" / "med3d_transfer"
    for module, functions in MARKED.items():
        tree = ast.parse((package / module).read_text(encoding="utf-8"))
        bodies = {node.name: node.body for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef)}  # fmt: skip
        for function in functions:
            last = bodies[function][-1]
            assert isinstance(last, ast.Raise), function
            assert ast.unparse(last).startswith("raise NotImplementedError('TODO: "), function
        assert "# >>> assignment" not in (package / module).read_text(encoding="utf-8")
    assert not (project / "tests" / "hidden").exists()
    grader = tmp_path / "med3d-transfer-grader" / "tests" / "hidden"
    assert sorted(p.name for p in grader.iterdir()) == HIDDEN
    visible = "".join(p.read_text(encoding="utf-8") for p in (project / "tests").glob("*.py"))
    assert "hidden" not in visible  # no visible test imports an instructor test
    grading = json.loads(read(project, ".github/classroom/autograding.json"))
    assert not any("hidden" in test["run"] for test in grading["tests"])


def test_showcase_and_solution_keep_the_code_and_the_hidden_tests(runner, tmp_path):
    showcase = new_repo(runner, tmp_path / "showcase")
    solution = new_repo(runner, tmp_path / "solution", "--flavor", "solution", "--set", "seed=123")
    for project, marked in ((showcase, False), (solution, True)):
        for module, functions in MARKED.items():
            text = read(project, f"src/med3d_transfer/{module}")
            assert "NotImplementedError" not in text
            assert text.count("# >>> assignment") == text.count("# <<< assignment")
            assert text.count("# >>> assignment") == (len(functions) if marked else 0)
        assert sorted(p.name for p in (project / "tests" / "hidden").iterdir()) == HIDDEN
        assert not (project / ".github" / "classroom").exists()
    assert "\nDEFAULT_SEED = 123\n" in read(solution, "src/med3d_transfer/config.py")


def test_same_answers_give_the_same_bytes(cookies):
    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip

    answers = {**ANSWER_SETS["resnet18-apache"], "copyright_year": "2026"}
    first = tree(bake(cookies, **answers))
    second = tree(bake(cookies, **answers))
    assert first == second
