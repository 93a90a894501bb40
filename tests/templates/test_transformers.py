"""The transformers template: its questions reach the files; its pins, layout and lint hold."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mlstarter.answers import COMMON_QUESTIONS
from mlstarter.flavors import apply_flavor

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "transformers"
QUESTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
MODELS = QUESTIONS["model_name"]
RECIPES = QUESTIONS["_model_recipes"]
COMMON = list(COMMON_QUESTIONS)
PINS = {
    "torch": "2.13.0",
    "transformers": "5.23.0",
    "tokenizers": "0.23.3",
    "safetensors": "0.8.0",
    "huggingface_hub": "2.4.0",
    "numpy": "2.4.6",
    "datasets": "5.2.0",
}


def bake(cookies, **answers: str) -> Path:
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def text_files(project: Path) -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


def test_questions_are_the_common_block_then_model_name_and_seed():
    visible = [key for key in QUESTIONS if not key.startswith("_")]
    assert visible == [*COMMON, "model_name", "seed"]
    assert QUESTIONS["seed"] == "0"
    assert set(QUESTIONS["__prompts__"]) == set(visible)
    assert MODELS[0] == "distilbert/distilbert-base-uncased"
    assert set(RECIPES) == set(MODELS)


def test_every_model_has_a_published_sst2_target_with_its_source():
    for model, recipe in RECIPES.items():
        assert 0.85 < float(recipe["sst2_dev_accuracy"]) < 0.97, model
        assert recipe["sst2_source"].strip() and recipe["sst2_source_url"].startswith("https://")
        # the source lands in a Python string literal and a ruff-clean line (<= 100 characters)
        assert '"' not in recipe["sst2_source"] and "\\" not in recipe["sst2_source"]
        assert len(f'PUBLISHED_SOURCE = "{recipe["sst2_source"]}"') <= 100, model
    distilbert = RECIPES["distilbert/distilbert-base-uncased"]
    assert distilbert["sst2_dev_accuracy"] == "0.913"  # Sanh et al. 2019, Table 1
    assert "1910.01108" in distilbert["sst2_source"] and "Table 1" in distilbert["sst2_source"]


def test_default_bake_has_the_starter_layout(cookies):
    project = bake(cookies)
    assert project.name == "sentiment-transformers"
    package = project / "src" / "sentiment_transformers"
    for name in (
        "__init__",
        "__main__",
        "data",
        "model",
        "train",
        "evaluate",
        "smoke",
        "finetune",
        "settings",
        "errors",
        "baseline",
        "targets",
        "runs",
        "showcase",
        "history",
        "report",
        "demo",
        "demo_server",
        "space",
    ):
        assert (package / f"{name}.py").is_file(), name
    for name in (
        "conftest",
        "test_data",
        "test_model",
        "test_train",
        "test_evaluate",
        "test_smoke",
        "test_cli",
        "test_real",
        "test_rehearsal",
        "test_gpu",
        "test_baseline",
        "test_breakage",
        "broken",
        "test_targets",
        "test_runs",
        "test_showcase",
        "test_report",
        "test_demo",
        "browser",
        "test_demo_server",
        "test_space",
    ):
        assert (project / "tests" / f"{name}.py").is_file(), name
    for name in (
        "README.md",
        "pyproject.toml",
        "Makefile",
        "LICENSE",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
    ):
        assert (project / name).is_file(), name
    assert not (project / "templates").exists()


@pytest.mark.parametrize("model", MODELS)
def test_the_model_choice_reaches_settings_readme_and_tests(cookies, model):
    project = bake(cookies, model_name=model)
    recipe = RECIPES[model]
    settings = (project / "src" / "sentiment_transformers" / "settings.py").read_text()
    assert f'DEFAULT_MODEL = "{model}"' in settings
    assert f"DEFAULT_LEARNING_RATE = {recipe['learning_rate']}\n" in settings
    assert f"CPU_TRAIN_EXAMPLES = {recipe['cpu_train_examples']}\n" in settings
    assert f"PUBLISHED_ACCURACY = {recipe['sst2_dev_accuracy']}\n" in settings
    assert f'PUBLISHED_SOURCE = "{recipe["sst2_source"]}"\n' in settings
    readme = (project / "README.md").read_text()
    assert f"https://huggingface.co/{model}" in readme
    assert f"{recipe['parameters']} parameters" in readme
    assert f"{recipe['cpu_train_examples']:,} training" in readme
    success = readme[readme.index("## Success criteria") : readme.index("## Quickstart")]
    assert f"**>= {recipe['sst2_dev_accuracy']}**" in success and recipe["sst2_source"] in success
    references = readme[readme.index("## References") :]
    assert recipe["sst2_source"] in references and recipe["sst2_source_url"] in references
    compile(settings, "settings.py", "exec")


def test_names_reach_the_package_imports_and_makefile(cookies):
    project = bake(cookies, project_name="Movie Mood")
    assert project.name == "movie-mood"
    assert (project / "src" / "movie_mood" / "__main__.py").is_file()
    assert "PACKAGE := movie_mood\n" in (project / "Makefile").read_text()
    assert "from movie_mood.data import (" in (project / "tests" / "test_data.py").read_text()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "movie-mood"
    for path, text in text_files(project).items():
        assert "sentiment_transformers" not in text, path


def test_pins_are_exact_and_datasets_is_installed_by_default(cookies):
    project = bake(cookies)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    deps = dict(dep.split("==") for dep in pyproject["project"]["dependencies"])
    assert deps == PINS
    assert set(pyproject["project"]["optional-dependencies"]) == {"dev"}
    groups = pyproject["dependency-groups"]
    # datasets is a dependency, not a group: the real run and its rehearsal in `make test`
    # (which mlstarter's e2e tier runs after a plain `make setup`) both need it. The live demo's
    # Gradio and Selenium are a group of their own (make setup-demo).
    assert set(groups) == {"dev", "demo"}
    assert [dep.split("==")[0] for dep in groups["demo"]] == ["gradio", "selenium"]
    assert {"mypy==2.4.1", "pytest==9.2.0", "ruff==0.17.6"} <= set(groups["dev"])
    everything = " ".join(pyproject["project"]["dependencies"] + groups["dev"])
    assert "torchvision" not in everything
    pytest_config = pyproject["tool"]["pytest"]["ini_options"]
    assert {marker.split(":")[0] for marker in pytest_config["markers"]} == {
        "real",
        "rehearsal",
        "gpu",
        "browser",
    }
    assert pytest_config["filterwarnings"] == ["error"]  # no warning of the libraries ignored
    # datasets ships no type information, and the optional demo group is checked as Any;
    # nothing else is exempt from mypy.
    untyped = [o for o in pyproject["tool"]["mypy"]["overrides"] if o.get("ignore_missing_imports")]
    assert [o["module"] for o in untyped] == [
        ["gradio", "gradio.*", "selenium", "selenium.*"],
        ["datasets"],
    ]
    assert not (project / "requirements-real-lock.txt").exists()
    demo_lock = (project / "requirements-demo-lock.txt").read_text()
    assert "\ngradio==6.31.0 " in demo_lock and "\nselenium==4.51.0 " in demo_lock
    assert "\ndatasets==5.2.0 " in (project / "requirements-lock.txt").read_text()


def test_no_install_instruction_names_an_extra(cookies):
    project = bake(cookies)
    for path, text in text_files(project).items():
        if path.suffix in {".md", ".py", ""}:
            assert ".[real]" not in text and ".[dev" not in text, path
    readme = (project / "README.md").read_text()
    assert "WITH=real" not in readme and "SST2_DATA" in readme and "--data" in readme


def test_tests_go_offline_before_anything_imports_transformers(cookies):
    conftest = (bake(cookies) / "tests" / "conftest.py").read_text()
    offline = conftest.index('os.environ["HF_HUB_OFFLINE"] = "1"')
    assert offline < conftest.index('os.environ["TRANSFORMERS_OFFLINE"] = "1"')
    first_import = re.search(r"^(import|from) (?!os\b)", conftest, flags=re.MULTILINE)
    assert first_import and offline < first_import.start()


def test_transformers_5_traps_are_avoided_in_the_code(cookies):
    src = bake(cookies) / "src" / "sentiment_transformers"
    calls: dict[str, set[str]] = {}
    imported: set[str] = set()
    for path in src.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                calls.setdefault(name, set()).update(k.arg for k in node.keywords if k.arg)
            elif isinstance(node, ast.ImportFrom) and node.module == "transformers":
                imported.update(alias.name for alias in node.names)
    keywords = set().union(*calls.values())
    assert "vocab" in calls["BertTokenizer"]  # vocab_file= is silently ignored in v5
    assert not keywords & {"vocab_file", "torch_dtype", "no_cuda"}
    assert "dtype" in calls["AutoModelForSequenceClassification.from_pretrained"]
    assert "torch.optim.AdamW" in calls and "AdamW" not in imported
    assert "pipeline" in calls and "Trainer" not in calls


def test_free_text_stays_out_of_python_and_reaches_toml_intact(cookies):
    description = 'Quotes "here", a back\\slash and ünïcode'
    project = bake(cookies, description=description, author_name="O'Brien Ünal")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"][0]["name"] == "O'Brien Ünal"
    for path, text in text_files(project).items():
        if path.suffix == ".py":
            assert "Quotes" not in text and "O'Brien" not in text, path


@pytest.mark.parametrize("license_name", ["MIT", "Apache-2.0", "BSD-3-Clause", "none"])
def test_each_license_choice(cookies, license_name):
    project = bake(cookies, license=license_name)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    if license_name == "none":
        assert not (project / "LICENSE").exists()
        assert "license" not in pyproject["project"]
        assert "No license chosen yet" in (project / "README.md").read_text()
    else:
        assert pyproject["project"]["license"] == license_name
        assert (project / "LICENSE").read_text().strip()


@pytest.mark.parametrize(
    "project_name", ["Sentiment Transformers", "A Very Long Project Name For Sentiment Experiments"]
)
def test_baked_code_is_ruff_clean_and_jinja_free(cookies, project_name):
    project = bake(cookies, project_name=project_name, model_name=MODELS[-1])
    for path, text in text_files(project).items():
        # GitHub Actions expressions (${{ github.ref }}) are the workflow's own syntax
        assert not re.search(r"(?<!\$)\{\{|\{%|\{#", text), path
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("seed", ["0", "123456"])
def test_the_seed_reaches_settings_and_the_tests(cookies, seed):
    project = bake(cookies, seed=seed)
    settings = (project / "src" / "sentiment_transformers" / "settings.py").read_text()
    assert f"DEFAULT_SEED = {int(seed)}\n" in settings
    assert f"DEFAULT_SEED == {int(seed)}\n" in (project / "tests" / "test_data.py").read_text()
    main = (project / "src" / "sentiment_transformers" / "__main__.py").read_text()
    assert main.count("default=DEFAULT_SEED") == 2  # smoke and train


MARKED = {
    "model.py": ["build_tokenizer"],
    "train.py": ["batches", "train_step"],
    "evaluate.py": ["predict_logits"],
}


def test_the_assignment_flavor_leaves_todos_and_moves_the_hidden_tests(cookies, tmp_path):
    project = bake(cookies)
    hidden = sorted(p.name for p in (project / "tests" / "hidden").glob("test_*.py"))
    assert len(hidden) == 3
    result = apply_flavor(project, "assignment", grader=tmp_path / "grader")
    assert result.regions == sum(len(names) for names in MARKED.values())
    package = project / "src" / "sentiment_transformers"
    for module, functions in MARKED.items():
        text = (package / module).read_text()
        assert text.count('raise NotImplementedError("TODO: ') == len(functions), module
        assert "# >>> assignment" not in text
        compile(text, module, "exec")
    assert not (project / "tests" / "hidden").exists()
    assert sorted(p.name for p in (tmp_path / "grader" / "tests" / "hidden").iterdir()) == hidden
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_solution_flavor_keeps_the_markers_and_the_hidden_tests(cookies):
    project = bake(cookies)
    result = apply_flavor(project, "solution")
    assert result.regions == 4 and not result.hidden
    assert (
        "# >>> assignment: "
        in (project / "src" / "sentiment_transformers" / "train.py").read_text()
    )
    assert (project / "tests" / "hidden" / "test_hidden_train_step.py").is_file()
