"""Prove a generated repo works: a fresh venv, its setup, its tests offline, its smoke example.

Each step runs as a child process in a session of its own, so an interrupt stops the whole tree
(make, pip, pytest and what they started). Steps report to a callback as they start, print and end;
the command line turns that into a live display.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from mlstarter.answers import RECORD_FILE
from mlstarter.errors import UsageError

TAIL_LINES = 25
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


@dataclass
class StepResult:
    """One step: what ran, how long it took, and how it ended."""

    name: str
    command: list[str]
    seconds: float = 0.0
    ok: bool = False
    returncode: int | None = None
    tail: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    """The whole verification: every step run, in order, and the smoke run's metrics."""

    path: str
    venv: str
    steps: list[StepResult]
    smoke: dict[str, object] | None = None

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
        }


# on_event(kind, step_name, text): kind is "start", "line" or "end".
Listener = Callable[[str, str, str], None]


def find_package(repo: Path) -> str:
    """The repo's Python package: from its `.mlstarter.yml`, else its only `src/*/__main__.py`."""
    record = repo / RECORD_FILE
    if record.is_file():
        data = yaml.safe_load(record.read_text(encoding="utf-8")) or {}
        name = (data.get("answers") or {}).get("package_name")
        if isinstance(name, str) and (repo / "src" / name).is_dir():
            return name
    mains = sorted(repo.glob("src/*/__main__.py"))
    if len(mains) != 1:
        raise UsageError(f"{repo}: cannot tell its package (no .mlstarter.yml, {len(mains)} mains)")
    return mains[0].parent.name


def plan(repo: Path, python: Path) -> list[tuple[str, list[str]]]:
    """The steps after the venv: setup, tests, smoke, as commands run from the repo."""
    package = find_package(repo)
    makefile = repo / "Makefile"
    make = shutil.which("make")
    if make and makefile.is_file() and "\nsetup:" in "\n" + makefile.read_text(encoding="utf-8"):
        setup = [make, "setup", f"PYTHON={python}"]
    else:
        setup = [str(python), "-m", "pip", "install", "-e", ".[dev]"]
    return [
        ("setup", setup),
        ("test", [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]),
        ("smoke", [str(python), "-m", package, "smoke"]),
    ]


def verify(
    repo: Path,
    venv: Path | None = None,
    on_event: Listener | None = None,
    base_python: str = sys.executable,
) -> VerifyReport:
    """Run every step in order, stopping at the first failure; return the report.

    Without `venv`, a temporary venv is made and removed afterwards; with it, the venv is made
    when missing and reused when present.
    """
    repo = repo.resolve()
    if not (repo / "pyproject.toml").is_file():
        raise UsageError(f"{repo}: not a generated repo (no pyproject.toml)")
    notify = on_event or (lambda kind, name, text: None)
    temporary = venv is None
    venv_dir = Path(tempfile.mkdtemp(prefix="mlstarter-verify-")) / "venv" if temporary else venv
    venv_dir = venv_dir.resolve()
    python = venv_dir / "bin" / "python"
    steps: list[StepResult] = []
    report = VerifyReport(str(repo), str(venv_dir), steps)
    env = _child_env(venv_dir)
    try:
        commands = (
            [("venv", [base_python, "-m", "venv", str(venv_dir)])] if not python.exists() else []
        )
        commands += plan(repo, python)
        for name, command in commands:
            step, stdout = _run_step(name, command, repo, env, notify)
            steps.append(step)
            if not step.ok:
                break
            if name == "smoke":
                report.smoke = _smoke_json(stdout)
                if report.smoke is None:
                    step.ok = False
                    step.tail.append("mlstarter: the smoke run printed no JSON line")
                elif report.smoke.get("ok") is False:
                    step.ok = False
                    step.tail.append("mlstarter: the smoke run reports a missed target")
    finally:
        if temporary:
            shutil.rmtree(venv_dir.parent, ignore_errors=True)
    return report


def _child_env(venv_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env.update(OFFLINE_ENV)
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_step(
    name: str, command: list[str], cwd: Path, env: dict[str, str], notify: Listener
) -> tuple[StepResult, list[str]]:
    step = StepResult(name, command)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    stdout_lines: list[str] = []
    notify("start", name, " ".join(command))
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True,
    )  # fmt: skip

    def pump(stream, keep: list[str] | None) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            tail.append(line)
            if keep is not None:
                keep.append(line)
            notify("line", name, line)

    readers = [
        threading.Thread(target=pump, args=(proc.stdout, stdout_lines), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        proc.wait()
        for reader in readers:
            reader.join()
    except BaseException:
        _stop(proc)
        raise
    step.seconds = round(time.monotonic() - started, 2)
    step.returncode = proc.returncode
    step.ok = proc.returncode == 0
    step.tail = list(tail)
    notify("end", name, "ok" if step.ok else f"exit {proc.returncode}")
    return step, stdout_lines


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop a child and everything it started: SIGTERM to its session, then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _smoke_json(stdout: list[str]) -> dict[str, object] | None:
    """The smoke run's result: the last stdout line that is a JSON object."""
    for line in reversed(stdout):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None
