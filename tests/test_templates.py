"""Every template in the catalog, baked with several answer sets, meets the starter contract's
static rules: it renders fully, lints clean, its pyproject and workflow validate, its licence
follows the answer, its README has the ten sections, and mlstarter bakes the same bytes as plain
cookiecutter."""

from __future__ import annotations

import json
import os
import re
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
    groups = tomllib.loads((repo / "pyproject.toml").read_text())["dependency-groups"]
    dev = " ".join(groups["dev"])
    assert "pytest" in dev and "ruff" in dev and "mypy" in dev
    # the one extra: the dev group again, for `pip install -e '.[dev]'`; every other optional
    # install is a group (`make setup WITH=<name>`)
    assert project["optional-dependencies"] == {"dev": groups["dev"]}
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


def switched_on(baked, flag: str) -> tuple[bool, Path, str, str]:
    """Whether the template sets `flag` (a feature landing starter by starter), the baked repo's
    package folder, Makefile and README."""
    key, _, answers, repo = baked
    template = json.loads((TEMPLATES / key / "cookiecutter.json").read_text(encoding="utf-8"))
    package = repo / "src" / answers["package_name"]
    return (
        bool(template.get(flag)),
        package,
        (repo / "Makefile").read_text(),
        (repo / "README.md").read_text(),
    )


def test_make_report_is_offered_only_by_starters_that_have_a_report_command(baked):
    # issue 14 lands starter by starter: a starter advertises `make report` (Makefile, README
    # Results markers) only once its template says so with `_showcase`, and then really has one
    showcase, package, makefile, readme = switched_on(baked, "_showcase")
    assert ("\nreport:" in makefile) == showcase
    assert ("make report" in readme) == showcase
    assert ("<!-- results:begin" in readme) == showcase
    if showcase:
        main = (package / "__main__.py").read_text()
        assert re.search(r"[\"']report[\"']", main), "make report calls a command that is missing"


def test_a_demo_is_offered_only_with_the_app_its_browser_tests_and_its_lock(baked):
    # issue 16 lands starter by starter: `_demo` in the template turns on `make setup-demo`,
    # `make demo` and `make space`, the demo group and the README's Live demo section; a starter
    # that sets it has the app, the shared server and Space builder, browser tests and a lock
    demo, package, makefile, readme = switched_on(baked, "_demo")
    repo = package.parents[1]
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    assert ("\nsetup-demo:" in makefile) == ("\nspace:" in makefile) == demo
    assert ("### Live demo" in readme) == demo
    assert ("demo" in pyproject["dependency-groups"]) == demo
    if not demo:
        return
    assert "-m $(PACKAGE) demo" in makefile.split("\ndemo:")[1].split("\n\n")[0]
    for name in ("demo.py", "demo_server.py", "space.py"):
        assert (package / name).is_file(), name
    for shared in ("demo_server.py", "space.py"):
        assert (package / shared).read_bytes() == (TEMPLATES / "_shared" / shared).read_bytes()
    assert "def build_app(" in (package / "demo.py").read_text()
    main = (package / "__main__.py").read_text()
    assert re.search(r"[\"']demo[\"']", main) and re.search(r"[\"']space[\"']", main)
    tests = repo / "tests"
    assert (tests / "browser.py").is_file()
    assert any("pytest.mark.browser" in path.read_text() for path in tests.glob("test_*.py"))
    assert (repo / "requirements-demo-lock.txt").is_file()


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


# --- the 2026 toolchain: locked, formatted, typed, strict tests, CI a security review passes ---


def requirement_pins(repo: Path) -> dict[str, str]:
    """Every exact pin of the project's dependencies and dependency groups: name -> version."""
    data = tomllib.loads((repo / "pyproject.toml").read_text())
    requirements = list(data["project"]["dependencies"])
    for group in data.get("dependency-groups", {}).values():
        requirements += [r for r in group if isinstance(r, str)]
    pins = {}
    for requirement in requirements:
        name, _, rest = requirement.partition("==")
        pins[normalize(name)] = rest.split(";")[0].strip()
    return pins


def normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def locked_pins(path: Path) -> dict[str, set[str]]:
    """The export's pins: name -> every version it locks (one a marker, e.g. per Python)."""
    pins: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, rest = line.partition("==")
            pins.setdefault(normalize(name), set()).add(rest.split(";")[0].split()[0])
    return pins


def test_the_lock_is_portable_and_holds_every_pin_of_the_pyproject(baked):
    _, _, _, repo = baked
    locks = sorted(repo.glob("requirements*-lock.txt"))
    assert repo / "requirements-lock.txt" in locks
    locked: dict[str, set[str]] = {}
    for lock in locks:
        text = lock.read_text()
        for local in ("file:", "/tmp/", "/opt/", "/home/", "/root/", "/work/"):
            assert local not in text, f"{lock.name} names a local path ({local})"
        for line in text.splitlines():
            if line and not line[0].isspace() and not line.startswith("#"):
                assert "--hash=sha256:" in text.split(line, 1)[1].split("\n\n")[0], line
        for name, versions in locked_pins(lock).items():
            locked.setdefault(name, set()).update(versions)
    for name, version in requirement_pins(repo).items():
        if name in {"torch", "torchvision"}:  # from PyTorch's CPU index: not hash-locked here
            assert name not in locked
            continue
        assert version in locked.get(name, set()), f"{name}=={version} is not in the lock"


def test_dependencies_do_not_depend_on_the_answers(baked):
    """One lock serves every answer set: the answers change code and text, never what installs."""
    key, spec, _, repo = baked
    defaults = generate.preview(key, spec, resolve_answers(spec, {}))
    assert "requirements-lock.txt" in defaults
    data = tomllib.loads((repo / "pyproject.toml").read_text())
    ours = (data["project"]["dependencies"], data.get("dependency-groups"), data["tool"]["uv"])
    reference = _default_pyproject(key)
    assert ours == (reference["project"]["dependencies"], reference.get("dependency-groups"),
                    reference["tool"]["uv"])  # fmt: skip


_DEFAULT_PYPROJECTS: dict[str, dict] = {}


def _default_pyproject(key: str) -> dict:
    if key not in _DEFAULT_PYPROJECTS:
        import tempfile

        spec = load_template(TEMPLATES / key)
        with tempfile.TemporaryDirectory() as tmp:
            result = generate.bake(key, spec, resolve_answers(spec, {}), Path(tmp))
            _DEFAULT_PYPROJECTS[key] = tomllib.loads((result.path / "pyproject.toml").read_text())
    return _DEFAULT_PYPROJECTS[key]


def test_ruff_format_is_clean(baked):
    *_, repo = baked
    done = tool("ruff", "format", "--check", "--no-cache", ".", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_text_files_pass_the_pre_commit_hygiene_hooks(baked):
    """What the shipped pre-commit hooks check, so a user's first `pre-commit run --all-files`
    passes: one final newline, no trailing whitespace, LF endings, valid YAML and TOML, no file
    over the large-file limit."""
    *_, repo = baked
    for path in repo.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        data = path.read_bytes()
        assert len(data) <= 1000 * 1024, f"{path.name}: over check-added-large-files' limit"
        if b"\0" in data[:8192]:
            continue
        text = data.decode("utf-8")
        relative = path.relative_to(repo)
        assert b"\r" not in data, f"{relative}: CR line endings"
        if text:
            assert text.endswith("\n") and not text.endswith("\n\n"), f"{relative}: end of file"
        bad = [n for n, line in enumerate(text.split("\n"), 1) if line != line.rstrip()]
        assert not bad, f"{relative}: trailing whitespace on lines {bad[:5]}"
        if path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        if path.suffix == ".toml":
            tomllib.loads(text)


def test_codespell_finds_no_typo(baked):
    *_, repo = baked
    done = tool("codespell", ".", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_pass_zizmor_offline(baked):
    *_, repo = baked
    done = tool("zizmor", "--offline", "--no-progress", ".github", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dependabot_watches_the_lock_and_the_actions(baked):
    *_, repo = baked
    config = yaml.safe_load((repo / ".github" / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in config["updates"]} == {"uv", "github-actions"}


def test_ci_pins_actions_by_commit_and_tests_two_pythons(baked):
    *_, repo = baked
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "ci.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "workflow_dispatch" in workflow[True]  # PyYAML reads the key `on` as True
    for job in workflow["jobs"].values():
        versions = job["strategy"]["matrix"]["python-version"]
        assert versions[0] == "3.11" and len(versions) == 2 and versions[1] > "3.11"
        for step in job["steps"]:
            if "uses" in step:
                ref = step["uses"].split("@")[1]
                assert len(ref) == 40 and int(ref, 16) >= 0, step["uses"]
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_pytest_is_strict_and_the_package_is_typed(baked):
    _, _, answers, repo = baked
    data = tomllib.loads((repo / "pyproject.toml").read_text())
    pytest_config = data["tool"]["pytest"]["ini_options"]
    assert {"-ra", "--strict-markers", "--strict-config"} <= set(pytest_config["addopts"])
    assert pytest_config["xfail_strict"] is True and pytest_config["filterwarnings"][0] == "error"
    assert data["tool"]["mypy"]["strict"] is True
    assert (repo / "src" / answers["package_name"] / "py.typed").is_file()


def test_repo_review_passes_nine_in_ten_applicable_checks(baked):
    *_, repo = baked
    from repo_review.processor import process

    _, results = process(repo)
    applicable = [r for r in results if r.result is not None]
    passed = [r for r in applicable if r.result]
    failed = [f"{r.name}: {r.description}" for r in applicable if not r.result]
    assert len(passed) >= 0.9 * len(applicable), failed
    ignored = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["repo-review"]["ignore"]
    assert len(ignored) <= 8 and all(len(reason) > 20 for reason in ignored.values())
