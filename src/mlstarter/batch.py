"""A roster in, one repo per student out: validated rows, parallel atomic bakes, a summary.

Each row becomes `<output>/<project>-<student_id>`. A bad row (missing field, invalid or duplicate
id, unknown project, bad answer) is reported with its line and reason while the other rows still
generate. Bakes run in worker processes (cookiecutter changes the working directory while it
renders, so threads would race). The same roster, flavor and mlstarter version give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from mlstarter.answers import (
    RECORD_FILE,
    check_names,
    load_template,
    read_answers_and_flavor,
    resolve_answers,
)
from mlstarter.catalog import Catalog
from mlstarter.errors import AnswerError, MlstarterError, UsageError

REQUIRED = ("student_id", "name", "email", "github_username")
STUDENT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SUMMARY_JSON = "batch-summary.json"
SUMMARY_CSV = "batch-summary.csv"
GRADER_DIR = "_grader"


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
    status: str  # generated | regenerated | skipped | failed
    reason: str = ""
    exit_code: int = 0
    seed: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


def read_roster(path: Path) -> list[Row]:
    """The roster's rows, with their line numbers; CSV with a header, or a YAML list."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"roster {path}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"roster {path}: not UTF-8 text") from exc
    rows = _yaml_rows(path, text) if path.suffix.lower() in {".yml", ".yaml"} else _csv_rows(text)
    if not rows:
        raise UsageError(f"roster {path}: no rows")
    return rows


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[Row] = []
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
    return rows


def _yaml_rows(path: Path, text: str) -> list[Row]:
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"roster {path}: not valid YAML") from exc
    if isinstance(data, dict) and "students" in data:
        data = data["students"]
        node = next(v for k, v in node.value if k.value == "students")  # type: ignore[union-attr]
    if not isinstance(data, list):
        raise UsageError(f"roster {path}: expected a list of students (or 'students:' list)")
    rows = []
    for item, item_node in zip(data, node.value, strict=True):  # type: ignore[union-attr]
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            rows.append(Row(line, {"__not_a_mapping__": "yes"}))
            continue
        rows.append(Row(line, {str(k): "" if v is None else str(v) for k, v in item.items()}))
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
    grader: str  # "" when another row of the project writes the grader folder
    force: bool
    git: bool
    remote: str | None
    seed: int


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
    specs: dict[str, object] = {}
    for row in rows:
        sid = row.fields.get("student_id", "").strip().lower()
        project = row.fields.get("project") or default_project or ""
        outcome = RowOutcome(row.line, sid, project, "", "failed", exit_code=3)
        try:
            if "__not_a_mapping__" in row.fields:
                raise AnswerError("the entry is not a mapping of fields")
            if "__extra_cells__" in row.fields:
                raise AnswerError("more cells than the header has columns")
            missing = [name for name in REQUIRED if not row.fields.get(name, "").strip()]
            if missing:
                raise AnswerError(f"missing {', '.join(missing)}")
            if not STUDENT_ID.fullmatch(sid) or len(sid) > 40:
                raise AnswerError(
                    f"student_id '{row.fields['student_id']}' must be letters and digits in "
                    "dash-separated words"
                )
            if sid in seen:
                raise AnswerError(f"duplicate student_id '{sid}' (first on line {seen[sid]})")
            seen[sid] = row.line
            if not project:
                raise UsageError("no project: add a 'project' column or pass --project")
            entry = catalog.get(project)
            spec = specs.get(project) or load_template(entry.template_dir)
            specs[project] = spec
            overrides = {
                k: v for k, v in row.fields.items() if k not in (*REQUIRED, "project") and v != ""
            }
            check_names(spec, overrides, f"line {row.line}")  # type: ignore[arg-type]
            seed = student_seed(project, sid)
            given: dict[str, object] = {**base_answers, **overrides}
            given.update(
                author_name=row.fields["name"],
                author_email=row.fields["email"],
                github_username=row.fields["github_username"],
                project_slug=f"{project}-{sid}",
            )
            if "seed" in spec.names:  # type: ignore[attr-defined]
                given["seed"] = str(seed)
            if "package_name" not in given:
                # every student gets the template's package name, so graders and docs match
                shared = resolve_answers(spec, {**base_answers, **overrides})  # type: ignore[arg-type]
                given["package_name"] = shared["package_name"]
            answers = resolve_answers(spec, given)  # type: ignore[arg-type]
        except MlstarterError as exc:
            outcome.reason = str(exc)
            outcome.exit_code = exc.exit_code
            failed.append(outcome)
            continue
        target = output_dir / str(answers["project_slug"])
        # One grader folder a project, written by the project's first row (workers never race).
        grader = (
            ""
            if any(j.project == project for j in jobs)
            else str(output_dir / GRADER_DIR / project)
        )
        sid_remote = remote.replace("{student_id}", sid) if remote else None
        job = Job(
            row.line, sid, project, str(entry.template_dir), answers, str(target), flavor,
            grader, force, git, sid_remote, seed,
        )  # fmt: skip
        jobs.append(job)
    return jobs, failed


def run_job(job: Job) -> RowOutcome:
    """Bake one row (in a worker process): skip it when the repo is already up to date."""
    from mlstarter import generate
    from mlstarter.answers import render_record

    spec = load_template(Path(job.template_dir))
    target = Path(job.target)
    # paths in the summary are relative to the output folder, so two runs match byte for byte
    outcome = RowOutcome(
        job.line, job.student_id, job.project, target.name, "generated", seed=job.seed
    )
    record = render_record(job.project, spec, job.answers, job.flavor)
    existing = target / RECORD_FILE
    if existing.is_file() and existing.read_text(encoding="utf-8") == record and not job.force:
        outcome.status = "skipped"
        outcome.reason = "up to date: generated before from the same answers"
        return outcome
    try:
        result = generate.bake(
            job.project, spec, job.answers, target.parent, force=job.force, git=job.git,
            flavor=job.flavor, grader=Path(job.grader) if job.grader else None,
        )  # fmt: skip
        if result.backup:
            outcome.status = "regenerated"
            outcome.extra["backup"] = result.backup.name
        if job.remote:
            _push(target, job.remote)
            outcome.extra["remote"] = job.remote
    except MlstarterError as exc:
        outcome.status, outcome.reason, outcome.exit_code = "failed", str(exc), exc.exit_code
    return outcome


def _push(repo: Path, remote: str) -> None:
    done = subprocess.run(
        ["git", "push", "-q", remote, "HEAD:refs/heads/main"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MlstarterError(f"generated, but git push to {remote} failed: {last}")


def run_batch(
    jobs: list[Job], workers: int, on_done: Callable[[RowOutcome], None] | None = None
) -> list[RowOutcome]:
    """Run the bakes, `workers` at a time; outcomes come back in roster order."""
    notify = on_done or (lambda outcome: None)
    outcomes: list[RowOutcome] = []
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            outcomes.append(run_job(job))
            notify(outcomes[-1])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_job, job): job for job in jobs}
            for future in as_completed(futures):
                outcomes.append(future.result())
                notify(outcomes[-1])
    return sorted(outcomes, key=lambda o: o.line)


def write_summary(output_dir: Path, outcomes: list[RowOutcome]) -> tuple[Path, Path]:
    """batch-summary.json and .csv: row, student, project, path, status, reason."""
    output_dir.mkdir(parents=True, exist_ok=True)
    rows = sorted(outcomes, key=lambda o: o.line)
    data = [asdict(o) for o in rows]
    json_path, csv_path = output_dir / SUMMARY_JSON, output_dir / SUMMARY_CSV
    json_path.write_text(json.dumps({"rows": data}, indent=2, ensure_ascii=False) + "\n", "utf-8")
    columns = ["line", "student_id", "project", "path", "status", "reason", "exit_code", "seed"]
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
    return json_path, csv_path


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
