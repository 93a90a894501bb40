"""Every command and every exit code of the CLI contract, through typer's CliRunner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlstarter import __version__, cli, generate
from mlstarter.catalog import load_catalog
from mlstarter.cli import app

from .conftest import tree_bytes

KEY = "python-autocomplete"


def new(runner, *args, input=None):
    return runner.invoke(app, ["new", *args], input=input)


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --- list / info / version -------------------------------------------------------------------


def test_list_prints_its_table_on_stdout_one_project_a_line(runner, catalog):
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for project in catalog.projects:
        (row,) = [line for line in lines if line.startswith(project.key + " ")]
        assert project.domain in row and project.title in row  # `mlstarter list | grep nlp`
    assert all(line == line.rstrip() for line in lines)
    assert result.stderr == ""


def test_list_json_is_one_object_with_every_card(runner, catalog):
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [p["key"] for p in data["projects"]] == catalog.keys
    assert {"title", "domain", "hardware", "summary", "upstream"} <= set(data["projects"][0])


def test_list_filters_by_domain(runner, catalog):
    domain = catalog.projects[0].domain
    data = json.loads(runner.invoke(app, ["list", "--domain", domain, "--json"]).stdout)
    assert data["projects"] and all(p["domain"] == domain for p in data["projects"])


def test_list_unknown_domain_is_a_usage_error(runner):
    result = runner.invoke(app, ["list", "--domain", "astrology"])
    assert result.exit_code == 2
    assert "known:" in one_line_error(result)


def test_info_prints_the_card_on_stdout(runner):
    result = runner.invoke(app, ["info", KEY])
    assert result.exit_code == 0
    for label in ("summary", "problem", "success metric", "frameworks", "install size", "upstream"):
        assert label in result.stdout
    assert result.stderr == ""


def test_info_json_lists_the_questions(runner):
    data = json.loads(runner.invoke(app, ["info", KEY, "--json"]).stdout)
    names = [q["name"] for q in data["questions"]]
    assert names[:3] == ["project_name", "project_slug", "package_name"]
    license_q = next(q for q in data["questions"] if q["name"] == "license")
    assert license_q["choices"] == ["MIT", "Apache-2.0", "BSD-3-Clause", "none"]


def test_info_unknown_key_suggests_the_closest(runner):
    result = runner.invoke(app, ["info", "python-autocomplet"])
    assert result.exit_code == 2
    assert "did you mean 'python-autocomplete'" in one_line_error(result)


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_unknown_flag_is_typers_usage_error(runner):
    assert runner.invoke(app, ["new", KEY, "--no-input", "--frobnicate"]).exit_code == 2


# --- new: success paths ----------------------------------------------------------------------


def test_new_no_input_creates_the_repo_and_its_record(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    repo = tmp_path / "python-autocomplete"
    assert (repo / "README.md").is_file()
    record = yaml.safe_load((repo / ".mlstarter.yml").read_text())
    assert record["template"] == KEY
    assert record["mlstarter_version"] == __version__
    assert record["answers"]["package_name"] == "python_autocomplete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python-autocomplete"]


def test_new_json_prints_exactly_one_object(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["path"] == str(tmp_path / "python-autocomplete")
    assert data["files"] > 5 and data["answers"]["license"] == "MIT"


def test_new_creates_a_missing_output_dir(runner, tmp_path):
    out = tmp_path / "a" / "b"
    assert new(runner, KEY, "--no-input", "-o", str(out)).exit_code == 0
    assert (out / "python-autocomplete" / "Makefile").is_file()


def test_set_overrides_answers_file_which_overrides_defaults(runner, tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("author_name: From File\nlicense: BSD-3-Clause\n")
    result = new(
        runner, KEY, "--no-input", "-o", str(tmp_path / "out"), "--answers", str(answers),
        "--set", "license=none", "--json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["answers"]["author_name"] == "From File"
    assert data["answers"]["license"] == "none"
    assert not (tmp_path / "out" / "python-autocomplete" / "LICENSE").exists()


def test_answers_file_may_be_json(runner, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"project_name": "Json Answers"}))
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--answers", str(answers))
    assert result.exit_code == 0
    assert (tmp_path / "json-answers").is_dir()


def test_record_reproduces_the_repo_byte_for_byte(runner, tmp_path):
    first = tmp_path / "first"
    args = ["--no-input", "--set", "project_name=Café Ölçü", "--set", "author_name=O'Brien"]
    assert new(runner, KEY, *args, "-o", str(first)).exit_code == 0
    (made,) = first.iterdir()
    again = tmp_path / "again"
    record = made / ".mlstarter.yml"
    result = new(runner, KEY, "--no-input", "--answers", str(record), "-o", str(again))
    assert result.exit_code == 0, result.stderr
    assert tree_bytes(made) == tree_bytes(again / made.name)


def test_dry_run_lists_the_files_and_writes_nothing(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path / "out"), "--dry-run", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert "README.md" in data["files"] and ".mlstarter.yml" in data["files"]
    assert not (tmp_path / "out").exists()


def test_git_makes_one_initial_commit(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--git", "--json")
    assert result.exit_code == 0, result.stderr
    repo = tmp_path / "python-autocomplete"
    log = subprocess.run(
        ["git", "log", "--format=%an <%ae>"], cwd=repo, capture_output=True, text=True
    )
    assert log.stdout.strip().splitlines() == ["Your Name <you@example.com>"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True)
    assert status.stdout == b""
    assert json.loads(result.stdout)["git_commit"]


def test_force_moves_the_existing_repo_to_a_backup(runner, tmp_path):
    assert new(runner, KEY, "--no-input", "-o", str(tmp_path)).exit_code == 0
    repo = tmp_path / "python-autocomplete"
    (repo / "my-notes.txt").write_text("precious")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--force", "--json")
    assert result.exit_code == 0
    backup = json.loads(result.stdout)["backup"]
    assert backup and (tmp_path / backup.split("/")[-1] / "my-notes.txt").read_text() == "precious"
    assert not (repo / "my-notes.txt").exists()


def test_an_empty_existing_folder_is_used(runner, tmp_path):
    (tmp_path / "python-autocomplete").mkdir()
    assert new(runner, KEY, "--no-input", "-o", str(tmp_path)).exit_code == 0
    assert (tmp_path / "python-autocomplete" / "README.md").is_file()


def test_interactive_menu_and_questions(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    # menu: pick python-autocomplete by number; then accept every default but the project name and the license (choice 4);
    # extra empty lines accept whatever questions the template adds after the common block
    number = str(load_catalog().keys.index(KEY) + 1)
    replies = [number, "Interactive Demo", "", "", "", "", "", "", "4"] + [""] * 20
    result = new(runner, "-o", str(tmp_path), "--json", input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["project"] == KEY
    assert data["answers"]["project_slug"] == "interactive-demo"
    assert data["answers"]["license"] == "none"
    assert "Which featured project" in result.stderr


def test_interactive_reasks_an_invalid_answer(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    replies = ["Demo", "Bad Slug!", "demo-ok"] + [""] * 20
    result = new(runner, KEY, "-o", str(tmp_path), "--json", input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["answers"]["project_slug"] == "demo-ok"
    assert "must be lowercase" in result.stderr


# --- new: every failure exit code ------------------------------------------------------------


def test_input_ending_mid_questions_is_exit_4_and_writes_nothing(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    result = new(runner, KEY, "-o", str(tmp_path), input="Half Done\n")
    assert result.exit_code == 4
    assert "error: input ended before every question was answered" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_a_terminal_and_without_no_input_exit_4_at_once(runner, tmp_path):
    result = new(runner, KEY, "-o", str(tmp_path))
    assert result.exit_code == 4
    assert "--no-input" in one_line_error(result)
    assert list(tmp_path.iterdir()) == []


def test_no_key_with_no_input_is_exit_4(runner, tmp_path):
    result = new(runner, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 4
    assert KEY in one_line_error(result)


def test_real_subprocess_with_closed_stdin_never_hangs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "new", KEY, "-o", str(tmp_path)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 4
    assert "--no-input" in done.stderr


def test_unknown_key_is_exit_2(runner, tmp_path):
    result = new(runner, "pytorch-transformerz", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown project" in one_line_error(result)


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("licence=MIT", "did you mean 'license'"),
        ("license=GPL-3.0", "allowed values: MIT, Apache-2.0, BSD-3-Clause, none"),
        ("project_slug=../escape", "project_slug"),
        ("project_slug=My Project", "project_slug"),
        ("package_name=import", "package_name"),
        ("package_name=json", "shadow"),
        ("package_name=torch", "shadow"),
        ("package_name=has-dash", "package_name"),
        ("author_email=not-an-email", "author_email"),
        ("github_username=-bad-", "github_username"),
        ("project_name=", "project_name"),
        ("copyright_year=20266", "copyright_year"),
    ],
)
def test_bad_answers_are_exit_3_and_write_nothing(runner, tmp_path, setting, says):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", setting)
    assert result.exit_code == 3, result.stderr
    assert says in one_line_error(result)
    assert list(tmp_path.iterdir()) == []


def test_a_multi_line_answer_is_refused(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", "description=a\nb")
    assert result.exit_code == 3
    assert "single line" in one_line_error(result)


def test_a_derived_default_that_fails_says_how_to_fix_it(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", "project_name=2048")
    assert result.exit_code == 3
    assert "--set project_slug=" in one_line_error(result)


def test_malformed_set_is_a_usage_error(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", "license")
    assert result.exit_code == 2
    assert "NAME=VALUE" in one_line_error(result)


def test_missing_answers_file_is_a_usage_error(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "--answers", str(tmp_path / "nope.yml"))
    assert result.exit_code == 2
    assert "cannot read" in one_line_error(result)


def test_answers_file_with_an_unknown_name_is_exit_3(runner, tmp_path):
    answers = tmp_path / "a.yml"
    answers.write_text("autor_name: Typo\n")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path / "o"), "--answers", str(answers))
    assert result.exit_code == 3
    assert "did you mean 'author_name'" in one_line_error(result)


def test_record_of_another_template_is_refused(runner, tmp_path):
    record = tmp_path / ".mlstarter.yml"
    record.write_text("template: medicalnet\nanswers:\n  project_name: X\n")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path / "o"), "--answers", str(record))
    assert result.exit_code == 3
    assert "medicalnet" in one_line_error(result)


def test_existing_target_is_exit_5_and_untouched(runner, tmp_path):
    repo = tmp_path / "python-autocomplete"
    repo.mkdir()
    (repo / "mine.py").write_text("print('mine')\n")
    before = tree_bytes(tmp_path)
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 5
    assert "--force" in one_line_error(result)
    assert tree_bytes(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python-autocomplete"]


def test_dry_run_also_refuses_an_existing_target(runner, tmp_path):
    (tmp_path / "python-autocomplete").mkdir()
    (tmp_path / "python-autocomplete" / "x").write_text("x")
    assert new(runner, KEY, "--no-input", "-o", str(tmp_path), "--dry-run").exit_code == 5


def test_tree_check_failure_is_exit_6_and_leaves_nothing(runner, tmp_path, tiny_templates):
    tiny_templates(
        "{{cookiecutter.project_slug}}/leak.txt", "{% raw %}{{ cookiecutter.x }}{% endraw %}"
    )
    out = tmp_path / "out"
    out.mkdir()
    result = new(runner, "tiny", "--no-input", "-o", str(out))
    assert result.exit_code == 6
    assert "leak.txt" in one_line_error(result)
    assert list(out.iterdir()) == []


def test_internal_error_is_exit_1_one_line_and_traceback_with_verbose(
    runner, tmp_path, monkeypatch
):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(generate, "bake", boom)
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.stderr
    verbose = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--verbose")
    assert verbose.exit_code == 1 and "Traceback" in verbose.stderr


def test_errors_under_json_still_give_one_json_object(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", "license=GPL", "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data == {"ok": False, "error": data["error"], "exit_code": 3}


def test_broken_catalog_names_file_entry_and_field(runner, tiny_templates):
    catalog_file = tiny_templates.root / "catalog.yaml"
    catalog_file.write_text(catalog_file.read_text().replace("    hardware: cpu\n", ""))
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 1
    line = result.stderr.splitlines()[0]
    assert "catalog.yaml" in line and "entry 1 (tiny)" in line and "'hardware'" in line


# --- start-up --------------------------------------------------------------------------------

PROBE = """
import json, sys
sys.argv = ["mlstarter", *sys.argv[1:]]
from mlstarter.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"cookiecutter", "jinja2"})
print(json.dumps(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["list"], ["info", KEY]])
def test_help_list_and_info_import_neither_cookiecutter_nor_jinja2(args):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], done.stderr


# --- stdout for results, one JSON object for every usage error ---------------------------------


def test_new_prints_its_summary_on_stdout_and_nothing_else_there(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Created {tmp_path / KEY} ")
    assert "make setup" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["new", KEY, "--bogus", "--json"],
        ["batch", "roster.csv", "-j", "0", "--json"],
        ["info", "--json"],
        ["frobnicate", "--json"],
        ["new", KEY, "--no-input", "--json", "--set"],
    ],
    ids=["unknown-option", "jobs-zero", "missing-argument", "unknown-command", "missing-value"],
)
def test_every_usage_error_under_json_is_one_json_object_and_exit_2(runner, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == 2 and data["error"]
    assert one_line_error(result)


def test_a_usage_error_without_json_prints_no_json(runner):
    result = runner.invoke(app, ["new", KEY, "--bogus"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "--bogus" in one_line_error(result)


# --- shell completion ------------------------------------------------------------------------


def test_shell_completion_script_is_shown_for_bash(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "--show-completion", "bash"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "_MLSTARTER_COMPLETE" in done.stdout and "complete " in done.stdout


def test_shell_completion_installs_into_the_users_shell_config(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "--install-completion", "bash"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mlstarter" in (tmp_path / ".bashrc").read_text()


def test_completion_completes_command_names(tmp_path):
    env = {**os.environ, "_MLSTARTER_COMPLETE": "complete_bash", "COMP_WORDS": "mlstarter ve",
           "COMP_CWORD": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.stdout.split() == ["verify"]


# --- what the user typed, shown safely --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["new", "\x1b[31mkey\x07", "--no-input"],
        ["new", KEY, "--no-input", "--set", "license=\x1b[2J"],
        ["new", KEY, "--no-input", "--set", "\x1b]0;pwned\x07=1"],
        ["list", "--domain", "\x1b[5mnlp"],
        ["info", "transformers\u202egnp.exe"],
    ],
    ids=["project-key", "bad-choice", "set-key", "domain", "bidi-override"],
)
def test_control_characters_from_the_user_are_escaped_in_errors(runner, tmp_path, args):
    result = runner.invoke(app, [*args, "-o", str(tmp_path)] if args[0] == "new" else args)
    assert result.exit_code in (2, 3)
    line = one_line_error(result)
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\u202e" not in line
    assert "\\x1b" in line or "\\u202e" in line


def test_control_characters_are_escaped_in_json_errors_too(runner, tmp_path):
    result = new(runner, "\x1b[31mkey", "--no-input", "--json", "-o", str(tmp_path))
    assert "\\x1b" in json.loads(result.stdout)["error"]


def test_an_answer_with_rich_markup_is_text_at_the_prompt(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    replies = ["Ada [/x] [bold]", "bad [/x]", "ada-ok"] + [""] * 20
    result = new(runner, KEY, "-o", str(tmp_path), "--json", input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answers"]["project_name"] == "Ada [/x] [bold]"
    assert "'bad [/x]'" in result.stderr  # the refusal names it, literally


def test_a_huge_menu_number_is_asked_again_not_a_crash(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    replies = ["9" * 5000, "\u00b2", KEY] + [""] * 20
    result = new(runner, "-o", str(tmp_path), "--json", input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["project"] == KEY


# --- inputs that used to end as "internal error" ------------------------------------------------


def test_huge_jobs_number_is_a_usage_error(runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("student_id,name,email,github_username\ns1,A,a@x.org,a\n")
    result = runner.invoke(app, ["batch", str(roster), "--project", KEY, "-o", str(tmp_path / "o"),
                                 "-j", "99999999999999999999"])  # fmt: skip
    assert result.exit_code == 2
    assert "--jobs" in one_line_error(result)


def test_a_huge_number_in_an_answers_file_is_text_and_too_long(runner, tmp_path):
    answers = tmp_path / "a.yml"
    answers.write_text("project_name: " + "9" * 5000 + "\n")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path / "o"), "--answers", str(answers))
    assert result.exit_code == 3
    assert "at most 300 characters" in one_line_error(result)


def test_bytes_that_are_not_utf8_in_a_value_are_refused(runner, tmp_path):
    value = os.fsdecode(b"Ada \xff\xfe")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", f"author_name={value}")
    assert result.exit_code == 3
    assert "not UTF-8" in one_line_error(result)
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_whose_name_is_not_utf8_works_and_prints(tmp_path):
    out = os.fsencode(tmp_path) + b"/out-\xff"
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "new", KEY, "--no-input", "-o", out, "--json"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (Path(os.fsdecode(out)) / KEY / "README.md").is_file()
    # JSON keeps the byte as Python does (surrogateescape): os.fsencode gives the path back
    assert os.fsencode(json.loads(done.stdout)["path"]) == out + b"/" + KEY.encode()


def test_output_folder_inside_the_templates_is_refused(runner, tmp_path, tiny_templates):
    inside = tiny_templates.template / "{{cookiecutter.project_slug}}"
    before = tree_bytes(tiny_templates.root)
    result = new(runner, "tiny", "--no-input", "-o", str(inside))
    assert result.exit_code == 2
    assert "inside mlstarter's templates" in one_line_error(result)
    assert tree_bytes(tiny_templates.root) == before


def test_output_folder_below_a_file_is_a_usage_error(runner, tmp_path):
    (tmp_path / "file").write_text("x")
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path / "file" / "sub"))
    assert result.exit_code == 2
    assert "not a folder" in one_line_error(result)


@pytest.mark.parametrize("name", ["", ".", "<>", "Ada <ada@x.org>"])
def test_an_author_git_cannot_take_is_refused_before_anything_is_written(runner, tmp_path, name):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--git",
                 "--set", f"author_name={name}")  # fmt: skip
    assert result.exit_code == 3
    assert "git" in one_line_error(result)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("setting", "shadowed"),
    [
        ("project_slug=python", "python"),
        ("project_slug=pip", "pip"),
        ("project_slug=python3", "python3"),
        ("project_slug=pytest", "pytest"),
        ("project_slug=ruff", "ruff"),
        ("project_slug=torchrun", "torchrun"),
        ("project_slug=torch", "torch"),
        ("project_slug=make", "make"),
        ("package_name=numpy", "numpy"),
        ("package_name=pip", "pip"),
    ],
)
def test_names_that_would_shadow_the_venvs_tools_are_refused(runner, tmp_path, setting, shadowed):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", setting)
    assert result.exit_code == 3, result.stderr
    line = one_line_error(result)
    assert "would shadow" in line and f"'{shadowed}'" in line
    assert list(tmp_path.iterdir()) == []


def test_a_reader_that_leaves_early_gets_no_error_message(tmp_path):
    read, write = os.pipe()
    os.close(read)  # `mlstarter list | head -0`: nobody reads
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "list"],
        stdout=write,
        stderr=subprocess.PIPE,
        timeout=60,
    )
    os.close(write)
    assert done.returncode == 141 and done.stderr == b""


def test_a_megabyte_typed_as_an_answer_name_is_still_one_short_error_line(runner, tmp_path):
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--set", "x" * 1_000_000 + "=1")
    assert result.exit_code == 3
    assert len(one_line_error(result)) < 2100


def test_a_signal_just_after_the_json_result_never_adds_a_second_object(
    runner, tmp_path, monkeypatch
):
    from mlstarter.interrupts import Interrupted

    real = cli._emit_json

    def emit_then_sigterm(payload):
        real(payload)
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(cli, "_emit_json", emit_then_sigterm)
    result = new(runner, KEY, "--no-input", "-o", str(tmp_path), "--json")
    assert result.exit_code == 143
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["ok"] is True
    assert f"{tmp_path / KEY} was created completely" in one_line_error(result)


@pytest.mark.parametrize("command", ["verify", "update", "grade"])
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_repo_or_class_argument_that_is_no_folder_is_a_usage_error(
    runner, tmp_path, command, kind
):
    """verify, update and grade say in one line whether the path is missing or is a file."""
    path = tmp_path / "there"
    if kind == "file":
        path.write_text("not a repo\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2, result.output
    expected = "is a file, not a folder" if kind == "file" else "no such folder"
    assert expected in one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
