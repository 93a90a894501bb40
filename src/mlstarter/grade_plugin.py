"""The pytest plugin `mlstarter grade` loads into a student's test run (as `_mlstarter_grade`).

It runs inside the sandbox, beside the student's code, and imports nothing of mlstarter. It
appends one JSON line per event to the file named by MLSTARTER_GRADE_REPORT, flushed at once, so
a run that dies mid-way still tells which tests finished and which one was running:
`collected` (every test id), `collect_error`, `start`, `result` (outcome, message, seconds) and
`finished`. Each test item gets at most MLSTARTER_GRADE_TEST_TIMEOUT seconds (SIGALRM), so one
endless loop costs one test, not the run.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Generator
from typing import Any

import pytest

_REPORT = os.environ.get("MLSTARTER_GRADE_REPORT", "")
_TEST_TIMEOUT = float(os.environ.get("MLSTARTER_GRADE_TEST_TIMEOUT", "0") or 0)
_MESSAGE = 2000
_DETAIL = 6000
_state: dict[str, Any] = {"fd": None, "outcomes": {}, "messages": {}, "seconds": {}}


def _write(record: dict[str, object]) -> None:
    if not _REPORT:
        return
    if _state["fd"] is None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        _state["fd"] = os.open(_REPORT, flags, 0o600)
    os.write(_state["fd"], (json.dumps(record) + "\n").encode("utf-8", "backslashreplace"))


def _message(report: Any) -> tuple[str, str]:
    """The one-line reason and the longer detail of a failed or skipped report."""
    detail = str(getattr(report, "longreprtext", "") or "")
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    line = str(getattr(crash, "message", "") or "")
    if not line and isinstance(getattr(report, "longrepr", None), tuple):
        line = str(report.longrepr[2])  # a skip: (file, line, reason)
    if not line:
        line = detail.strip().splitlines()[-1] if detail.strip() else ""
    return line[:_MESSAGE], detail[-_DETAIL:]


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        line, detail = _message(report)
        _write({"kind": "collect_error", "nodeid": report.nodeid, "message": line,
                "detail": detail})  # fmt: skip


def pytest_collection_finish(session: Any) -> None:
    _write({"kind": "collected", "nodeids": [item.nodeid for item in session.items]})


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _write({"kind": "start", "nodeid": nodeid})


class _TestTimeout(Exception):
    """A test item ran past its time limit."""


def _alarm(signum: int, frame: object) -> None:
    raise _TestTimeout(f"the test ran longer than {_TEST_TIMEOUT:g} s (mlstarter grade)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Generator[None, object, object]:
    if _TEST_TIMEOUT > 0:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, _TEST_TIMEOUT)
    try:
        return (yield)
    finally:
        if _TEST_TIMEOUT > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)


def pytest_runtest_logreport(report: Any) -> None:
    nodeid = report.nodeid
    outcomes, messages = _state["outcomes"], _state["messages"]
    _state["seconds"][nodeid] = _state["seconds"].get(nodeid, 0.0) + float(report.duration)
    previous = outcomes.get(nodeid)
    if report.failed:
        outcomes[nodeid] = "failed" if report.when == "call" else "error"
        messages[nodeid] = _message(report)
    elif report.skipped and previous not in ("failed", "error"):
        outcomes[nodeid] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        messages[nodeid] = _message(report)
    elif report.when == "call" and report.passed and previous is None:
        outcomes[nodeid] = "xpassed" if hasattr(report, "wasxfail") else "passed"
    if report.when == "teardown":
        line, detail = messages.get(nodeid, ("", ""))
        _write({"kind": "result", "nodeid": nodeid, "outcome": outcomes.get(nodeid, "error"),
                "message": line, "detail": detail,
                "seconds": round(_state["seconds"][nodeid], 3)})  # fmt: skip


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    _write({"kind": "finished", "exitstatus": int(exitstatus)})
