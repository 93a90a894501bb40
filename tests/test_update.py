"""`mlstarter update`: a real template change (python-autocomplete as shipped, 1.4.0 today, to
the next minor version, made here and released with tools/template_versions.py), the user's edits
kept, conflicts, a class of 30, idempotence, safety (Ctrl-C, dirty trees, dry runs) and the
fallbacks when no base can be rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlstarter import catalog as catalog_mod
from mlstarter import template_versions
from mlstarter import update as update_mod
from mlstarter.cli import app
from tests.conftest import REPO, TEMPLATES, tree_bytes

KEY = "python-autocomplete"
SLUG = "my-complete"
PKG = "my_complete"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
}  # fmt: skip

# The template change of the next version: (file in the template's project folder, old text, new text)
PROJECT = "{{cookiecutter.project_slug}}"
SRC = f"{PROJECT}/src/{{{{cookiecutter.package_name}}}}"
README_TEMPLATE = TEMPLATES / KEY / PROJECT / "README.md"
# the first line of the README's pitch, plain text (other templates work may change its words)
PITCH = README_TEMPLATE.read_text().split("{% block pitch -%}\n", 1)[1].split("\n", 1)[0]
NEW_PITCH = PITCH + " (new in 1.5)"
DOC_LINE = '"""'  # a module docstring's opening: the template changes the first line of ngram.py
CHANGES = [
    (f"{PROJECT}/README.md", PITCH + "\n", NEW_PITCH + "\n"),
    (f"{SRC}/ngram.py", DOC_LINE, DOC_LINE + "[1.5] "),
    (f"{SRC}/vocab.py", "\nfrom __future__", "\n# the vocabulary, 1.5\nfrom __future__"),
]
OLD = template_versions.template_version(TEMPLATES / KEY)  # the shipped version (1.4.0 today)
NEW = ".".join([OLD.split(".")[0], str(int(OLD.split(".")[1]) + 1), "0"])  # what release makes
MY_FUNCTION = "\n\ndef my_helper() -> int:\n    return 1\n"
ADDED = f"{SRC}/extra.py"
REMOVED = f"{SRC}/py.typed"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A copy of mlstarter's templates and template history with python-autocomplete changed
    (edited, added and removed files, a new question) and released as one command does."""
    root = tmp_path_factory.mktemp("future")
    shutil.copytree(TEMPLATES, root / "templates", symlinks=True)
    history = REPO / "src" / "mlstarter" / "template_history"
    shutil.copytree(history, root / "src" / "mlstarter" / "template_history")
    git(root, "init", "-q")
    commit_all(root, "as shipped")
    template = root / "templates" / KEY
    for relative, old, new in CHANGES:
        path = template / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, relative
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    (template / ADDED).write_text('"""New in 1.5: {{ cookiecutter.project_name }}."""\n')
    (template / REMOVED).unlink()
    config = template / "cookiecutter.json"
    questions = json.loads(config.read_text(encoding="utf-8"))
    questions = {
        **{k: v for k, v in questions.items() if not k.startswith("_")},
        "tracker": ["none", "wandb"],
        **{k: v for k, v in questions.items() if k.startswith("_")},
    }
    config.write_text(json.dumps(questions, indent=2) + "\n", encoding="utf-8")
    tool = [sys.executable, str(REPO / "tools" / "template_versions.py")]
    out = subprocess.run([*tool, "release", "--repo", str(root)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"{KEY}: {OLD} -> {NEW}" in out.stdout
    assert (root / "src" / "mlstarter" / "template_history" / f"{KEY}.tar.gz").is_file()
    return root


@pytest.fixture
def future(released, monkeypatch):
    """mlstarter pointed at the released next version (the wheel of the next mlstarter)."""
    history = released / "src" / "mlstarter" / "template_history"
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: released / "templates")
    monkeypatch.setattr(template_versions, "history_root", lambda: history)
    return released


def make_repo(runner, tmp_path: Path, *extra: str, as_main: bool = True) -> Path:
    """A repo made by `new` from the shipped templates, committed; `as_main`: its record as
    today's main wrote it (no file hashes)."""
    args = ["new", KEY, "--no-input", "--git", "--set", "project_name=My Complete", "-o"]
    result = runner.invoke(app, [*args, str(tmp_path), *extra])
    assert result.exit_code == 0, result.output
    repo = tmp_path / SLUG
    if as_main:
        record = repo / ".mlstarter.yml"
        text = record.read_text(encoding="utf-8")
        record.write_text(text[: text.index("\nfiles:\n") + 1], encoding="utf-8")
        commit_all(repo, "the record as mlstarter 3c2a63b wrote it")
    return repo


def user_edits(repo: Path) -> None:
    """The user's work of the "Done when" scenario: the README, a source module, a new test."""
    with (repo / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\n## My results\n\nTop-1 0.52 on the stdlib after 30 minutes.\n")
    with (repo / "src" / PKG / "ngram.py").open("a", encoding="utf-8") as ngram:
        ngram.write(MY_FUNCTION)
    (repo / "tests" / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    commit_all(repo, "my work")


def fresh_render(runner, tmp_path: Path, repo: Path) -> Path:
    """What the current templates make from the repo's record (a brand-new repo)."""
    out = tmp_path / "fresh"
    record = repo / ".mlstarter.yml"
    result = runner.invoke(
        app, ["new", KEY, "--no-input", "--answers", str(record), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out / SLUG


def no_markers(repo: Path) -> bool:
    return not any(b"<<<<<<<" in data for data in tree_bytes(repo).values())


def test_every_released_version_rebuilds_from_the_installed_package_alone(tmp_path):
    """1.4.0 (transformers 1.5.0), what main made before `update` existed, included."""
    manifest = template_versions.load_manifest()
    for key in catalog_mod.load_catalog().keys:
        assert template_versions.template_version(TEMPLATES / key) in manifest[key]
        for version in manifest[key]:
            into = tmp_path / key / version
            folder = template_versions.materialize(key, version, TEMPLATES / key, into)
            assert folder is not None, (key, version)
            assert template_versions.template_version(folder) == version
            hashes = template_versions.tree_hashes(template_versions.template_files(folder))
            assert hashes == manifest[key][version]
    assert "1.4.0" in manifest[KEY] and "1.5.0" in manifest["transformers"]


def test_a_repo_of_todays_main_with_edits_in_three_files_updates_keeping_every_edit(
    runner, tmp_path, future, monkeypatch
):
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    repo = make_repo(runner, tmp_path)
    user_edits(repo)
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    result = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert result.exit_code == 0, result.output
    assert f"{OLD} -> {NEW}" in result.output and "base: rebuilt" in result.output
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert NEW_PITCH in readme and "## My results" in readme
    ngram = (repo / "src" / PKG / "ngram.py").read_text(encoding="utf-8")
    assert ngram.startswith('"""[1.5] ') and ngram.endswith(MY_FUNCTION)
    assert (repo / "tests" / "test_mine.py").read_text() == "def test_mine():\n    assert True\n"
    assert (repo / "src" / PKG / "extra.py").read_text() == '"""New in 1.5: My Complete."""\n'
    assert not (repo / "src" / PKG / "py.typed").exists()
    assert no_markers(repo)
    record = yaml.safe_load((repo / ".mlstarter.yml").read_text(encoding="utf-8"))
    assert record["template_version"] == NEW
    assert record["answers"]["tracker"] == "none"  # new question, its default (--no-input)
    # every template change reached every file the user did not touch
    fresh = tree_bytes(fresh_render(runner, tmp_path, repo))
    ours = tree_bytes(repo)
    untouched = set(fresh) - {"README.md", f"src/{PKG}/ngram.py"}
    assert {p: ours[p] for p in untouched} == {p: fresh[p] for p in untouched}
    assert set(ours) - {p for p in ours if p.startswith(".git/")} == set(fresh) | {
        "tests/test_mine.py"
    }
    # a second update changes nothing
    commit_all(repo, "the update")
    before = tree_bytes(repo)
    again = runner.invoke(app, ["update", str(repo), "--no-input", "--json"])
    assert again.exit_code == 0, again.output
    payload = json.loads(again.stdout)
    assert payload["status"] == "up to date" and payload["changes"] == []
    assert tree_bytes(repo) == before


def test_both_sides_changing_the_same_lines_is_a_conflict_refused_by_default_and_marked_on_request(
    runner, tmp_path, future, monkeypatch
):
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    repo = make_repo(runner, tmp_path)
    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace(PITCH, "My own pitch, not the template's."))
    commit_all(repo, "my pitch")
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    before = tree_bytes(repo)
    refused = runner.invoke(app, ["update", str(repo), "--no-input", "--json"])
    assert refused.exit_code == 10, refused.output
    payload = json.loads(refused.stdout)
    assert payload["status"] == "conflicts" and payload["conflicts"] == ["README.md"]
    assert payload["written"] is False and tree_bytes(repo) == before
    marked = runner.invoke(app, ["update", str(repo), "--no-input", "--conflicts", "markers"])
    assert marked.exit_code == 10, marked.output
    text = readme.read_text()
    assert "<<<<<<< yours (README.md)" in text and "My own pitch" in text
    assert NEW_PITCH in text and f">>>>>>> template {NEW}" in text
    # only there: the other files took the template's change
    assert (repo / "src" / PKG / "ngram.py").read_text().startswith('"""[1.5] ')
    others = {p: d for p, d in tree_bytes(repo).items() if p != "README.md"}
    assert not any(b"<<<<<<<" in data for data in others.values())


def test_new_then_update_at_the_same_version_changes_nothing(runner, tmp_path):
    repo = make_repo(runner, tmp_path, as_main=False)
    before = tree_bytes(repo)
    result = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output and tree_bytes(repo) == before


def test_dry_run_prints_the_diff_and_writes_nothing(runner, tmp_path, future, monkeypatch):
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    repo = make_repo(runner, tmp_path)
    user_edits(repo)
    (repo / "notes.txt").write_text("uncommitted\n")  # a dry run does not mind a dirty tree
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    before = tree_bytes(repo)
    result = runner.invoke(app, ["update", str(repo), "--no-input", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"+++ b/src/{PKG}/extra.py" in result.stdout
    assert f"-{PITCH}\n+{NEW_PITCH}\n" in result.stdout
    assert f"--- a/src/{PKG}/py.typed" in result.stdout
    assert tree_bytes(repo) == before


def test_a_dirty_tree_is_refused_unless_allowed(runner, tmp_path, future, monkeypatch):
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    repo = make_repo(runner, tmp_path)
    (repo / "src" / PKG / "vocab.py").write_text("# mine, not committed\n")
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    before = tree_bytes(repo)
    result = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert result.exit_code == 11 and "uncommitted changes" in result.output
    assert tree_bytes(repo) == before
    allowed = runner.invoke(app, ["update", str(repo), "--no-input", "--allow-dirty"])
    assert allowed.exit_code == 10, allowed.output  # the uncommitted edit meets the template's
    assert "vocab.py" in allowed.output and tree_bytes(repo) == before


@pytest.mark.parametrize("where", ["merging", "renaming"])
def test_ctrl_c_mid_update_leaves_the_repo_byte_identical(
    runner, tmp_path, future, monkeypatch, where
):
    from mlstarter import gitrepo
    from mlstarter.interrupts import Interrupted

    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    repo = make_repo(runner, tmp_path)
    user_edits(repo)
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    before = tree_bytes(repo)
    calls = []
    if where == "merging":
        real_merge = gitrepo.merge_file

        def merge(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise Interrupted()
            return real_merge(*args, **kwargs)

        monkeypatch.setattr(gitrepo, "merge_file", merge)
    else:
        real_rename = os.rename

        def rename(source, target):
            calls.append(1)
            if len(calls) == 5:
                raise OSError(28, "No space left on device", str(target))
            return real_rename(source, target)

        monkeypatch.setattr(update_mod.os, "rename", rename)
    result = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert result.exit_code == (130 if where == "merging" else 8), result.output
    assert len(calls) >= 2
    assert tree_bytes(repo) == before
    assert not list(tmp_path.glob(".mlstarter-staging-*"))


def test_a_class_of_30_updates_in_parallel_keeping_each_students_work(
    runner, tmp_path, future, monkeypatch
):
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: TEMPLATES)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,name,email,github_username\n"
        + "".join(f"s{n:02d},Student {n},s{n}@example.com,s{n}\n" for n in range(30))
    )
    out = tmp_path / "class"
    base = ["batch", str(roster), "--project", KEY, "-o", str(out), "-j", "4"]
    made = runner.invoke(app, [*base, "--git"])
    assert made.exit_code == 0, made.output
    for n in range(0, 30, 3):  # every third student wrote something
        (out / f"{KEY}-s{n:02d}" / "tests" / "test_mine.py").write_text(f"# student {n}\n")
        commit_all(out / f"{KEY}-s{n:02d}", "my test")
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: future / "templates")
    updated = runner.invoke(app, [*base, "--update", "--json"])
    assert updated.exit_code == 0, updated.output
    summary = json.loads(updated.stdout)
    assert summary["counts"]["updated"] == 30, summary["counts"]
    for n in range(30):
        repo = out / f"{KEY}-s{n:02d}"
        record = yaml.safe_load((repo / ".mlstarter.yml").read_text())
        assert record["template_version"] == NEW
        assert (repo / "src" / record["answers"]["package_name"] / "extra.py").is_file()
        mine = repo / "tests" / "test_mine.py"
        assert mine.is_file() == (n % 3 == 0) and (
            not mine.is_file() or mine.read_text() == f"# student {n}\n"
        )
    again = runner.invoke(app, [*base, "--update", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counts"]["up to date"] == 30
    rows = json.loads((out / "batch-summary.json").read_text())["rows"]
    assert {row["status"] for row in rows} == {"up to date"}


def test_not_an_mlstarter_repo_is_refused(runner, tmp_path):
    result = runner.invoke(app, ["update", str(tmp_path), "--json"])
    assert result.exit_code == 11
    assert json.loads(result.stdout)["exit_code"] == 11


# --- small templates: assignments, private templates, no base at all ---------------------------

CORE = '''"""Geometry the student implements."""

import math


def area(radius: float) -> float:
    """The area of a circle."""
    # >>> assignment: return pi times the radius squared (math.pi)
    return math.pi * radius * radius
    # <<< assignment
'''
CORE_2 = (
    CORE.replace("return pi times the radius squared (math.pi)", "return math.pi * radius**2")
    .replace("return math.pi * radius * radius", "return math.pi * radius**2")
    .replace(
        "\n\ndef area",
        '\n\ndef diameter(radius: float) -> float:\n    """Twice the radius."""\n'
        "    return 2 * radius\n\n\ndef area",
    )
)
HIDDEN = "from tiny.core import area\n\n\ndef test_area_of_two():\n    assert area(2) > 12\n"
HIDDEN_2 = HIDDEN + "\n\ndef test_area_of_zero():\n    assert area(0) == 0\n"
STUDENT = "    return 3.141592653589793 * radius * radius  # my own\n"


def bump_tiny(template: Path, version: str) -> None:
    config = template / "cookiecutter.json"
    data = json.loads(config.read_text())
    data["_template_version"] = version
    config.write_text(json.dumps(data))


def test_assignment_repos_keep_the_students_code_and_the_grader_gets_the_new_hidden_tests(
    runner, tmp_path, tiny_templates
):
    project = "{{cookiecutter.project_slug}}"
    tiny_templates(f"{project}/src/tiny/__init__.py", "")
    tiny_templates(f"{project}/src/tiny/core.py", CORE)
    tiny_templates(f"{project}/tests/hidden/test_hidden.py", HIDDEN)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,name,email,github_username\n"
        + "".join(f"s{n},Student {n},s{n}@example.com,s{n}\n" for n in range(3))
    )
    out = tmp_path / "class"
    base = ["batch", str(roster), "--project", "tiny", "--flavor", "assignment", "-o", str(out)]
    assert runner.invoke(app, [*base, "--git"]).exit_code == 0
    for n in range(3):
        core = out / f"tiny-s{n}" / "src" / "tiny" / "core.py"
        text = core.read_text()
        todo = next(
            line for line in text.splitlines(keepends=True) if "NotImplementedError" in line
        )
        core.write_text(text.replace(todo, STUDENT))
        commit_all(core.parents[2], "my solution")
    tiny_templates(f"{project}/src/tiny/core.py", CORE_2)
    tiny_templates(f"{project}/tests/hidden/test_hidden.py", HIDDEN_2)
    bump_tiny(tiny_templates.template, "0.1.0")
    result = runner.invoke(app, [*base, "--update", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"]["updated"] == 3
    assert [g["status"] for g in summary["graders"]] == ["replaced"]
    assert (
        out / "_grader" / "tiny" / "tests" / "hidden" / "test_hidden.py"
    ).read_text() == HIDDEN_2
    for n in range(3):
        core = (out / f"tiny-s{n}" / "src" / "tiny" / "core.py").read_text()
        assert STUDENT in core and "def diameter" in core and "<<<<<<<" not in core
        assert "NotImplementedError" not in core
        assert not (out / f"tiny-s{n}" / "tests" / "hidden").exists()


def test_a_private_template_updates_with_template_and_its_base_from_git_history(runner, tmp_path):
    template = tmp_path / "circle-area"
    (template / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    from tests.conftest import COMMON_JSON

    (template / "cookiecutter.json").write_text(json.dumps(COMMON_JSON))
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text("# {{ cookiecutter.project_name }}\n\nline two\n\nline three\n")
    out = tmp_path / "out"
    made = runner.invoke(
        app, ["new", "--template", str(template), "--no-input", "--git", "-o", str(out)]
    )
    assert made.exit_code == 0, made.output
    repo = out / "tiny"
    (repo / "README.md").write_text("# Tiny, mine\n\nline two\n\nline three\n")
    commit_all(repo, "my title")
    readme.write_text("# {{ cookiecutter.project_name }}\n\nline two\n\nline three, updated\n")
    bump_tiny(template, "0.2.0")
    without = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert without.exit_code == 2 and "--template" in without.output
    result = runner.invoke(
        app, ["update", str(repo), "--no-input", "--template", str(template), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["base"] == "git history"
    assert (repo / "README.md").read_text() == "# Tiny, mine\n\nline two\n\nline three, updated\n"


def test_without_any_base_a_changed_file_is_never_overwritten_the_new_one_goes_beside(
    runner, tmp_path, tiny_templates
):
    project = "{{cookiecutter.project_slug}}"
    tiny_templates(f"{project}/NOTES.md", "notes of {{ cookiecutter.project_name }}\n")
    out = tmp_path / "out"
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(out)]).exit_code == 0
    repo = out / "tiny"  # not a git repository, and no past version to rebuild
    (repo / "README.md").write_text("# my own readme\n")
    tiny_templates(f"{project}/README.md", "# {{ cookiecutter.project_name }}, 0.1\n")
    tiny_templates(f"{project}/NOTES.md", "notes of {{ cookiecutter.project_name }}, 0.1\n")
    bump_tiny(tiny_templates.template, "0.1.0")
    result = runner.invoke(app, ["update", str(repo), "--no-input", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["base"] == "record"
    actions = {c["path"]: c["action"] for c in payload["changes"]}
    assert actions == {"README.md": "beside", "NOTES.md": "updated"}
    assert (repo / "README.md").read_text() == "# my own readme\n"
    assert (repo / "README.md.mlstarter-new").read_text() == "# Tiny, 0.1\n"
    assert (repo / "NOTES.md").read_text() == "notes of Tiny, 0.1\n"


def test_set_changes_an_answer_and_a_new_question_needs_a_terminal_or_no_input(
    runner, tmp_path, tiny_templates
):
    out = tmp_path / "out"
    assert runner.invoke(app, ["new", "tiny", "--no-input", "--git", "-o", str(out)]).exit_code == 0
    repo = out / "tiny"
    renamed = runner.invoke(app, ["update", str(repo), "--no-input", "--set", "author_name=Grace"])
    assert renamed.exit_code == 0, renamed.output
    assert (repo / "README.md").read_text() == "# Tiny\nby Grace\n"
    commit_all(repo, "renamed")
    config = tiny_templates.template / "cookiecutter.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({"level": ["easy", "hard"], **data, "_template_version": "0.1.0"}))
    asked = runner.invoke(app, ["update", str(repo), "--json"])
    assert asked.exit_code == 4 and "'level' is new in this template version" in asked.output
    answered = runner.invoke(app, ["update", str(repo), "--set", "level=hard", "--no-input"])
    assert answered.exit_code == 0, answered.output
    record = yaml.safe_load((repo / ".mlstarter.yml").read_text())
    assert record["answers"]["level"] == "hard" and record["answers"]["author_name"] == "Grace"
    assert record["template_version"] == "0.1.0"


def test_an_edited_record_or_a_symlink_never_makes_update_touch_a_file_outside_the_repo(
    runner, tmp_path, tiny_templates
):
    out = tmp_path / "out"
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(out)]).exit_code == 0
    repo = out / "tiny"
    victim = out / "victim.txt"
    victim.write_text("keep me\n")
    record = repo / ".mlstarter.yml"
    digest = template_versions.sha256(victim.read_bytes())
    record.write_text(record.read_text() + f"  ../victim.txt: {digest}\n  .git/config: {digest}\n")
    tiny_templates(
        "{{cookiecutter.project_slug}}/README.md", "# {{ cookiecutter.project_name }}!\n"
    )
    bump_tiny(tiny_templates.template, "0.1.0")
    result = runner.invoke(app, ["update", str(repo), "--no-input", "--json"])
    assert result.exit_code == 0, result.output
    assert [c["path"] for c in json.loads(result.stdout)["changes"]] == ["README.md"]
    assert victim.read_text() == "keep me\n"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo / "docs").symlink_to(elsewhere)
    tiny_templates("{{cookiecutter.project_slug}}/docs/index.md", "docs\n")
    bump_tiny(tiny_templates.template, "0.2.0")
    linked = runner.invoke(app, ["update", str(repo), "--no-input"])
    assert linked.exit_code == 11 and "leads outside the repo" in linked.output
    assert list(elsewhere.iterdir()) == []
