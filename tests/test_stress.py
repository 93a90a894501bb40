"""The stress tier (`pytest -m stress`): signals at many moments of `new` and `batch`, concurrent
runs on one folder, and a full disk.

Done when: under SIGINT or SIGTERM at any moment, `new` and `batch` leave for each row a complete
repo or nothing, a true summary, and no staging folder.

Every test asserts only what must hold whenever the signal lands: no sleeps decide an outcome. A
run is slowed at a chosen moment (a patched function waits there) and the test signals it once
that moment is observable (a marker file, a staging folder, a number of repos); if the machine is
so loaded that the signal lands later, the same invariants still hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlstarter.cli import app

pytestmark = pytest.mark.stress

KEY = "python-autocomplete"
SUMMARIES = {"batch-summary.json", "batch-summary.csv"}
SIGNALS = {
    "sigint-to-group": (signal.SIGINT, True),
    "sigterm-to-process": (signal.SIGTERM, False),
}

# Runs mlstarter with one function made to wait at a chosen moment: argv is
# MARKER MOMENT SLOW_SECONDS_PER_FILE mlstarter-args...
DRIVER = r"""
import os, sys, time
from pathlib import Path
marker, moment, per_file = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
import cookiecutter.generate as cg
from mlstarter import cli, generate, gitrepo

def stall(real, on_call=1):
    calls = {"n": 0}
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            marker.write_text(str(os.getpid()))
            until = time.monotonic() + 1.0
            while time.monotonic() < until:  # the signal lands here; a raise ends the wait
                time.sleep(0.01)
        return real(*args, **kwargs)
    return wrapper

def fail(*args, **kwargs):
    raise generate.TreeCheckError("generated tree check failed: made to fail by the stress test")

real_file = cg.generate_file
def slow_file(*args, **kwargs):
    time.sleep(per_file)
    return real_file(*args, **kwargs)
cg.generate_file = slow_file
if moment == "render":
    cg.generate_file = stall(cg.generate_file, 3)
elif moment == "check":
    generate.check_tree = stall(generate.check_tree)
elif moment == "git-commit":
    gitrepo.run_git = stall(gitrepo.run_git, 3)
elif moment == "place-repo":
    generate._Moves.into_place = stall(generate._Moves.into_place, 1)
elif moment == "place-grader":
    generate._Moves.into_place = stall(generate._Moves.into_place, 2)
elif moment == "after-bake":
    cli._note_cleaned = stall(cli._note_cleaned)
elif moment == "fail":
    generate.check_tree = fail
sys.argv = ["mlstarter", *sys.argv[4:]]
cli.main()
"""


def tree(root: Path) -> dict[str, bytes]:
    """Files under root, but not .git, by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def staging_left(root: Path) -> list[str]:
    return [p.as_posix() for p in root.rglob(".mlstarter-staging-*")] if root.exists() else []


def start(
    tmp_path: Path, moment: str, *args: str, per_file: float = 0.0
) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"marker-{moment}-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(marker), moment, str(per_file), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    STARTED.append(proc)
    return proc, marker


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _reap_started_processes():
    # every process a test started is ended and its pipes closed, even when the test failed
    # (an open pipe is a ResourceWarning, which this suite treats as an error)
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    """Wait for ``proc`` without risking a full pipe; its exit code and stderr."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def send(proc: subprocess.Popen, how: str) -> int:
    signum, to_group = SIGNALS[how]
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    return signum


def wait_until(proc: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 120
    while proc.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.02)


def git_is_clean_with_one_commit(repo: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    log = subprocess.run(
        ["git", "log", "--oneline"], cwd=repo, capture_output=True, text=True, env=env
    )
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, env=env
    )
    return len(log.stdout.splitlines()) == 1 and status.stdout == ""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What `new --git --flavor assignment` and `batch` make when nothing interrupts them."""
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("reference")
    runner = CliRunner()
    result = runner.invoke(
        app, ["new", KEY, "--no-input", "--git", "--flavor", "assignment", "-o", str(root / "new")]
    )
    assert result.exit_code == 0, result.stderr
    roster = root / "roster.csv"
    roster.write_text(
        "student_id,name,email,github_username\n"
        + "".join(f"s{i:02d},Student {i},s{i}@uni.example,student{i}\n" for i in range(1, 11))
    )
    result = runner.invoke(app, ["batch", str(roster), "--project", KEY, "--flavor", "assignment", "--git",
                                 "-o", str(root / "batch")])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return root


# --- new: a signal at every moment ---------------------------------------------------------------


@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize(
    "moment", ["render", "check", "git-commit", "place-repo", "place-grader", "after-bake"]
)
def test_new_under_a_signal_leaves_a_complete_repo_or_nothing(tmp_path, reference, moment, how):
    out = tmp_path / "fresh" / "out"
    proc, marker = start(tmp_path, moment, "new", KEY, "--no-input", "--git", "--flavor", "assignment",
                         "-o", str(out))  # fmt: skip
    wait_until(proc, marker.exists)
    signum = send(proc, how)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert staging_left(tmp_path) == []
    repo, grader = out / KEY, out / f"{KEY}-grader"
    if repo.exists():
        assert sorted(p.name for p in out.iterdir()) == sorted([repo.name, grader.name])
        assert tree(repo) == tree(reference / "new" / KEY)
        assert tree(grader) == tree(reference / "new" / grader.name)
        assert git_is_clean_with_one_commit(repo)
        assert f"{repo} was created completely" in err
    else:
        assert not (tmp_path / "fresh").exists()  # the folders it made for -o went with it
        assert "nothing was written" in err
    assert f"interrupted by {signal.Signals(signum).name}" in err


# --- batch: a signal at many moments --------------------------------------------------------------


def count_repos(out: Path) -> int:
    return len(list(out.glob(f"{KEY}-s*/.mlstarter.yml"))) if out.exists() else 0


MOMENTS = {
    "first-staging": lambda out: bool(staging_left(out)),
    "first-repo": lambda out: count_repos(out) >= 1,
    "four-repos": lambda out: count_repos(out) >= 4,
}


@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_batch_under_a_signal_leaves_complete_repos_a_true_summary_and_no_staging(
    tmp_path, reference, moment, how
):
    out = tmp_path / "class"
    proc, _ = start(tmp_path, "none", "batch", str(reference / "roster.csv"), "--project", KEY,
                    "--flavor", "assignment", "--git", "-o", str(out), "-j", "2", "--json",
                    per_file=0.01)  # fmt: skip
    wait_until(proc, lambda: MOMENTS[moment](out))
    signum = send(proc, how)
    stdout, err = proc.communicate(timeout=180)
    assert proc.returncode == 128 + signum, err
    assert staging_left(tmp_path) == []
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["interrupted"] == signal.Signals(signum).name
    assert json.loads(stdout)["rows"] == summary["rows"]
    statuses = {r["path"] or r["student_id"]: r["status"] for r in summary["rows"]}
    assert len(summary["rows"]) == 10 and set(statuses.values()) <= {"generated", "interrupted"}
    generated = {name for name, status in statuses.items() if status == "generated"}
    entries = {p.name for p in out.iterdir()}
    assert entries - SUMMARIES - {"_grader"} == generated
    for name in generated:
        assert tree(out / name) == tree(reference / "batch" / name), name
        assert git_is_clean_with_one_commit(out / name), name
    graders = out / "_grader"
    if graders.exists():
        assert tree(graders) == tree(reference / "batch" / "_grader")
    assert f"interrupted by {signal.Signals(signum).name}" in err


def test_a_rerun_after_an_interrupted_batch_finishes_it(tmp_path, reference):
    from typer.testing import CliRunner

    out = tmp_path / "class"
    proc, _ = start(tmp_path, "none", "batch", str(reference / "roster.csv"), "--project", KEY,
                    "--flavor", "assignment", "--git", "-o", str(out), "-j", "2", per_file=0.01)  # fmt: skip
    wait_until(proc, lambda: count_repos(out) >= 2)
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=180)
    result = CliRunner().invoke(app, ["batch", str(reference / "roster.csv"), "--project", KEY, "--flavor",
                                      "assignment", "--git", "-o", str(out), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert {r["status"] for r in json.loads(result.stdout)["rows"]} <= {"generated", "skipped"}
    made = {k: v for k, v in tree(out).items() if k not in SUMMARIES}
    assert made == {k: v for k, v in tree(reference / "batch").items() if k not in SUMMARIES}


# --- concurrent runs on one folder ----------------------------------------------------------------


def test_two_news_on_one_target_make_one_repo_and_one_exit_5(tmp_path, reference):
    procs = [
        start(tmp_path, "none", "new", KEY, "--no-input", "-o", str(tmp_path / "out"))[0]
        for _ in range(2)
    ]
    done = [finish(p, 120) for p in procs]
    codes = sorted(code for code, _ in done)
    assert codes == [0, 5], "".join(err for _, err in done)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [KEY]
    assert staging_left(tmp_path) == []


def test_runs_into_one_fresh_folder_never_remove_each_others_repos(tmp_path):
    cls = tmp_path / "cls"
    procs = []
    for n in range(6):
        moment = "fail" if n % 2 else "none"
        procs.append((n, start(tmp_path, moment, "new", KEY, "--no-input", "--set", f"project_slug=repo-{n}",
                               "-o", str(cls))[0]))  # fmt: skip
    for n, proc in procs:
        code, err = finish(proc, 120)
        assert code == (6 if n % 2 else 0), err
    assert sorted(p.name for p in cls.iterdir()) == ["repo-0", "repo-2", "repo-4"]
    assert all((cls / f"repo-{n}" / ".mlstarter.yml").is_file() for n in (0, 2, 4))
    assert staging_left(tmp_path) == []


def test_two_batches_on_one_folder_never_mix(tmp_path, reference):
    out = tmp_path / "class"
    args = [
        "batch",
        str(reference / "roster.csv"),
        "--project",
        KEY,
        "--flavor",
        "assignment",
        "-o",
        str(out),
    ]
    procs = [start(tmp_path, "none", *args)[0] for _ in range(2)]
    done = [finish(p, 180) for p in procs]
    codes = [code for code, _ in done]
    errors = [err for _, err in done]
    assert sorted(codes) in ([0, 0], [0, 5]), errors
    for code, error in zip(codes, errors, strict=True):
        if code == 5:
            assert "another mlstarter batch is writing to" in error
    rows = json.loads((out / "batch-summary.json").read_text())["rows"]
    assert {r["status"] for r in rows} <= {"generated", "skipped"} and len(rows) == 10
    for row in rows:
        assert tree(out / row["path"]) == tree(reference / "batch" / row["path"])
    assert staging_left(tmp_path) == []


# --- a full disk ------------------------------------------------------------------------------------

PROBE = r"""
import json, os, subprocess, sys
from pathlib import Path
mount, args = Path(sys.argv[1]), sys.argv[2:]
done = subprocess.run([sys.executable, "-m", "mlstarter", *args], capture_output=True, text=True)
entries = sorted(p.relative_to(mount).as_posix() for p in mount.rglob("*"))
summary = mount / "class" / "batch-summary.json"
print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "entries": entries,
                  "summary": json.loads(summary.read_text()) if summary.exists() else None,
                  "sizes": {e: (mount / e).stat().st_size for e in entries if (mount / e).is_file()}}))
"""


def on_a_small_disk(tmp_path: Path, kib: int, *args: str) -> dict:
    """Run mlstarter with a file system of `kib` KiB at tmp_path/disk: a tmpfs in a mount namespace
    of its own where the kernel allows one (no root needed), else a file size limit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    if shutil.which("unshare"):
        script = f'mount -t tmpfs -o size={kib}k tmpfs "$1" && shift && exec "$@"'
        done = subprocess.run(
            ["unshare", "-Urm", "sh", "-c", script, "sh", str(mount), sys.executable, str(probe), str(mount), *args],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode == 0:
            return json.loads(done.stdout)
    import resource

    def limit() -> None:  # no file may grow past 8 KiB: the starters' larger files fail
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    done = subprocess.run([sys.executable, str(probe), str(mount), *args], capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)  # fmt: skip
    return json.loads(done.stdout)


def test_new_on_a_full_disk_is_exit_8_and_leaves_nothing(tmp_path):
    seen = on_a_small_disk(
        tmp_path, 96, "new", KEY, "--no-input", "-o", str(tmp_path / "disk" / "code" / "x")
    )
    assert seen["rc"] == 8, seen["stderr"]
    assert "internal error" not in seen["stderr"]
    assert "No space left on device" in seen["stderr"] or "File too large" in seen["stderr"]
    assert seen["entries"] == []


def test_batch_on_a_full_disk_fails_rows_cleanly_and_keeps_whole_repos(tmp_path, reference):
    shutil.copy(reference / "roster.csv", tmp_path / "roster.csv")
    seen = on_a_small_disk(tmp_path, 900, "batch", str(tmp_path / "roster.csv"), "--project", KEY, "-j", "2",
                           "--flavor", "assignment", "-o", str(tmp_path / "disk" / "class"))  # fmt: skip
    assert seen["rc"] == 8, seen["stderr"]
    assert "internal error" not in seen["stderr"]
    assert not [e for e in seen["entries"] if ".mlstarter-staging-" in e or e.endswith(".tmp")]
    repos = {e.split("/")[1] for e in seen["entries"] if e.startswith(f"class/{KEY}-")}
    for repo in repos:  # every repo on the disk is whole: the same files, the same sizes
        files = {
            e.split("/", 2)[2]: size
            for e, size in seen["sizes"].items()
            if e.startswith(f"class/{repo}/")
        }
        assert files == {
            name: len(data) for name, data in tree(reference / "batch" / repo).items()
        }, repo
    if seen["summary"] is not None:
        statuses = {r["path"]: r["status"] for r in seen["summary"]["rows"]}
        assert {p for p, s in statuses.items() if s == "generated"} == repos
        assert all("No space left" in r["reason"] or "File too large" in r["reason"]
                   for r in seen["summary"]["rows"] if r["status"] == "failed")  # fmt: skip
    else:
        assert "cannot write the batch summary" in seen["stderr"]
