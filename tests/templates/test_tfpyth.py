"""The tfpyth template: what its answers change in a baked starter, and what it must contain."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from mlstarter.answers import COMMON_QUESTIONS

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "tfpyth"
SCRIPTS = Path(sysconfig.get_path("scripts"))

ANSWER_SETS = {
    "defaults": {},
    "tfpyth-no-plot": {
        "project_name": "Bridge Lab",
        "default_bridge": "tfpyth",
        "include_plot": "no",
        "license": "none",
    },
    "custom-package": {
        "project_name": "Interop Study",
        "package_name": "interop",
        "default_bridge": "dlpack",
        "include_plot": "yes",
        "license": "BSD-3-Clause",
        "seed": "123456",
    },
}

COMMON = COMMON_QUESTIONS

EXPECTED_FILES = [
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/bridge.py",
    "src/{pkg}/config.py",
    "src/{pkg}/model.py",
    "src/{pkg}/data.py",
    "src/{pkg}/train.py",
    "src/{pkg}/legacy.py",
    "src/{pkg}/evaluate.py",
    "src/{pkg}/bench.py",
    "src/{pkg}/baselines.py",
    "src/{pkg}/experiment.py",
    "src/{pkg}/targets.py",
    "src/{pkg}/demo.py",
    "src/{pkg}/demo_server.py",
    "src/{pkg}/space.py",
    "requirements-demo-lock.txt",
    "tests/browser.py",
    "tests/test_demo.py",
    "tests/conftest.py",
    "tests/breakages.py",
    "tests/test_smoke.py",
    "tests/test_rehearsal.py",
    "tests/test_bridge.py",
    "tests/test_legacy.py",
    "tests/test_model.py",
    "tests/test_train.py",
    "tests/test_data.py",
    "tests/test_bench.py",
    "tests/test_cli.py",
    "tests/hidden/test_hidden_bridge.py",
    "tests/hidden/test_hidden_model.py",
]


def bake(cookies, answers: dict[str, str]) -> Path:
    result = cookies.bake(template=str(TEMPLATE), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def answer(answers: dict[str, str], key: str) -> str:
    if key in answers:
        return answers[key]
    default = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))[key]
    return default[0] if isinstance(default, list) else default


def package_of(project: Path) -> str:
    (pkg,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    return pkg


def top_level_imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_questions_keep_the_common_block_and_add_prompted_ones():
    ours = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    reference = json.loads(
        (TEMPLATE.parent / "python-autocomplete" / "cookiecutter.json").read_text(encoding="utf-8")
    )
    common = list(COMMON)
    assert [k for k in reference if not k.startswith("_")][: len(common)] == common
    assert [k for k in ours if not k.startswith("_")][: len(common)] == common
    assert ours["license"] == reference["license"]
    for key in common:
        assert ours["__prompts__"][key] == reference["__prompts__"][key]
    own = ["default_bridge", "include_plot", "seed"]
    assert [k for k in ours if not k.startswith("_")][len(common) :] == own
    assert set(ours["__prompts__"]) == set(common) | set(own)
    assert ours["default_bridge"] == ["dlpack", "tfpyth"]
    assert ours["include_plot"] == ["yes", "no"]
    assert ours["seed"] == "0" and "each student" in ours["__prompts__"]["seed"]
    assert (TEMPLATE / "templates").is_symlink()


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_bake_has_every_file_and_no_leftover_jinja(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    if name == "defaults":
        assert pkg == "tf_torch_bridge"  # not "tfpyth": that would shadow the library itself
    if "package_name" in answers:
        assert pkg == answers["package_name"]
    for relative in EXPECTED_FILES:
        assert (project / relative.format(pkg=pkg)).is_file(), relative
    assert (project / "LICENSE").exists() == (answer(answers, "license") != "none")
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\{\{ *cookiecutter|\{%|\{#", text), path
            if path.suffix == ".py":
                ast.parse(text, filename=str(path))


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_default_bridge_reaches_the_cli_and_the_readme(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    bridge = answer(answers, "default_bridge")
    main = (project / "src" / pkg / "__main__.py").read_text(encoding="utf-8")
    assert f'DEFAULT_BRIDGE = "{bridge}"\n' in main
    assert f"python -m {pkg} smoke" in main
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert f"`--bridge` defaults to `{bridge}`" in readme
    assert f"python -m {pkg} train --bridge both --dataset mnist" in readme
    assert f"src/{pkg}/" in readme


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_include_plot_decides_the_code_and_the_docs_never_what_installs(cookies, name):
    """matplotlib is in the dev group for every answer (one lock); the answer sets the bench's
    plot default and what the README and the Makefile promise."""
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(pyproject["project"]["optional-dependencies"]) == {"dev"}
    dev = pyproject["dependency-groups"]["dev"]
    assert "matplotlib==3.11.2" in dev and "pytest==9.2.0" in dev and "ruff==0.17.6" in dev
    readme = (project / "README.md").read_text(encoding="utf-8")
    main = (project / "src" / package_of(project) / "__main__.py").read_text(encoding="utf-8")
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    plot = answer(answers, "include_plot") == "yes"
    assert f"\nDRAW_PLOT = {plot}\n" in main and "default=DRAW_PLOT" in main
    assert ("runs/bench/bench.png" in readme) == plot
    assert ("CSV + plot in runs/bench" in makefile) == plot
    assert "[plot]" not in readme and "extras" not in readme


def test_pins_markers_setup_and_make_targets(cookies):
    project = bake(cookies, {})
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    deps = pyproject["project"]["dependencies"]
    for pin in ("numpy==2.4.6", "scipy==1.17.1", "scikit-learn==1.9.1", "torch==2.13.0"):
        assert pin in deps
    assert "tensorflow-cpu==2.21.0; sys_platform != 'darwin'" in deps
    assert "tensorflow==2.21.0; sys_platform == 'darwin'" in deps
    # tfpyth's metadata asks for tensorflow~=1.14 and torch~=1.1: uv overrides both, to the pins
    assert "tfpyth==1.0.1" in deps
    assert pyproject["tool"]["uv"]["override-dependencies"] == [
        "tensorflow==2.21.0 ; sys_platform == 'darwin'",
        "torch==2.13.0",
    ]
    assert not any("torchvision" in d for d in deps)
    assert pyproject["project"]["scripts"] == {"tf-torch-bridge": "tf_torch_bridge.__main__:main"}
    markers = " ".join(pyproject["tool"]["pytest"]["ini_options"]["markers"])
    for marker in ("real:", "gpu:", "rehearsal:"):
        assert marker in markers
    # TensorFlow's types come from typeshed's stubs; only these ship none at all
    assert "types-tensorflow==2.18.0.20261009" in pyproject["dependency-groups"]["dev"]
    untyped = [o for o in pyproject["tool"]["mypy"]["overrides"] if o.get("ignore_missing_imports")]
    # and the demo group's, checked as Any whether or not make setup-demo installed them
    assert [o["module"] for o in untyped] == [
        ["gradio", "gradio.*", "selenium", "selenium.*"],
        ["keras", "sklearn.*", "tfpyth"],
    ]

    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("#")
    setup = makefile[makefile.index("\nsetup:") : makefile.index("\nsmoke:")]
    assert "uv sync --locked" in setup and "--no-deps tfpyth" not in setup
    # pip installs the lock with --no-deps; pip check may complain about tfpyth's line only
    assert '$(PYTHON) -m pip check | grep -v "^tfpyth 1.0.1 " | { ! grep . ; }' in setup
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "no-deps tfpyth" not in readme and ".[dev" not in readme
    for target in ("setup:", "smoke:", "test:", "lint:", "run:", "bench:"):
        assert f"\n{target}" in makefile
    assert "$(PYTHON) -m $(PACKAGE) bench" in makefile

    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    runs = [step.get("run") for step in workflow["jobs"]["test"]["steps"]]
    assert "make setup" in runs and "make test" in runs and "make smoke" in runs


def test_tfpyth_is_imported_only_where_it_is_used(cookies):
    """The package must import without tfpyth, and TF1 graph mode must stay in the subprocess."""
    project = bake(cookies, {})
    pkg = package_of(project)
    for path in (project / "src" / pkg).glob("*.py"):
        assert "tfpyth" not in top_level_imports(path), path
    legacy = (project / "src" / pkg / "legacy.py").read_text(encoding="utf-8")
    assert "disable_eager_execution()" in legacy and "tfpyth.tf = tf.compat.v1" in legacy
    assert legacy.index("disable_eager_execution()") < legacy.index("\n    import tfpyth\n")
    for path in (project / "src" / pkg).glob("*.py"):
        if path.name != "legacy.py":
            assert "compat.v1." not in path.read_text(encoding="utf-8"), path  # code, not prose
    tests = (project / "tests" / "test_legacy.py").read_text(encoding="utf-8")
    assert 'find_spec("tfpyth") is None' in tests and "make setup" in tests


def test_smoke_targets_are_same_run_baselines_and_the_real_run_a_published_number(cookies):
    project = bake(cookies, {})
    pkg = package_of(project)
    experiment = (project / "src" / pkg / "experiment.py").read_text(encoding="utf-8")
    # the hybrid must beat the frozen extractor measured in the same run, by a stated margin
    assert "MARGIN_OVER_FROZEN = 0.25\n" in experiment
    assert (
        'beats_baseline(\n            known(value), "frozen_extractor_test_accuracy"' in experiment
    )
    for name in ("bridges_agree_step_by_step", "tfpyth_weights_through_dlpack", "gradient_check"):
        assert name in experiment
    assert "MNIST_ERROR = 0.0305\n" in experiment
    assert "LeCun, Bottou, Bengio, Haffner 1998" in experiment
    readme = (project / "README.md").read_text(encoding="utf-8")
    references = " ".join(readme[readme.index("## References") :].split())
    assert "Gradient-based learning applied to document recognition" in references
    assert "3.05 %" in readme and "frozen extractor" in readme
    conftest = (project / "tests" / "conftest.py").read_text(encoding="utf-8")
    assert conftest.index("HF_HUB_OFFLINE") < conftest.index("import tensorflow")
    bridge = (project / "src" / pkg / "bridge.py").read_text(encoding="utf-8")
    for api in (
        "torch_dlpack.to_dlpack",
        "tf.experimental.dlpack.from_dlpack",
        "torch.from_dlpack",
    ):
        assert api in bridge
    assert "tf.GradientTape(persistent=True" in bridge


def test_the_real_run_reads_kerass_cache_atomically_and_is_rehearsed(cookies):
    project = bake(cookies, {})
    pkg = package_of(project)
    data = (project / "src" / pkg / "data.py").read_text(encoding="utf-8")
    # Keras's cache folder and origin, the download through a partial file, every error kept
    assert 'os.environ.get("KERAS_HOME")' in data and 'os.environ.get("MNIST_URL")' in data
    assert "with atomic_file(target) as partial:" in data and "errors.append(" in data
    assert "load_data()" not in data  # Keras's loader re-downloads any file but its own
    model = (project / "src" / pkg / "model.py").read_text(encoding="utf-8")
    assert "with atomic_file(path) as partial:" in model  # checkpoints land whole or not at all
    rehearsal = (project / "tests" / "test_rehearsal.py").read_text(encoding="utf-8")
    assert "pytestmark = pytest.mark.rehearsal" in rehearsal
    assert '"train", "--bridge", bridge, "--dataset", "mnist"' in rehearsal
    readme = " ".join((project / "README.md").read_text(encoding="utf-8").split())
    for documented in ("KERAS_HOME", "MNIST_URL", "pytest -m rehearsal", "mnist_official"):
        assert documented in readme


def test_the_readme_shows_no_result_of_the_template_authors_run(cookies):
    """Another seed changes the README only where it names the seed; Results holds no number."""
    readmes = []
    for seed in ("0", "123456"):
        project = bake(cookies, {"seed": seed})
        readmes.append((project / "README.md").read_text(encoding="utf-8"))
    assert readmes[0].replace("seed is 0 ", "seed is 123456 ") == readmes[1]
    results = readmes[0][readmes[0].index("## Results") : readmes[0].index("## References")]
    # the published number (LeCun et al. 1998) stands beside the user's; no result of ours does
    assert not re.search(r"\d\.\d", results.replace("3.05 %", "")), results


def test_the_tfpyth_child_can_start_before_tensorflow_loads(cookies):
    """legacy.py and config.py import neither framework: the smoke starts the child first."""
    project = bake(cookies, {})
    pkg = package_of(project)
    for module in ("legacy.py", "config.py", "data.py", "experiment.py", "targets.py"):
        imports = top_level_imports(project / "src" / pkg / module)
        assert not {"tensorflow", "torch"} & {i.split(".")[0] for i in imports}, module


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_seed_reaches_the_data_the_cli_and_the_readme(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    seed = int(answer(answers, "seed"))
    data = (project / "src" / pkg / "data.py").read_text(encoding="utf-8")
    assert f"\nDEFAULT_SEED = {seed}\n" in data
    assert "seed: int = DEFAULT_SEED" in data  # load_digits_split and load_split
    main = (project / "src" / pkg / "__main__.py").read_text(encoding="utf-8")
    assert main.count('"--seed", type=int, default=DEFAULT_SEED') == 3  # smoke, train, evaluate
    assert '--seed", type=int, default=0' not in main
    config = (project / "src" / pkg / "config.py").read_text(encoding="utf-8")
    assert config.count("seed: int = DEFAULT_SEED") == 2  # ModelConfig and TrainConfig
    assert f"This project's seed is {seed} " in (project / "README.md").read_text(encoding="utf-8")


MARKED = {"bridge.py": 2, "model.py": 1}  # module: marked regions (torch_to_tf, backward; forward)


def bake_flavor(tmp_path: Path, flavor: str) -> tuple[Path, Path]:
    from mlstarter import generate
    from mlstarter.answers import load_template, resolve_answers

    spec = load_template(TEMPLATE)
    answers = resolve_answers(spec, {"seed": "42"})
    grader = tmp_path / "grader"
    result = generate.bake("tfpyth", spec, answers, tmp_path / flavor, flavor=flavor, grader=grader)
    return result.path, grader


def test_assignment_flavor_leaves_todos_and_moves_the_hidden_tests(tmp_path):
    project, grader = bake_flavor(tmp_path, "assignment")
    pkg = project / "src" / "tf_torch_bridge"
    for path in pkg.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        ast.parse(text, filename=str(path))
        assert "# >>> assignment" not in text and "# <<< assignment" not in text, path
        assert text.count('raise NotImplementedError("TODO: ') == MARKED.get(path.name, 0), path
    bridge = (pkg / "bridge.py").read_text(encoding="utf-8")
    # the solution's only use of the torch.utils.dlpack import went with it; the import stays,
    # marked as needed, so the student can write the region (issue 18)
    assert "as torch_dlpack  # noqa: F401 (the TODO needs it)" in bridge
    assert "torch_dlpack." not in bridge and "tf.experimental.dlpack" not in bridge
    assert "tf.GradientTape(persistent=True" in bridge  # forward stays: it saves the tape
    assert "ctx.tape.gradient" not in bridge
    assert "self.head(self.extractor(x))" not in (pkg / "model.py").read_text()
    legacy = (pkg / "legacy.py").read_text(encoding="utf-8")
    assert "tfpyth.torch_from_tensorflow" in legacy and "NotImplementedError" not in legacy
    assert not (project / "tests" / "hidden").exists()
    assert not any("hidden" in p.parts for p in (project / "tests").rglob("*"))
    hidden = sorted(p.name for p in (grader / "tests" / "hidden").glob("*.py"))
    assert hidden == ["test_hidden_bridge.py", "test_hidden_model.py"]
    for path in (project / "tests").glob("*.py"):
        assert "hidden" not in top_level_imports(path), path
    grading = json.loads((project / ".github" / "classroom" / "autograding.json").read_text())
    points = {t["run"].rsplit("/", 1)[-1]: t["points"] for t in grading["tests"]}
    assert sum(points.values()) == 100 and points["test_bridge.py"] == 30, points
    assert {t["run"] for t in grading["tests"]} >= {
        "python -m pytest -q tests/test_bridge.py",
        "python -m pytest -q tests/test_model.py",
    }
    assert "DEFAULT_SEED = 42\n" in (pkg / "data.py").read_text(encoding="utf-8")
    ruff = SCRIPTS / "ruff"
    if ruff.is_file():
        done = subprocess.run(
            [str(ruff), "check", "--no-cache", "."], cwd=project, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("flavor", ["showcase", "solution"])
def test_showcase_and_solution_keep_the_code_and_the_hidden_tests(tmp_path, flavor):
    project, grader = bake_flavor(tmp_path, flavor)
    pkg = project / "src" / "tf_torch_bridge"
    markers = sum(p.read_text(encoding="utf-8").count("# >>> assignment") for p in pkg.glob("*.py"))
    assert markers == (3 if flavor == "solution" else 0)
    assert "NotImplementedError" not in (pkg / "bridge.py").read_text(encoding="utf-8")
    assert "self.head(self.extractor(x))" in (pkg / "model.py").read_text()
    assert (project / "tests" / "hidden" / "test_hidden_bridge.py").is_file()
    assert not grader.exists() and not (project / ".github" / "classroom").exists()


def test_the_demo_loads_what_smoke_and_train_keep_and_shows_both_bridges(cookies):
    """make demo serves the run's two checkpoints: the smoke keeps them in its run folder (not
    a temporary one), train too, with the test digits the page offers; the browser test runs."""
    project = bake(cookies, {})
    package = project / "src" / package_of(project)
    main = (package / "__main__.py").read_text(encoding="utf-8")
    assert "keep=run.staging" in main
    assert 'save_examples(split, run.path("examples.npz"))' in main
    experiment = (package / "experiment.py").read_text(encoding="utf-8")
    assert 'out_dir=tmp / "dlpack"' in experiment and 'out_dir=tmp / "tfpyth"' in experiment
    demo = (package / "demo.py").read_text(encoding="utf-8")
    assert '"dlpack":' in demo and '"tfpyth":' in demo and 'CHECKPOINT = "model.pt"' in demo
    assert "import gradio" not in demo and "import_gradio()" in demo  # plain functions first
    tests = (project / "tests" / "test_demo.py").read_text(encoding="utf-8")
    assert "@pytest.mark.browser" in tests and 'screenshot(driver, "tfpyth-demo")' in tests
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "### Live demo" in readme and "**What the app shows.**" in readme
