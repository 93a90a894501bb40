"""Staged, checked, atomic bakes: the only module that imports cookiecutter.

A bake renders into a staging folder beside the target (same filesystem), writes the record,
checks the tree, optionally commits it to git, and only then renames it into place, together with
its grader folder. Any error, and SIGINT or SIGTERM, removes the staging folder and leaves the
target as it was.

What a bake owns and may remove: its staging folder, and the folders it created for `-o` while
they are still empty. What it replaces (an old repo with `--force`, an old grader folder) is
renamed to a timestamped backup beside it, never deleted. A staging folder whose run was killed
(its owner holds no lock on it any more) is removed by the next run into that folder, and
reported.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlstarter import gitrepo, interrupts
from mlstarter.answers import RECORD_FILE, Question, TemplateSpec, render_record
from mlstarter.catalog import Catalog, Project
from mlstarter.errors import (
    MissingAnswerError,
    SystemRefusedError,
    TargetExistsError,
    TreeCheckError,
    UsageError,
)
from mlstarter.flavors import FlavorResult, apply_flavor, check_flavor

LEFTOVER_MARKERS = ("{{ cookiecutter.", "{{cookiecutter.")
STAGING_PREFIX = ".mlstarter-staging-"
OWNER_LOCK = ".owner.lock"


@dataclass(frozen=True)
class BakeResult:
    """What a bake produced: the project folder, its files, and where replaced folders went."""

    path: Path
    files: list[str]
    backup: Path | None = None
    git_commit: str | None = None
    grader: Path | None = None
    grader_status: str | None = None  # written | up to date | replaced
    grader_backup: Path | None = None
    cleaned: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GraderResult:
    """The grader folder of an assignment: where it is, and what this run did to it."""

    path: Path
    status: str  # written | up to date | replaced | none (the template has no hidden tests)
    backup: Path | None = None
    files: list[str] = field(default_factory=list)


def refused(exc: OSError, doing: str) -> SystemRefusedError:
    """An OSError while writing, as the one-line error the user can act on."""
    where = f" ({exc.filename})" if exc.filename else ""
    return SystemRefusedError(f"{doing}: {exc.strerror or exc}{where}; nothing partial was left")


@dataclass(frozen=True)
class BakePlan:
    """A bake, resolved and validated: the template, every answer, the flavor and where it goes."""

    project: Project
    spec: TemplateSpec
    answers: dict[str, object]
    flavor: str
    output_dir: Path

    @property
    def target(self) -> Path:
        return self.output_dir / str(self.answers["project_slug"])

    @property
    def grader(self) -> Path | None:
        """Where an assignment's hidden tests go: a folder beside the repo."""
        if self.flavor != "assignment":
            return None
        return self.output_dir / f"{self.answers['project_slug']}-grader"


# asks one template question: (spec, question, default) -> a valid answer
Asker = Callable[[TemplateSpec, Question, object], object]


def plan_bake(
    key: str | None,
    *,
    template: Path | None = None,
    answers_file: Path | None = None,
    set_values: Mapping[str, str] | None = None,
    flavor: str | None = None,
    output_dir: Path = Path("."),
    pick_project: Callable[[Catalog], str] | None = None,
    ask: Asker | None = None,
) -> BakePlan:
    """Resolve what `new` was asked: the project (a key, a private `template`, or picked), the
    answers (defaults < `answers_file` < `set_values` < `ask`), the flavor (given, else the
    answers file's record, else showcase) and the checked output folder. Nothing is written."""
    from mlstarter import answers as answers_mod
    from mlstarter.catalog import load_catalog, private_template

    catalog = load_catalog()
    if template is not None:
        if key is not None:
            raise UsageError("give a project KEY or --template PATH, not both")
        project = private_template(template, catalog)
    else:
        if key is None:
            if pick_project is None:
                raise MissingAnswerError(f"no project given: name one of {', '.join(catalog.keys)}")
            key = pick_project(catalog)
        project = catalog.get(key)
    spec = answers_mod.load_template(project.template_dir)
    given: dict[str, object] = {}
    recorded_flavor = None
    if answers_file is not None:
        from_file, recorded_flavor = answers_mod.read_answers_and_flavor(answers_file, project.key)
        answers_mod.check_names(spec, from_file, f"--answers {answers_file}")
        given.update(from_file)
    answers_mod.check_names(spec, set_values or {}, "--set")
    given.update(set_values or {})
    chosen = check_flavor(flavor or recorded_flavor or "showcase")
    out = check_output_dir(output_dir, project.template_dir)
    asker = ask

    def ask_one(question: Question, default: object) -> object:
        assert asker is not None
        return asker(spec, question, default)

    answers = answers_mod.resolve_answers(spec, given, ask_one if ask is not None else None)
    return BakePlan(project, spec, answers, chosen, out)


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
    timestamped backup beside it. The hidden tests of an assignment go to `grader`: an existing
    grader folder that differs is refused (TargetExistsError) unless `force`, which backs it up.
    Nothing is left behind on failure or interrupt.
    """
    output_dir = check_output_dir(output_dir)
    target = output_dir / str(answers["project_slug"])
    refuse_existing(target, force)
    if git:
        gitrepo.check_identity(str(answers["author_name"]), str(answers["author_email"]))
    with interrupts.deferred():
        created = make_output_dir(output_dir)
        with _removing_created_on_error(created, f"cannot write {target}"):
            cleaned = clean_stale_staging(output_dir)
            with staging_folder(output_dir, created) as staging:
                staged_grader = staging / ".grader" if grader is not None else None
                with interrupts.interruptible():
                    project = render_tree(
                        template_key, spec, answers, staging, flavor, staged_grader
                    )
                    files = check_tree(project)
                    grader_plan = _plan_grader(staged_grader, grader, force)
                    commit = _commit(project, answers) if git else None
                moves = _Moves()
                with moves:
                    backup = moves.into_place(project, target, force)
                    grader_backup = None
                    if grader_plan in ("written", "replaced"):
                        assert staged_grader is not None and grader is not None
                        grader_backup = moves.into_place(staged_grader, grader, True)
    return BakeResult(
        target, files, backup, commit, grader if grader_plan else None, grader_plan,
        grader_backup, cleaned,
    )  # fmt: skip


def bake_grader(
    template_key: str, spec: TemplateSpec, answers: Mapping[str, object], grader: Path
) -> GraderResult:
    """Write the hidden tests of an assignment to `grader`, atomically (a batch's grader folder).

    The same content already there is left alone; different content is backed up first.
    """
    parent = grader.parent
    if parent.is_symlink():
        raise TargetExistsError(f"{parent} is a symlink; mlstarter does not write through it")
    with interrupts.deferred():
        created = make_output_dir(parent)
        with _removing_created_on_error(created, f"cannot write {grader}"):
            with staging_folder(parent, created) as staging:
                staged_grader = staging / ".grader"
                with interrupts.interruptible():
                    render_tree(template_key, spec, answers, staging, "assignment", staged_grader)
                    files = check_tree(staged_grader) if staged_grader.is_dir() else []
                    plan = _plan_grader(staged_grader, grader, True) or "none"
                backup = None
                if plan in ("written", "replaced"):
                    with _Moves() as moves:
                        backup = moves.into_place(staged_grader, grader, True)
    if plan == "none":
        remove_created(created)
    return GraderResult(grader, plan, backup, files)


def finish_git(
    template_key: str,
    spec: TemplateSpec,
    answers: Mapping[str, object],
    flavor: str,
    target: Path,
) -> str:
    """Make an existing, unchanged repo a git repository, as a bake with `git` would have.

    The repo is rendered again in a staging folder and compared byte for byte; only when it is
    the same is the staged `.git` (one commit) moved into it. A repo changed since it was made is
    the user's and is refused (TargetExistsError).
    """
    with interrupts.deferred():
        try:
            with staging_folder(target.parent) as staging:
                with interrupts.interruptible():
                    project = render_tree(template_key, spec, answers, staging, flavor)
                    if tree_bytes(project) != tree_bytes(target):
                        raise TargetExistsError(
                            f"{target} exists, was changed since it was generated, and is not a "
                            "git repository yet; --force regenerates it (the old one to a backup)"
                        )
                    commit = _commit(project, answers)
                try:
                    os.rename(project / ".git", target / ".git")
                except OSError as exc:
                    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                        raise TargetExistsError(f"{target}/.git appeared meanwhile") from None
                    raise
        except OSError as exc:
            raise refused(exc, f"cannot make {target} a git repository") from exc
    return commit


def tree_bytes(root: Path) -> dict[str, bytes | None]:
    """Every entry under `root` but `.git`, by relative path: a file's bytes, None for a folder.

    A symlink counts as its link text, so two trees compare without following links.
    """
    tree: dict[str, bytes | None] = {}
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not (current == str(root) and d == ".git"))
        for name in [*dirs, *names]:
            path = Path(current) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[relative] = b"-> " + os.fsencode(os.readlink(path))
            elif path.is_dir():
                tree[relative] = None
            else:
                tree[relative] = path.read_bytes()
    return tree


def preview(
    template_key: str, spec: TemplateSpec, answers: Mapping[str, object], flavor: str = "showcase"
) -> list[str]:
    """The files a bake would write, rendered and checked in a private temporary folder."""
    with interrupts.deferred():
        with tempfile.TemporaryDirectory(prefix="mlstarter-dry-run-") as tmp:
            with interrupts.interruptible():
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
    return render_flavored(template_key, spec, answers, into, flavor, grader)[0]


def render_flavored(
    template_key: str,
    spec: TemplateSpec,
    answers: Mapping[str, object],
    into: Path,
    flavor: str = "showcase",
    grader: Path | None = None,
) -> tuple[Path, FlavorResult]:
    """`render_tree`, and what the flavor did (its TODOs, the hidden tests it moved out).

    An assignment from a template that marks no region would hand out the solution: refused.
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
    flavored = apply_flavor(project, flavor, grader)
    if flavor == "assignment" and not flavored.regions:
        raise TreeCheckError(
            f"template '{template_key}' marks no region ('# >>> assignment: hint' ... "
            "'# <<< assignment'): its assignment would be the solution"
        )
    hashes = {path: hashlib.sha256(data).hexdigest()
              for path, data in tree_bytes(project).items() if data is not None}  # fmt: skip
    record = render_record(template_key, spec, answers, flavor, hashes)
    (project / RECORD_FILE).write_text(record, encoding="utf-8")
    return project, flavored


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

    def with_cache(context: Any) -> Any:
        env = make_env(context)
        env.bytecode_cache = _BYTECODE.cache
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


def check_output_dir(output_dir: Path, template: Path | None = None) -> Path:
    """The output folder, resolved; refused when it is a file or inside mlstarter's templates
    or the private `template` (a bake there would render into the template it reads)."""
    from mlstarter.catalog import templates_root

    try:
        out = output_dir.expanduser().resolve()
        templates = templates_root().resolve()
        private = template.resolve() if template is not None else None
    except (OSError, RuntimeError, ValueError) as exc:
        raise UsageError(f"--output-dir {output_dir}: not a usable path ({exc})") from None
    if out.is_relative_to(templates):
        raise UsageError(
            f"--output-dir {out} is inside mlstarter's templates folder {templates}; "
            "choose a folder outside it"
        )
    if private is not None and out.is_relative_to(private):
        raise UsageError(
            f"--output-dir {out} is inside the template {private}; choose a folder outside it"
        )
    probe = out
    while not probe.exists():
        if probe.is_symlink():
            raise UsageError(f"--output-dir {output_dir}: {probe} is a broken symlink")
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--output-dir {output_dir}: {probe} is a file, not a folder")
    return out


def make_output_dir(output_dir: Path) -> list[Path]:
    """Create the missing folders of `output_dir`, one at a time; return those this run made.

    A folder another run made meanwhile is not ours (and never removed by `remove_created`).
    """
    missing: list[Path] = []
    probe = output_dir
    while not probe.exists() and not probe.is_symlink():
        missing.append(probe)
        probe = probe.parent
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            if folder.is_dir():
                continue
            remove_created(created)
            raise UsageError(f"--output-dir {output_dir}: {folder} is not a folder") from None
        except OSError as exc:
            remove_created(created)
            raise refused(exc, f"cannot create {folder}") from exc
        created.append(folder)
    return created


@contextmanager
def _removing_created_on_error(created: list[Path], doing: str) -> Iterator[None]:
    """On any error or interrupt, remove the folders this run created; an OSError becomes the
    one-line `refused` error saying what was being done."""
    try:
        yield
    except OSError as exc:
        remove_created(created)
        raise refused(exc, doing) from exc
    except BaseException:
        remove_created(created)
        raise


def remove_created(created: list[Path]) -> None:
    """Remove the folders a failed run created, deepest first, while they are still empty."""
    for folder in reversed(created):
        try:
            os.rmdir(folder)
        except OSError:
            return  # not empty: another run put something there; it and its parents stay


def clean_stale_staging(output_dir: Path) -> list[str]:
    """Remove the staging folders of killed runs in `output_dir`; return their names.

    A live run holds a lock on its staging folder, so only an abandoned one can be locked here.
    """
    cleaned: list[str] = []
    try:
        entries = [e for e in os.scandir(output_dir) if e.name.startswith(STAGING_PREFIX)]
    except OSError:
        return cleaned
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink() or not entry.is_dir() or not _abandoned(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            cleaned.append(entry.name)
    return cleaned


def _abandoned(staging: Path) -> bool:
    try:
        fd = os.open(staging / OWNER_LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        # made by a run killed before it took its lock (or by an older mlstarter): use the pid
        return not _alive(_owner_pid(staging.name))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its run is alive
    finally:
        os.close(fd)
    return True


def _owner_pid(name: str) -> int | None:
    head = name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) < 10 else None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # unknown owner: keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def staging_folder(output_dir: Path, created: list[Path] | None = None) -> Iterator[Path]:
    """A staging folder beside the target, locked by this process while it exists.

    If a failing run removed the (then empty) output folder it had made just before this run
    could use it, the folder is made again (and counted in `created`).
    """
    staging: Path | None = None
    lock: int | None = None
    try:
        for attempt in range(5):
            try:
                prefix = f"{STAGING_PREFIX}{os.getpid()}-"
                staging = Path(tempfile.mkdtemp(prefix=prefix, dir=output_dir))
                break
            except FileNotFoundError:
                if attempt == 4:
                    raise
                made = make_output_dir(output_dir)
                if created is not None:
                    created.extend(made)
        assert staging is not None
        lock = os.open(staging / OWNER_LOCK, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield staging
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def _plan_grader(staged: Path | None, grader: Path | None, force: bool) -> str | None:
    """What to do with the grader folder: 'written', 'up to date' or 'replaced' (None: none)."""
    if staged is None or grader is None or not staged.is_dir():
        return None  # no grader asked for, or the template has no hidden tests
    if not grader.exists() and not grader.is_symlink():
        return "written"
    if grader.is_dir() and not grader.is_symlink() and tree_bytes(grader) == tree_bytes(staged):
        return "up to date"
    if not force:
        kind = "symlink" if grader.is_symlink() else "folder" if grader.is_dir() else "file"
        raise TargetExistsError(
            f"the grader {kind} {grader} already exists with other content; pass --force to move "
            "it to a backup first"
        )
    return "replaced"


class _Moves:
    """Renames that happen together or not at all: on any error each is undone, newest first."""

    def __init__(self) -> None:
        self.done: list[tuple[Path, Path]] = []

    def __enter__(self) -> _Moves:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if exc is None:
            return
        for moved, origin in reversed(self.done):
            try:
                os.rename(moved, origin)
            except OSError:
                pass  # a folder another run put there meanwhile stays; ours stays under `moved`

    def into_place(self, source: Path, target: Path, force: bool) -> Path | None:
        """Rename `source` to `target`; an occupied target goes to a backup first (with force)."""
        backup = None
        if target_state(target.parent, target.name) == "occupied":
            if not force:
                raise TargetExistsError(f"{target} was created meanwhile by another run")
            backup = _backup_path(target)
            os.rename(target, backup)
            self.done.append((backup, target))
        try:
            # onto a missing or empty folder only: rename(2) refuses a non-empty one, so two runs
            # racing for one target never merge
            os.rename(source, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise TargetExistsError(f"{target} was created meanwhile by another run") from None
            raise
        self.done.append((target, source))
        return backup


def _backup_path(target: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.backup-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = target.with_name(f"{target.name}.backup-{stamp}-{n}")
    return candidate


def _commit(project: Path, answers: Mapping[str, object]) -> str:
    """Make the project a git repository with one initial commit; return the commit id."""
    return gitrepo.commit_all(
        project,
        str(answers["author_name"]),
        str(answers["author_email"]),
        f"Initial commit from mlstarter ({answers['project_slug']})",
    )
