"""A clean copy of what a student committed: their package's files, read from git HEAD.

In a git repository with a commit, the files come straight out of git's object store
(`ls-tree` and `cat-file` on HEAD): no checkout, so no hook, filter, attribute or fsmonitor of the
repository runs, and uncommitted or untracked files are not graded. Anywhere else, the files on
disk are read, symlinks skipped, and the result says so. Only the package folder
(`src/<package>/`) and the record (`.mlstarter.yml`) are read: nothing else of a student's repo is
ever used to grade it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mlstarter import gitrepo
from mlstarter.answers import RECORD_FILE
from mlstarter.errors import GitError, UsageError, require_folder

MAX_FILES = 5000
MAX_BYTES = 64 * 1024 * 1024
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass
class Snapshot:
    """The student's files (relative path -> bytes), and how they were read."""

    source: str  # "git" or "files"
    commit: str | None
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def take(repo: Path, package: str) -> Snapshot:
    """The committed files of `repo` under `src/<package>/`, and its record."""
    require_folder(repo)
    if gitrepo.has_commit(repo):
        return _from_git(repo, package)
    snap = Snapshot("files", None)
    snap.notes.append(
        "not a git repository with a commit: graded the files on disk (uncommitted and untracked "
        "files included)"
    )
    total = 0
    for relative in (f"src/{package}", RECORD_FILE):
        start = repo / relative
        if start.is_symlink():
            snap.notes.append(f"{relative} is a symlink: not read")
            continue
        if start.is_file():
            total = _add(snap, relative, start.read_bytes(), total)
            continue
        for current, dirs, names in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            for name in sorted(names):
                path = Path(current) / name
                rel = path.relative_to(repo).as_posix()
                if path.is_symlink() or not path.is_file():
                    snap.notes.append(f"{rel} is a symlink or special file: not read")
                    continue
                if name.endswith((".pyc", ".pyo")):
                    continue
                total = _add(snap, rel, path.read_bytes(), total)
    return snap


def _add(snap: Snapshot, relative: str, data: bytes, total: int) -> int:
    total += len(data)
    if len(snap.files) >= MAX_FILES or total > MAX_BYTES:
        raise UsageError(
            f"the package holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MiB: not graded"
        )
    snap.files[relative] = data
    return total


def _from_git(repo: Path, package: str) -> Snapshot:
    commit = gitrepo.run_git(["rev-parse", "--verify", "HEAD^{commit}"], repo)
    listing = _git_bytes(
        repo, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", f"src/{package}", RECORD_FILE]
    )
    snap = Snapshot("git", commit)
    wanted: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, sha = meta.decode("ascii").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        parts = path.split("/")
        if ".." in parts or path.startswith("/") or any(p in SKIPPED_DIRS for p in parts):
            continue
        if kind != "blob" or mode not in ("100644", "100755"):
            snap.notes.append(f"{path}: a symlink or submodule in the commit: not read")
            continue
        wanted.append((path, sha))
    if not wanted:
        return snap
    data = _git_bytes(repo, ["cat-file", "--batch"], "".join(f"{sha}\n" for _, sha in wanted))
    total = 0
    at = 0
    for path, _ in wanted:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        body = data[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
        if not path.endswith((".pyc", ".pyo")):
            total = _add(snap, path, body, total)
    return snap


def _git_bytes(repo: Path, args: list[str], stdin: str | None = None) -> bytes:
    """A read-only git command's stdout as bytes (no user configuration, no hooks)."""
    # safe.directory: the instructor reads a repo another user (a student's zip) may own; only
    # objects are read, and NEUTRAL turns off what could run a command (hooks, fsmonitor)
    command = ["git", *gitrepo.NEUTRAL, "-c", "safe.directory=*", *args]
    try:
        done = subprocess.run(
            command, cwd=repo, env=gitrepo._env(push=False), input=(stdin or "").encode(),
            capture_output=True, timeout=gitrepo.LOCAL_TIMEOUT, start_new_session=True,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} in {repo}: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise GitError(f"git {args[0]} in {repo} failed: {last}")
    return done.stdout
