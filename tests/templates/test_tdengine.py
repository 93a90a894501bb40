"""The tdengine template: what its answers change in a baked starter, and what it must contain."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "tdengine"

ANSWER_SETS = {
    "defaults": {},
    "websocket": {
        "project_name": "Grid Watch",
        "default_connector": "websocket",
        "fleet_size": "1000",
        "tdengine_version": "latest",
        "license": "none",
    },
    "small-fleet": {
        "project_name": "Meter Lab",
        "package_name": "meterlab",
        "fleet_size": "20",
        "tdengine_version": "3.4.2.8",
        "license": "Apache-2.0",
    },
}

EXPECTED_FILES = [
    "README.md",
    "pyproject.toml",
    "Makefile",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    "docker-compose.yml",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/data.py",
    "src/{pkg}/sql.py",
    "src/{pkg}/lineproto.py",
    "src/{pkg}/connect.py",
    "src/{pkg}/ingest.py",
    "src/{pkg}/queries.py",
    "src/{pkg}/detect.py",
    "src/{pkg}/evaluate.py",
    "src/{pkg}/fake_server.py",
    "src/{pkg}/pipeline.py",
    "tests/conftest.py",
    "tests/test_server.py",
    "tests/test_fake_server.py",
    "tests/test_cli.py",
    "tests/test_compose.py",
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
    common = [k for k in reference if not k.startswith("_")]
    assert [k for k in ours if not k.startswith("_")][: len(common)] == common
    assert ours["license"] == reference["license"]
    own = ["default_connector", "fleet_size", "tdengine_version"]
    assert [k for k in ours if not k.startswith("_")][len(common) :] == own
    assert set(ours["__prompts__"]) == set(common) | set(own)
    assert ours["project_name"] == "Smart Meter Pipeline"
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

    compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["tdengine"]
    assert service["image"] == f"tdengine/tsdb:{answer(answers, 'tdengine_version')}"
    assert {"6030:6030", "6041:6041", "6060:6060"} <= {str(p) for p in service["ports"]}

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert f"{scheme}://root:taosdata@localhost:6041" in readme
    assert "docker compose up -d" in readme
    assert f"python -m {pkg} ingest" in readme


def test_pins_markers_and_make_targets(cookies):
    project = bake(cookies, {})
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    for pin in ('"numpy==2.4.6"', '"taospy==2.8.10"', '"taos-ws-py==0.7.0"', '"pytest==9.2.0"'):
        assert pin in pyproject
    assert "torch" not in pyproject
    assert '"server: needs a running TDengine' in pyproject
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("#")
    for target in ("setup:", "smoke:", "test:", "lint:", "run:", "db-up:", "test-server:"):
        assert f"\n{target}" in makefile
    assert "$(PYTHON) -m $(PACKAGE) bench" in makefile


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
