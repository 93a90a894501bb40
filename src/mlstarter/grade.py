"""`mlstarter grade`: every student repo of a batch, graded on the same ground.

The story (`grade_class`):
1. `CLASS_DIR/batch-summary.json` names the students, the answers each repo was made from and each
   project's template (a private one by its path).
2. Per project: the grader folder (hidden tests, `grading.yml`), one environment (gradeenv.py),
   and a calibration: the pristine solution and the untouched assignment are graded like a
   student. A test item carries points only when it passes on the solution and fails on the
   untouched assignment (a test that passes without any work grades nothing; `score_untouched`
   in grading.yml turns that off); the total of those is every student's maximum.
3. Per student, in parallel: the committed package (snapshot.py) is put into a pristine tree,
   re-rendered from the template at the student's answers, with the grader's hidden tests; the
   tests run in the sandbox (sandbox.py) with the pristine tests, conftest and pytest
   settings, so nothing of the student's but the package applies. Then the student's smoke runs
   on the common seed, for the leaderboard.
4. Points per test item; a skip, an error, an xfail scores nothing. gradereport.py writes the
   grades, the feedback and the leaderboard.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mlstarter import interrupts
from mlstarter.answers import RECORD_FILE, TemplateSpec, load_template, resolve_answers
from mlstarter.catalog import Catalog, Project, private_template
from mlstarter.errors import MlstarterError, UsageError, VerificationError, require_folder
from mlstarter.gradeenv import GradeEnv
from mlstarter.gradespec import DEFAULT_TIMEOUT, GradingSpec, load_spec
from mlstarter.interrupts import Interrupted
from mlstarter.sandbox import SandboxResult, SandboxSpec
from mlstarter.snapshot import Snapshot

SUMMARY_JSON = "batch-summary.json"
GRADER_DIR = "_grader"
HIDDEN = "tests/hidden"
MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_RESUMES = 5  # a test that kills the test process costs itself, not the tests after it
PASSED = "passed"
METRIC_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
MAX_METRICS = 30
CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")

Progress = Callable[[str, str], None]  # (kind, text): "done" a task, "note" a line


@dataclass
class Options:
    """What the command line asked for."""

    class_dir: Path
    grader: Path | None = None
    jobs: int = 2
    seed: int | None = None
    timeout: float | None = None
    template: Path | None = None
    venv: Path | None = None
    smoke: bool = True
    installer: str = "auto"


@dataclass
class Student:
    """One row of the batch summary that should have a repo."""

    line: int
    student_id: str
    project: str
    repo: Path
    answers: dict[str, object] | None
    seed: int | None
    status: str  # the batch's status of the row


@dataclass
class TestItem:
    """One test item of a project, and whether (and how much) it counts."""

    nodeid: str
    points: float
    graded: bool
    reason: str = ""  # why it carries no points


@dataclass
class ProjectPlan:
    """How one project of the class is graded."""

    key: str
    template: Project
    spec: TemplateSpec
    grading: GradingSpec
    grader: Path | None
    hidden_from: str
    reference: dict[str, object]
    package: str
    version_note: str = ""
    env: GradeEnv | None = None
    region_files: list[str] = field(default_factory=list)
    tests: list[TestItem] = field(default_factory=list)
    seed: int = 0
    metric: str | None = None
    higher_is_better: bool = True
    reference_smoke: dict[str, Any] | None = None
    calibration_notes: list[str] = field(default_factory=list)


@dataclass
class TestRun:
    """One sandboxed test run (possibly resumed after a crash): what each test did."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)
    collect_errors: list[dict[str, str]] = field(default_factory=list)
    timed_out: bool = False
    stopped: bool = False
    network: str = ""
    notes: list[str] = field(default_factory=list)
    output_tail: str = ""


@dataclass
class StudentGrade:
    """What a student got, and why."""

    student_id: str
    project: str
    status: str  # graded | timed out | missing | not generated | error
    points: float | None = None
    max_points: float | None = None
    files: dict[str, list[float]] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""
    commit: str | None = None
    notes: list[str] = field(default_factory=list)
    smoke: dict[str, Any] | None = None
    reason: str = ""

    @property
    def percent(self) -> float | None:
        if self.points is None or not self.max_points:
            return None
        return round(100 * self.points / self.max_points, 1)


@dataclass
class ClassGrades:
    """Everything `grade` found: per project, per student, and how isolated the runs were."""

    class_dir: Path
    seed: int
    projects: dict[str, ProjectPlan]
    students: list[StudentGrade]
    network: str
    notes: list[str] = field(default_factory=list)


# --- reading the class ---------------------------------------------------------------------------


def read_class(class_dir: Path) -> tuple[list[Student], list[StudentGrade], dict[str, Any]]:
    """The students of a batch, the rows without a repo, and the summary's templates."""
    from mlstarter.userfiles import read_text

    summary = class_dir / SUMMARY_JSON
    if not summary.is_file():
        raise UsageError(
            f"{class_dir}: no {SUMMARY_JSON}; grade a folder made by `mlstarter batch`"
        )
    try:
        data = json.loads(read_text(summary, 64 * 1024 * 1024, "batch summary"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{summary}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise UsageError(f"{summary}: no 'rows' list")
    students: list[Student] = []
    absent: list[StudentGrade] = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        sid, project, path = (
            str(row.get("student_id", "")),
            str(row.get("project", "")),
            row.get("path"),
        )
        if not sid or not project:
            continue
        if not isinstance(path, str) or not path or "/" in path or path in (".", ".."):
            why = f"the batch did not make this repo ({row.get('status')})"
            absent.append(StudentGrade(sid, project, "not generated", reason=why))
            continue
        answers = row.get("answers") if isinstance(row.get("answers"), dict) else None
        seed = row.get("seed") if isinstance(row.get("seed"), int) else None
        students.append(Student(int(row.get("line", 0) or 0), sid, project, class_dir / path,
                                answers, seed, str(row.get("status", ""))))  # fmt: skip
    templates = data.get("templates") if isinstance(data.get("templates"), dict) else {}
    return students, absent, templates


def find_template(
    key: str, templates: dict[str, Any], catalog: Catalog, given: Project | None, one_project: bool
) -> tuple[Project, str]:
    """The template of a project of the class, and a note when its version moved on."""
    entry = templates.get(key)
    recorded: dict[str, Any] = entry if isinstance(entry, dict) else {}
    if given is not None and (given.key == key or one_project):
        project = given
    elif recorded.get("origin") == "private":
        path = Path(str(recorded.get("path", "")))
        if not (path / "cookiecutter.json").is_file():
            raise UsageError(
                f"the class's private template '{key}' is not at {path} any more; "
                "pass --template PATH"
            )
        project = private_template(path, catalog)
    else:
        try:
            project = catalog.get(key)
        except UsageError:
            raise UsageError(
                f"project '{key}' is not a featured project: pass --template PATH (the private "
                "template the class was made from)"
            ) from None
    spec = load_template(project.template_dir)
    note = ""
    made = recorded.get("version")
    if made and str(made) != spec.version:
        note = (
            f"{key}: the class was made from template version {made}; its tests are graded as "
            f"version {spec.version} has them"
        )
    return project, note


def find_grader(options: Options, key: str, one_project: bool) -> Path | None:
    """A project's grader folder: `--grader DIR` (the folder itself, or DIR/<project>), else
    CLASS_DIR/_grader/<project>; None when there is none (the template's hidden tests are used)."""
    if options.grader is not None:
        base = options.grader.expanduser()
        require_folder(base, "--grader")
        if (base / key).is_dir():
            return base / key
        if one_project or (base / HIDDEN).is_dir():
            return base
        raise UsageError(f"--grader {options.grader}: no folder for project '{key}' in it")
    default = options.class_dir / GRADER_DIR / key
    return default if default.is_dir() else None


# --- trees to run --------------------------------------------------------------------------------

_RENDER_LOCK = threading.Lock()  # cookiecutter changes the working directory while it renders


def render(
    plan: ProjectPlan, answers: dict[str, object], into: Path, flavor: str
) -> tuple[Path, list[str]]:
    """The pristine project at `answers` in `flavor` (hidden tests to `into/.hidden`), and the
    files that hold a marked region."""
    from mlstarter.generate import render_flavored

    into.mkdir(parents=True, exist_ok=True)
    with _RENDER_LOCK:
        project, flavored = render_flavored(
            plan.key, plan.spec, answers, into, flavor, into / ".hidden"
        )
    return project, flavored.region_files


def package_files(project: Path, package: str) -> dict[str, bytes]:
    """Every file of a rendered project's package, by path from the project."""
    root = project / "src" / package
    return {
        p.relative_to(project).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def assemble(
    tree: Path,
    plan: ProjectPlan,
    region_files: list[str],
    student: dict[str, bytes] | None,
    take: str,
    hidden: Path | None,
) -> list[str]:
    """Put the student's package files into the pristine `tree`, and the hidden tests; say what
    was left out. `take` is "marked" (files with a TODO and new files) or "package" (all)."""
    notes: list[str] = []
    prefix = f"src/{plan.package}/"
    ignored: list[str] = []
    for relative, data in sorted((student or {}).items()):
        if not relative.startswith(prefix):
            continue
        target = tree / relative
        pristine = target.read_bytes() if target.is_file() else None
        if take == "marked" and pristine is not None and relative not in region_files:
            if pristine != data:
                ignored.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            shutil.rmtree(target)
        target.write_bytes(data)
    if ignored:
        notes.append(
            "changed, but not yours to change (graded as the starter has them): "
            + ", ".join(ignored)
        )
    if hidden is not None and hidden.is_dir():
        shutil.copytree(hidden, tree / "tests", dirs_exist_ok=True)
    return notes


def pytest_config(tree: Path) -> Path:
    """The pristine tree's pytest configuration (an empty one when it has none), so pytest
    never looks above the tree for one."""
    for name in CONFIG_FILES:
        if (tree / name).is_file():
            return tree / name
    config = tree / "pytest.ini"
    config.write_text("[pytest]\n", encoding="utf-8")
    return config


def prepare_run_dir(work: Path, env: GradeEnv, pristine: Path) -> None:
    """The run's private home, temporary folder, start-up hook, plugin and console scripts."""
    from mlstarter.gradeenv import console_scripts

    for name in ("home", "tmp", "plugin", "bin"):
        (work / name).mkdir(parents=True, exist_ok=True)
    package = resources.files("mlstarter")
    plugin = work / "plugin"
    (plugin / "sitecustomize.py").write_text(package.joinpath("grade_site.py").read_text("utf-8"))
    (plugin / "_mlstarter_grade.py").write_text(
        package.joinpath("grade_plugin.py").read_text("utf-8")
    )
    for name, (module, function) in console_scripts(pristine).items():
        script = work / "bin" / name
        script.write_text(
            f"#!{env.python}\nimport sys\n\nfrom {module} import {function}\n\n"
            f"sys.exit({function}())\n",
            encoding="utf-8",
        )
        script.chmod(0o755)


def run_env(
    work: Path, tree: Path, env: GradeEnv, threads: int, test_timeout: float
) -> dict[str, str]:
    """The whole environment of a graded run: nothing of the caller's (tokens, proxies,
    PYTHONPATH, PYTEST_ADDOPTS) but a PATH."""
    home = work / "home"
    return {
        "PATH": os.pathsep.join(
            [str(work / "bin"), str(env.bin), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(home),
        "TMPDIR": str(work / "tmp"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(work / "plugin"), str(tree / "src")]),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "VIRTUAL_ENV": str(env.python.parent.parent),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PIP_NO_INDEX": "1",
        "NO_PROXY": "*",
        "CUDA_VISIBLE_DEVICES": "",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MLSTARTER_GRADE_REPORT": str(work / "results.jsonl"),
        "MLSTARTER_GRADE_TEST_TIMEOUT": f"{test_timeout:g}",
    }


def run_tests(
    work: Path,
    tree: Path,
    plan: ProjectPlan,
    timeout: float,
    threads: int,
    stop: threading.Event,
) -> TestRun:
    """The tests of `tree` in the sandbox; a test that kills the process is charged, and the run
    resumes after it (at most MAX_RESUMES times)."""
    from mlstarter import sandbox

    assert plan.env is not None
    config = pytest_config(tree)
    env = run_env(work, tree, plan.env, threads, plan.grading.test_timeout)
    run = TestRun()
    deselect: list[str] = []
    for attempt in range(MAX_RESUMES + 1):
        report = work / "results.jsonl"
        report.unlink(missing_ok=True)
        command = [str(plan.env.python), "-m", "pytest", "-p", "_mlstarter_grade",
                   "-p", "no:cacheprovider", "-c", str(config), "--rootdir", str(tree), "-q",
                   "--no-header", "-rN", "--color=no", *(f"--deselect={n}" for n in deselect),
                   "tests"]  # fmt: skip
        spec = SandboxSpec(
            command, str(tree), env, timeout, str(work / "pytest.out"), str(work / "pytest.err"),
            str(work / "pytest.status"),
            max_memory_bytes=plan.grading.memory_mb * 1024 * 1024 or None,
        )  # fmt: skip
        result = sandbox.run(spec, stop)
        run.network = result.network
        run.output_tail = _tail(work / "pytest.out") + _tail(work / "pytest.err")
        finished, running = _read_report(report, run, attempt == 0)
        if result.error:
            run.notes.append(result.error)
        if result.reaped:
            run.notes.append(f"{result.reaped} processes the tests left running were ended")
        run.timed_out, run.stopped = result.timed_out, result.stopped
        if finished or result.timed_out or result.stopped or result.error:
            if running is not None:
                why = (
                    "the time limit of the run (--timeout) passed"
                    if result.timed_out
                    else ("grading was interrupted" if result.stopped else "the test process ended")
                )
                run.results[running] = {"outcome": "error", "message": f"{why} during this test",
                                        "detail": "", "seconds": 0}  # fmt: skip
            return run
        if running is None:  # died outside any test (collection, start-up): nothing to resume
            run.notes.append(
                f"the test process ended (exit {result.returncode}) outside any test; "
                f"its output ends: {run.output_tail[-300:]}"
            )
            return run
        run.results[running] = {
            "outcome": "error",
            "message": f"the test process ended during this test (exit {result.returncode})",
            "detail": "", "seconds": 0,
        }  # fmt: skip
        deselect = sorted(run.results)
    run.notes.append(f"the test process ended {MAX_RESUMES + 1} times; the rest was not run")
    return run


def _read_report(path: Path, run: TestRun, first: bool) -> tuple[bool, str | None]:
    """Merge a results file into `run`; whether the session finished, and the test that was
    running when it ended (None if none)."""
    finished = False
    running: str | None = None
    try:
        with open(path, "rb") as f:  # a run that floods the file is read up to a bound
            lines = f.read(MAX_REPORT_BYTES).decode("utf-8", "replace").splitlines()
    except OSError:
        return False, None
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("kind")
        if kind == "collected" and first and isinstance(record.get("nodeids"), list):
            run.collected = [str(n) for n in record["nodeids"]]
        elif kind == "collect_error":
            error = {
                "nodeid": str(record.get("nodeid", "")),
                "message": str(record.get("message", "")),
            }
            if error not in run.collect_errors:
                run.collect_errors.append(error)
        elif kind == "start":
            running = str(record.get("nodeid", ""))
        elif kind == "result":
            nodeid = str(record.get("nodeid", ""))
            run.results[nodeid] = {
                k: record.get(k) for k in ("outcome", "message", "detail", "seconds")
            }
            if running == nodeid:
                running = None
        elif kind == "finished":
            finished = True
    return finished, running


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_smoke(
    work: Path,
    tree: Path,
    plan: ProjectPlan,
    seed: int,
    timeout: float,
    threads: int,
    stop: threading.Event,
) -> dict[str, Any]:
    """The package's smoke on the common seed: its report's metrics and targets, checked."""
    from mlstarter import sandbox
    from mlstarter.verify import check_smoke_report

    assert plan.env is not None
    env = run_env(work, tree, plan.env, threads, 0)
    command = [str(plan.env.python), "-m", plan.package, "smoke", "--seed", str(seed)]
    spec = SandboxSpec(command, str(tree), env, timeout, str(work / "smoke.out"),
                       str(work / "smoke.err"), str(work / "smoke.status"),
                       max_memory_bytes=plan.grading.memory_mb * 1024 * 1024 or None)  # fmt: skip
    result: SandboxResult = sandbox.run(spec, stop)
    outcome: dict[str, Any] = {
        "seed": seed, "ok": False, "seconds": result.seconds, "exit_code": result.returncode,
        "metrics": {}, "targets": {},
    }  # fmt: skip
    err = _tail(work / "smoke.err", 2000)
    if result.timed_out:
        outcome["problem"] = f"timed out after {timeout:g} s"
        return outcome
    if result.returncode == 2 and "--seed" in err:
        outcome["problem"] = "its smoke takes no --seed: not run on the common seed"
        return outcome
    last = None
    for line in _tail(work / "smoke.out", 256 * 1024).splitlines():
        if line.lstrip().startswith("{"):
            last = line
    if last is None:
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        said = f": {lines[-1][:200]}" if lines else ""
        outcome["problem"] = f"no JSON report (exit {result.returncode}){said}"
        return outcome
    try:
        report = json.loads(last)
    except (json.JSONDecodeError, RecursionError):
        outcome["problem"] = "its report is not valid JSON"
        return outcome
    rows, problem = check_smoke_report(report)
    if isinstance(report, dict) and isinstance(report.get("metrics"), dict):
        outcome["metrics"] = _numbers(report["metrics"])
    outcome["targets"] = {
        str(r["name"]): {k: r[k] for k in ("value", "op", "threshold", "met")}
        for r in rows if METRIC_NAME.fullmatch(str(r["name"])) and _finite(r["value"])
    }  # fmt: skip
    outcome["ok"] = problem is None and result.returncode == 0
    if problem is not None:
        outcome["problem"] = problem
    elif result.returncode != 0:
        outcome["problem"] = f"exit {result.returncode}"
    return outcome


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(metrics: dict[str, Any]) -> dict[str, float]:
    """The smoke's numeric metrics with safe names (the student's code printed them)."""
    found: dict[str, float] = {}
    for name, value in metrics.items():
        if len(found) >= MAX_METRICS:
            break
        if METRIC_NAME.fullmatch(str(name)) and _finite(value):
            found[str(name)] = round(float(value), 6)
    return found


# --- one job: a calibration run or a student ----------------------------------------------------


@dataclass
class Job:
    """A tree to grade: a student, or the solution / the untouched assignment of a project."""

    label: str  # "student:<id>", "solution:<project>", "untouched:<project>"
    plan: ProjectPlan
    student: Student | None = None


@dataclass
class JobResult:
    run: TestRun | None = None
    smoke: dict[str, Any] | None = None
    snapshot: Snapshot | None = None
    notes: list[str] = field(default_factory=list)
    error: str = ""
    missing: bool = False


def run_job(job: Job, work_root: Path, options: Options, seed: int, threads: int,
            stop: threading.Event) -> JobResult:  # fmt: skip
    """Prepare a job's tree and run its tests (and smoke): never raises for one job's problem."""
    from mlstarter import snapshot

    result = JobResult()
    plan = job.plan
    work = Path(tempfile.mkdtemp(prefix="job-", dir=work_root))
    timeout = options.timeout or plan.grading.timeout or DEFAULT_TIMEOUT
    try:
        answers = plan.reference
        student_files: dict[str, bytes] | None = None
        take = plan.grading.take_from_student
        if job.student is not None:
            if not job.student.repo.is_dir():
                result.missing = True
                result.error = f"no repo at {job.student.repo}"
                return result
            result.snapshot = snapshot.take(job.student.repo, plan.package)
            answers = student_answers(plan, job.student, result.snapshot, result.notes)
            student_files = result.snapshot.files
        tree, regions = render(plan, answers, work / "render", "assignment")
        # a template without `python -m <package>` has no smoke (optional for a private one)
        has_smoke = (tree / "src" / plan.package / "__main__.py").is_file()
        if job.label.startswith("solution:"):
            solution, _ = render(plan, answers, work / "solution", "showcase")
            student_files, take = package_files(solution, plan.package), "package"
        hidden = (
            plan.grader / "tests"
            if plan.grader is not None
            else work / "render" / ".hidden" / "tests"
        )
        result.notes += assemble(tree, plan, regions, student_files, take, hidden)
        assert plan.env is not None
        prepare_run_dir(work, plan.env, tree)
        if stop.is_set():
            return result
        result.run = run_tests(work, tree, plan, timeout, threads, stop)
        if (
            options.smoke
            and plan.grading.smoke
            and has_smoke
            and not job.label.startswith("untouched:")
            and not stop.is_set()
        ):
            result.smoke = run_smoke(work, tree, plan, seed, timeout, threads, stop)
    except MlstarterError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc)
    except Exception as exc:  # a bug, but one student's: the others are still graded
        result.error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def student_answers(
    plan: ProjectPlan, student: Student, snap: Snapshot, notes: list[str]
) -> dict[str, object]:
    """The answers the student's repo was made from: the batch summary's (the instructor's
    record), else the student's committed `.mlstarter.yml`, checked against the summary."""
    from mlstarter.userfiles import load_yaml

    if student.answers is not None:
        return known_answers(plan.spec, student.answers, notes)
    raw = snap.files.get(RECORD_FILE)
    if raw is None:
        raise UsageError("the batch summary has no answers for this row and the repo no record")
    data, _ = load_yaml(raw.decode("utf-8", "replace"), f"{student.student_id}'s {RECORD_FILE}")
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise UsageError(f"{student.student_id}'s {RECORD_FILE} holds no answers")
    if data.get("template") != plan.key:
        raise UsageError(f"{student.student_id}'s {RECORD_FILE} names another template")
    answers = {str(k): ("" if v is None else v) for k, v in data["answers"].items()}
    if student.seed is not None and "seed" in answers and str(answers["seed"]) != str(student.seed):
        raise UsageError(f"{student.student_id}'s {RECORD_FILE} changed the seed the batch gave")
    notes.append(f"answers read from the repo's {RECORD_FILE} (the batch summary has none)")
    return known_answers(plan.spec, answers, notes)


def known_answers(
    spec: TemplateSpec, answers: dict[str, object], notes: list[str] | None = None
) -> dict[str, object]:
    """The answers, checked, for the template as it is now: a question it no longer asks is
    dropped (and said), one it asks since takes its default."""
    dropped = sorted(set(answers) - set(spec.names))
    if dropped and notes is not None:
        notes.append(f"answers the template no longer asks were left out: {', '.join(dropped)}")
    return resolve_answers(spec, {k: v for k, v in answers.items() if k in spec.names})


# --- scoring -------------------------------------------------------------------------------------


def calibrate(plan: ProjectPlan, solution: JobResult, untouched: JobResult) -> None:
    """Which tests carry points: those that pass on the solution and fail untouched."""
    if solution.error or solution.run is None:
        raise VerificationError(
            f"{plan.key}: the pristine solution could not be graded: {solution.error or 'stopped'}"
        )
    sol = solution.run
    free = untouched.run.results if untouched.run is not None else {}
    items: list[TestItem] = []
    for nodeid in sol.collected or sorted(sol.results):
        found = sol.results.get(nodeid, {})
        outcome = str(found.get("outcome", "not run"))
        points = plan.grading.points_of(nodeid)
        item = TestItem(nodeid, points, False)
        if outcome != PASSED:
            said = str(found.get("message") or "").strip()
            item.reason = f"{outcome} on the solution" + (f": {said[:300]}" if said else "")
        elif free.get(nodeid, {}).get("outcome") == PASSED and not plan.grading.score_untouched:
            item.reason = "passes on the untouched assignment (needs no work)"
        elif points <= 0:
            item.reason = "worth 0 points (grading.yml)"
        else:
            item.graded = True
        items.append(item)
    plan.tests = items
    if not any(t.graded for t in items):
        raise VerificationError(
            f"{plan.key}: no test passes on the pristine solution and fails on the untouched "
            f"assignment, so nothing can be graded (is the environment broken?): "
            f"{sol.output_tail[-400:]}"
        )
    for why in ("on the solution", "needs no work"):
        names = [t.nodeid for t in items if why in t.reason]
        if names:
            more = " ..." if len(names) > 5 else ""
            plan.calibration_notes.append(
                f"{len(names)} test(s) carry no points ({why}): {', '.join(names[:5])}{more}"
            )
    plan.reference_smoke = solution.smoke
    if solution.smoke and plan.metric is None and solution.smoke.get("targets"):
        name, target = next(iter(solution.smoke["targets"].items()))
        plan.metric, plan.higher_is_better = name, str(target.get("op")) in (">=", ">")


def score(plan: ProjectPlan, student: Student, result: JobResult) -> StudentGrade:
    """The grade of one student from their run."""
    grade = StudentGrade(student.student_id, student.project, "graded")
    graded = [t for t in plan.tests if t.graded]
    grade.max_points = sum(t.points for t in graded)
    grade.notes = list(result.notes)
    if result.snapshot is not None:
        grade.source, grade.commit = result.snapshot.source, result.snapshot.commit
        grade.notes += result.snapshot.notes
    if result.missing:
        grade.status, grade.points, grade.reason = "missing", 0.0, result.error
        return grade
    if result.error or result.run is None:
        grade.status, grade.reason = "error", result.error or "grading was stopped"
        return grade
    run = result.run
    grade.notes += run.notes
    errors = {e["nodeid"].split("::")[0]: e["message"] for e in run.collect_errors}
    points = 0.0
    for item in graded:
        file = item.nodeid.split("::")[0]
        entry = grade.files.setdefault(file, [0.0, 0.0])
        entry[1] += item.points
        found = run.results.get(item.nodeid)
        outcome = str(found.get("outcome")) if found else "not run"
        grade.tests[item.nodeid] = outcome
        if outcome == PASSED:
            points += item.points
            entry[0] += item.points
            continue
        message = str(found.get("message") or "") if found else (
            f"not collected: {errors[file]}" if file in errors else
            "not run (the run ended before it, or the test is gone)")  # fmt: skip
        detail = str(found.get("detail") or "") if found else ""
        grade.failed.append({"nodeid": item.nodeid, "outcome": outcome, "points": item.points,
                             "message": message, "detail": detail})  # fmt: skip
    grade.points = round(points, 4)
    if run.timed_out:
        grade.status = "timed out"
        grade.notes.append("the test run reached its time limit; tests after it scored nothing")
    grade.smoke = result.smoke
    return grade


# --- the whole class -----------------------------------------------------------------------------


def grade_class(
    options: Options, progress: Progress, catalog: Catalog | None = None
) -> ClassGrades:
    """Grade every student of `options.class_dir`; raises Interrupted on SIGINT/SIGTERM (no
    grades are written then)."""
    from mlstarter.catalog import load_catalog

    catalog = catalog or load_catalog()
    students, absent, templates = read_class(options.class_dir)
    given = private_template(options.template, catalog) if options.template is not None else None
    keys = sorted({s.project for s in students} | {a.project for a in absent})
    if given is not None and len(keys) > 1 and given.key not in keys:
        raise UsageError(f"--template {options.template}: the class has no project '{given.key}'")
    plans: dict[str, ProjectPlan] = {}
    for key in sorted({s.project for s in students}):
        plans[key] = plan_project(key, students, templates, catalog, given, options, len(keys) == 1)
    seed = options.seed if options.seed is not None else 0
    for plan in plans.values():
        plan.seed = seed
    work_root = Path(tempfile.mkdtemp(prefix="mlstarter-grade-"))
    try:
        for plan in plans.values():
            interrupts.check()
            plan.env = make_env(plan, options, work_root, progress)
        calibration: list[Job] = []
        for plan in plans.values():
            calibration += [Job(f"solution:{plan.key}", plan), Job(f"untouched:{plan.key}", plan)]
        progress("total", str(len(calibration) + len(students)))
        # the calibration first: when the solution itself cannot pass, no student run is wasted
        results = run_jobs(calibration, work_root, options, seed, progress)
        for plan in plans.values():
            calibrate(plan, results[f"solution:{plan.key}"], results[f"untouched:{plan.key}"])
        jobs = [Job(f"student:{s.student_id}", plans[s.project], s) for s in students]
        results.update(run_jobs(jobs, work_root, options, seed, progress))
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    grades = [score(plans[s.project], s, results[f"student:{s.student_id}"]) for s in students]
    network = sorted(
        {r.run.network for r in results.values() if r.run is not None and r.run.network}
    )
    notes = [p.version_note for p in plans.values() if p.version_note]
    everyone = sorted(grades + absent, key=lambda g: g.student_id)
    said = "; ".join(network) or "unknown"
    said += "; in Python, an audit hook refuses every non-local socket"
    return ClassGrades(options.class_dir, seed, plans, everyone, said, notes)


def plan_project(
    key: str, students: list[Student], templates: dict[str, Any], catalog: Catalog,
    given: Project | None, options: Options, one_project: bool,
) -> ProjectPlan:  # fmt: skip
    template, note = find_template(key, templates, catalog, given, one_project)
    spec = load_template(template.template_dir)
    grader = find_grader(options, key, one_project)
    first = next(s for s in students if s.project == key)
    reference = known_answers(spec, first.answers or {})
    hidden_from = str(grader) if grader is not None else f"the template {template.template_dir}"
    plan = ProjectPlan(key, template, spec, load_spec(grader), grader, hidden_from, reference,
                       str(reference["package_name"]), note)  # fmt: skip
    plan.metric, plan.higher_is_better = plan.grading.metric, plan.grading.higher_is_better
    return plan


def make_env(plan: ProjectPlan, options: Options, work_root: Path, progress: Progress) -> GradeEnv:
    from mlstarter import gradeenv

    if options.venv is not None:
        return gradeenv.given(options.venv)
    showcase, _ = render(plan, plan.reference, work_root / f"env-{plan.key}", "showcase")
    return gradeenv.environment_for(
        plan.key, plan.spec.version, showcase, plan.package,
        lambda line: progress("note", line), options.installer,
    )  # fmt: skip


def run_jobs(
    jobs: list[Job], work_root: Path, options: Options, seed: int, progress: Progress
) -> dict[str, JobResult]:
    """Run the jobs, `options.jobs` at a time; a stop request ends the runs in flight."""
    stop = threading.Event()
    threads = max(1, (os.cpu_count() or 1) // max(1, options.jobs))
    results: dict[str, JobResult] = {}
    with interrupts.deferred():
        pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
        try:
            futures: dict[Future[JobResult], Job] = {
                pool.submit(run_job, job, work_root, options, seed, threads, stop): job
                for job in jobs
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures[future]
                    results[job.label] = future.result()
                    progress("done", job.label)
                if interrupts.requested() and not stop.is_set():
                    stop.set()
                    for future in pending:
                        future.cancel()
        except BaseException:
            stop.set()  # the runs in flight end their process trees
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    signum = interrupts.requested()
    if signum:
        raise Interrupted(signum)
    return results
