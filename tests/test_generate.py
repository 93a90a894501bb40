"""Atomic generation: staging, the tree check, interrupts, and each cookiecutter pitfall."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cookiecutter.generate
import pytest

from mlstarter import generate
from mlstarter.answers import load_template, resolve_answers
from mlstarter.cli import app
from mlstarter.errors import TreeCheckError

from .conftest import TEMPLATES, tree_bytes

KEY = "python-autocomplete"


def bake_reference(out: Path, **given):
    spec = load_template(TEMPLATES / KEY)
    return generate.bake(KEY, spec, resolve_answers(spec, given), out)


def interrupt_after(monkeypatch, calls: int) -> None:
    """Make cookiecutter raise KeyboardInterrupt while writing its n-th file, as Ctrl-C would."""
    real = cookiecutter.generate.generate_file
    seen = {"n": 0}

    def flaky(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] == calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cookiecutter.generate, "generate_file", flaky)


def test_keyboard_interrupt_mid_bake_leaves_nothing(tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        bake_reference(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_with_force_keeps_the_old_repo(tmp_path, monkeypatch):
    old = tmp_path / "python-autocomplete"
    old.mkdir()
    (old / "work.py").write_text("mine = 1\n")
    interrupt_after(monkeypatch, 2)
    spec = load_template(TEMPLATES / KEY)
    with pytest.raises(KeyboardInterrupt):
        generate.bake(KEY, spec, resolve_answers(spec, {}), tmp_path, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python-autocomplete"]
    assert (old / "work.py").read_text() == "mine = 1\n"


def test_ctrl_c_through_the_cli_is_exit_130_and_leaves_nothing(runner, tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 4)
    out = tmp_path / "new-folder"
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(out)])
    assert result.exit_code == 130
    assert "nothing was written" in result.stderr
    assert not out.exists()


def test_sigterm_to_a_running_bake_leaves_nothing(tmp_path):
    """A real process killed mid-bake: the staging folder goes with it."""
    script = (
        "import time, cookiecutter.generate as g, mlstarter.cli as c\n"
        "real = g.generate_file\n"
        "def slow(*a, **k):\n"
        "    open({!r}, 'w').close(); time.sleep(0.5); return real(*a, **k)\n"
        "g.generate_file = slow\n"
        "import sys; sys.argv = ['mlstarter', 'new', {!r}, '--no-input', '-o', {!r}]\n"
        "c.main()\n"
    ).format(str(tmp_path / "started"), KEY, str(tmp_path / "out"))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err  # SIGTERM: 128 + 15
    assert not (tmp_path / "out").exists()


def test_staging_sits_beside_the_target_and_is_removed(tmp_path, monkeypatch):
    seen = []
    real_check = generate.check_tree

    def spy(project):
        seen.append(project)
        return real_check(project)

    monkeypatch.setattr(generate, "check_tree", spy)
    result = bake_reference(tmp_path)
    assert seen[0].parent.parent == tmp_path
    assert seen[0].parent.name.startswith(generate.STAGING_PREFIX)
    assert [p.name for p in tmp_path.iterdir()] == [result.path.name]


def test_check_tree_refuses_symlinks(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    os.symlink("/etc/passwd", tmp_path / "link")
    with pytest.raises(TreeCheckError, match="symlink"):
        generate.check_tree(tmp_path)


def test_check_tree_refuses_unrendered_cookiecutter_expressions(tmp_path):
    (tmp_path / "Makefile").write_text("PKG := {{cookiecutter.package_name}}\n")
    with pytest.raises(TreeCheckError, match="Makefile"):
        generate.check_tree(tmp_path)


def test_check_tree_ignores_binary_files(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0\1{{ cookiecutter.x }}")
    assert generate.check_tree(tmp_path) == ["weights.bin"]


# --- the pitfalls table (shared/notes/cookiecutter-pitfalls.md), one test a row ---------------


def test_pitfall_1_free_text_is_never_rendered(tmp_path):
    payload = "{{ 7*7 }} {{ cycler.__init__.__globals__.os.popen('id').read() }}"
    result = bake_reference(tmp_path, author_name=payload, description="{% if 1 %}x{% endif %}")
    readme = (result.path / "README.md").read_text()
    assert payload in readme and "{% if 1 %}x{% endif %}" in readme
    (copyright,) = [line for line in (result.path / "LICENSE").read_text().splitlines()
                    if line.startswith("Copyright")]  # fmt: skip
    assert copyright.endswith(payload)  # not "49 uid=0(root)..."


def test_pitfall_2_a_path_escape_is_refused_before_rendering(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(out), "--set",
                                 "project_slug=../../escaped"])  # fmt: skip
    assert result.exit_code == 3
    assert not out.exists() and not (tmp_path / "escaped").exists()


def test_pitfall_3_a_template_error_leaves_no_partial_output(runner, tmp_path, tiny_templates):
    tiny_templates("{{cookiecutter.project_slug}}/a.txt", "fine\n")
    tiny_templates("{{cookiecutter.project_slug}}/z.txt", "{% if %}broken\n")
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(out)])
    assert result.exit_code == 6
    assert list(out.iterdir()) == []


def test_pitfall_4_quotes_work_because_templates_have_no_hooks(tmp_path, catalog):
    for project in catalog.projects:
        assert not (project.template_dir / "hooks").exists(), project.key
    result = bake_reference(tmp_path, author_name='O\'Brien "Bob" \\ Ñandú')
    assert 'O\'Brien "Bob" \\ Ñandú' in (result.path / "LICENSE").read_text()


def test_pitfall_5_typos_and_bad_choices_are_caught(runner, tmp_path):
    typo = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(tmp_path), "--set", "autor=x"])
    assert typo.exit_code == 3 and "author_name" in typo.stderr
    choice = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(tmp_path), "--set",
                                 "license=WTFPL"])  # fmt: skip
    assert choice.exit_code == 3 and "Traceback" not in choice.stderr


def test_pitfall_6_no_nested_templates(catalog):
    for project in catalog.projects:
        data = json.loads((project.template_dir / "cookiecutter.json").read_text())
        assert not {"template", "templates"} & set(data), project.key


def test_pitfall_7_force_never_merges_into_the_old_folder(tmp_path):
    first = bake_reference(tmp_path)
    (first.path / "README.md").write_text("my edits")
    (first.path / "stale.txt").write_text("stale")
    spec = load_template(TEMPLATES / KEY)
    second = generate.bake(KEY, spec, resolve_answers(spec, {}), tmp_path, force=True)
    assert not (second.path / "stale.txt").exists()
    assert (second.path / "README.md").read_text() != "my edits"
    assert (second.backup / "README.md").read_text() == "my edits"


def test_pitfall_8_hooks_never_run(runner, tmp_path, tiny_templates):
    marker = tmp_path / "hook-ran"
    for hook in ("pre_prompt", "pre_gen_project", "post_gen_project"):
        tiny_templates(f"hooks/{hook}.py", f"open({str(marker)!r}, 'w').close()\n")
    out = tmp_path / "out"
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(out)]).exit_code == 0
    assert not marker.exists()


def test_pitfall_9_user_config_and_replay_are_ignored(runner, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cookiecutterrc").write_text("default_context:\n  author_name: Intruder\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(home / ".cookiecutterrc"))
    out = tmp_path / "out"
    assert runner.invoke(app, ["new", KEY, "--no-input", "-o", str(out)]).exit_code == 0
    assert "Intruder" not in (out / "python-autocomplete" / "LICENSE").read_text()
    assert sorted(p.name for p in home.iterdir()) == [".cookiecutterrc"]


def test_pitfall_10_makefiles_are_rendered(tmp_path, catalog):
    for project in catalog.projects:
        spec = load_template(project.template_dir)
        result = generate.bake(project.key, spec, resolve_answers(spec, {}), tmp_path / project.key)
        makefile = (result.path / "Makefile").read_text()
        assert "{{" not in makefile and str(result.path.name).replace("-", "_") in makefile


def test_pitfall_11_workflows_keep_github_expressions(tmp_path, catalog):
    for project in catalog.projects:
        spec = load_template(project.template_dir)
        result = generate.bake(project.key, spec, resolve_answers(spec, {}), tmp_path / project.key)
        workflow = (result.path / ".github" / "workflows" / "ci.yml").read_text()
        assert "{%" not in workflow and "cookiecutter" not in workflow


def test_pitfall_12_default_delimiters_everywhere(catalog):
    for project in catalog.projects:
        data = json.loads((project.template_dir / "cookiecutter.json").read_text())
        assert "_jinja2_env_vars" not in data, project.key


def test_same_answers_same_bytes(tmp_path):
    a = bake_reference(tmp_path / "a", project_name="Same Bytes")
    b = bake_reference(tmp_path / "b", project_name="Same Bytes")
    assert tree_bytes(a.path) == tree_bytes(b.path)


def test_an_edited_template_is_compiled_afresh_between_bakes(runner, tmp_path, tiny_templates):
    """Bakes share compiled templates; an edit to a template file must still show."""
    assert (
        runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path / "a")]).exit_code == 0
    )
    tiny_templates(
        "{{cookiecutter.project_slug}}/README.md", "# edited {{ cookiecutter.project_name }}\n"
    )
    assert (
        runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path / "b")]).exit_code == 0
    )
    assert (tmp_path / "a" / "tiny" / "README.md").read_text().startswith("# Tiny")
    assert (tmp_path / "b" / "tiny" / "README.md").read_text() == "# edited Tiny\n"


def test_caches_in_a_template_folder_never_reach_the_repo(runner, tmp_path, tiny_templates):
    tiny_templates("{{cookiecutter.project_slug}}/src/__pycache__/x.cpython-311.pyc", "junk")
    tiny_templates("{{cookiecutter.project_slug}}/.ruff_cache/CACHEDIR.TAG", "junk")
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [
        ".mlstarter.yml",
        "README.md",
        "src",
    ]
    assert list((tmp_path / "tiny" / "src").iterdir()) == []


# --- data the user owns -------------------------------------------------------------------------


def test_an_existing_grader_folder_is_never_deleted(runner, tmp_path):
    grader = tmp_path / f"{KEY}-grader"
    grader.mkdir()
    (grader / "thesis.tex").write_text("three years of work")
    result = runner.invoke(
        app, ["new", KEY, "--no-input", "--flavor", "assignment", "-o", str(tmp_path)]
    )
    assert result.exit_code == 5, result.stderr
    assert "--force" in result.stderr and str(grader) in result.stderr
    assert (grader / "thesis.tex").read_text() == "three years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        grader.name
    ]  # the repo was not made either


def test_force_moves_an_existing_grader_folder_to_a_backup(runner, tmp_path):
    grader = tmp_path / f"{KEY}-grader"
    grader.mkdir()
    (grader / "thesis.tex").write_text("three years of work")
    result = runner.invoke(app, ["new", KEY, "--no-input", "--flavor", "assignment", "--force",
                                 "-o", str(tmp_path), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["grader_status"] == "replaced"
    assert (Path(data["grader_backup"]) / "thesis.tex").read_text() == "three years of work"
    assert (grader / "tests" / "hidden").is_dir()


def test_the_same_grader_folder_is_kept_as_it_is(runner, tmp_path):
    args = ["new", KEY, "--no-input", "--flavor", "assignment", "-o"]
    assert runner.invoke(app, [*args, str(tmp_path / "a")]).exit_code == 0
    shutil.copytree(tmp_path / "a" / f"{KEY}-grader", tmp_path / "b" / f"{KEY}-grader")
    result = runner.invoke(app, [*args, str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["grader_status"] == "up to date"


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_a_grader_path_that_is_a_symlink_or_file_fails_before_the_repo_is_placed(
    runner, tmp_path, kind
):
    grader = tmp_path / f"{KEY}-grader"
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir(exist_ok=True)
    if kind == "symlink":
        grader.symlink_to(elsewhere)
    else:
        grader.write_text("notes")
    result = runner.invoke(
        app, ["new", KEY, "--no-input", "--flavor", "assignment", "-o", str(tmp_path)]
    )
    assert result.exit_code == 5, result.stderr
    assert not (tmp_path / KEY).exists()
    assert list(elsewhere.iterdir()) == []
    assert grader.is_symlink() if kind == "symlink" else grader.read_text() == "notes"


def test_a_failing_new_never_removes_a_repo_another_run_put_in_its_new_folder(
    runner, tmp_path, monkeypatch
):
    """Two runs into cls/a and cls/b of a fresh cls/: when A fails, B's repo stays."""
    cls = tmp_path / "cls"

    def other_run_finishes_then_ours_fails(project):
        (cls / "b").mkdir()
        (cls / "b" / "README.md").write_text("B's repo")
        raise TreeCheckError("generated tree check failed: simulated")

    monkeypatch.setattr(generate, "check_tree", other_run_finishes_then_ours_fails)
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(cls / "a")])
    assert result.exit_code == 6
    assert (cls / "b" / "README.md").read_text() == "B's repo"
    assert sorted(p.name for p in cls.iterdir()) == ["b"]


def test_a_failing_new_removes_the_empty_folders_it_created(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(
        generate, "check_tree", lambda project: (_ for _ in ()).throw(TreeCheckError("x"))
    )
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(tmp_path / "a" / "b")])
    assert result.exit_code == 6
    assert list(tmp_path.iterdir()) == []


def test_two_runs_on_one_target_one_wins_the_other_is_exit_5(runner, tmp_path, monkeypatch):
    real_check = generate.check_tree

    def other_run_wins_the_race(project):
        files = real_check(project)
        (tmp_path / KEY).mkdir()
        (tmp_path / KEY / "theirs.txt").write_text("the other run's repo")
        return files

    monkeypatch.setattr(generate, "check_tree", other_run_wins_the_race)
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(tmp_path)])
    assert result.exit_code == 5, result.stderr
    assert "meanwhile" in result.stderr and "internal error" not in result.stderr
    assert sorted(p.name for p in (tmp_path / KEY).iterdir()) == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY]


def test_a_staging_folder_left_by_a_killed_run_is_removed_and_reported(runner, tmp_path):
    abandoned = tmp_path / f"{generate.STAGING_PREFIX}999999-dead"
    (abandoned / KEY).mkdir(parents=True)
    (abandoned / generate.OWNER_LOCK).write_text("")
    live = tmp_path / f"{generate.STAGING_PREFIX}{os.getpid()}-live"
    live.mkdir()
    lock = os.open(live / generate.OWNER_LOCK, os.O_CREAT | os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)  # this test plays a run that is still working
    try:
        result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(tmp_path)])
    finally:
        os.close(lock)
    assert result.exit_code == 0, result.stderr
    assert not abandoned.exists() and live.is_dir()
    assert abandoned.name in result.stderr and "killed" in result.stderr


def test_a_full_disk_is_exit_8_with_a_clear_line_and_nothing_left(runner, tmp_path, monkeypatch):
    real = cookiecutter.generate.generate_file
    seen = {"n": 0}

    def disk_fills_up(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/some/file")
        return real(*args, **kwargs)

    monkeypatch.setattr(cookiecutter.generate, "generate_file", disk_fills_up)
    out = tmp_path / "out"
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(out)])
    assert result.exit_code == 8, result.stderr
    assert "No space left on device" in result.stderr and "internal error" not in result.stderr
    assert not out.exists()


# --- git: the user's configuration does not change the commit ---------------------------------


def test_git_commits_every_file_whatever_the_users_git_config_says(runner, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    (home / "ignore-all").write_text("*.md\nMakefile\n.mlstarter.yml\n")
    hooks = home / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    (home / ".gitconfig").write_text(
        f"[core]\n\texcludesFile = {home / 'ignore-all'}\n\tautocrlf = true\n\thooksPath = {hooks}\n"
        "[commit]\n\tgpgSign = true\n[user]\n\tname = Someone Else\n"
    )
    (home / ".config" / "git" / "attributes").write_text("* text eol=crlf\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Not The Author")
    out = tmp_path / "out"
    result = runner.invoke(app, ["new", KEY, "--no-input", "-o", str(out), "--git"])
    assert result.exit_code == 0, result.stderr
    repo = out / KEY
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    clean.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    listed = subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, env=clean
    )
    files = set(listed.stdout.splitlines())
    assert {"README.md", "Makefile", ".mlstarter.yml"} <= files
    assert files == {p.relative_to(repo).as_posix() for p in repo.rglob("*")
                     if p.is_file() and ".git" not in p.relative_to(repo).parts}  # fmt: skip
    author = subprocess.run(
        ["git", "log", "--format=%an"], cwd=repo, capture_output=True, text=True, env=clean
    )
    assert author.stdout.strip() == "Your Name"
    blob = subprocess.run(
        ["git", "show", "HEAD:Makefile"], cwd=repo, capture_output=True, env=clean
    )
    assert blob.stdout == (repo / "Makefile").read_bytes() and b"\r\n" not in blob.stdout
    assert not (tmp_path / "elsewhere.git").exists()


def test_the_shared_bytecode_cache_still_reaches_cookiecutters_environment(tmp_path):
    """generate._share_compiled_templates wraps cookiecutter.generate.create_env_with_context;
    if cookiecutter renames it or stops building its environment there, this fails loudly."""
    import inspect

    import cookiecutter.generate as cc_generate

    from mlstarter import generate
    from mlstarter.answers import load_template, resolve_answers

    assert callable(getattr(cc_generate, "create_env_with_context", None)), (
        "cookiecutter.generate.create_env_with_context is gone: update "
        "generate._share_compiled_templates"
    )
    assert "create_env_with_context(" in inspect.getsource(cc_generate.generate_files), (
        "cookiecutter's generate_files no longer builds its environment with "
        "create_env_with_context: update generate._share_compiled_templates"
    )
    spec = load_template(TEMPLATES / "tfpyth")
    generate.render_tree("tfpyth", spec, resolve_answers(spec, {}), tmp_path)
    assert cc_generate.create_env_with_context.__name__ == "with_cache"
    env = cc_generate.create_env_with_context({"cookiecutter": {}})
    assert generate._BYTECODE is not None and env.bytecode_cache is generate._BYTECODE.cache
    assert generate._BYTECODE.cache.store, "no template was compiled into the shared cache"
