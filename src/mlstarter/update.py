"""`mlstarter update`: bring a generated repo to the current template, three ways, per file.

For every file the template generates (then or now), three versions meet:
- base: what the template version the repo records generated from the repo's answers;
- ours: the file in the repo now (the user's);
- theirs: what the current template generates from the same answers (new questions answered).

A file the user did not touch (ours == base) takes theirs (written, or deleted when the template
dropped it); a file the template did not change (theirs == base) stays the user's; where both
changed, a line-level merge (`git merge-file`): clean, or with conflicts. A file new in the template
that the user also made is merged against an empty base. A renamed template file is a deletion
plus an addition: the old path goes only if the user never touched it.

Where the base comes from, per file, first that works:
1. rebuilt: the recorded version's template laid out from the wheel's template history
   (`template_versions`: a manifest of file hashes per version plus an archive of past files)
   and rendered with the recorded answers; a bundled template of the current version, or a
   private one (`--template`) whose version did not change, renders directly;
2. the repo's git history: the file at the last commit that changed `.mlstarter.yml`;
3. the record: `.mlstarter.yml` keeps the sha256 of every generated file, so a file whose
   hash still matches is untouched and is its own base; a candidate base from 1 or 2 whose hash
   does not match the record is not trusted.
No base at all (two-way): a file the user changed is never overwritten; the template's version goes
beside it as `FILE.mlstarter-new`, and is listed.

In an assignment repo the files with the student's TODO regions merge with the student's side
winning every conflicting hunk: their code stays.

Safety, as in `new`: everything is rendered and merged in a staging folder beside the repo; only
then are the changed files renamed into place together (each replaced file is kept in the staging
folder until all renames are done, so an error or Ctrl-C puts every one back). A dirty git working
tree is refused unless `allow_dirty`. Conflicts: by default nothing is written and the conflicting
files are listed (`conflicts="refuse"`); `conflicts="markers"` writes every file, the conflicting
ones with `<<<<<<<` markers. The record (`.mlstarter.yml`) is written last and gets the new version.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from mlstarter import generate, gitrepo, interrupts, template_versions
from mlstarter.answers import (
    RECORD_FILE,
    Question,
    TemplateSpec,
    check_names,
    load_template,
    resolve_answers,
)
from mlstarter.catalog import Project, load_catalog, private_template
from mlstarter.errors import MlstarterError, UsageError, require_folder
from mlstarter.flavors import FLAVORS

CONFLICT_MODES = ("refuse", "markers")
CONFLICTS_EXIT = 10  # updated with conflicts, or conflicts found and nothing written
BESIDE = ".mlstarter-new"
STATUSES = ("up to date", "updated", "conflicts", "updated with conflicts")


class UpdateRefusedError(MlstarterError):
    """The repo cannot be updated as it is: not an mlstarter repo, a dirty tree, a lost template."""

    exit_code = 11


@dataclass(frozen=True)
class FileChange:
    """What the update does to one file."""

    path: str
    action: str  # added | updated | merged | deleted | conflict | beside | kept
    note: str = ""


@dataclass
class UpdateResult:
    """One update: the versions, where the base came from, every change, and what was written."""

    repo: Path
    template: str
    old_version: str
    new_version: str
    flavor: str
    base: str  # rebuilt | git history | record | none
    changes: list[FileChange] = field(default_factory=list)
    answers: dict[str, object] = field(default_factory=dict)
    status: str = "up to date"  # one of STATUSES
    written: bool = False
    diff: str = ""

    @property
    def conflicts(self) -> list[str]:
        return [c.path for c in self.changes if c.action == "conflict"]

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.repo), "template": self.template,
            "from_version": self.old_version, "to_version": self.new_version,
            "flavor": self.flavor, "status": self.status, "base": self.base,
            "written": self.written, "conflicts": self.conflicts,
            "changes": [vars(c) for c in self.changes],
        }  # fmt: skip


# asks one question (new in this version) of the template: (spec, question, default) -> answer
Asker = Callable[[TemplateSpec, Question, object], object]


def read_record(repo: Path) -> dict[str, Any]:
    """The repo's `.mlstarter.yml`, checked enough to update from it."""
    path = repo / RECORD_FILE
    if not path.is_file():
        raise UpdateRefusedError(f"{repo}: no {RECORD_FILE}, so it was not made by mlstarter")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UpdateRefusedError(f"{path}: cannot read it ({exc})") from None
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("template"), str)
        and isinstance(data.get("answers"), dict)
        and data.get("flavor", "showcase") in FLAVORS
    )
    if not ok:
        raise UpdateRefusedError(f"{path}: not an mlstarter record (template, answers, flavor)")
    return dict(data)


def find_template(record: Mapping[str, Any], template: Path | None) -> Project:
    """The template the repo records: bundled by key, or the private one given as `template`."""
    key = str(record["template"])
    catalog = load_catalog()
    if template is not None:
        project = private_template(template, catalog)
        if project.key != key:
            raise UsageError(f"--template {template} is '{project.key}'; the repo records '{key}'")
        return project
    if record.get("template_origin") == "private" or key not in catalog.keys:
        raise UsageError(
            f"the repo was made from '{key}', a private template: pass --template PATH"
        )
    return catalog.get(key)


def update(
    repo: Path,
    *,
    template: Path | None = None,
    set_values: Mapping[str, str] | None = None,
    ask: Asker | None = None,
    dry_run: bool = False,
    conflicts: str = "refuse",
    allow_dirty: bool = False,
) -> UpdateResult:
    """Update `repo` to its template's current version; see the module docstring."""
    if conflicts not in CONFLICT_MODES:
        raise UsageError(f"--conflicts '{conflicts}': choose one of {', '.join(CONFLICT_MODES)}")
    repo = repo.expanduser().resolve()
    require_folder(repo)
    record = read_record(repo)
    project = find_template(record, template)
    spec = load_template(project.template_dir)
    recorded: dict[str, object] = {str(k): v for k, v in record["answers"].items()}
    flavor = str(record.get("flavor", "showcase"))
    given = {k: v for k, v in recorded.items() if k in spec.names}
    given.update(set_values or {})
    check_names(spec, set_values or {}, "--set")
    answers = resolve_answers(spec, given, _only_new(spec, given, ask))
    old_version = str(record.get("template_version", ""))
    hashes = _recorded_hashes(repo, record.get("files"))
    result = UpdateResult(repo, project.key, old_version, spec.version, flavor, "none",
                          answers=answers)  # fmt: skip
    with interrupts.deferred():
        with generate.staging_folder(repo.parent) as staging:
            with interrupts.interruptible():
                theirs_dir, flavored = generate.render_flavored(
                    project.key, spec, answers, staging / "theirs", flavor
                )
                generate.check_tree(theirs_dir)
                base_dir = _rebuild_base(project, spec, record, recorded, staging)
                result.base = "rebuilt" if base_dir is not None else "none"
                plan = _plan(repo, base_dir, theirs_dir, hashes, result, flavored.region_files)
                new_record = (theirs_dir / RECORD_FILE).read_bytes()
                if _read(repo / RECORD_FILE) != new_record:
                    plan[RECORD_FILE] = new_record
                result.diff = _diff(repo, plan)
                if not plan:
                    return result
                result.status = "updated with conflicts" if result.conflicts else "updated"
                if not (allow_dirty or dry_run):
                    _refuse_dirty(repo)
                if dry_run or (result.conflicts and conflicts == "refuse"):
                    if result.conflicts and conflicts == "refuse":
                        result.status = "conflicts"
                    return result
                out = staging / "out"
                for path, data in plan.items():
                    if data is not None:
                        (out / path).parent.mkdir(parents=True, exist_ok=True)
                        (out / path).write_bytes(data)
            _apply(repo, plan, out, staging / "old")
            result.written = True
    return result


def _recorded_hashes(repo: Path, files: object) -> dict[str, str] | None:
    """The record's file hashes, for paths inside the repo only (the record is the user's file:
    an edited one must not make an update touch anything outside the repo or in `.git`)."""
    if not isinstance(files, dict):
        return None
    kept: dict[str, str] = {}
    for path, digest in files.items():
        parts = PurePosixPath(str(path)).parts
        if not parts or parts[0] in ("/", ".git") or ".." in parts or "\0" in str(path):
            continue
        if not (repo / str(path)).resolve().is_relative_to(repo):
            continue
        kept[str(path)] = str(digest)
    return kept


def _refuse_dirty(repo: Path) -> None:
    """A git repo with uncommitted changes is not updated: the user could not tell the update's
    changes from their own, nor undo it."""
    if not (repo / ".git").exists():
        return
    dirty = gitrepo.is_dirty(repo)
    if dirty:
        more = " ..." if len(dirty) > 3 else ""
        raise UpdateRefusedError(
            f"{repo} has uncommitted changes ({', '.join(dirty[:3])}{more}); commit or stash "
            "them, or pass --allow-dirty"
        )


def _only_new(
    spec: TemplateSpec, given: Mapping[str, object], ask: Asker | None
) -> Callable[[Question, object], object] | None:
    """Ask only the questions the repo's answers do not answer (new in this version)."""
    if ask is None:
        return None
    asker = ask

    def ask_new(question: Question, default: object) -> object:
        return default if question.name in given else asker(spec, question, default)

    return ask_new


def _rebuild_base(
    project: Project,
    spec: TemplateSpec,
    record: Mapping[str, Any],
    recorded: dict[str, object],
    staging: Path,
) -> Path | None:
    """The recorded version rendered with the recorded answers, or None when it cannot be."""
    version = str(record.get("template_version", ""))
    old_spec: TemplateSpec | None = None
    if version == spec.version:
        old_spec = spec
    elif spec.origin == "bundled":
        folder = template_versions.materialize(
            project.key, version, project.template_dir, staging / "old-template"
        )
        old_spec = load_template(folder) if folder is not None else None
    if old_spec is None:
        return None
    try:
        answers = resolve_answers(old_spec, {k: v for k, v in recorded.items()
                                             if k in old_spec.names})  # fmt: skip
        flavor = str(record.get("flavor", "showcase"))
        return generate.render_tree(project.key, old_spec, answers, staging / "base", flavor)
    except MlstarterError:
        return None  # the old version no longer renders with this mlstarter: no base


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _git_base(repo: Path) -> Callable[[str], bytes | None]:
    """The file at the last commit that changed the record: the base when nothing is rebuilt."""
    rev = gitrepo.last_commit_of(repo, RECORD_FILE) if (repo / ".git").exists() else None
    if rev is None:
        return lambda path: None
    return lambda path: gitrepo.blob_at(repo, rev, path)


def _plan(
    repo: Path,
    base_dir: Path | None,
    theirs_dir: Path,
    hashes: Mapping[str, str] | None,
    result: UpdateResult,
    region_files: list[str],
) -> dict[str, bytes | None]:
    """Every file to write (bytes) or delete (None); the changes go to `result`."""
    theirs = _files(theirs_dir)
    base = _files(base_dir) if base_dir is not None else {}
    from_git = _git_base(repo) if base_dir is None else (lambda path: None)
    plan: dict[str, bytes | None] = {}
    used_git = False
    paths = sorted((set(theirs) | set(base) | set(hashes or {})) - {RECORD_FILE})
    for path in paths:
        if not (repo / path).resolve().is_relative_to(repo):
            raise UpdateRefusedError(f"{repo / path} leads outside the repo (a symlink)")
        ours = _read(repo / path)
        new = theirs.get(path)
        if ours == new:
            continue
        old = base.get(path) if base_dir is not None else from_git(path)
        used_git = used_git or (base_dir is None and old is not None)
        if hashes is not None and path in hashes:
            if _sha(ours) == hashes[path]:
                old = ours  # untouched since it was generated: it is its own base
            elif old is not None and _sha(old) != hashes[path]:
                old = None  # a base that is not what was generated: not trusted
            known = old is not None
        elif hashes is not None:
            old, known = None, True  # not generated back then: new in the template
        else:
            known = base_dir is not None or old is not None
        change, data = _merge_one(path, old, ours, new, known, result, path in region_files)
        if change is not None:
            result.changes.append(change)
            if change.action == "beside":
                plan[path + BESIDE] = data
            elif change.action != "kept":
                plan[path] = data
    if base_dir is None:
        result.base = "git history" if used_git else "record" if hashes is not None else "none"
    return plan


def _files(root: Path) -> dict[str, bytes]:
    return {
        path: data
        for path, data in generate.tree_bytes(root).items()
        if data is not None and path != RECORD_FILE
    }


def _merge_one(
    path: str,
    base: bytes | None,
    ours: bytes | None,
    theirs: bytes | None,
    base_known: bool,
    result: UpdateResult,
    students: bool,
) -> tuple[FileChange | None, bytes | None]:
    """What happens to one file whose `ours` differs from `theirs`: (change, new bytes)."""
    if ours == base and base_known:
        if theirs is None:
            return FileChange(path, "deleted", "removed from the template"), None
        return FileChange(path, "added" if ours is None else "updated"), theirs
    if theirs == base and base_known:
        return None, None  # the template did not change it: the user's stays
    if ours is None:
        if base is None and theirs is not None:
            return FileChange(path, "added"), theirs
        return FileChange(path, "kept", "you deleted it; the template changed it"), None
    if theirs is None:
        return FileChange(path, "kept", "removed from the template, but you changed it"), None
    if base is None and not base_known:
        return FileChange(
            path, "beside", f"no base: the template's version is {path}{BESIDE}"
        ), theirs
    merged, conflicts = _merge_text(path, base or b"", ours, theirs, result, students)
    if conflicts:
        return FileChange(path, "conflict", f"{conflicts} conflicting hunk(s) marked"), merged
    return FileChange(path, "merged"), merged


def _merge_text(
    path: str, base: bytes, ours: bytes, theirs: bytes, result: UpdateResult, students: bool
) -> tuple[bytes, int]:
    if any(b"\0" in data[:8192] for data in (base, ours, theirs)):
        return theirs, 1  # binary: no line merge; markers mode writes the template's beside
    labels = (
        f"yours ({path})",
        f"template {result.old_version}",
        f"template {result.new_version}",
    )
    with tempfile.TemporaryDirectory(prefix="mlstarter-merge-") as tmp:
        files = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(tmp) / name
            file.write_bytes(data)
            files.append(file)
        favor = "ours" if students and result.flavor == "assignment" else None
        return gitrepo.merge_file(files[0], files[1], files[2], labels, favor)


def _diff(repo: Path, plan: Mapping[str, bytes | None]) -> str:
    """A unified diff of the repo now against the repo after the update."""
    chunks: list[str] = []
    for path, data in sorted(plan.items()):
        before = _read(repo / path)
        old_lines = _text_lines(before)
        new_lines = _text_lines(data)
        name_a = f"a/{path}" if before is not None else "/dev/null"
        name_b = f"b/{path}" if data is not None else "/dev/null"
        lines = list(difflib.unified_diff(old_lines, new_lines, name_a, name_b))
        if not lines:  # an empty file added or removed: the headers say it
            lines = [f"--- {name_a}\n", f"+++ {name_b}\n"]
        chunks.extend(lines)
        if chunks and not chunks[-1].endswith("\n"):
            chunks[-1] += "\n\\ No newline at end of file\n"
    return "".join(chunks)


def _text_lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    if b"\0" in data[:8192]:
        return [f"(binary, {len(data)} bytes)\n"]
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def _apply(repo: Path, plan: Mapping[str, bytes | None], out: Path, old: Path) -> None:
    """Rename every planned file into place together; on any error, put every one back.

    Runs with signals deferred: a Ctrl-C here waits for the renames, then the caller stops. The
    record is renamed last, so a repo is never marked updated when its files are not.
    """
    done: list[tuple[Path, Path]] = []
    made: list[Path] = []
    order = sorted(plan, key=lambda p: (p == RECORD_FILE, p))
    try:
        for path in order:
            target = repo / path
            if target.exists() or target.is_symlink():
                kept = old / path
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.rename(target, kept)
                done.append((kept, target))
            if plan[path] is not None:
                made += _make_parents(repo, target.parent)
                os.rename(out / path, target)
                done.append((target, out / path))
    except BaseException:
        for moved, origin in reversed(done):
            try:
                os.rename(moved, origin)
            except OSError:
                pass
        for folder in reversed(made):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        raise
    for path in order:  # folders a deletion left empty go with it
        if plan[path] is None:
            _remove_empty_parents(repo, (repo / path).parent)


def _make_parents(repo: Path, folder: Path) -> list[Path]:
    missing = []
    while folder != repo and not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir()
    return list(reversed(missing))


def _remove_empty_parents(repo: Path, folder: Path) -> None:
    while folder != repo and folder.is_relative_to(repo):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
