"""Atomic generation: staging, the tree check, interrupts, and each cookiecutter pitfall."""

from __future__ import annotations

import json
import os
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
    assert proc.returncode == 130, err
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
    result = bake_reference(tmp_path, author_name="O'Brien \"Bob\" \\ Ñandú")
    assert "O'Brien \"Bob\" \\ Ñandú" in (result.path / "LICENSE").read_text()


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
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path / "a")]).exit_code == 0
    tiny_templates("{{cookiecutter.project_slug}}/README.md", "# edited {{ cookiecutter.project_name }}\n")
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path / "b")]).exit_code == 0
    assert (tmp_path / "a" / "tiny" / "README.md").read_text().startswith("# Tiny")
    assert (tmp_path / "b" / "tiny" / "README.md").read_text() == "# edited Tiny\n"


def test_caches_in_a_template_folder_never_reach_the_repo(runner, tmp_path, tiny_templates):
    tiny_templates("{{cookiecutter.project_slug}}/src/__pycache__/x.cpython-311.pyc", "junk")
    tiny_templates("{{cookiecutter.project_slug}}/.ruff_cache/CACHEDIR.TAG", "junk")
    assert runner.invoke(app, ["new", "tiny", "--no-input", "-o", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [".mlstarter.yml", "README.md", "src"]
    assert list((tmp_path / "tiny" / "src").iterdir()) == []
