"""Checks specific to the neuralclassifier template (hierarchical text classification).

Bakes the template with a few answer sets and checks that the answers reach the files, that the
generated config module behaves (run without torch: it needs only the standard library), and
that the code stays lint-clean whatever the package name's length.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "neuralclassifier"
COMMIT_RE = re.compile(r'COMMIT = "([0-9a-f]{40})"')

EXPECTED_FILES = [
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    "tests/conftest.py",
    "tests/test_data.py",
    "tests/test_taxonomy.py",
    "tests/test_convert.py",
    "tests/test_upstream.py",
    "tests/test_train.py",
    "tests/test_smoke.py",
    "tests/test_published.py",
]
MODULES = [
    "__init__",
    "__main__",
    "taxonomy",
    "data",
    "synthetic",
    "convert",
    "model",
    "train",
    "evaluate",
    "upstream",
    "published",
    "targets",
    "smoke",
]


# The regions a student writes in the assignment flavor: module -> (function, hint).
TODOS = {
    "model.py": ("TextCNN.forward", "embed, conv, max over unpadded windows, dropout, linear"),
    "evaluate.py": ("_scores", "micro-F1 of summed counts, macro-F1 mean over gold labels"),
    "taxonomy.py": (
        "Taxonomy.label_problem",
        "None for a valid Root-to-node path, else the reason",
    ),
}
HIDDEN = ["test_hidden_evaluate.py", "test_hidden_model.py", "test_hidden_taxonomy.py"]
SLUG = "hierarchical-text-classifier"


def bake(cookies, **answers):
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    assert result.exception is None
    return Path(result.project_path)


def text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def run_python(project: Path, code: str) -> dict:
    """Run ``code`` against the baked package (stdlib only) and return its JSON output."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_default_bake_has_the_starter_layout(cookies):
    project = bake(cookies)
    assert project.name == "hierarchical-text-classifier"
    package = project / "src" / "hierarchical_text_classifier"
    for name in EXPECTED_FILES:
        assert (project / name).is_file(), name
    for module in MODULES:
        assert (package / f"{module}.py").is_file(), module
    assert (project / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert (project / "templates").exists() is False
    for path, text in text_files(project):
        assert not re.search(r"\{\{ *cookiecutter", text), path
        assert "{%" not in text, path
        if path.suffix == ".py":
            compile(text, str(path), "exec")


def test_default_answers_reach_the_files(cookies):
    project = bake(cookies)
    upstream = (project / "src/hierarchical_text_classifier/upstream.py").read_text()
    assert 'DEFAULT_MODEL = "TextRCNN"' in upstream
    assert 'DEFAULT_DEVICE = "cpu"' in upstream
    commit = COMMIT_RE.search(upstream).group(1)
    readme = (project / "README.md").read_text()
    assert commit in readme
    assert "https://github.com/Tencent/NeuralNLP-NeuralClassifier" in readme
    assert "# Hierarchical Text Classifier" in readme
    for section in (
        "## The problem",
        "## Success criteria",
        "## Real run",
        "## Milestones",
        "## Stretch goals",
        "## Project layout",
        "## Results",
        "## References",
    ):
        assert section in readme, section
    assert "**>= 0.8313**" in readme and "**>= 0.6047**" in readme and "3 seeds" in readme
    makefile = (project / "Makefile").read_text()
    assert "upstream train --rcv1 --model TextRCNN" in makefile
    assert "PACKAGE := hierarchical_text_classifier" in makefile
    assert makefile.splitlines()[0].startswith("#")
    pyproject = (project / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in pyproject
    assert '"numpy==2.4.6"' in pyproject
    assert "torchvision" not in pyproject
    assert '"real: ' in pyproject
    conftest = (project / "tests/conftest.py").read_text()
    assert 'os.environ.setdefault("HF_HUB_OFFLINE", "1")' in conftest
    assert "third_party/" in (project / ".gitignore").read_text()


def test_custom_answers_reach_code_and_config(cookies):
    project = bake(
        cookies,
        project_name='Tax "Tree" Übung \\ O\'Brien',
        project_slug="tax-tree",
        package_name="taxtree",
        upstream_model="HMCN",
        device="cuda",
        license="Apache-2.0",
    )
    assert (project / "src/taxtree/__main__.py").is_file()
    readme = (project / "README.md").read_text()
    assert 'Tax "Tree" Übung \\ O\'Brien' in readme  # free text stays literal
    assert "python -m taxtree upstream clone" in readme
    assert "--model HMCN" in (project / "Makefile").read_text()
    assert "Apache License" in (project / "LICENSE").read_text()
    # The generated config module runs on the standard library alone: check the answers and
    # the guards reach the NeuralClassifier config it writes.
    code = r"""
import json, pathlib, tempfile
from taxtree import upstream
from taxtree.synthetic import SyntheticSpec, write_synthetic
d = pathlib.Path(tempfile.mkdtemp())
write_synthetic(d, spec=SyntheticSpec(n_train=60, n_dev=30, n_test=30))
files = {s: [d / f"{s}.json"] for s in ("train", "dev", "test")}
common = dict(files, taxonomy=d / "taxonomy.tsv", run_dir=d / "run")
cfg = upstream.build_config(**common)
flat = upstream.build_config(**common, model="TextCNN", device="cpu", top_k=1000)
try:
    upstream.build_config(**common, epochs=1)
    guard = None
except upstream.ConfigError as err:
    guard = str(err)
print(json.dumps({
    "model": cfg["model_name"],
    "device": cfg["device"],
    "hierarchical": cfg["task_info"]["hierarchical"],
    "workers": cfg["data"]["num_worker"],
    "depth": cfg["HMCN"]["hierarchical_depth"],
    "top_k": flat["eval"]["top_k"],
    "labels": upstream.label_stats(files["train"]).num_labels,
    "flat_hierarchical": flat["task_info"]["hierarchical"],
    "dict_from_all_files": cfg["data"]["generate_dict_using_all_json_files"],
    "guard": guard,
}))
"""
    out = run_python(project, code)
    assert out["model"] == "HMCN" and out["device"] == "cuda"
    assert out["hierarchical"] is False  # HMCN must run with hierarchical = false
    assert out["workers"] == 0
    assert out["depth"] == [0, 384, 384, 384]
    assert out["top_k"] == out["labels"] <= 28
    assert out["flat_hierarchical"] is True
    assert out["dict_from_all_files"] is False  # dictionaries from the training files only
    assert "at least 2 epochs" in out["guard"]


def test_readme_states_the_targets_the_code_checks(cookies):
    """The README's published numbers and smoke margins are the ones the code uses."""
    project = bake(cookies)
    package = project / "src" / "hierarchical_text_classifier"
    readme = (project / "README.md").read_text(encoding="utf-8")
    code = r"""
import json
from hierarchical_text_classifier import published
print(json.dumps(published.RCV1))
"""
    rcv1 = run_python(project, code)
    micro, macro = rcv1["TextRCNN"][1]["hierarchical"]
    assert f"**>= {micro}**" in readme
    assert f"**>= {macro}**" in readme
    for model in ("TextCNN", "TextRCNN"):
        for mode in ("hierarchical", "flat"):
            for value in rcv1[model][1][mode]:
                assert str(value) in readme, (model, mode, value)
    smoke = (package / "smoke.py").read_text(encoding="utf-8")
    for name in ("MICRO_MARGIN", "MACRO_MARGIN", "FLAT_MICRO_MARGIN"):
        value = float(re.search(rf"^{name} = ([0-9.]+)$", smoke, re.M).group(1))
        assert f"**{value:.2f}**" in readme, name


def test_numpy_is_a_runtime_dependency_and_no_extra_is_left(cookies):
    """NeuralClassifier's scripts import numpy (and torch warns without it): it is a dependency,
    so no warning needs ignoring and no install instruction names an extra."""
    project = bake(cookies)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert ".[real]" not in readme and ".[dev" not in readme
    for path, text in text_files(project):
        assert ".[real]" not in text, path
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert "numpy==2.4.6" in pyproject["project"]["dependencies"]
    assert pyproject["tool"]["pytest"]["ini_options"]["filterwarnings"] == ["error"]
    assert (project / "requirements-lock.txt").read_text().count("\nnumpy==2.4.6 ") == 1
    assert not (project / "requirements-real-lock.txt").exists()


def test_license_none_writes_no_license(cookies):
    project = bake(cookies, license="none")
    assert not (project / "LICENSE").exists()
    assert "No license chosen yet" in (project / "README.md").read_text()
    assert "license =" not in (project / "pyproject.toml").read_text()


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="needs ruff")
@pytest.mark.parametrize("package", ["p", "a_rather_long_package_name_for_line_lengths"])
def test_baked_code_is_ruff_clean_for_any_package_name(cookies, package):
    project = bake(cookies, project_slug="hmc", package_name=package)
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_same_answers_same_bytes(cookies):
    first = bake(cookies, copyright_year="2026")
    a = {p.relative_to(first): t for p, t in text_files(first)}
    second = bake(cookies, copyright_year="2026")
    b = {p.relative_to(second): t for p, t in text_files(second)}
    assert a == b


def test_seed_answer_reaches_the_code_and_changes_the_data(cookies):
    code = r"""
import json
from hierarchical_text_classifier import DEFAULT_SEED
from hierarchical_text_classifier.synthetic import SyntheticSpec, make_corpus
docs = make_corpus(spec=SyntheticSpec(n_train=5, n_dev=1, n_test=1))["train"]
print(json.dumps({"seed": DEFAULT_SEED, "docs": [[d.labels, d.tokens] for d in docs]}))
"""
    runs = {}
    for seed in ("0", "7", "000042", "999999"):
        project = bake(cookies, seed=seed)
        init = (project / "src/hierarchical_text_classifier/__init__.py").read_text()
        assert f"DEFAULT_SEED = {int(seed)}\n" in init  # leading zeros dropped: valid Python
        assert f"draw from seed {int(seed)}," in (project / "README.md").read_text()
        runs[seed] = run_python(project, code)
        assert runs[seed]["seed"] == int(seed)
    corpora = [json.dumps(run["docs"]) for run in runs.values()]
    assert len(set(corpora)) == len(corpora)  # every seed its own corpus
    again = run_python(bake(cookies, seed="7"), code)
    assert again == runs["7"]  # the same seed, the same corpus


def new_repo(runner, out: Path, *args: str) -> Path:
    from mlstarter.cli import app

    result = runner.invoke(app, ["new", "neuralclassifier", "--no-input", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out / SLUG


def function_body(tree: ast.Module, dotted: str) -> list[ast.stmt]:
    scope: list[ast.stmt] = tree.body
    for name in dotted.split("."):
        node = next(
            n for n in scope if isinstance(n, ast.ClassDef | ast.FunctionDef) and n.name == name
        )
        scope = node.body
    return scope


def test_assignment_flavor_leaves_todos_and_moves_hidden_tests(runner, tmp_path):
    project = new_repo(runner, tmp_path, "--flavor", "assignment")
    package = project / "src/hierarchical_text_classifier"
    for module, (function, hint) in TODOS.items():
        text = (package / module).read_text(encoding="utf-8")
        assert "assignment" not in text, module
        body = function_body(ast.parse(text), function)
        assert ast.get_docstring(ast.Module(body=body, type_ignores=[])), function
        raise_ = body[-1]
        assert len(body) == 2 and isinstance(raise_, ast.Raise), function
        assert ast.unparse(raise_) == f"raise NotImplementedError('TODO: {hint}')"
    # only forward used F: the import stays for the student, marked as needed (issue 18)
    assert "as F  # noqa: F401 (the TODO needs it)" in (package / "model.py").read_text()
    assert "def hierarchical_scores" in (package / "evaluate.py").read_text()  # kept whole
    assert not (project / "tests/hidden").exists()
    grader = tmp_path / f"{SLUG}-grader" / "tests" / "hidden"
    assert sorted(p.name for p in grader.iterdir()) == HIDDEN
    grading = json.loads((project / ".github/classroom/autograding.json").read_text())
    runs = {t["run"] for t in grading["tests"]}
    for name in ("test_model", "test_evaluate", "test_taxonomy", "test_smoke"):
        assert f"python -m pytest -q tests/{name}.py" in runs
    assert not any("hidden" in r for r in runs)
    visible = "".join(p.read_text() for p in (project / "tests").glob("*.py"))
    assert "hidden" not in visible  # no visible test imports an instructor test
    if importlib.util.find_spec("ruff") is not None:
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_showcase_and_solution_flavors_keep_the_code_and_hidden_tests(runner, tmp_path):
    showcase = new_repo(runner, tmp_path / "showcase")
    solution = new_repo(runner, tmp_path / "solution", "--flavor", "solution", "--set", "seed=5")
    for project, markers in ((showcase, 0), (solution, 2)):
        package = project / "src/hierarchical_text_classifier"
        for module in TODOS:
            text = (package / module).read_text(encoding="utf-8")
            assert "NotImplementedError" not in text
            assert text.count("# >>> assignment") + text.count("# <<< assignment") == markers
        assert sorted(p.name for p in (project / "tests/hidden").iterdir()) == HIDDEN
        assert not (project / ".github/classroom").exists()
    assert (
        "DEFAULT_SEED = 5\n"
        in (solution / "src/hierarchical_text_classifier/__init__.py").read_text()
    )
