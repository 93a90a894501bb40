"""git for generated repos: one initial commit, a push, and what a re-run still has to do.

The user's own git setup must not change the result:
- the commit runs with no global or system configuration, no hooks, no signing, no global ignore
  or attributes file and no `GIT_*` variables from the caller, so every file the template made is
  committed byte for byte, whatever `~/.gitconfig` says;
- the push keeps the user's configuration (credentials, ssh), but runs no hooks, and the remote is
  never read as an option (`--end-of-options`; a remote starting with `-` is refused). Only the
  file, git, http(s) and ssh transports are allowed (no `ext::` commands).
Each git runs in a session of its own and is stopped with everything it started when the run is
interrupted. Error messages never show the credentials of a URL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from mlstarter.errors import AnswerError, GitError, UsageError
from mlstarter.interrupts import Interrupted
from mlstarter.sanitize import redact_secrets

# characters git strips from the ends of a name, and the two it removes everywhere
GIT_CRUD = " \t\n.,:;<>\"\\'"
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"
PUSH_TIMEOUT = 600.0
LOCAL_TIMEOUT = 300.0
NEUTRAL = (
    "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false",
    "-c", "push.gpgSign=false", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false",
    "-c", "core.safecrlf=false", "-c", "core.excludesFile=/dev/null",
    "-c", "core.attributesFile=/dev/null", "-c", "core.fsmonitor=false",
)  # fmt: skip
PUSHED_KEY = "mlstarter.pushed"

Stop = Callable[[], "int | None"]


def check_identity(name: str, email: str) -> None:
    """Refuse an author git would reject or silently rewrite (it drops `<` and `>`)."""
    if "<" in name or ">" in name or not name.strip(GIT_CRUD):
        raise AnswerError(
            f"author_name: '{name}' cannot be a git author (it needs letters, and no < or >); "
            "change it, or leave out --git"
        )
    if "<" in email or ">" in email:
        raise AnswerError(f"author_email: '{email}' cannot be a git author email (no < or >)")


def check_remote(remote: str) -> None:
    """Refuse a remote git would read as an option."""
    if remote.startswith("-"):
        shown = redact_secrets(remote)
        raise UsageError(f"--remote '{shown}': a URL or path cannot start with '-'")


def _env(push: bool, identity: tuple[str, str] | None = None) -> dict[str, str]:
    keep = {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS"} if push else set()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in keep}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_ALLOW_PROTOCOL=ALLOWED_PROTOCOLS, LC_ALL="C")
    if not push:
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    if identity is not None:
        name, email = identity
        env.update(
            GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
        )  # fmt: skip
    return env


def run_git(
    args: list[str],
    cwd: Path,
    *,
    push: bool = False,
    identity: tuple[str, str] | None = None,
    stop: Stop | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """Run one git command; its stdout, or GitError with git's last line (credentials hidden).

    `stop` is polled while git runs: when it returns a signal, git is stopped and Interrupted
    raised.
    """
    if shutil.which("git") is None:
        raise GitError("git is not on PATH")
    try:
        proc = subprocess.Popen(
            ["git", *NEUTRAL, *args], cwd=cwd, env=_env(push, identity),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        raise GitError(f"git {args[0]}: cannot start it ({exc.strerror})") from None
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                signum = stop() if stop is not None else None
                if signum is not None:
                    raise Interrupted(signum) from None
                if time.monotonic() > deadline:
                    raise GitError(f"git {args[0]} gave no answer in {timeout:.0f} s") from None
    except BaseException:
        _stop(proc)
        raise
    if proc.returncode != 0:
        last = (err.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise GitError(f"git {args[0]} failed: {redact_secrets(last)}")
    return out.strip()


def _stop(proc: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=3)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        proc.communicate(timeout=1)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        pass


def commit_all(project: Path, name: str, email: str, message: str) -> str:
    """Make `project` a git repository with one commit of every file; return the commit id."""
    check_identity(name, email)
    run_git(["init", "-q"], project)
    run_git(["add", "-A"], project)
    run_git(["commit", "-q", "--no-verify", "-m", message], project, identity=(name, email))
    return run_git(["rev-parse", "HEAD"], project)


def has_commit(repo: Path) -> bool:
    """Whether `repo` is a git repository of its own with at least one commit."""
    if not (repo / ".git").is_dir():
        return False
    try:
        run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], repo)
    except GitError:
        return False
    return True


def _remote_id(remote: str) -> str:
    return hashlib.sha256(remote.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def push(repo: Path, remote: str, stop: Stop | None = None) -> None:
    """Push HEAD to `remote` as main, and remember (in the repo's git config) that it was pushed."""
    check_remote(remote)
    run_git(
        ["push", "-q", "--end-of-options", remote, "HEAD:refs/heads/main"],
        repo, push=True, stop=stop, timeout=PUSH_TIMEOUT,
    )  # fmt: skip
    head = run_git(["rev-parse", "HEAD"], repo)
    run_git(["config", "--local", PUSHED_KEY, f"{_remote_id(remote)} {head}"], repo)


def is_pushed(repo: Path, remote: str) -> bool:
    """Whether this repo's HEAD was pushed to `remote` by mlstarter."""
    try:
        recorded = run_git(["config", "--local", "--get", PUSHED_KEY], repo)
        head = run_git(["rev-parse", "HEAD"], repo)
    except GitError:
        return False
    return recorded == f"{_remote_id(remote)} {head}"


def _git_bytes(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """One local git command with its raw output (blobs, merges), in the neutral setup."""
    if shutil.which("git") is None:
        raise GitError("git is not on PATH")
    return subprocess.run(
        ["git", *NEUTRAL, *args], cwd=cwd, env=_env(False), stdin=subprocess.DEVNULL,
        capture_output=True, timeout=LOCAL_TIMEOUT, check=False,
    )  # fmt: skip


def is_dirty(repo: Path) -> list[str]:
    """The paths `git status` reports as changed or untracked in `repo` (empty: clean)."""
    out = run_git(["status", "--porcelain", "--untracked-files=all"], repo)
    return [line[2:].strip() for line in out.splitlines() if line.strip()]


def last_commit_of(repo: Path, path: str) -> str | None:
    """The newest commit that changed `path` (None: not a git repo, or never committed)."""
    if not has_commit(repo):
        return None
    rev = run_git(["log", "-n", "1", "--format=%H", "--", path], repo)
    return rev or None


def blob_at(repo: Path, rev: str, path: str) -> bytes | None:
    """The bytes of `path` at commit `rev`, or None when it has no such file."""
    done = _git_bytes(["cat-file", "blob", f"{rev}:{path}"], repo)
    return done.stdout if done.returncode == 0 else None


def merge_file(ours: Path, base: Path, theirs: Path, labels: tuple[str, str, str],
               favor: str | None = None) -> tuple[bytes, int]:  # fmt: skip
    """`git merge-file -p`: the merged bytes and how many conflicts are left marked in them.

    `favor` ('ours' or 'theirs') resolves conflicting hunks to that side instead of marking them.
    """
    args = ["merge-file", "-p"]
    if favor is not None:
        args.append(f"--{favor}")
    for label in labels:
        args += ["-L", label]
    done = _git_bytes([*args, str(ours), str(base), str(theirs)], ours.parent)
    if done.returncode < 0:
        raise GitError(f"git merge-file failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout, done.returncode
