"""Answers files keep text as text, refuse what could expand or retype it, and have a size limit;
free text refuses invisible tricks."""

from __future__ import annotations

import json

import pytest

from mlstarter.cli import app

KEY = "python-autocomplete"


def dry_run(runner, tmp_path, text: str, suffix: str = ".yml"):
    answers = tmp_path / f"answers{suffix}"
    answers.write_text(text, encoding="utf-8")
    return runner.invoke(app, ["new", KEY, "--no-input", "--dry-run", "--json", "-o",
                               str(tmp_path / "out"), "--answers", str(answers)])  # fmt: skip


@pytest.mark.parametrize(
    "written", ["3.10", "1:30", "0x1F", "0012", "No", "yes", "~", "1e400", "null"]
)
def test_a_yaml_scalar_reaches_the_repo_as_written(runner, tmp_path, written):
    result = dry_run(runner, tmp_path, f"project_name: {written}\nproject_slug: demo\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["answers"]["project_name"] == written


def test_json_numbers_reach_the_repo_as_written(runner, tmp_path):
    text = json.dumps({"project_slug": "demo"})[:-1] + ', "project_name": 3.10, "seed": 0012}'
    result = dry_run(runner, tmp_path, text.replace("0012", "12"), ".json")
    assert result.exit_code == 0, result.stderr
    answers = json.loads(result.stdout)["answers"]
    assert answers["project_name"] == "3.10" and answers["seed"] == "12"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name: &n Ada\nauthor_name: *n\n", "anchors (&n) are not allowed"),
        ("author_name: *n\n", "alias"),
        ("<<: {author_name: Ada}\n", "merge keys (<<) are not allowed"),
        ("seed: !!int 12\n", "explicit tags (!!int)"),
        ("author_name: !!python/object:os.system x\n", "explicit tags"),
        ("author_name: Ada\nauthor_name: Bob\n", "'author_name' is given twice (lines 1 and 2)"),
        ("a: " + "[" * 50 + "]" * 50 + "\n", "nested deeper than"),
        ("a: [1, 2\n", "line"),
    ],
    ids=["anchor", "alias", "merge-key", "int-tag", "python-tag", "duplicate", "deep", "broken"],
)
def test_yaml_features_that_expand_or_retype_are_refused(runner, tmp_path, text, says):
    result = dry_run(runner, tmp_path, text)
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr


def test_a_billion_laughs_answers_file_is_refused_at_once(runner, tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    result = dry_run(runner, tmp_path, "\n".join(lines) + "\nauthor_name: x\n")
    assert result.exit_code == 2
    assert "not allowed" in result.stderr


def test_an_answers_file_over_the_size_limit_is_refused(runner, tmp_path):
    result = dry_run(runner, tmp_path, "# padding\n" * 30_000 + "author_name: Ada\n")
    assert result.exit_code == 2
    assert "larger than the limit of 256 KiB" in result.stderr


def test_an_answers_file_that_is_not_utf8_names_the_line(runner, tmp_path):
    answers = tmp_path / "a.yml"
    answers.write_bytes(b"project_name: ok\nauthor_name: \xff\n")
    result = runner.invoke(app, ["new", KEY, "--no-input", "--dry-run", "--answers", str(answers)])
    assert result.exit_code == 2
    assert "line 2 is not UTF-8" in result.stderr


def test_an_answers_file_that_is_a_folder_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(app, ["new", KEY, "--no-input", "--dry-run", "--answers", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


@pytest.mark.parametrize(
    "value",
    ["Ada\u202eevil", "Ada\u200bLovelace", "Ada\x85", "Ada\u2028Lovelace", "Ada\ufeff", "\udc80"],
    ids=["bidi-override", "zero-width-space", "c1-control", "line-separator", "bom", "surrogate"],
)
def test_free_text_refuses_invisible_and_control_characters(runner, tmp_path, value):
    result = runner.invoke(app, ["new", KEY, "--no-input", "--dry-run", "-o", str(tmp_path),
                                 "--set", f"author_name={value}"])  # fmt: skip
    assert result.exit_code == 3
    assert "author_name" in result.stderr


def test_free_text_keeps_real_unicode(runner, tmp_path):
    name = (
        "Zoë Ñandú 李 \u0628\u200c\u0647 👩\u200d💻"  # a zero-width non-joiner and joiner are text
    )
    result = runner.invoke(app, ["new", KEY, "--no-input", "--dry-run", "--json", "-o", str(tmp_path),
                                 "--set", f"author_name={name}"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["answers"]["author_name"] == name


def test_a_record_with_a_flavor_that_is_not_a_name_is_a_usage_error(runner, tmp_path):
    result = dry_run(runner, tmp_path, "template: python-autocomplete\nflavor: [a]\nanswers: {}\n")
    assert result.exit_code == 2
    assert "flavor" in result.stderr
