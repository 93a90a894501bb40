"""A roster in, one repo per student out: validated rows, parallel atomic bakes, a summary.

Each row becomes `<output>/<project>-<student_id>`. A batch never aborts on one row: every row
ends generated, regenerated (`--force`), finished (a re-run did what an earlier run left undone:
the git repository, the push), skipped (up to date in every respect), failed with its reason, or
interrupted (SIGINT/SIGTERM: not started, or rolled back, or generated but not pushed). The
summary is always written, atomically. Bakes run in worker processes (cookiecutter changes the
working directory while it renders, so threads would race). The same roster, flavor and mlstarter
version give the same bytes. One batch at a time writes to an output folder.

`--update` runs `mlstarter update` on every row's existing repo instead (each row: updated,
conflicts, up to date, failed or interrupted), in the flavor each repo records; an assignment
project's grader folder is written again from the current template (the old one to a backup).
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlstarter import gitrepo, interrupts
from mlstarter.answers import (
    RECORD_FILE,
    check_names,
    load_template,
    read_answers_and_flavor,
    resolve_answers,
    same_origin,
)
from mlstarter.catalog import Catalog
from mlstarter.errors import AnswerError, MlstarterError, TargetExistsError, UsageError
from mlstarter.interrupts import Interrupted
from mlstarter.sanitize import inert_cell, redact_secrets
from mlstarter.userfiles import MAX_ROSTER_BYTES, load_yaml, read_text

REQUIRED = ("student_id", "name", "email", "github_username")
STUDENT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SUMMARY_JSON = "batch-summary.json"
SUMMARY_CSV = "batch-summary.csv"
GRADER_DIR = "_grader"
MAX_ROWS = 10_000
MAX_WORKERS = 64
STATUSES = ("generated", "regenerated", "finished", "skipped", "failed", "interrupted")
UPDATE_STATUSES = ("updated", "conflicts", "up to date", "failed", "interrupted")

Stop = Callable[[], "int | None"]


@dataclass
class Row:
    """One roster row: where it stood in the file and what it asks for."""

    line: int
    fields: dict[str, str]


@dataclass
class RowOutcome:
    """What happened to one row; the summary files hold one of these a row."""

    line: int
    student_id: str
    project: str
    path: str
    status: str  # one of STATUSES
    reason: str = ""
    exit_code: int = 0
    seed: int | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # every answer the repo was made from: `mlstarter grade` re-renders the pristine tests with
    # them, never trusting the student's own copy of the record (JSON summary only)
    answers: dict[str, object] | None = None


def read_roster(path: Path) -> list[Row]:
    """The roster's rows, with their line numbers; CSV with a header, or a YAML list.

    Every cell is text as written (a YAML `0012` stays `0012`); the file is at most
    MAX_ROSTER_BYTES and MAX_ROWS rows.
    """
    text = read_text(path, MAX_ROSTER_BYTES, "roster")
    if path.suffix.lower() in {".yml", ".yaml"}:
        rows = _yaml_rows(path, text)
    else:
        rows = _csv_rows(path, text)
    if not rows:
        raise UsageError(f"roster {path}: no rows")
    if len(rows) > MAX_ROWS:
        raise UsageError(f"roster {path}: {len(rows)} rows; at most {MAX_ROWS} in one batch")
    return rows


def refuse_summary_as_roster(roster: Path, output_dir: Path) -> None:
    """The summary would overwrite the roster it was made from: refuse before reading it."""
    try:
        same = roster.resolve() in {(output_dir / n).resolve() for n in (SUMMARY_JSON, SUMMARY_CSV)}
    except (OSError, RuntimeError):
        return
    if same:
        raise UsageError(
            f"roster {roster}: it is the batch summary this run would write; copy it first"
        )


def _csv_rows(path: Path, text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[Row] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            cells = record + [""] * (len(header) - len(record))
            fields = {name: cells[i].strip() for i, name in enumerate(header) if name}
            if len(record) > len(header):
                fields["__extra_cells__"] = "yes"
            rows.append(Row(line, fields))
    except csv.Error as exc:
        line = reader.line_num
        raise UsageError(f"roster {path}: line {line}: not valid CSV ({exc})") from None
    return rows


def _yaml_rows(path: Path, text: str) -> list[Row]:
    data, node = load_yaml(text, f"roster {path}")
    if isinstance(data, dict) and "students" in data:
        data = data["students"]
        node = next(v for k, v in node.value if k.value == "students")  # type: ignore[union-attr]
    if not isinstance(data, list) or node is None:
        raise UsageError(f"roster {path}: expected a list of students (or 'students:' list)")
    rows = []
    for item, item_node in zip(data, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            rows.append(Row(line, {"__not_a_mapping__": "yes"}))
            continue
        fields: dict[str, str] = {}
        for key, value in item.items():
            if isinstance(value, dict | list):
                fields["__not_text__"] = str(key)
            fields[str(key)] = "" if value is None or isinstance(value, dict | list) else value
        rows.append(Row(line, fields))
    return rows


def student_seed(project: str, student_id: str) -> int:
    """A stable per-student seed: the same roster always gives the same data."""
    digest = hashlib.sha256(f"{project}:{student_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 1_000_000


@dataclass(frozen=True)
class Job:
    """One planned bake, ready to hand to a worker process."""

    line: int
    student_id: str
    project: str
    template_dir: str
    answers: dict[str, object]
    target: str
    flavor: str
    force: bool
    git: bool
    remote: str | None
    seed: int
    update: str | None = None  # `--update`: the conflicts mode (refuse | markers); None: bake


def plan_rows(
    rows: list[Row],
    catalog: Catalog,
    output_dir: Path,
    default_project: str | None,
    base_answers: Mapping[str, object],
    flavor: str,
    force: bool,
    git: bool,
    remote: str | None,
) -> tuple[list[Job], list[RowOutcome]]:
    """Validate every row; return the bakes to run and the rows that already failed."""
    jobs: list[Job] = []
    failed: list[RowOutcome] = []
    seen: dict[str, int] = {}
    specs: dict[str, Any] = {}
    for row in rows:
        raw_id = row.fields.get("student_id", "").strip()
        sid = raw_id.lower() if raw_id.isascii() else raw_id
        project = row.fields.get("project") or default_project or ""
        outcome = RowOutcome(row.line, sid, project, "", "failed", exit_code=3)
        try:
            job = _plan_row(row, sid, project, catalog, output_dir, base_answers, flavor,
                            force, git, remote, seen, specs)  # fmt: skip
        except MlstarterError as exc:
            outcome.reason, outcome.exit_code = str(exc), exc.exit_code
            failed.append(outcome)
            continue
        except Exception as exc:  # a bug, but one row's bug: the other rows still generate
            outcome.reason, outcome.exit_code = f"internal error: {type(exc).__name__}: {exc}", 1
            failed.append(outcome)
            continue
        jobs.append(job)
    return jobs, failed


def _plan_row(
    row: Row,
    sid: str,
    project: str,
    catalog: Catalog,
    output_dir: Path,
    base_answers: Mapping[str, object],
    flavor: str,
    force: bool,
    git: bool,
    remote: str | None,
    seen: dict[str, int],
    specs: dict[str, Any],
) -> Job:
    if "__not_a_mapping__" in row.fields:
        raise AnswerError("the entry is not a mapping of fields")
    if "__extra_cells__" in row.fields:
        raise AnswerError("more cells than the header has columns")
    if "__not_text__" in row.fields:
        name = row.fields["__not_text__"]
        raise AnswerError(f"field '{name}' must be text, not a list or mapping")
    missing = [name for name in REQUIRED if not row.fields.get(name, "").strip()]
    if missing:
        raise AnswerError(f"missing {', '.join(missing)}")
    if not sid.isascii() or not STUDENT_ID.fullmatch(sid) or len(sid) > 40:
        raise AnswerError(
            f"student_id '{row.fields['student_id'][:60]}' must be letters and digits (ASCII) in "
            "dash-separated words, at most 40"
        )
    if sid in seen:
        raise AnswerError(f"duplicate student_id '{sid}' (first on line {seen[sid]})")
    seen[sid] = row.line
    if not project:
        raise UsageError("no project: add a 'project' column or pass --project")
    entry = catalog.get(project)
    spec = specs.get(project) or load_template(entry.template_dir)
    specs[project] = spec
    overrides = {k: v for k, v in row.fields.items() if k not in (*REQUIRED, "project") and v != ""}
    check_names(spec, overrides, f"line {row.line}")
    seed = student_seed(project, sid)
    given: dict[str, object] = {**base_answers, **overrides}
    given.update(
        author_name=row.fields["name"],
        author_email=row.fields["email"],
        github_username=row.fields["github_username"],
        project_slug=f"{project}-{sid}",
    )
    if "seed" in spec.names:
        given["seed"] = str(seed)
    if "package_name" not in given:
        # every student gets the template's package name, so graders and docs match
        shared = resolve_answers(spec, {**base_answers, **overrides})
        given["package_name"] = shared["package_name"]
    answers = resolve_answers(spec, given)
    if git:
        gitrepo.check_identity(str(answers["author_name"]), str(answers["author_email"]))
    target = output_dir / str(answers["project_slug"])
    sid_remote = remote.replace("{student_id}", sid) if remote else None
    return Job(
        row.line, sid, project, str(entry.template_dir), answers, str(target), flavor, force,
        git, sid_remote, seed,
    )  # fmt: skip


# --- the bakes ---------------------------------------------------------------------------------

_WORKER_STOP: Any = None  # a shared int in worker processes: the signal the batch stops for


def _worker_init(stop_signal: Any) -> None:
    global _WORKER_STOP
    _WORKER_STOP = stop_signal
    # a signal to the process group reaches the workers too: it only asks them to stop, and an
    # in-flight bake rolls back (or finishes) as in the main process
    interrupts.install(raising=False)


def _worker_stop() -> int | None:
    shared = _WORKER_STOP.value if _WORKER_STOP is not None else 0
    return interrupts.requested() or shared or None


def run_job(job: Job, stop: Stop | None = None) -> RowOutcome:
    """Bake one row (in a worker process): skip or finish it when the repo already exists."""
    stop = stop or _worker_stop
    outcome = RowOutcome(
        job.line, job.student_id, job.project, "", "interrupted", seed=job.seed,
        answers=dict(job.answers),
    )  # fmt: skip
    signum = stop()
    if signum:
        return _not_started(outcome, signum)
    stage: list[str] = []  # "exists" (made by an earlier run) or "generated" (by this one)
    try:
        if job.update is not None:
            _update_row(job, outcome)
        else:
            _bake_row(job, outcome, stop, stage)
    except Interrupted as exc:
        if "generated" in stage:
            outcome.reason = "generated completely; the push was interrupted (a re-run pushes it)"
        elif "exists" in stage:
            outcome.reason = (
                "made by an earlier run; interrupted before it was finished (a re-run is)"
            )
        else:
            outcome.reason = f"interrupted by {exc.signal_name}: rolled back, nothing written"
            outcome.path = ""
        outcome.status, outcome.exit_code = "interrupted", exc.exit_code
    except MlstarterError as exc:
        generated = "generated" in stage
        outcome.reason = f"generated, but {exc} (a re-run retries it)" if generated else str(exc)
        outcome.status, outcome.exit_code = "failed", exc.exit_code
    except OSError as exc:
        from mlstarter.generate import refused

        error = refused(exc, f"cannot write {Path(job.target).name}")
        outcome.status, outcome.reason, outcome.exit_code = "failed", str(error), error.exit_code
    except Exception as exc:  # a bug, but one row's bug: the other rows still generate
        outcome.reason = f"internal error: {type(exc).__name__}: {exc}"
        outcome.status, outcome.exit_code = "failed", 1
    return outcome


def _not_started(outcome: RowOutcome, signum: int) -> RowOutcome:
    stop = Interrupted(signum)
    outcome.status, outcome.exit_code = "interrupted", stop.exit_code
    outcome.reason = f"not started: the batch was interrupted by {stop.signal_name}"
    return outcome


def _bake_row(job: Job, outcome: RowOutcome, stop: Stop, stage: list[str]) -> None:
    from mlstarter import generate
    from mlstarter.answers import render_record

    spec = load_template(Path(job.template_dir))
    target = Path(job.target)
    # paths in the summary are relative to the output folder, so two runs match byte for byte
    outcome.path = target.name
    record = render_record(job.project, spec, job.answers, job.flavor)
    if generate.target_state(target.parent, target.name) == "occupied" and not job.force:
        if not same_origin(_existing_record(target), record):
            raise TargetExistsError(
                f"{target.name} exists and was made from other answers (or is not an mlstarter "
                "repo); --force regenerates it (the old one to a backup)"
            )
        stage.append("exists")
        finished = _finish(job, spec, target, outcome, stop)
        if finished:
            outcome.status = "finished"
            outcome.reason = "finished what an earlier run left undone: " + "; ".join(finished)
        else:
            outcome.status = "skipped"
            outcome.reason = "up to date: generated before from the same answers"
        return
    result = generate.bake(
        job.project, spec, job.answers, target.parent, force=job.force, git=job.git,
        flavor=job.flavor,
    )  # fmt: skip
    stage.append("generated")
    outcome.status = "regenerated" if result.backup else "generated"
    if result.backup:
        outcome.extra["backup"] = result.backup.name
    if job.remote:
        outcome.extra["remote"] = redact_secrets(job.remote)
        _push(target, job.remote, stop)


def _update_row(job: Job, outcome: RowOutcome) -> None:
    """`batch --update`: bring one student's repo to the current template (update.update)."""
    from mlstarter import update

    target = Path(job.target)
    outcome.path = target.name
    if not (target / RECORD_FILE).is_file():
        raise update.UpdateRefusedError(
            f"{target.name}: no repo made by mlstarter there to update (run the batch without "
            "--update first)"
        )
    template = Path(job.template_dir) if job.project not in _bundled_keys() else None
    assert job.update is not None
    result = update.update(target, template=template, conflicts=job.update)
    outcome.extra.update(from_version=result.old_version, to_version=result.new_version)
    if result.conflicts:
        outcome.status, outcome.exit_code = "conflicts", update.CONFLICTS_EXIT
        written = "marked in" if result.written else "nothing written; conflicts in"
        outcome.reason = f"{written} {', '.join(result.conflicts)}"
    elif result.status == "up to date":
        outcome.status, outcome.reason = "up to date", f"at {result.new_version} already"
    else:
        outcome.status = "updated"
        outcome.reason = (
            f"{result.old_version} -> {result.new_version}, {len(result.changes)} file(s)"
        )


def _bundled_keys() -> list[str]:
    from mlstarter.catalog import load_catalog

    return load_catalog().keys


def with_recorded_flavors(jobs: list[Job], conflicts: str) -> list[Job]:
    """The update jobs of `batch --update`: each in the flavor its repo records (so assignment
    projects get their grader folder rewritten)."""
    from dataclasses import replace

    from mlstarter.update import read_record

    planned = []
    for job in jobs:
        flavor = job.flavor
        try:
            flavor = str(read_record(Path(job.target)).get("flavor", flavor))
        except MlstarterError:
            pass  # no repo there: the row fails when it runs, saying so
        planned.append(replace(job, flavor=flavor, update=conflicts))
    return planned


def _finish(job: Job, spec: Any, target: Path, outcome: RowOutcome, stop: Stop) -> list[str]:
    """Do what an earlier run left undone for an up-to-date repo; say what was done."""
    from mlstarter import generate

    done: list[str] = []
    if job.git and not gitrepo.has_commit(target):
        if (target / ".git").exists():
            raise TargetExistsError(
                f"{target.name} has a .git without a commit; --force regenerates it "
                "(the old one to a backup)"
            )
        generate.finish_git(job.project, spec, job.answers, job.flavor, target)
        done.append("made it a git repository")
    if job.remote and not gitrepo.is_pushed(target, job.remote):
        outcome.extra["remote"] = redact_secrets(job.remote)
        try:
            _push(target, job.remote, stop)
        except MlstarterError as exc:
            if done:
                raise type(exc)(f"{'; '.join(done)}, but {exc}") from None
            raise
        done.append(f"pushed to {redact_secrets(job.remote)}")
    return done


def _existing_record(target: Path) -> str | None:
    path = target / RECORD_FILE
    try:
        if not path.is_file() or path.stat().st_size > 1_000_000:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _push(repo: Path, remote: str, stop: Stop) -> None:
    try:
        gitrepo.push(repo, remote, stop)
    except MlstarterError as exc:
        raise type(exc)(f"pushing to {redact_secrets(remote)}: {exc}") from None


def run_batch(
    jobs: list[Job],
    workers: int,
    on_done: Callable[[RowOutcome], None] | None = None,
    stop: Stop = interrupts.requested,
) -> list[RowOutcome]:
    """Run the bakes, `workers` at a time; outcomes come back in roster order.

    When `stop()` returns a signal, no new row starts: rows in flight finish or roll back, the
    others come back as interrupted, not started.
    """
    notify = on_done or (lambda outcome: None)
    outcomes: list[RowOutcome] = []
    workers = max(1, min(workers, len(jobs), MAX_WORKERS))
    if workers == 1:
        for job in jobs:
            outcomes.append(run_job(job, stop))
            notify(outcomes[-1])
        return sorted(outcomes, key=lambda o: o.line)
    context = multiprocessing.get_context()
    stop_signal = context.Value("i", 0)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(stop_signal,)
    )
    try:
        futures: dict[Future[RowOutcome], Job] = {pool.submit(run_job, job): job for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes.append(_outcome_of(future, futures[future], stop_signal.value))
                notify(outcomes[-1])
            signum = stop()
            if signum and not stop_signal.value:
                stop_signal.value = signum  # rows already handed to a worker see it and skip
                for future in pending:
                    future.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(outcomes, key=lambda o: o.line)


def _outcome_of(future: Future[RowOutcome], job: Job, signum: int) -> RowOutcome:
    outcome = RowOutcome(
        job.line, job.student_id, job.project, "", "failed", seed=job.seed,
        answers=dict(job.answers),
    )  # fmt: skip
    if future.cancelled():
        return _not_started(outcome, signum or 2)
    error = future.exception()
    if error is None:
        return future.result()
    outcome.exit_code = 1
    outcome.reason = (
        f"the worker process baking it stopped ({type(error).__name__}: {error}); "
        "a re-run finishes it"
    )
    return outcome


# --- graders, the output lock and the summary --------------------------------------------------


@dataclass
class GraderOutcome:
    """The grader folder of one project of the batch."""

    project: str
    path: str
    status: str  # written | up to date | replaced | none | failed
    reason: str = ""
    exit_code: int = 0
    backup: str | None = None


def write_graders(jobs: list[Job], output_dir: Path) -> list[GraderOutcome]:
    """One grader folder per assignment project, from its first row (however that row ends)."""
    from mlstarter import generate

    outcomes: list[GraderOutcome] = []
    firsts: dict[str, Job] = {}
    for job in jobs:
        if job.flavor == "assignment":
            firsts.setdefault(job.project, job)
    for project, job in firsts.items():
        grader = output_dir / GRADER_DIR / project
        outcome = GraderOutcome(project, f"{GRADER_DIR}/{project}", "failed")
        try:
            spec = load_template(Path(job.template_dir))
            result = generate.bake_grader(project, spec, job.answers, grader)
        except MlstarterError as exc:
            outcome.reason, outcome.exit_code = str(exc), exc.exit_code
        except OSError as exc:
            error = generate.refused(exc, f"cannot write {grader}")
            outcome.reason, outcome.exit_code = str(error), error.exit_code
        else:
            outcome.status = result.status
            outcome.backup = result.backup.name if result.backup else None
        outcomes.append(outcome)
    return outcomes


@contextmanager
def exclusive(output_dir: Path) -> Iterator[None]:
    """Hold the output folder for one batch; a second batch on it is refused at once."""
    try:
        fd = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"--output-dir {output_dir}: cannot open it ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TargetExistsError(
                f"another mlstarter batch is writing to {output_dir}; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)


def templates_of(jobs: list[Job]) -> dict[str, dict[str, str]]:
    """Each project's template, for the summary: `mlstarter grade` finds it again there (a
    private one by its path, which never reaches a student's repo)."""
    found: dict[str, dict[str, str]] = {}
    for job in jobs:
        if job.project in found:
            continue
        try:
            spec = load_template(Path(job.template_dir))
        except MlstarterError:
            continue  # the template went away meanwhile: the summary is still written
        entry = {"origin": spec.origin, "version": spec.version}
        if spec.origin == "private":
            entry["path"] = str(Path(job.template_dir).resolve())
        found[job.project] = entry
    return found


def write_summary(
    output_dir: Path,
    outcomes: list[RowOutcome],
    graders: list[GraderOutcome] | None = None,
    interrupted: str | None = None,
    templates: dict[str, dict[str, str]] | None = None,
) -> tuple[Path, Path]:
    """batch-summary.json and .csv, each replaced atomically: row, student, path, status, reason.

    The JSON also holds each row's answers and each project's template. The CSV is safe to open
    in a spreadsheet: no cell starts a formula, credentials are hidden.
    """
    rows = sorted(outcomes, key=lambda o: o.line)
    data = [asdict(o) for o in rows]
    counts = count(rows)
    json_path, csv_path = output_dir / SUMMARY_JSON, output_dir / SUMMARY_CSV
    document: dict[str, object] = {"counts": counts, "rows": data}
    if templates:
        document["templates"] = templates
    if graders:
        document["graders"] = [asdict(g) for g in graders]
    if interrupted:
        document["interrupted"] = interrupted
    _write_atomically(json_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    columns = ["line", "student_id", "project", "path", "status", "reason", "exit_code", "seed"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: inert_cell(v) for k, v in row.items()} for row in data)
    _write_atomically(csv_path, buffer.getvalue())
    return json_path, csv_path


def count(outcomes: list[RowOutcome]) -> dict[str, int]:
    """How many rows ended in each status (an update's statuses when any row was an update)."""
    updating = any(o.status in ("updated", "conflicts", "up to date") for o in outcomes)
    statuses = UPDATE_STATUSES if updating else STATUSES
    return {status: sum(o.status == status for o in outcomes) for status in statuses}


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def base_answers(
    answers_file: Path | None, set_values: Mapping[str, str], key_for_file: str | None
) -> tuple[dict[str, object], str | None]:
    """Answers shared by every row: the answers file, then --set."""
    given: dict[str, object] = {}
    flavor = None
    if answers_file is not None:
        from_file, flavor = read_answers_and_flavor(answers_file, key_for_file or "")
        given.update(from_file)
    given.update(set_values)
    return given, flavor
