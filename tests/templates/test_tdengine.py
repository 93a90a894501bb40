"""The tdengine template: what its answers change in a baked starter, what it must contain, its
TDengine CI workflow, and its flavors (the assignment leaves the scorer's pieces, the metrics and
the line builder to write)."""

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

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "tdengine"
SCRIPTS = Path(sysconfig.get_path("scripts"))
# The image CI pins when the answer is "latest" (a CI run must be reproducible).
CI_DEFAULT_VERSION = "3.3.8.8"

ANSWER_SETS = {
    "defaults": {},
    "websocket": {
        "project_name": "Grid Watch",
        "default_connector": "websocket",
        "fleet_size": "1000",
        "tdengine_version": "latest",
        "license": "none",
        "seed": "123456",
    },
    "small-fleet": {
        "project_name": "Meter Lab",
        "package_name": "meterlab",
        "fleet_size": "20",
        "tdengine_version": "3.4.2.8",
        "license": "Apache-2.0",
        "seed": "0042",
    },
}

EXPECTED_FILES = [
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    ".github/workflows/tdengine.yml",
    "docker-compose.yml",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/data.py",
    "src/{pkg}/sql.py",
    "src/{pkg}/lineproto.py",
    "src/{pkg}/connect.py",
    "src/{pkg}/ingest.py",
    "src/{pkg}/queries.py",
    "src/{pkg}/context.py",
    "src/{pkg}/detect.py",
    "src/{pkg}/forecast.py",
    "src/{pkg}/evaluate.py",
    "src/{pkg}/targets.py",
    "src/{pkg}/fake_server.py",
    "src/{pkg}/pipeline.py",
    "src/{pkg}/demo.py",
    "src/{pkg}/demo_server.py",
    "src/{pkg}/space.py",
    "requirements-demo-lock.txt",
    "tests/browser.py",
    "tests/test_demo.py",
    "tests/conftest.py",
    "tests/test_server.py",
    "tests/test_fake_server.py",
    "tests/test_cli.py",
    "tests/test_compose.py",
    "tests/test_context.py",
    "tests/test_forecast.py",
    "tests/test_targets.py",
]


def bake(cookies, answers: dict[str, str]):
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


def test_questions_keep_the_common_block_and_add_prompted_ones():
    ours = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    reference = json.loads(
        (TEMPLATE.parent / "python-autocomplete" / "cookiecutter.json").read_text(encoding="utf-8")
    )
    keys = [k for k in reference if not k.startswith("_")]
    common = keys[: keys.index("copyright_year") + 1]  # the common block, not its own questions
    assert [k for k in ours if not k.startswith("_")][: len(common)] == common
    assert ours["license"] == reference["license"]
    own = ["default_connector", "fleet_size", "tdengine_version", "seed"]
    assert [k for k in ours if not k.startswith("_")][len(common) :] == own
    assert set(ours["__prompts__"]) == set(common) | set(own)
    assert ours["project_name"] == "Smart Meter Pipeline"
    assert ours["seed"] == "0"
    assert "Seed for the generated data" in ours["__prompts__"]["seed"]
    assert (TEMPLATE / "templates").is_symlink()


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_bake_has_every_file_and_no_leftover_jinja(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    if name == "defaults":
        assert pkg == "smart_meter_pipeline"
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
def test_answers_reach_the_code_and_the_compose_file(cookies, name):
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    connect = (project / "src" / pkg / "connect.py").read_text(encoding="utf-8")
    scheme = "ws" if answer(answers, "default_connector") == "websocket" else "http"
    assert f'DEFAULT_DSN = "{scheme}://root:taosdata@localhost:6041"' in connect
    main = (project / "src" / pkg / "__main__.py").read_text(encoding="utf-8")
    assert f"FLEET_SIZE = {int(answer(answers, 'fleet_size'))}\n" in main
    assert f'prog="python -m {pkg}"' in main
    data = (project / "src" / pkg / "data.py").read_text(encoding="utf-8")
    seed = int(answer(answers, "seed"))  # "0042" renders as 42: a leading zero is no Python
    assert f"\nDEFAULT_SEED = {seed}\n" in data
    assert "seed: int = DEFAULT_SEED\n" in data
    assert "else DEFAULT_SEED" in main and "default=DEFAULT_SEED" in main

    compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["tdengine"]
    assert service["image"] == f"tdengine/tsdb:{answer(answers, 'tdengine_version')}"
    assert {"6030:6030", "6041:6041", "6060:6060"} <= {str(p) for p in service["ports"]}

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert f"seed, {seed} (`DEFAULT_SEED`" in readme
    assert f"{scheme}://root:taosdata@localhost:6041" in readme
    assert "docker compose up -d" in readme
    assert f"python -m {pkg} ingest" in readme
    for command in ("detect", "forecast", "smoke --detector union"):
        assert f"python -m {pkg} {command}" in readme


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_ci_runs_the_server_tests_against_a_pinned_tdengine(cookies, name):
    """The generated repo's own workflow starts tdengine/tsdb as a service container, waits for
    it to answer SQL, and runs the `server` tests with skips turned into failures."""
    answers = ANSWER_SETS[name]
    project = bake(cookies, answers)
    pkg = package_of(project)
    path = project / ".github" / "workflows" / "tdengine.yml"
    done = subprocess.run(
        [str(SCRIPTS / "actionlint"), "-no-color", str(path)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    job = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]["server-tests"]
    version = answer(answers, "tdengine_version")
    pinned = CI_DEFAULT_VERSION if version == "latest" else version
    assert job["services"]["tdengine"]["image"] == f"tdengine/tsdb:{pinned}"
    assert "6041:6041" in [str(p) for p in job["services"]["tdengine"]["ports"]]
    assert job["env"]["TDENGINE_REQUIRED"] == "1"
    runs = [step.get("run", "") for step in job["steps"]]
    assert runs.index(f"python -m {pkg} ping --wait 120") < runs.index(
        "python -m pytest -m server -v"
    )
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert ".github/workflows/tdengine.yml" in readme
    assert ".deb" in readme and ".tar.gz" in readme and "systemctl start taosd" in readme


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_the_server_workflow_follows_the_shared_ci_standards(cookies, name):
    """tdengine.yml as ci.yml: setup-uv with its cache, the same actions at the same commits,
    no persisted credentials, read-only token, one run per ref, a manual trigger."""
    project = bake(cookies, ANSWER_SETS[name])
    ours = yaml.safe_load((project / ".github/workflows/tdengine.yml").read_text(encoding="utf-8"))
    shared = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert ours["permissions"] == shared["permissions"] == {"contents": "read"}
    assert ours["concurrency"] == shared["concurrency"]
    assert ours[True] == shared[True]  # PyYAML reads the key `on` as True
    assert "workflow_dispatch" in ours[True]
    steps = ours["jobs"]["server-tests"]["steps"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses == [step["uses"] for step in shared["jobs"]["test"]["steps"] if "uses" in step]
    assert all(len(u.split("@")[1]) == 40 for u in uses)
    checkout, setup_uv = (step for step in steps if "uses" in step)
    assert checkout["with"]["persist-credentials"] is False
    assert setup_uv["uses"].startswith("astral-sh/setup-uv@")
    assert setup_uv["with"]["enable-cache"] is True
    assert setup_uv["with"]["activate-environment"] is True  # `python` is the synced .venv
    assert not any("pip install" in step.get("run", "") for step in steps)
    text = (project / ".github/workflows/tdengine.yml").read_text(encoding="utf-8")
    for action in uses:  # the version in a comment beside the commit
        assert re.search(rf"uses: {re.escape(action)}  # v\d+\.\d+\.\d+\n", text), action


def test_pins_markers_and_make_targets(cookies):
    project = bake(cookies, {})
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    for pin in ('"numpy==2.4.6"', '"taospy==2.8.10"', '"taos-ws-py==0.7.0"', '"pytest==9.2.0"'):
        assert pin in pyproject
    data = tomllib.loads(pyproject)
    requirements = data["project"]["dependencies"] + data["dependency-groups"]["dev"]
    assert not [r for r in requirements if r.startswith("torch")]
    assert "sources" not in data["tool"]["uv"] and "index" not in data["tool"]["uv"]
    assert {"pyyaml==6.0.3", "types-pyyaml==6.0.12.20261122"} <= set(requirements)
    untyped = [
        o["module"] for o in data["tool"]["mypy"]["overrides"] if "ignore_missing_imports" in o
    ]
    assert ["taos", "taosrest", "taosws"] in untyped  # the connectors ship no type information
    assert ["gradio", "gradio.*", "selenium", "selenium.*"] in untyped  # the demo group (as Any)
    assert len(untyped) == 2
    assert '"server: needs a running TDengine' in pyproject
    assert '"rehearsal: the real-mode commands end to end' in pyproject  # issue 17
    rehearsal = (project / "tests" / "test_rehearsal.py").read_text(encoding="utf-8")
    assert "pytestmark = pytest.mark.rehearsal" in rehearsal
    assert 'pytest.param("tdengine", marks=pytest.mark.server)' in rehearsal  # run by CI's job
    for command in ("ping", "ingest", "query", "detect", "forecast", "bench"):
        assert f'["{command}"' in rehearsal, command
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("#")
    for target in (
        "setup:",
        "smoke:",
        "test:",
        "lint:",
        "run:",
        "db-up:",
        "forecast:",
        "test-server:",
    ):
        assert f"\n{target}" in makefile
    assert "$(PYTHON) -m $(PACKAGE) bench" in makefile


def test_the_demo_group_installs_beside_taospys_typing_extensions_cap(cookies):
    # Issue 16: taospy 2.8.10 declares typing-extensions<4.15; the demo group's selenium 4.51
    # and gradio's anyio (4.15+ works with pytest 9.2) need more. uv overrides the cap with one
    # pin; pip installs the lock and `make setup`'s pip check forgives that one line only.
    project = bake(cookies, {})
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["tool"]["uv"]["override-dependencies"] == ["typing-extensions==4.16.0"]
    demo_lock = (project / "requirements-demo-lock.txt").read_text(encoding="utf-8")
    base_lock = (project / "requirements-lock.txt").read_text(encoding="utf-8")
    assert "\ngradio==6.31.0 " in demo_lock and "\nselenium==4.51.0 " in demo_lock
    assert not re.search(r"\nanyio==4\.1[0-4]\.", demo_lock)  # its pytest plugin: pytest 9.2
    assert "\ntyping-extensions==4.16.0 " in base_lock
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    check = makefile.split("-m pip check", 1)[1].split("\n", 1)[0]
    assert check == ' | grep -v "^taospy 2.8.10 has requirement typing-extensions" | { ! grep . ; }'
    assert "\nsetup-demo:" in makefile
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "**What it shows.**" in readme.split("### Live demo")[1].split("\n## ")[0]
    assert "detector.json" in readme


def test_native_connector_is_imported_lazily(cookies):
    """`import taos` fails without libtaos.so, so no module may import it at the top level."""
    project = bake(cookies, {})
    pkg = package_of(project)
    for path in (project / "src" / pkg).glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] in ("taos", "taosws", "taosrest") for n in names), path


# ---- flavors -----------------------------------------------------------------------------------

MARKED = {  # module -> functions whose core the assignment leaves to write
    "detect.py": ["robust_z", "stuck_mask"],
    "evaluate.py": ["precision_recall_f1"],
    "lineproto.py": ["format_line"],
}
HIDDEN = ["test_exact_detect.py", "test_exact_metrics_and_lines.py"]


def _new(runner, out: Path, flavor: str, *sets: str) -> Path:
    from mlstarter.cli import app

    args = ["new", "tdengine", "--no-input", "-o", str(out), "--flavor", flavor]
    for item in sets:
        args += ["--set", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out / "smart-meter-pipeline"


def _raising_functions(source: str) -> set[str]:
    """Functions whose body raises NotImplementedError at its top level."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Raise)
                    and isinstance(stmt.exc, ast.Call)
                    and getattr(stmt.exc.func, "id", None) == "NotImplementedError"
                ):
                    names.add(node.name)
    return names


def test_assignment_leaves_the_core_to_write_and_moves_the_hidden_tests_out(runner, tmp_path):
    repo = _new(runner, tmp_path, "assignment", "seed=000042")
    src = repo / "src" / "smart_meter_pipeline"
    for module, functions in MARKED.items():
        text = (src / module).read_text(encoding="utf-8")
        assert _raising_functions(text) == set(functions), module
        assert text.count('raise NotImplementedError("TODO: ') == len(functions)
        assert all(len(line) <= 100 for line in text.splitlines()), module  # ruff E501
    for path in repo.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "# >>> assignment" not in text and "# <<< assignment" not in text, path
        if path.parent.name == "smart_meter_pipeline" and path.name not in MARKED:
            assert "NotImplementedError" not in text, path
        if path.parent.name == "tests":
            assert "hidden" not in text, path
    assert "\nDEFAULT_SEED = 42\n" in (src / "data.py").read_text(encoding="utf-8")
    assert not (repo / "tests" / "hidden").exists()
    grader = tmp_path / "smart-meter-pipeline-grader" / "tests" / "hidden"
    assert sorted(p.name for p in grader.iterdir()) == HIDDEN
    grading = json.loads((repo / ".github" / "classroom" / "autograding.json").read_text())
    points = {entry["name"]: entry["points"] for entry in grading["tests"]}
    assert sum(points.values()) == 100
    assert points["detect"] == 30 and points["lineproto"] == 12 and points["pipeline"] == 20
    assert (repo / ".github" / "workflows" / "classroom.yml").is_file()


def test_showcase_and_solution_keep_the_code_and_the_hidden_tests(runner, tmp_path):
    showcase = _new(runner, tmp_path / "showcase", "showcase")
    solution = _new(runner, tmp_path / "solution", "solution")
    for repo, markers in ((showcase, 0), (solution, 1)):
        src = repo / "src" / "smart_meter_pipeline"
        for module, functions in MARKED.items():
            text = (src / module).read_text(encoding="utf-8")
            assert _raising_functions(text) == set(), module
            assert text.count("# >>> assignment: ") == markers * len(functions), module
            assert all(len(line) <= 100 for line in text.splitlines()), module
        hidden = repo / "tests" / "hidden"
        assert sorted(p.name for p in hidden.iterdir()) == HIDDEN
        for name in HIDDEN:  # the grader runs them outside tests/: no conftest fixtures
            tree = ast.parse((hidden / name).read_text(encoding="utf-8"))
            tests = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
            assert all(not n.args.args for n in tests if n.name.startswith("test_")), name
        assert not (repo / ".github" / "classroom").exists()
