"""The end-to-end tier for `mlstarter grade`: a class of four on a real starter (tdengine, the
lightest to install), graded in an environment made from the pristine starter.

A correct solution, an untouched assignment, an untouched one whose conftest hook skips every test
and reports every test as passed, and one with a bug only the hidden tests catch (the metrics left
unrounded: the visible test compares approximately). Slow: the environment is built once (about a
minute with a warm pip cache), then six test runs and five smoke runs. Appends its timing to
bench/out/grade-timings.jsonl.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import REPO
from ..test_grade import CHEAT_CONFTEST, GIT_ENV

pytestmark = pytest.mark.e2e
KEY = "tdengine"
TIMINGS = REPO / "bench" / "out" / "grade-timings.jsonl"


def commit(repo: Path) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "work"], cwd=repo, env=env, check=True
    )


def mlstarter(
    *args: str, env: dict[str, str], timeout: float = 3600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlstarter", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)  # fmt: skip


def solution_files(repo: Path, tmp: Path, env: dict[str, str]) -> dict[str, str]:
    """The region files of the complete starter at this student's answers."""
    made = mlstarter("new", KEY, "--no-input", "--answers", str(repo / ".mlstarter.yml"),
                     "--flavor", "showcase", "-o", str(tmp), "--json", env=env, timeout=300)  # fmt: skip
    assert made.returncode == 0, made.stderr
    complete = Path(json.loads(made.stdout)["path"])
    return {
        p.relative_to(complete).as_posix(): p.read_text() for p in (complete / "src").rglob("*.py")
    }


def test_a_real_class_of_four_is_ranked_honestly(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,github_username\n" + "".join(
        f"{i},Student {i},{i}@uni.example,{i}\n" for i in ("correct", "untouched", "cheat", "buggy")
    ))  # fmt: skip
    out = tmp_path / "class"
    made = mlstarter("batch", str(roster), "--project", KEY, "--flavor", "assignment", "--git",
                     "-o", str(out), env=env, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stderr
    correct, buggy, cheat = out / f"{KEY}-correct", out / f"{KEY}-buggy", out / f"{KEY}-cheat"
    for path, text in solution_files(correct, tmp_path / "solution-correct", env).items():
        (correct / path).write_text(text)
    commit(correct)
    for path, text in solution_files(buggy, tmp_path / "solution-buggy", env).items():
        if path.endswith("/evaluate.py"):
            for name in ("precision", "recall", "f1"):
                text = text.replace(f'"{name}": round({name}, 4)', f'"{name}": {name}')
        (buggy / path).write_text(text)
    commit(buggy)
    (cheat / "tests" / "conftest.py").write_text(CHEAT_CONFTEST)
    commit(cheat)
    started = time.monotonic()
    graded = mlstarter("grade", str(out), "--seed", "5", "--json", env=env)
    seconds = round(time.monotonic() - started, 1)
    assert graded.returncode == 0, graded.stderr[-4000:]
    data = json.loads((out / "grades.json").read_text())
    points = {s["student_id"]: s["points"] for s in data["students"]}
    most = data["students"][0]["max_points"]
    assert most > 0 and points["correct"] == most
    assert points["untouched"] == 0 and points["cheat"] <= points["untouched"]
    assert 0 < points["buggy"] < most
    lost = {f["nodeid"].split("::")[0] for s in data["students"] if s["student_id"] == "buggy"
            for f in s["failed"]}  # fmt: skip
    assert lost and all("/hidden/" in f for f in lost), lost  # only the hidden tests caught it
    board = (out / "leaderboard.md").read_text()
    assert board.index("| correct |") < board.index("| untouched |")
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a", encoding="utf-8") as f:
        f.write(json.dumps({
            "key": KEY, "students": 4, "seconds": seconds, "jobs": 2,
            "environment": data["projects"][KEY]["environment_origin"],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        }) + "\n")  # fmt: skip
