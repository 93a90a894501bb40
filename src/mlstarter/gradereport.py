"""What `mlstarter grade` writes: grades.csv and grades.json, leaderboard.md, feedback/<id>.md.

Every file is written atomically (a temporary file beside it, then a rename). mlstarter keeps a
manifest of what it wrote (`.mlstarter-grades.json`): a grade file it wrote and nobody changed
is replaced; one that was edited since (or was not written by mlstarter) is first renamed to a
timestamped backup beside it, so nothing an instructor wrote is lost. The CSV opens safely in
a spreadsheet (no cell starts a formula), and all text that came from a student's run (test
messages, metric names) has its control characters escaped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlstarter.grade import ClassGrades, ProjectPlan, StudentGrade
from mlstarter.sanitize import escape_controls, inert_cell

GRADES_CSV = "grades.csv"
GRADES_JSON = "grades.json"
LEADERBOARD = "leaderboard.md"
FEEDBACK = "feedback"
MANIFEST = ".mlstarter-grades.json"
SAFE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MESSAGE_LINES = 40


def write_all(grades: ClassGrades) -> dict[str, Any]:
    """Write every grade file; return where they are and which earlier files were backed up."""
    files: dict[str, str] = {
        GRADES_JSON: json.dumps(as_json(grades), indent=2, ensure_ascii=False) + "\n",
        GRADES_CSV: as_csv(grades),
        LEADERBOARD: leaderboard(grades),
    }
    for student in grades.students:
        files[feedback_path(student.student_id)] = feedback(grades, student)
    backups = _write_with_manifest(grades.class_dir, files)
    return {
        "grades_csv": str(grades.class_dir / GRADES_CSV),
        "grades_json": str(grades.class_dir / GRADES_JSON),
        "leaderboard": str(grades.class_dir / LEADERBOARD),
        "feedback": str(grades.class_dir / FEEDBACK),
        "backups": backups,
    }


def feedback_path(student_id: str) -> str:
    name = student_id if SAFE_NAME.fullmatch(student_id) else hashlib.sha256(
        student_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]  # fmt: skip
    return f"{FEEDBACK}/{name}.md"


# --- the documents --------------------------------------------------------------------------------


def as_json(grades: ClassGrades) -> dict[str, Any]:
    return {
        "class_dir": str(grades.class_dir),
        "seed": grades.seed,
        "network": grades.network,
        "notes": grades.notes,
        "projects": {key: _project(plan) for key, plan in grades.projects.items()},
        "students": [_student(s) for s in grades.students],
    }


def _project(plan: ProjectPlan) -> dict[str, Any]:
    graded = [t for t in plan.tests if t.graded]
    return {
        "template": plan.template.key,
        "template_origin": plan.template.origin,
        "template_version": plan.spec.version,
        "grader": str(plan.grader) if plan.grader is not None else None,
        "hidden_tests_from": plan.hidden_from,
        "grading_spec": plan.grading.source,
        "environment": str(plan.env.python.parent.parent) if plan.env is not None else None,
        "environment_origin": plan.env.origin if plan.env is not None else None,
        "max_points": sum(t.points for t in graded),
        "graded_tests": len(graded),
        "leaderboard_metric": plan.metric,
        "reference_smoke": plan.reference_smoke,
        "notes": plan.calibration_notes + ([plan.version_note] if plan.version_note else []),
        "tests": [
            {"nodeid": t.nodeid, "points": t.points, "graded": t.graded, "reason": t.reason}
            for t in plan.tests
        ],
    }


def _student(s: StudentGrade) -> dict[str, Any]:
    return {
        "student_id": s.student_id,
        "project": s.project,
        "status": s.status,
        "points": s.points,
        "max_points": s.max_points,
        "percent": s.percent,
        "files": {f: {"points": p, "max_points": m} for f, (p, m) in sorted(s.files.items())},
        "tests": s.tests,
        "failed": [
            {
                k: escape_controls(str(v)) if isinstance(v, str) else v
                for k, v in f.items()
                if k != "detail"
            }
            for f in s.failed
        ],  # fmt: skip
        "graded": {"source": s.source, "commit": s.commit},
        "smoke": s.smoke,
        "notes": [escape_controls(n) for n in s.notes],
        "reason": escape_controls(s.reason),
        "feedback": feedback_path(s.student_id),
    }


def as_csv(grades: ClassGrades) -> str:
    """One row a student: id, project, status, points, max, percent, commit, the smoke, then
    the points of each test file (prefixed by the project when the class has several)."""
    several = len(grades.projects) > 1
    file_columns: list[str] = []
    metric_columns: list[str] = []
    for s in grades.students:
        for file in sorted(s.files):
            column = f"{s.project}:{file}" if several else file
            if column not in file_columns:
                file_columns.append(column)
        for name in (s.smoke or {}).get("metrics", {}):
            if f"smoke:{name}" not in metric_columns:
                metric_columns.append(f"smoke:{name}")
    columns = ["student_id", "project", "status", "points", "max_points", "percent", "commit",
               "smoke_ok", *metric_columns, *file_columns]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for s in grades.students:
        row: dict[str, object] = {
            "student_id": s.student_id, "project": s.project, "status": s.status,
            "points": _num(s.points), "max_points": _num(s.max_points),
            "percent": _num(s.percent), "commit": (s.commit or "")[:12],
            "smoke_ok": "" if s.smoke is None else ("yes" if s.smoke.get("ok") else "no"),
        }  # fmt: skip
        for name, value in (s.smoke or {}).get("metrics", {}).items():
            row[f"smoke:{name}"] = value
        for file, (points, _) in s.files.items():
            row[f"{s.project}:{file}" if several else file] = _num(points)
        writer.writerow({k: inert_cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _num(value: float | None) -> object:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(value, 4)


def _cell(text: object) -> str:
    """Text for a Markdown table cell: one line, escaped, no column break, no markup."""
    flat = " ".join(escape_controls(str(text)).split())
    return re.sub(r"([\\|`*_<>\[\]#])", r"\\\1", flat)


def _code(text: object) -> str:
    """Text for a code span (`...`): one line, no backtick, no column break."""
    flat = " ".join(escape_controls(str(text)).split())
    return flat.replace("`", "'").replace("|", "\\|")


def _metric_value(s: StudentGrade, metric: str | None) -> float | None:
    """A student's value of the leaderboard metric (a smoke metric, or a target's value)."""
    if metric is None or s.smoke is None:
        return None
    found = s.smoke.get("metrics", {}).get(metric)
    if found is None:
        found = s.smoke.get("targets", {}).get(metric, {}).get("value")
    return float(found) if isinstance(found, int | float) else None


def _ranked(students: list[StudentGrade], plan: ProjectPlan) -> list[StudentGrade]:
    def order(s: StudentGrade) -> tuple[int, float, str]:
        v = _metric_value(s, plan.metric)
        if v is None:
            return (1, 0.0, s.student_id)
        return (0, -v if plan.higher_is_better else v, s.student_id)

    return sorted(students, key=order)


def leaderboard(grades: ClassGrades) -> str:
    """The smoke metrics of every student on the common seed, ranked, per project."""
    out = [
        "# Leaderboard\n\n",
        f"Every student's smoke run on one common seed ({grades.seed}), so the numbers compare "
        "code on the same data. The points are the grade (`grades.csv`); the ranking is by the "
        "smoke metric. The numbers are what each student's code reported.\n",
    ]
    for key, plan in grades.projects.items():
        metric = plan.metric
        out.append(f"\n## {_cell(key)}\n\n")
        if metric is None:
            out.append("No smoke metric to rank by (no smoke run, or no report).\n")
        better = "higher" if plan.higher_is_better else "lower"
        out.append(f"Ranked by `{_code(metric or '-')}` ({better} is better).\n\n")
        out.append(
            f"| rank | student | {_cell(metric or 'metric')} | smoke targets met | points |\n"
            "|---:|---|---:|---:|---:|\n"
        )
        rank = 0
        for s in _ranked([s for s in grades.students if s.project == key], plan):
            v = _metric_value(s, metric)
            rank += 1 if v is not None else 0
            targets = (s.smoke or {}).get("targets", {})
            met = sum(bool(t.get("met")) for t in targets.values())
            met_text = f"{met}/{len(targets)}" if targets else "-"
            problem = (s.smoke or {}).get("problem", "no smoke run")
            shown = f"{v:.4f}" if v is not None else _cell(str(problem)[:80])
            points = f"{_num(s.points)}/{_num(s.max_points)}" if s.points is not None else s.status
            place = str(rank) if v is not None else "-"
            out.append(
                f"| {place} | {_cell(s.student_id)} | {shown} | {met_text} | {_cell(points)} |\n"
            )
        ref = plan.reference_smoke
        if ref and metric:
            v = ref.get("metrics", {}).get(metric)
            if v is None:
                v = ref.get("targets", {}).get(metric, {}).get("value")
            if isinstance(v, int | float):
                out.append(
                    f"\nThe starter's own solution on the same seed: `{_code(metric)}` = "
                    f"{float(v):.4f}.\n"
                )
    return "".join(out)


def feedback(grades: ClassGrades, s: StudentGrade) -> str:
    """A student's feedback: points, per file, each test that failed with its message."""
    plan = grades.projects.get(s.project)
    out = [f"# Feedback: {_cell(s.student_id)} ({_cell(s.project)})\n\n"]
    if s.points is None:
        out.append(f"Not graded: {_cell(s.status)}. {_cell(s.reason)}\n")
        return "".join(out)
    percent = s.percent if s.percent is not None else 0
    out.append(
        f"**Points: {_num(s.points)} / {_num(s.max_points)}** ({percent}%), {_cell(s.status)}.\n\n"
    )
    if s.source == "git":
        out.append(f"Graded: the commit `{_code((s.commit or '')[:12])}` (what HEAD points to); "
                   "uncommitted changes are not graded.\n\n")  # fmt: skip
    elif s.source == "files":
        out.append(
            "Graded: the files on disk (the repo is not a git repository with a commit).\n\n"
        )
    if s.reason:
        out.append(f"{_cell(s.reason)}\n\n")
    out.append(
        "Each test case is worth its points; a skipped test scores nothing. Tests that pass "
        "without any work, or that fail on the starter's own solution, carry no points.\n\n"
    )
    if s.files:
        out.append("| test file | points | of |\n|---|---:|---:|\n")
        for file, (points, most) in sorted(s.files.items()):
            out.append(f"| `{_code(file)}` | {_num(points)} | {_num(most)} |\n")
        out.append("\n")
    if s.failed:
        out.append(f"## Tests that did not pass ({len(s.failed)})\n\n")
        for f in s.failed:
            out.append(f"### `{_code(f['nodeid'])}` ({_cell(f['outcome'])}, {_num(f['points'])} "
                       "points)\n\n")  # fmt: skip
            out.append(_block(str(f.get("message") or "")))
            detail = str(f.get("detail") or "")
            if detail and detail.strip() != str(f.get("message") or "").strip():
                out.append(
                    "<details><summary>more</summary>\n\n" + _block(detail) + "</details>\n\n"
                )
    else:
        out.append("Every graded test passed.\n\n")
    if s.notes:
        out.append("## Notes\n\n" + "".join(f"- {_cell(n)}\n" for n in s.notes) + "\n")
    if s.smoke is not None:
        out.append(f"## Smoke run (common seed {grades.seed})\n\n")
        ok = (
            "passed" if s.smoke.get("ok") else f"did not pass ({_cell(s.smoke.get('problem', ''))})"
        )
        out.append(f"The smoke {ok}.")
        metrics = s.smoke.get("metrics", {})
        if metrics:
            out.append(" Metrics: " + ", ".join(f"{_cell(k)} = {v}" for k, v in metrics.items()))
        out.append("\n")
        if plan is not None and plan.reference_smoke and plan.metric:
            ref = plan.reference_smoke.get("metrics", {}).get(plan.metric)
            if isinstance(ref, int | float):
                out.append(
                    f"\nThe starter's solution reaches {_cell(plan.metric)} = {ref} on this seed.\n"
                )
    return "".join(out)


def _block(text: str) -> str:
    """A fenced code block that no content can close early."""
    lines = [escape_controls(line) for line in text.splitlines()][-MESSAGE_LINES:]
    body = "\n".join(lines) or "(no message)"
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}\n\n"


# --- writing, with backups of what someone else changed ------------------------------------------


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_with_manifest(root: Path, files: dict[str, str]) -> list[str]:
    manifest_path = root / MANIFEST
    try:
        known = json.loads(manifest_path.read_text(encoding="utf-8")).get("files", {})
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError, AttributeError):
        known = {}
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    backups: list[str] = []
    written: dict[str, str] = {}
    (root / FEEDBACK).mkdir(exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        data = text.encode("utf-8")
        if path.is_symlink() or (path.exists() and not path.is_file()):
            backups.append(_backup(path, stamp))
        elif path.is_file():
            old = path.read_bytes()
            if old != data and known.get(relative) != _digest(old):
                backups.append(_backup(path, stamp))
        _atomic(path, data)
        written[relative] = _digest(data)
    for relative, digest in known.items():  # feedback of a student no longer in the class
        path = root / str(relative)
        if relative not in written and str(relative).startswith(FEEDBACK + "/") and path.is_file():
            if _digest(path.read_bytes()) == digest:
                path.unlink()
    _atomic(manifest_path, (json.dumps({"files": written}, indent=1) + "\n").encode())
    return backups


def _backup(path: Path, stamp: str) -> str:
    candidate = path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem}.backup-{stamp}-{n}{path.suffix}")
    os.rename(path, candidate)
    return str(candidate)


def _atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
