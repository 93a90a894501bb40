"""`mlstarter batch`: a roster in, one atomic repo a row, bad rows named, a summary, re-runs."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

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


# --- rosters keep text as text; bad input is one row or one clear error --------------------------


def test_yaml_roster_keeps_ids_and_names_as_written(runner, tmp_path):
    roster = tmp_path / "r.yaml"
    roster.write_text(
        "- {student_id: 0012, name: No, email: a@x.org, github_username: yes}\n"
        "- {student_id: 10, name: Bob, email: b@x.org, github_username: bob}\n"
        "- {student_id: 1e3, name: 3.10, email: c@x.org, github_username: c}\n"
    )
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [r["student_id"] for r in rows] == ["0012", "10", "1e3"]
    import yaml

    first = yaml.safe_load((out / f"{KEY}-0012" / ".mlstarter.yml").read_text())["answers"]
    assert first["author_name"] == "No" and first["github_username"] == "yes"
    third = yaml.safe_load((out / f"{KEY}-1e3" / ".mlstarter.yml").read_text())["answers"]
    assert third["author_name"] == "3.10"


def test_a_yaml_roster_with_aliases_is_refused_at_once(runner, tmp_path):
    roster = tmp_path / "r.yaml"
    lines = ["x0: &x0 [a, a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 10)}]" for n in range(1, 9)]
    roster.write_text("\n".join(lines) + "\nstudents: []\n")
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "not allowed" in result.stderr
    assert not (tmp_path / "o").exists()


def test_one_row_with_a_lone_surrogate_fails_alone(runner, tmp_path):
    roster = tmp_path / "r.yaml"
    roster.write_text(
        '- {student_id: s1, name: "Bad \\udc80", email: a@x.org, github_username: a}\n'
        "- {student_id: s2, name: Good, email: b@x.org, github_username: b}\n"
    )
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert result.exit_code == 3, result.stderr
    rows = {r["student_id"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["s1"]["status"] == "failed" and "author_name" in rows["s1"]["reason"]
    assert rows["s2"]["status"] == "generated" and (out / f"{KEY}-s2" / "README.md").is_file()
    assert (out / "batch-summary.json").is_file()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unexpected_error_in_one_row_never_aborts_the_batch(runner, tmp_path, monkeypatch, jobs):
    from mlstarter import generate

    real = generate.render_tree

    def breaks_for_s002(template_key, spec, answers, *args, **kwargs):
        if answers["project_slug"].endswith("-s002"):
            raise RuntimeError("a bug in one row")
        return real(template_key, spec, answers, *args, **kwargs)

    monkeypatch.setattr(generate, "render_tree", breaks_for_s002)
    roster = write_roster(tmp_path / "r.csv", class_of(4))
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "-j", jobs, "--json")
    rows = {r["student_id"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["s002"]["status"] == "failed" and "a bug in one row" in rows["s002"]["reason"]
    assert [rows[s]["status"] for s in ("s001", "s003", "s004")] == ["generated"] * 3
    assert len(json.loads((out / "batch-summary.json").read_text())["rows"]) == 4
    assert not (out / f"{KEY}-s002").exists()


def test_a_full_disk_fails_its_row_with_exit_8_and_the_rest_go_on(runner, tmp_path, monkeypatch):
    from mlstarter import generate

    real = generate.check_tree

    def disk_full_for_s001(project):
        if project.name.endswith("-s001"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(project)

    monkeypatch.setattr(generate, "check_tree", disk_full_for_s001)
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "-j", "1", "--json")
    assert result.exit_code == 8
    rows = json.loads(result.stdout)["rows"]
    assert "No space left on device" in rows[0]["reason"] and rows[1]["status"] == "generated"


def test_output_folder_that_is_a_file_is_a_usage_error(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(1))
    (tmp_path / "file").write_text("x")
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "file"))
    assert result.exit_code == 2
    assert "not a folder" in result.stderr and "internal error" not in result.stderr


def test_an_oversized_csv_cell_is_a_clear_usage_error(runner, tmp_path):
    roster = write_roster(
        tmp_path / "r.csv", ["s1,A,a@x.org,a", "s2," + "x" * 200_000 + ",b@x.org,b"]
    )
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "line 3" in result.stderr and "field larger than field limit" in result.stderr


def test_a_roster_over_the_size_limit_is_refused(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(1) + ["\n" * (5 * 1024 * 1024)])
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "larger than the limit" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_roster_cell_that_is_a_list_fails_its_row(runner, tmp_path):
    roster = tmp_path / "r.yaml"
    roster.write_text("- {student_id: s1, name: [A, B], email: a@x.org, github_username: a}\n")
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"), "--json")
    assert result.exit_code == 3
    assert "field 'name' must be text" in json.loads(result.stdout)["rows"][0]["reason"]


def test_a_student_id_with_unicode_lookalikes_is_refused(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", ["\u212a1,Kelvin,k@x.org,k", "k1,K,k1@x.org,k1"])
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"), "--json")
    rows = json.loads(result.stdout)["rows"]
    assert rows[0]["status"] == "failed" and "ASCII" in rows[0]["reason"]
    assert rows[1]["status"] == "generated"


# --- the summary: atomic, safe in a spreadsheet, no secrets ------------------------------------


def test_summary_csv_cells_never_start_a_formula(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", ['"=HYPERLINK(""http://evil"",""x"")",A,a@x.org,a',
                                               "+cmd,B,b@x.org,b", "s3,C,c@x.org,c"])  # fmt: skip
    out = tmp_path / "o"
    batch(runner, str(roster), "--project", KEY, "-o", str(out))
    with (out / "batch-summary.csv").open(newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert '\'=hyperlink("http://evil","x")' in cells


def test_credentials_in_the_remote_never_reach_output_or_summaries(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "-j", "1",
                   "--remote", "http://ada:s3cr3t@127.0.0.1:9/{student_id}.git")  # fmt: skip
    assert result.exit_code == 8, result.stderr
    everything = result.stdout + result.stderr + (out / "batch-summary.json").read_text()
    everything += (out / "batch-summary.csv").read_text()
    assert "s3cr3t" not in everything
    assert "http://ada:***@127.0.0.1:9/s001.git" in everything


def test_a_remote_that_looks_like_an_option_is_refused(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(1))
    marker = tmp_path / "pwned"
    result = batch(runner, str(roster), "--project", KEY, "-o", str(tmp_path / "o"),
                   "--remote", f"--receive-pack=touch {marker};{{student_id}}")  # fmt: skip
    assert result.exit_code == 2
    assert "cannot start with '-'" in result.stderr
    assert not marker.exists() and not (tmp_path / "o").exists()


def test_a_summary_that_cannot_be_written_keeps_the_old_one_whole(runner, tmp_path, monkeypatch):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    before = (out / "batch-summary.csv").read_bytes()

    def disk_full(self, rows):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(csv.DictWriter, "writerows", disk_full)
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out))
    assert result.exit_code == 8
    assert "cannot write the batch summary" in result.stderr
    assert (out / "batch-summary.csv").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_second_batch_on_the_same_folder_is_refused_while_the_first_runs(runner, tmp_path):
    from mlstarter import batch as batch_mod

    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    out.mkdir()
    with batch_mod.exclusive(out):  # this test plays the first batch
        result = batch(runner, str(roster), "--project", KEY, "-o", str(out))
    assert result.exit_code == 5
    assert "another mlstarter batch" in result.stderr
    assert list(out.iterdir()) == []


# --- re-runs finish what was left undone ---------------------------------------------------------


def test_the_grader_is_written_even_when_the_first_row_fails(runner, tmp_path):
    out = tmp_path / "o"
    (out / f"{KEY}-s001").mkdir(parents=True)
    (out / f"{KEY}-s001" / "mine.txt").write_text("not a generated repo")
    roster = write_roster(tmp_path / "r.csv", class_of(3))
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--flavor", "assignment")
    assert result.exit_code == 5
    assert list((out / "_grader" / KEY / "tests" / "hidden").glob("test_*.py"))
    assert not (out / f"{KEY}-s002" / "tests" / "hidden").exists()


def test_a_rerun_writes_a_missing_grader_folder(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    args = [str(roster), "--project", KEY, "-o", str(out), "--flavor", "assignment", "--json"]
    assert batch(runner, *args).exit_code == 0
    shutil.rmtree(out / "_grader")
    again = batch(runner, *args)
    assert again.exit_code == 0
    data = json.loads(again.stdout)
    assert data["graders"][0]["status"] == "written"
    assert [r["status"] for r in data["rows"]] == ["skipped", "skipped"]
    assert list((out / "_grader" / KEY / "tests" / "hidden").glob("test_*.py"))


def test_a_rerun_with_git_makes_the_earlier_repos_git_repositories(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    again = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--git", "--json")
    assert again.exit_code == 0, again.stderr
    assert [r["status"] for r in json.loads(again.stdout)["rows"]] == ["finished", "finished"]
    repo = out / f"{KEY}-s001"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True
    )
    assert status.returncode == 0 and status.stdout == ""
    log = subprocess.run(["git", "log", "--format=%an"], cwd=repo, capture_output=True, text=True)
    assert log.stdout.strip() == "Student 1"
    third = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--git", "--json")
    assert [r["status"] for r in json.loads(third.stdout)["rows"]] == ["skipped", "skipped"]


def test_a_rerun_with_git_leaves_a_changed_repo_alone(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(1))
    out = tmp_path / "o"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(out)).exit_code == 0
    (out / f"{KEY}-s001" / "README.md").write_text("the instructor's edit")
    again = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--git")
    assert again.exit_code == 5
    assert "changed since it was generated" in again.stderr
    assert not (out / f"{KEY}-s001" / ".git").exists()
    assert (out / f"{KEY}-s001" / "README.md").read_text() == "the instructor's edit"


def test_a_push_that_failed_is_retried_by_the_rerun(runner, tmp_path):
    roster = write_roster(tmp_path / "r.csv", class_of(2))
    remotes = tmp_path / "remotes"
    out = tmp_path / "o"
    args = [
        str(roster),
        "--project",
        KEY,
        "-o",
        str(out),
        "--remote",
        str(remotes / "{student_id}.git"),
    ]
    first = batch(runner, *args, "--json")
    assert first.exit_code == 8
    assert all("generated, but pushing to" in r["reason"] for r in json.loads(first.stdout)["rows"])
    for sid in ("s001", "s002"):
        subprocess.run(["git", "init", "-q", "--bare", str(remotes / f"{sid}.git")], check=True)
    again = batch(runner, *args, "--json")
    assert again.exit_code == 0, again.stderr
    assert [r["status"] for r in json.loads(again.stdout)["rows"]] == ["finished", "finished"]
    log = subprocess.run(["git", "--git-dir", str(remotes / "s001.git"), "log", "--format=%an", "main"],
                         capture_output=True, text=True)  # fmt: skip
    assert log.stdout.strip() == "Student 1"
    third = batch(runner, *args, "--json")
    assert [r["status"] for r in json.loads(third.stdout)["rows"]] == ["skipped", "skipped"]


# --- interrupts ----------------------------------------------------------------------------------

SLOW_BATCH = """
import sys, time
import cookiecutter.generate as g
from mlstarter import cli
real = g.generate_file
def slow(*a, **k):
    time.sleep(0.02)
    return real(*a, **k)
g.generate_file = slow
sys.argv = ["mlstarter", *sys.argv[1:]]
cli.main()
"""


def test_sigint_to_the_process_group_stops_a_batch_with_a_true_summary(runner, tmp_path):
    """Ctrl-C in a terminal: every process of the group gets SIGINT."""
    roster = write_roster(tmp_path / "r.csv", class_of(40))
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_BATCH, "batch", str(roster), "--project", KEY, "-o", str(out),
         "-j", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    while proc.poll() is None and not list(out.glob(f"{KEY}-*/.mlstarter.yml")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["interrupted"] == "SIGINT" and json.loads(stdout)["exit_code"] == 130
    statuses = {r["student_id"]: r["status"] for r in summary["rows"]}
    assert len(statuses) == 40 and set(statuses.values()) <= {"generated", "interrupted"}
    assert "interrupted" in statuses.values()
    made = {p.name for p in out.iterdir()}
    assert made == {f"{KEY}-{s}" for s, st in statuses.items() if st == "generated"} | {
        "batch-summary.json",
        "batch-summary.csv",
    }  # no staging folder, no half repo
    reference = tmp_path / "reference"
    assert batch(runner, str(roster), "--project", KEY, "-o", str(reference)).exit_code == 0
    for name in made - {"batch-summary.json", "batch-summary.csv"}:
        assert tree_bytes(out / name) == tree_bytes(reference / name), name
    again = batch(runner, str(roster), "--project", KEY, "-o", str(out), "--json")
    assert again.exit_code == 0
    assert {r["status"] for r in json.loads(again.stdout)["rows"]} <= {"generated", "skipped"}


def test_a_stopped_batch_starts_no_new_row(tmp_path, catalog):
    from mlstarter import batch as batch_mod

    rows = batch_mod.read_roster(write_roster(tmp_path / "r.csv", class_of(6)))
    jobs, _ = batch_mod.plan_rows(rows, catalog, tmp_path, KEY, {}, "showcase", False, False, None)
    seen: list[str] = []
    outcomes = batch_mod.run_batch(
        jobs, 1, lambda o: seen.append(o.status), stop=lambda: signal.SIGTERM if seen else None
    )
    assert [o.status for o in outcomes] == ["generated"] + ["interrupted"] * 5
    assert outcomes[1].exit_code == 143 and "not started" in outcomes[1].reason
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{KEY}-s001", "r.csv"]


def test_a_roster_that_is_the_summary_it_would_overwrite_is_refused(runner, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    roster = write_roster(out / "batch-summary.csv", class_of(1))
    before = roster.read_bytes()
    result = batch(runner, str(roster), "--project", KEY, "-o", str(out))
    assert result.exit_code == 2
    assert "copy it first" in result.stderr
    assert roster.read_bytes() == before
