"""`mlstarter batch`: a roster in, one atomic repo a row, bad rows named, a summary, re-runs."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest

from mlstarter.cli import app

from .conftest import tree_bytes

KEY = "python-autocomplete"


def write_roster(path, rows, header="student_id,name,email,github_username"):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def class_of(n: int) -> list[str]:
    return [f"s{i:03d},Student {i},s{i}@uni.example,student{i}" for i in range(1, n + 1)]


@pytest.fixture
def roster_30_with_two_bad(tmp_path):
    rows = class_of(28)
    rows.insert(5, "s006,,nobody@uni.example,nobody")  # line 7: no name
    rows.insert(20, "S002,Dup,dup@uni.example,dup")  # line 22: duplicate of s002
    return write_roster(tmp_path / "roster.csv", rows)


def batch(runner, *args):
    return runner.invoke(app, ["batch", *args])


def test_thirty_rows_two_bad_gives_28_repos_a_summary_and_a_nonzero_exit(
    runner, tmp_path, roster_30_with_two_bad
):
    out = tmp_path / "class"
    result = batch(runner, str(roster_30_with_two_bad), "--project", KEY, "--flavor", "assignment",
                   "-o", str(out), "--jobs", "2")  # fmt: skip
    assert result.exit_code == 3
    repos = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.startswith(KEY))
    assert len(repos) == 28 and repos[0] == f"{KEY}-s001"
    assert not [p for p in out.iterdir() if p.name.startswith(".mlstarter-staging")]
    summary = json.loads((out / "batch-summary.json").read_text())["rows"]
    failed = {r["line"]: r["reason"] for r in summary if r["status"] == "failed"}
    assert set(failed) == {7, 22}
    assert "missing name" in failed[7] and "duplicate student_id 's002'" in failed[22]
    with (out / "batch-summary.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 30
    assert "line 7: missing name" in result.stderr


def test_rerun_skips_up_to_date_repos_and_force_regenerates(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(3))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    again = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["counts"]["skipped"] == 3
    forced = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--force", "--json")
    rows = json.loads(forced.stdout)["rows"]
    assert [r["status"] for r in rows] == ["regenerated"] * 3
    assert all((out / r["extra"]["backup"]).is_dir() for r in rows)


def test_changed_answers_without_force_fail_that_row_and_keep_the_repo(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    before = tree_bytes(out / f"{KEY}-s001")
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--set", "license=none")
    assert result.exit_code == 5
    assert tree_bytes(out / f"{KEY}-s001") == before


def test_two_runs_are_byte_identical(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(4))
    for name in ("a", "b"):
        result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / name),
                       "--flavor", "assignment")  # fmt: skip
        assert result.exit_code == 0
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_rows_get_their_student_answers_a_seed_and_one_package_name(runner, tmp_path):
    roster = write_roster(
        tmp_path / "r.csv", ["ab-12,Zoë O'Neil,zoe@uni.example,zoe-o,Apache-2.0"],
        header="student_id,name,email,github_username,license",
    )  # fmt: skip
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)["rows"][0]
    assert row["seed"] is not None
    import yaml

    record = yaml.safe_load((out / f"{KEY}-ab-12" / ".mlstarter.yml").read_text())
    answers = record["answers"]
    assert answers["author_name"] == "Zoë O'Neil" and answers["license"] == "Apache-2.0"
    assert answers["project_slug"] == f"{KEY}-ab-12"
    assert answers["package_name"] == "python_autocomplete"
    assert answers["seed"] == str(row["seed"])  # the per-student seed is recorded


def test_each_student_gets_their_own_seed_and_data(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    seeds = [
        next(line for line in (out / f"{KEY}-{sid}" / "src" / "python_autocomplete" / "data.py")
             .read_text().splitlines() if line.startswith("DEFAULT_SEED ="))
        for sid in ("s001", "s002")
    ]  # fmt: skip
    assert seeds[0] != seeds[1]


def test_yaml_roster_reports_line_numbers_and_unknown_projects(runner, tmp_path):
    roster = tmp_path / "r.yaml"
    roster.write_text(
        "students:\n"
        "  - student_id: s1\n    name: A\n    email: a@x.org\n    github_username: a\n"
        "  - student_id: s2\n    name: B\n    email: b@x.org\n    github_username: b\n"
        "    project: pytorch-transformerz\n"
        "  - student_id: s3\n    name: C\n    email: c@x.org\n    github_username: c\n"
        "    licence: MIT\n"
    )
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert result.exit_code == 2
    rows = {r["line"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows[2]["status"] == "generated"
    assert "unknown project" in rows[6]["reason"]
    assert "did you mean 'license'" in rows[11]["reason"]


def test_unreadable_roster_is_a_usage_error(runner, tmp_path):
    assert batch(runner, str(tmp_path / "none.csv"), "--project", KEY).exit_code == 2


def test_git_and_remote_push_each_repo_to_its_own_bare_repository(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    remotes = tmp_path / "remotes"
    for sid in ("s001", "s002"):
        subprocess.run(["git", "init", "-q", "--bare", str(remotes / f"{sid}.git")], check=True)
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"),
                   "--remote", str(remotes / "{student_id}.git"))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for sid in ("s001", "s002"):
        log = subprocess.run(
            ["git", "--git-dir", str(remotes / f"{sid}.git"), "log", "--format=%an", "main"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert log.stdout.strip() == f"Student {int(sid[1:])}"


def test_remote_without_placeholder_is_refused(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(1))
    result = batch(runner, str(roster), "--project", KEY, "--remote", "/tmp/one.git")
    assert result.exit_code == 2
