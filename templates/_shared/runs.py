"""Run folders: every command that trains or computes leaves `runs/<name>/` behind.

A run folder holds what a reviewer (or `make report`) needs to see what happened:

    report.json       the report the command printed (see targets.py)
    history.jsonl     one JSON object per step or epoch, in order
    config.json       the settings the run used, with its seed
    environment.json  Python, platform, CPU and GPU, and every installed package's version
    ...               the run's own artifacts (checkpoints, predictions, small images)

The folder is written beside its final place and renamed into place only when the run finishes,
so an interrupted or failed run leaves no half-written folder; the previous run of the same name
is kept as `runs/<name>.previous`. `atomic_directory` and `atomic_file` give the same guarantee to
downloads, clones and checkpoints. This file is the same in every mlstarter starter.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

RUNS = Path("runs")
REPORT = "report.json"
HISTORY = "history.jsonl"
CONFIG = "config.json"
ENVIRONMENT = "environment.json"


class RunFolder:
    """One run's folder, staged beside `runs/<name>` until `finish` moves it into place.

    Use it as a context manager: leaving the block without `finish` (an error, Ctrl-C) removes
    the staged folder and leaves `runs/` as it was.
    """

    def __init__(self, name: str, config: Mapping[str, Any], root: Path = RUNS) -> None:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"a run name is one plain folder name, not {name!r}")
        self.name = name
        self.root = Path(root)
        self.target = self.root / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=self.root))
        self.config = dict(config)
        self.started = time.time()
        self.finished = False
        write_json(self.staging / CONFIG, self.config)
        write_json(self.staging / ENVIRONMENT, environment())

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.finished:
            shutil.rmtree(self.staging, ignore_errors=True)

    def path(self, filename: str) -> Path:
        """Where the run keeps one of its artifacts (inside the staged folder until `finish`)."""
        return self.staging / filename

    def log(self, **row: Any) -> None:
        """Append one row (a step or an epoch, with its metrics) to the history."""
        with (self.staging / HISTORY).open("a", encoding="utf-8") as out:
            out.write(json.dumps(_plain(row), allow_nan=False) + "\n")

    def finish(self, report: Mapping[str, Any]) -> Path:
        """Write the report and move the folder into place; return `runs/<name>`."""
        write_json(self.staging / REPORT, dict(report))
        (self.staging / HISTORY).touch()
        previous = self.root / f"{self.name}.previous"
        if self.target.exists():
            if previous.exists():
                shutil.rmtree(previous)
            self.target.rename(previous)
        self.staging.rename(self.target)
        self.finished = True
        return self.target


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Run a command's ``main()`` and exit with its code. Ctrl-C ends it at once with one line
    and exit code 130, not a traceback (run folders and downloads are staged, so nothing
    half-written is kept)."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C)", file=sys.stderr)
        raise SystemExit(130) from None
    raise SystemExit(code)


def latest_run(root: Path = RUNS) -> Path:
    """The run folder finished last (the newest report.json), for `report` without a name."""
    reports = [p for p in Path(root).glob(f"*/{REPORT}") if not p.parent.name.endswith(".previous")]
    if not reports:
        raise FileNotFoundError(f"no finished run in {root}/: run `make smoke` first")
    return max(reports, key=lambda p: p.stat().st_mtime).parent


def read_run(folder: Path) -> dict[str, Any]:
    """A finished run: its report, history rows, config and environment."""
    folder = Path(folder)
    if not (folder / REPORT).is_file():
        raise FileNotFoundError(f"{folder} is not a finished run (no {REPORT})")
    history_path = folder / HISTORY
    history = [
        json.loads(line)
        for line in (
            history_path.read_text(encoding="utf-8").splitlines() if history_path.exists() else []
        )
        if line.strip()
    ]
    return {
        "name": folder.name,
        "path": folder,
        "report": json.loads((folder / REPORT).read_text(encoding="utf-8")),
        "history": history,
        "config": _read_json(folder / CONFIG),
        "environment": _read_json(folder / ENVIRONMENT),
    }


def environment() -> dict[str, Any]:
    """What the run ran on: Python, platform, CPU, GPU (when torch is loaded), package versions."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": {
            dist.metadata["Name"]: dist.version
            for dist in sorted(
                metadata.distributions(), key=lambda d: str(d.metadata["Name"]).lower()
            )
            if dist.metadata["Name"]
        },
    }
    torch = sys.modules.get("torch")  # only when the run loaded it: never import it here
    if torch is not None:
        cuda = bool(torch.cuda.is_available())
        info["gpu"] = torch.cuda.get_device_name(0) if cuda else None
        info["torch_threads"] = torch.get_num_threads()
    return info


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a folder beside `target` and rename it into place only when the block succeeds.

    A failure or interrupt leaves `target` as it was (absent, or the previous version, which is
    replaced only at the very end). If the staged folder cannot be removed, the error says where
    it is, so nothing silently blocks the next try.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        _remove_or_explain(staging)
        raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Write a file beside `target` (same folder) and rename it into place on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.partial-", dir=target.parent)
    os.close(handle)
    staging = Path(name)
    try:
        yield staging
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    staging.replace(target)


def write_json(path: Path, data: Any) -> None:
    """JSON, indented and sorted, written atomically."""
    with atomic_file(path) as staging:
        staging.write_text(
            json.dumps(_plain(data), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )


def _remove_or_explain(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        raise OSError(f"could not remove the partial folder {folder}: delete it, then try again")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _plain(value: Any) -> Any:
    """Values JSON can hold: numpy and torch scalars as numbers, paths as text, NaN as null."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if hasattr(value, "item"):  # numpy and torch scalars
        value = value.item()
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, int):
        return value
    return str(value)
