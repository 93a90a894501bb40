"""Prove a generated repo works: a fresh venv, its setup, its tests offline, its smoke example.

Each step runs as a child process in a session (process group) of its own, with a time limit.
When the step ends, by exit, timeout or interrupt, its whole group is stopped: make, pip, pytest
and whatever they left running in the background; mlstarter never waits on a background child
that still holds its output. The output kept is bounded (a tail of lines for the user, the last
JSON line of the smoke run). Steps report to a callback as they start, print and end; the command
line turns that into a live display.

The smoke run's last JSON line is its report (templates/_shared/targets.py):
`{"ok", "seconds", "metrics", "targets": {NAME: {"value", "op", "threshold", "met", "source"}}}`.
The smoke step passes only when the report is well formed, every target is met, `ok` agrees with
the targets and `met` with each value and threshold, and the run exited 0.
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlstarter.answers import RECORD_FILE
from mlstarter.errors import UsageError, VerificationError
from mlstarter.userfiles import MAX_ANSWERS_BYTES, load_data_file

TAIL_LINES = 25
# a line of pytest's short summary (-ra, on in every starter): "SKIPPED [2] tests/x.py:12: why"
SKIP_LINE = re.compile(r"SKIPPED \[(\d+)\] (\S+?): (.*)")
GROUP_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
TAIL_WIDTH = 2000
MAX_LINE_BYTES = 1024 * 1024
DEFAULT_STEP_TIMEOUT = 1800.0
GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL to a step's group
DRAIN_SECONDS = 2.0  # output still read after a step ended
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
PACKAGE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class StepResult:
    """One step: what ran, how long it took, and how it ended."""

    name: str
    command: list[str]
    seconds: float = 0.0
    ok: bool = False
    returncode: int | None = None
    tail: list[str] = field(default_factory=list)
    reason: str = ""  # why it failed, in words: "exit 1", "timed out after 1800 s", ...
    timed_out: bool = False


@dataclass
class VerifyReport:
    """The whole verification: every step run, in order, and the smoke run's report."""

    path: str
    venv: str
    steps: list[StepResult]
    smoke: dict[str, object] | None = None
    targets: list[dict[str, object]] = field(default_factory=list)
    installer: str = "pip"  # what `make setup` installed with: uv or pip
    groups: list[str] = field(default_factory=list)  # dependency groups installed beside dev
    skipped: list[dict[str, object]] = field(default_factory=list)  # pytest's skip summary

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "path": self.path,
            "venv": self.venv,
            "steps": [asdict(step) for step in self.steps],
            "smoke": self.smoke,
            "targets": self.targets,
            "installer": self.installer,
            "groups": self.groups,
            "skipped": self.skipped,
        }


# on_event(kind, step_name, text): kind is "start", "line" or "end".
Listener = Callable[[str, str, str], None]


def find_package(repo: Path) -> str:
    """The repo's Python package: from its `.mlstarter.yml`, else its only `src/*/__main__.py`.

    A record that is there but malformed fails verification (VerificationError).
    """
    record = repo / RECORD_FILE
    if record.exists() or record.is_symlink():
        try:
            data = load_data_file(record, MAX_ANSWERS_BYTES, "the record")
        except UsageError as exc:
            raise VerificationError(f"{exc}; the repo's record is malformed") from None
        answers = data.get("answers") if isinstance(data, dict) else None
        if not isinstance(answers, dict):
            raise VerificationError(f"{record}: malformed record (no 'answers' mapping)")
        name = answers.get("package_name")
        if isinstance(name, str) and PACKAGE.fullmatch(name) and (repo / "src" / name).is_dir():
            return name
    mains = sorted(repo.glob("src/*/__main__.py"))
    if len(mains) != 1 or not PACKAGE.fullmatch(mains[0].parent.name):
        raise VerificationError(
            f"{repo}: cannot tell its package (no usable .mlstarter.yml, {len(mains)} mains)"
        )
    return mains[0].parent.name


def has_target(makefile: Path, target: str) -> bool:
    """Whether a Makefile (any bytes, any encoding) has a rule for `target`."""
    try:
        data = makefile.read_bytes() if makefile.is_file() else b""
    except OSError:
        return False
    pattern = rb"(?m)^" + re.escape(target.encode()) + rb"[ \t]*:(?!=)"
    return re.search(pattern, data) is not None


INSTALLERS = ("auto", "uv", "pip")


def choose_installer(wanted: str, path: str) -> str:
    """`uv` or `pip`: `auto` takes uv when it is on `path` (the steps' PATH), like `make setup`."""
    if wanted not in INSTALLERS:
        raise UsageError(f"--installer '{wanted}': choose one of {', '.join(INSTALLERS)}")
    if wanted == "auto":
        return "uv" if shutil.which("uv", path=path) else "pip"
    if wanted == "uv" and not shutil.which("uv", path=path):
        raise UsageError("--installer uv: uv is not on PATH (pip install uv, or --installer pip)")
    return wanted


def declared_groups(repo: Path) -> list[str]:
    """The names of the repo's `[dependency-groups]` (PEP 735); [] when it has none."""
    try:
        data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VerificationError(f"{repo / 'pyproject.toml'}: unreadable ({exc})") from None
    groups = data.get("dependency-groups")
    return sorted(str(name) for name in groups) if isinstance(groups, dict) else []


def check_groups(repo: Path, groups: Sequence[str]) -> list[str]:
    """`groups` without repeats, each a dependency group of the repo, else a UsageError."""
    wanted = list(dict.fromkeys(groups))
    if not wanted:
        return []
    for name in wanted:  # a PEP 735 name: it goes on make's command line as WITH=...
        if not GROUP_NAME.fullmatch(name):
            raise UsageError(f"--with {name!r}: not a dependency group name (letters, digits, .-_)")
    declared = declared_groups(repo)
    unknown = [name for name in wanted if name not in declared]
    if unknown:
        has = ", ".join(declared) if declared else "none"
        raise UsageError(f"--with {unknown[0]}: the repo has no such dependency group (has: {has})")
    return wanted


def plan(
    repo: Path, python: Path, installer: str = "pip", groups: Sequence[str] = ()
) -> list[tuple[str, list[str]]]:
    """The steps after the venv, as commands run from the repo: setup (with `installer`, and the
    dependency `groups` beside the dev tools), lint (when the Makefile has a lint rule: ruff,
    formatting, types, as the repo's CI runs them), tests, smoke."""
    package = find_package(repo)
    make = shutil.which("make")
    makefile = repo / "Makefile"
    with_groups = [arg for name in groups for arg in ("--group", name)]
    if make and has_target(makefile, "setup"):
        setup = [make, "setup", f"PYTHON={python}", f"INSTALLER={installer}"]
        if groups:
            setup.append(f"WITH={' '.join(groups)}")
    elif installer == "uv":
        setup = ["uv", "pip", "install", "--python", str(python), "-e", ".[dev]", *with_groups]
    else:
        setup = [str(python), "-m", "pip", "install", "-e", ".[dev]", *with_groups]
    steps = [("setup", setup)]
    if make and has_target(makefile, "lint"):
        steps.append(("lint", [make, "lint", f"PYTHON={python}"]))
    return [
        *steps,
        # -ra: the short summary names every skipped test and why (the report's "skipped")
        ("test", [str(python), "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider"]),
        ("smoke", [str(python), "-m", package, "smoke"]),
    ]


def verify(
    repo: Path,
    venv: Path | None = None,
    on_event: Listener | None = None,
    base_python: str = sys.executable,
    timeout: float = DEFAULT_STEP_TIMEOUT,
    installer: str = "auto",
    groups: Sequence[str] = (),
) -> VerifyReport:
    """Run every step in order, stopping at the first failure; return the report.

    Without `venv`, a temporary venv is made and removed afterwards; with it, the venv is made
    when missing and reused when present. Each step may take at most `timeout` seconds.
    `installer` (auto, uv or pip) is what `make setup` installs with; auto takes uv when present.
    `groups` are dependency groups installed too (the demo's: its tests then run instead of
    skipping); the report lists every test pytest skipped, and why.
    """
    repo = repo.resolve()
    if not (repo / "pyproject.toml").is_file():
        raise UsageError(f"{repo}: not a generated repo (no pyproject.toml)")
    wanted_groups = check_groups(repo, groups)
    listener = on_event or (lambda kind, name, text: None)
    temporary = venv is None
    if venv is None:
        venv = Path(tempfile.mkdtemp(prefix="mlstarter-verify-")) / "venv"
    venv_dir = venv.resolve()
    python = venv_dir / "bin" / "python"
    steps: list[StepResult] = []
    report = VerifyReport(str(repo), str(venv_dir), steps, groups=wanted_groups)
    env = _child_env(venv_dir)

    def notify(kind: str, name: str, text: str) -> None:
        if kind == "line" and name == "test" and (skip := SKIP_LINE.match(text)):
            count, where, why = skip.groups()
            report.skipped.append({"count": int(count), "where": where, "reason": why})
        listener(kind, name, text)

    try:  # from here on the temporary folder goes whatever happens, a refused installer included
        report.installer = choose_installer(installer, env["PATH"])
        after_venv = plan(repo, python, report.installer, wanted_groups)
        make_venv = [base_python, "-m", "venv", str(venv_dir)]
        if report.installer == "uv":  # uv makes a venv in a fraction of the time; pip seeded,
            # so the venv also serves a later `--installer pip` run
            make_venv = ["uv", "venv", "--seed", "--quiet", "--python", base_python, str(venv_dir)]
        commands = [("venv", make_venv)] if not python.exists() else []
        for name, command in commands + after_venv:
            step, last_json = _run_step(name, command, repo, env, notify, timeout)
            steps.append(step)
            if name == "smoke" and step.returncode is not None and not step.timed_out:
                _judge_smoke(step, last_json, report)
            notify("end", name, "ok" if step.ok else step.reason)
            if not step.ok:
                break
    finally:
        if temporary:
            shutil.rmtree(venv_dir.parent, ignore_errors=True)
    return report


def _judge_smoke(step: StepResult, last_json: str | None, report: VerifyReport) -> None:
    """Read the smoke report; the step passes only if it is sound, met, and the run exited 0."""
    problem = None
    if last_json is None:
        problem = "the smoke run printed no JSON report on stdout"
        if step.returncode != 0:
            problem = f"exit {step.returncode}, and no JSON report on stdout"
    else:
        try:
            data = json.loads(last_json)
        except (json.JSONDecodeError, RecursionError):
            data = None
            problem = "the smoke report (its last JSON line) is not valid JSON"
        if problem is None:
            report.smoke = data if isinstance(data, dict) else None
            report.targets, problem = check_smoke_report(data)
    if problem is None and step.returncode != 0:
        problem = f"the smoke run exited {step.returncode} although its report says ok"
    if problem is not None:
        step.ok = False
        step.reason = problem
        step.tail.append(f"mlstarter: {problem}")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_smoke_report(report: object) -> tuple[list[dict[str, object]], str | None]:
    """The report's targets as rows, and why the report fails the smoke step (None: it passes)."""
    if not isinstance(report, dict):
        return [], "the smoke report is not a JSON object"
    shape = (
        ("ok", isinstance(report.get("ok"), bool), "true or false"),
        ("seconds", _number(report.get("seconds")), "a number"),
        ("metrics", isinstance(report.get("metrics"), dict), "a mapping"),
    )
    for key, good, expected in shape:
        if not good:
            return [], f"the smoke report's '{key}' is missing or not {expected}"
    targets = report.get("targets")
    if not isinstance(targets, dict) or not targets:
        return [], (
            "the smoke report has no targets: every report states what it had to reach "
            "(templates/_shared/targets.py)"
        )
    rows: list[dict[str, object]] = []
    for name, entry in targets.items():
        row, problem = _check_target(str(name), entry)
        if problem is not None:
            return rows, f"the smoke report's target '{name}' {problem}"
        rows.append(row)
    missed = [row for row in rows if not row["met"]]
    if report["ok"] != (not missed):
        says = "every target is met" if not missed else f"'{missed[0]['name']}' is missed"
        return rows, f"the smoke report says ok={str(report['ok']).lower()}, but {says}"
    if missed:
        first = missed[0]
        return rows, (
            f"missed target '{first['name']}': {first['value']} {first['op']} "
            f"{first['threshold']} ({first['source']})"
        )
    return rows, None


def _check_target(name: str, entry: object) -> tuple[dict[str, object], str | None]:
    if not isinstance(entry, dict):
        return {}, "is not a mapping"
    value, op, threshold = entry.get("value"), entry.get("op"), entry.get("threshold")
    met, source = entry.get("met"), entry.get("source")
    if value is not None and not _number(value):
        return {}, "has a 'value' that is not a number"
    if op not in OPS:
        return {}, f"has 'op' {op!r}, not one of {', '.join(OPS)}"
    if not _number(threshold) or not math.isfinite(float(threshold)):  # type: ignore[arg-type]
        return {}, "has a 'threshold' that is not a finite number"
    if not isinstance(met, bool):
        return {}, "has a 'met' that is not true or false"
    if not isinstance(source, str) or not source.strip():
        return {}, "has no 'source' (a baseline of the same run, or a citation)"
    row: dict[str, object] = {"name": name, "value": value, "op": op, "threshold": threshold,
                              "met": met, "source": source}  # fmt: skip
    if value is None or not math.isfinite(float(value)):
        if met:
            return row, "is met without a value"
        return row, None
    reached = OPS[str(op)](float(value), float(threshold))  # type: ignore[arg-type]
    # values are rounded to 6 decimals in the report: at the boundary either answer is honest
    tolerance = 1e-6 * max(1.0, abs(float(threshold)))  # type: ignore[arg-type]
    if reached != met and abs(float(value) - float(threshold)) > tolerance:  # type: ignore[arg-type]
        said, truth = str(met).lower(), str(reached).lower()
        return row, f"says met={said}, but {value} {op} {threshold} is {truth}"
    return row, None


def _child_env(venv_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env.update(OFFLINE_ENV)
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


class _Lines:
    """Bytes in, whole lines out; a line longer than MAX_LINE_BYTES is cut (and marked)."""

    def __init__(self) -> None:
        self.partial = bytearray()
        self.cut = False

    def feed(self, data: bytes) -> list[str]:
        lines: list[str] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            self._add(data[start:] if end < 0 else data[start:end])
            if end < 0:
                return lines
            lines.append(self._take())
            start = end + 1

    def flush(self) -> list[str]:
        return [self._take()] if self.partial or self.cut else []

    def _add(self, chunk: bytes) -> None:
        room = MAX_LINE_BYTES - len(self.partial)
        self.partial += chunk[: max(room, 0)]
        self.cut = self.cut or len(chunk) > room

    def _take(self) -> str:
        text = self.partial.decode("utf-8", errors="replace").rstrip("\r")
        if self.cut:
            text += " [line cut by mlstarter]"
        self.partial = bytearray()
        self.cut = False
        return text


def _run_step(
    name: str,
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    notify: Listener,
    timeout: float,
) -> tuple[StepResult, str | None]:
    """Run one step; return its result and the last stdout line that starts a JSON object."""
    step = StepResult(name, command)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    last_json: str | None = None
    notify("start", name, " ".join(command))
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        step.reason = f"cannot start {command[0]}: {exc.strerror}"
        step.tail = [step.reason]
        return step, None
    assert proc.stdout is not None and proc.stderr is not None
    streams = {proc.stdout.fileno(): _Lines(), proc.stderr.fileno(): _Lines()}
    stdout_fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    for fd in streams:
        selector.register(fd, selectors.EVENT_READ)
    ended_at: float | None = None

    def take(fd: int, lines: list[str]) -> None:
        nonlocal last_json
        for line in lines:
            tail.append(line[:TAIL_WIDTH])
            if fd == stdout_fd and line.lstrip().startswith("{"):
                last_json = line
            notify("line", name, line[:TAIL_WIDTH])

    try:
        while selector.get_map():
            now = time.monotonic()
            if ended_at is None and now - started > timeout:
                step.reason = f"timed out after {timeout:g} s (--timeout)"
                step.timed_out = True
                _end_group(proc)
                ended_at = time.monotonic()
            if ended_at is not None and time.monotonic() - ended_at > DRAIN_SECONDS:
                break  # something outside the group still holds the pipe: stop listening
            for key, _ in selector.select(timeout=0.2):
                data = os.read(key.fd, 65536)
                if data:
                    take(key.fd, streams[key.fd].feed(data))
                else:
                    selector.unregister(key.fd)
            if ended_at is None and proc.poll() is not None:
                ended_at = time.monotonic()
                _end_group(proc)  # what the step left running in the background
    except BaseException:
        _end_group(proc)
        raise
    finally:
        selector.close()
        proc.stdout.close()
        proc.stderr.close()
    for fd, lines in streams.items():
        take(fd, lines.flush())
    proc.wait()
    step.seconds = round(time.monotonic() - started, 2)
    step.returncode = proc.returncode
    step.ok = proc.returncode == 0 and not step.reason
    if not step.reason and not step.ok:
        step.reason = f"exit {proc.returncode}"
    step.tail = list(tail)
    return step, last_json


def _end_group(proc: subprocess.Popen[Any]) -> None:
    """Stop a step's process group: SIGTERM, a grace period, then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                proc.poll()
                return
            time.sleep(0.05)
    proc.poll()
