"""Template versions: every change of a template's files changes its `_template_version`, and
every released version stays rebuildable from the package (tools/template_versions.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from mlstarter import template_versions as tv
from mlstarter.catalog import load_catalog
from tests.conftest import REPO, TEMPLATES
from tests.test_update import commit_all, git

TOOL = [sys.executable, str(REPO / "tools" / "template_versions.py")]
HISTORY = REPO / "src" / "mlstarter" / "template_history"


def test_no_template_changed_without_its_version_changing():
    stale = tv.stale_templates(TEMPLATES, load_catalog(TEMPLATES).keys, HISTORY)
    assert not stale, (
        "\n".join(stale) + f"\nA template changed but its version did not: run {tv.RELEASE_COMMAND}"
        " (it bumps the version and archives the previous one), then commit what it wrote."
    )


def copy_of_the_repo(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(TEMPLATES, root / "templates", symlinks=True)
    shutil.copytree(HISTORY, root / "src" / "mlstarter" / "template_history")
    git(root, "init", "-q")
    commit_all(root, "as shipped")
    return root


def test_the_check_fails_naming_the_release_command_when_a_template_changed(tmp_path):
    root = copy_of_the_repo(tmp_path)
    shared = root / "templates" / "_shared" / "gitignore"
    shared.write_text(shared.read_text() + "*.ckpt\n")
    check = subprocess.run([*TOOL, "check", "--repo", str(root)], capture_output=True, text=True)
    assert check.returncode == 1
    version = tv.template_version(TEMPLATES / "tfpyth")
    assert f"tfpyth {version}: its files changed (templates/gitignore)" in check.stderr
    assert tv.RELEASE_COMMAND in check.stderr
    # a shared file belongs to every template: all seven are stale
    assert len(check.stderr.strip().splitlines()) == len(load_catalog(TEMPLATES).keys)


def test_release_bumps_records_and_archives_so_the_previous_version_rebuilds(tmp_path):
    root = copy_of_the_repo(tmp_path)
    key = "tfpyth"
    folder = root / "templates" / key
    before = tv.template_files(folder)
    history = root / "src" / "mlstarter" / "template_history"
    earlier = set(tv.read_archive(key, history))  # the versions released before this one
    makefile = next(p for p in folder.rglob("Makefile") if p.is_file())
    makefile.write_text(makefile.read_text() + "\n# changed\n")
    (folder / "NEW.txt").write_text("new\n")
    done = subprocess.run([*TOOL, "release", "--repo", str(root)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    old = tv.template_version(TEMPLATES / key)
    new = ".".join([old.split(".")[0], str(int(old.split(".")[1]) + 1), "0"])
    assert done.stdout.splitlines()[0] == f"{key}: {old} -> {new} (its files changed)"
    assert json.loads((folder / "cookiecutter.json").read_text())["_template_version"] == new
    archived = set(tv.read_archive(key, history))
    assert earlier <= archived
    assert (
        archived - earlier
        == {
            tv.sha256(before[name])
            for name in ("cookiecutter.json", makefile.relative_to(folder).as_posix())
        }
        - earlier
    )
    rebuilt = tv.materialize(key, old, folder, tmp_path / "old", history)
    assert rebuilt is not None and tv.template_files(rebuilt) == before
    for version in tv.load_manifest(history)[key]:  # and every earlier release still rebuilds
        assert tv.materialize(key, version, folder, tmp_path / version, history) is not None
    check = subprocess.run([*TOOL, "check", "--repo", str(root)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    again = subprocess.run([*TOOL, "release", "--repo", str(root)], capture_output=True, text=True)
    assert again.stdout == "nothing to do\n"


def test_an_unknown_version_cannot_be_rebuilt(tmp_path):
    assert tv.materialize("tfpyth", "0.0.1", TEMPLATES / "tfpyth", tmp_path) is None


def test_a_release_edited_again_before_its_commit_is_recorded_again_not_bumped_twice(tmp_path):
    """release, another edit, release: one version up (the first was never published), and the
    archive holds no file of the version in between; once committed, the next change bumps."""
    root = copy_of_the_repo(tmp_path)
    key = "tfpyth"
    folder = root / "templates" / key
    history = root / "src" / "mlstarter" / "template_history"
    makefile = next(p for p in folder.rglob("Makefile") if p.is_file())
    old = tv.template_version(folder)
    makefile.write_text(makefile.read_text() + "\n# first edit\n")
    first = subprocess.run([*TOOL, "release", "--repo", str(root), "--part", "patch"],
                           capture_output=True, text=True)  # fmt: skip
    assert first.returncode == 0, first.stderr
    new = tv.template_version(folder)
    assert new != old
    between = makefile.read_bytes()
    makefile.write_text(makefile.read_text() + "# second edit\n")
    second = subprocess.run([*TOOL, "release", "--repo", str(root), "--part", "patch"],
                            capture_output=True, text=True)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert f"{key}: {new} recorded again (not in HEAD yet, so never published)" in second.stdout
    assert tv.template_version(folder) == new
    assert tv.sha256(between) not in tv.read_archive(key, history)
    assert tv.load_manifest(history)[key][new] == tv.tree_hashes(tv.template_files(folder))
    commit_all(root, "release")
    makefile.write_text(makefile.read_text() + "# after the commit\n")
    third = subprocess.run([*TOOL, "release", "--repo", str(root), "--part", "patch"],
                           capture_output=True, text=True)  # fmt: skip
    assert f"{key}: {new} -> " in third.stdout, third.stdout + third.stderr
