"""Every template in the catalog, baked with several answer sets, meets the starter contract's
static rules: it renders fully, lints clean, its pyproject and workflow validate, its licence
follows the answer, its README has the ten sections, and mlstarter bakes the same bytes as plain
cookiecutter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from mlstarter import generate
from mlstarter.answers import RECORD_FILE, load_template, resolve_answers
from mlstarter.catalog import load_catalog
from mlstarter.flavors import apply_flavor

from .conftest import TEMPLATES, tree_bytes

KEYS = load_catalog(TEMPLATES).keys
SCRIPTS = Path(sysconfig.get_path("scripts"))
README_SECTIONS = [
    "## The problem", "## Success criteria", "## Quickstart", "## Real run", "## Milestones",
    "## Stretch goals", "## Project layout", "## Results", "## References",
]  # fmt: skip
ANSWER_SETS = {
    "defaults": {},
    "unicode-quotes-no-license": {
        "project_name": "Ünïcode Démo", "author_name": "O'Brien \"Bob\"",
        "description": 'Say "hi" \\ then {{ bye }}', "license": "none",
    },
    "custom-names-apache": {
        "project_slug": "custom-slug", "package_name": "custom_pkg", "license": "Apache-2.0",
        "github_username": "someone-else",
    },
    "bsd": {"license": "BSD-3-Clause", "copyright_year": "2031"},
}  # fmt: skip
LICENSE_HEADS = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause",
}


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / name), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module", params=[(k, a) for k in KEYS for a in ANSWER_SETS],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def baked(request, tmp_path_factory):
    """A repo baked by plain cookiecutter (pytest-cookies' isolated config) and its answers."""
    from pytest_cookies.plugin import Cookies

    key, answer_set = request.param
    given = ANSWER_SETS[answer_set]
    if "{{" in str(given):  # plain cookiecutter would render it: that is mlstarter's job
        given = {k: v.replace("{{", "{ {") for k, v in given.items()}
    out = tmp_path_factory.mktemp(f"{key}-{answer_set}")
    config = out / "config.yaml"
    config.write_text(yaml.safe_dump({"cookiecutters_dir": str(out / "cc"),
                                      "replay_dir": str(out / "replay")}))  # fmt: skip
    cookies = Cookies(str(TEMPLATES / key), lambda name: out / name, str(config))
    result = cookies.bake(extra_context=given)
    assert result.exit_code == 0, result.exception
    spec = load_template(TEMPLATES / key)
    return key, spec, resolve_answers(spec, given), Path(result.project_path)


def test_no_unrendered_jinja_and_python_compiles(baked):
    _, _, _, repo = baked
    assert generate.check_tree(repo)
    for path in repo.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".toml", ".md", ".yml", ".yaml", ""}:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "{%" not in text and "{{ cookiecutter" not in text, path
    for source in repo.rglob("*.py"):  # compiled in memory: no __pycache__ left in the repo
        compile(source.read_text(encoding="utf-8"), str(source), "exec")


def test_ruff_is_clean(baked):
    *_, repo = baked
    done = tool("ruff", "check", "--no-cache", ".", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pyproject_validates_and_pins_exactly(baked):
    _, _, answers, repo = baked
    done = tool("validate-pyproject", "pyproject.toml", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert project["name"] == answers["project_slug"]
    assert project["authors"][0]["name"] == answers["author_name"]
    assert project["description"] == answers["description"]
    for requirement in project["dependencies"]:
        assert "==" in requirement, f"unpinned dependency {requirement}"
    dev = " ".join(project["optional-dependencies"]["dev"])
    assert "pytest" in dev and "ruff" in dev
    assert "torchvision" not in " ".join(project["dependencies"])


def test_workflow_is_valid_for_actionlint(baked):
    *_, repo = baked
    workflow = repo / ".github" / "workflows" / "ci.yml"
    assert yaml.safe_load(workflow.read_text())["jobs"]
    done = tool("actionlint", "-no-color", str(workflow), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_license_follows_the_answer(baked):
    _, _, answers, repo = baked
    license_file = repo / "LICENSE"
    if answers["license"] == "none":
        assert not license_file.exists()
        assert "all rights reserved" in (repo / "README.md").read_text()
        return
    text = license_file.read_text()
    assert LICENSE_HEADS[answers["license"]] in text
    assert f"{answers['copyright_year']}" in text and answers["author_name"] in text


def test_readme_has_the_ten_sections_and_the_quickstart(baked):
    _, _, answers, repo = baked
    readme = (repo / "README.md").read_text()
    positions = [readme.index(section) for section in README_SECTIONS]
    assert positions == sorted(positions)
    assert readme.startswith(f"# {answers['project_name']}")
    assert "make smoke" in readme and "make test" in readme


def test_layout_makefile_and_offline_conftest(baked):
    _, _, answers, repo = baked
    package = repo / "src" / answers["package_name"]
    assert (package / "__init__.py").is_file() and (package / "__main__.py").is_file()
    makefile = (repo / "Makefile").read_text()
    for target in ("setup:", "smoke:", "test:", "lint:", "run:"):
        assert target in makefile
    conftest = (repo / "tests" / "conftest.py").read_text()
    assert "HF_HUB_OFFLINE" in conftest and "TRANSFORMERS_OFFLINE" in conftest
    for name in (".gitignore", ".pre-commit-config.yaml"):
        assert (repo / name).is_file()


def test_mlstarter_bakes_the_same_bytes_as_plain_cookiecutter(baked, tmp_path):
    """Byte for byte, but for the record mlstarter adds and the assignment markers its showcase
    flavor removes (applied here to a copy of the plain bake)."""
    key, spec, answers, repo = baked
    result = generate.bake(key, spec, answers, tmp_path / "ours")
    ours = tree_bytes(result.path)
    assert ours.pop(RECORD_FILE)
    plain = shutil.copytree(repo, tmp_path / "plain")
    apply_flavor(plain, "showcase")
    assert ours == tree_bytes(plain)


@pytest.mark.parametrize("key", KEYS)
def test_plain_cookiecutter_no_input_bakes(key, tmp_path):
    env = {**os.environ, "COOKIECUTTER_CONFIG": str(tmp_path / "none.yaml"), "HOME": str(tmp_path)}
    (tmp_path / "none.yaml").write_text("{}\n")
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATES / key), "-o",
         str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1


@pytest.mark.parametrize("key", KEYS)
def test_every_starter_serves_the_three_flavors_and_a_student_seed(key, tmp_path):
    """Issue 7's contract for each starter: marked regions, hidden grader tests, a seed."""
    spec = load_template(TEMPLATES / key)
    assert "seed" in spec.names
    repos = {}
    for flavor in ("assignment", "solution"):
        answers = resolve_answers(spec, {"seed": "4242"})
        result = generate.bake(key, spec, answers, tmp_path / flavor, flavor=flavor,
                               grader=tmp_path / flavor / "grader")  # fmt: skip
        repos[flavor] = result.path
    student, solution = repos["assignment"], repos["solution"]
    todos = sum(p.read_text().count("raise NotImplementedError(") for p in student.rglob("*.py"))
    marked = sum(p.read_text().count("# >>> assignment") for p in solution.rglob("*.py"))
    assert todos >= marked >= 2
    assert not (student / "tests" / "hidden").exists()
    assert list((tmp_path / "assignment" / "grader" / "tests" / "hidden").glob("test_*.py"))
    assert list((solution / "tests" / "hidden").glob("test_*.py"))
    assert (student / ".github" / "classroom" / "autograding.json").is_file()
    assert any("4242" in p.read_text() for p in student.rglob("*.py"))
    done = tool("ruff", "check", "--no-cache", ".", cwd=student)
    assert done.returncode == 0, done.stdout
