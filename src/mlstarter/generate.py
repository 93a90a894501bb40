"""Staged, checked, atomic bakes: the only module that imports cookiecutter.

A bake renders into a staging folder beside the target (same filesystem), writes the record,
checks the tree, optionally commits it to git, and only then renames it into place. Any error, and
Ctrl-C, removes the staging folder and leaves the target as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mlstarter.answers import RECORD_FILE, TemplateSpec, render_record
from mlstarter.errors import MlstarterError, TargetExistsError, TreeCheckError, UsageError
from mlstarter.flavors import apply_flavor

LEFTOVER_MARKERS = ("{{ cookiecutter.", "{{cookiecutter.")
STAGING_PREFIX = ".mlstarter-staging-"


@dataclass(frozen=True)
class BakeResult:
    """What a bake produced: the project folder, its files, and where an old folder went."""

    path: Path
    files: list[str]
    backup: Path | None = None
    git_commit: str | None = None


def bake(
    template_key: str,
    spec: TemplateSpec,
    answers: Mapping[str, object],
    output_dir: Path,
    *,
    force: bool = False,
    git: bool = False,
    flavor: str = "showcase",
    grader: Path | None = None,
) -> BakeResult:
    """Render `spec` with `answers` into `output_dir/<project_slug>`, atomically.

    An existing non-empty target raises TargetExistsError unless `force`, which first moves it to a
    timestamped backup beside it. Nothing is left behind on failure.
    """
    output_dir = output_dir.resolve()
    target = output_dir / str(answers["project_slug"])
    refuse_existing(target, force)
    created = _make_output_dir(output_dir)
    try:
        with _staging(output_dir) as staging:
            staged_grader = staging / ".grader" if grader is not None else None
            project = render_tree(template_key, spec, answers, staging, flavor, staged_grader)
            files = check_tree(project)
            commit = _git_commit(project, answers) if git else None
            backup = _move_into_place(project, target, force)
            if staged_grader is not None and grader is not None and staged_grader.exists():
                _replace_folder(staged_grader, grader)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    return BakeResult(target, files, backup, commit)


def preview(
    template_key: str, spec: TemplateSpec, answers: Mapping[str, object], flavor: str = "showcase"
) -> list[str]:
    """The files a bake would write, rendered and checked in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="mlstarter-dry-run-") as tmp:
        project = render_tree(template_key, spec, answers, Path(tmp), flavor)
        return check_tree(project)


def target_state(output_dir: Path, slug: str) -> str:
    """'free', 'empty' or 'occupied': what stands where the project would go."""
    target = output_dir / slug
    if not target.exists() and not target.is_symlink():
        return "free"
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return "empty"
    return "occupied"


def render_tree(
    template_key: str,
    spec: TemplateSpec,
    answers: Mapping[str, object],
    into: Path,
    flavor: str = "showcase",
    grader: Path | None = None,
) -> Path:
    """Render the template into the empty folder `into` in `flavor`; return the project.

    Hidden tests of an assignment go to `grader` when given.
    """
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    _share_compiled_templates()
    # The answers go straight to generate_files: no prompt rendering (values stay literal), no
    # user config, no replay file, hooks off.
    context = {"cookiecutter": {**spec.private, **answers, "_template": template_key}}
    try:
        project = Path(
            generate_files(
                repo_dir=str(spec.path),
                context=context,
                output_dir=str(into),
                accept_hooks=False,
            )
        )
    except (CookiecutterException, TemplateError) as exc:
        raise TreeCheckError(f"template '{template_key}' failed to render: {exc}") from exc
    _drop_caches(project)
    apply_flavor(project, flavor, grader)
    record = render_record(template_key, spec, answers, flavor)
    (project / RECORD_FILE).write_text(record, encoding="utf-8")
    return project


class _MemoryBytecodeCache:
    """Jinja's compiled template code, kept in memory across bakes in one process (batch)."""

    def __init__(self) -> None:
        from jinja2 import BytecodeCache

        class Cache(BytecodeCache):
            store: dict[str, bytes] = {}

            def load_bytecode(self, bucket):  # type: ignore[no-untyped-def]
                if bucket.key in self.store:
                    bucket.bytecode_from_string(self.store[bucket.key])

            def dump_bytecode(self, bucket):  # type: ignore[no-untyped-def]
                self.store[bucket.key] = bucket.bytecode_to_string()

        self.cache = Cache()


_BYTECODE: _MemoryBytecodeCache | None = None


def _share_compiled_templates() -> None:
    """Give cookiecutter's per-bake Jinja environment a shared bytecode cache.

    cookiecutter builds a new environment for every bake, so each template file would be parsed
    and compiled again; the cache (keyed by template name and source checksum, so an edited file
    is compiled afresh) makes repeated bakes, as in batch, several times cheaper.
    """
    global _BYTECODE
    if _BYTECODE is not None:
        return
    import cookiecutter.generate as cc_generate

    _BYTECODE = _MemoryBytecodeCache()
    make_env = cc_generate.create_env_with_context

    def with_cache(context):  # type: ignore[no-untyped-def]
        env = make_env(context)
        env.bytecode_cache = _BYTECODE.cache  # type: ignore[union-attr]
        return env

    cc_generate.create_env_with_context = with_cache


CACHE_DIRS = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache")


def _drop_caches(project: Path) -> None:
    """Remove tool caches a template folder picked up (pip byte-compiles an installed template's
    .py files; a developer's test run leaves caches): they are never part of a starter."""
    for name in CACHE_DIRS:
        for path in sorted(project.rglob(name), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
    for path in project.rglob("*.py[co]"):
        path.unlink()


def check_tree(project: Path) -> list[str]:
    """Check a rendered tree before it is moved into place; return its files, sorted.

    Every path must stay inside the project, nothing may be a symlink, and no text file may keep
    an unrendered `{{ cookiecutter.` expression.
    """
    root = project.resolve()
    files: list[str] = []
    for current, dirs, names in os.walk(project):
        for name in dirs + names:
            path = Path(current) / name
            relative = path.relative_to(project).as_posix()
            if path.is_symlink():
                raise TreeCheckError(f"generated tree check failed: {relative} is a symlink")
            if not path.resolve().is_relative_to(root):
                raise TreeCheckError(f"generated tree check failed: {relative} is outside")
        for name in names:
            path = Path(current) / name
            relative = path.relative_to(project).as_posix()
            data = path.read_bytes()
            if b"\0" not in data[:8192]:
                text = data.decode("utf-8", errors="replace")
                if any(marker in text for marker in LEFTOVER_MARKERS):
                    raise TreeCheckError(
                        f"generated tree check failed: {relative} keeps an unrendered "
                        "'{{ cookiecutter.' expression"
                    )
            files.append(relative)
    return sorted(files)


def refuse_existing(target: Path, force: bool) -> None:
    """Raise TargetExistsError when `target` is occupied and `force` was not given."""
    state = target_state(target.parent, target.name)
    if state == "occupied" and not force:
        raise TargetExistsError(
            f"{target} already exists and is not empty; choose another --output-dir or "
            "project_slug, or pass --force to move it to a backup first"
        )


def _make_output_dir(output_dir: Path) -> Path | None:
    """Create the output folder if missing; return the highest folder created, for cleanup."""
    if output_dir.is_dir():
        return None
    if output_dir.exists():
        raise UsageError(f"--output-dir {output_dir} is not a folder")
    top = output_dir
    while not top.parent.exists():
        top = top.parent
    output_dir.mkdir(parents=True)
    return top


@contextmanager
def _staging(output_dir: Path) -> Iterator[Path]:
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=output_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(project: Path, target: Path, force: bool) -> Path | None:
    backup = None
    state = target_state(target.parent, target.name)
    if state == "occupied" and force:
        backup = _backup_path(target)
        target.rename(backup)
    elif state == "empty":
        target.rmdir()
    try:
        project.rename(target)
    except BaseException:
        if backup is not None and not target.exists():
            backup.rename(target)
        raise
    return backup


def _replace_folder(source: Path, target: Path) -> None:
    """Put `source` at `target`, replacing an older copy (a grader folder is derived data)."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    source.rename(target)


def _backup_path(target: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.backup-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.backup-{stamp}-{n}")
    return candidate


def _git_commit(project: Path, answers: Mapping[str, object]) -> str:
    """Make the project a git repository with one initial commit; return the commit id."""
    if shutil.which("git") is None:
        raise MlstarterError("--git needs git, which is not on PATH")
    identity = [
        "-c", f"user.name={answers['author_name']}",
        "-c", f"user.email={answers['author_email']}",
        "-c", "commit.gpgsign=false",
        "-c", "init.defaultBranch=main",
        "-c", "core.hooksPath=/dev/null",
    ]  # fmt: skip
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}

    def run(*args: str) -> str:
        done = subprocess.run(
            ["git", *identity, *args], cwd=project, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise MlstarterError(f"git {args[0]} failed: {last}")
        return done.stdout.strip()

    run("init", "-q")
    run("add", "-A")
    run("commit", "-q", "-m", f"Initial commit from mlstarter ({answers['project_slug']})")
    return run("rev-parse", "HEAD")
