"""GitHub Classroom feedback points: the visible tests that exercise your TODOs.

Copied by mlstarter into an assignment as `.github/classroom/graded_tests.py`; the Classroom
workflow runs it once. It runs the tests in `tests/`; a test that passes scores only when it
called a function with a TODO (README.md, "Your assignment"), in the test process or in a Python
process the test starts, through the test itself or a fixture it uses: a test that passes
without your code carries no points. A test that fails, errors or skips scores nothing. Each
file's points (`autograding.json`: its `# points: N`, else one a test that counts) are shared by
its tests that count.

These points are feedback. Your instructor grades with `mlstarter grade`, which runs the tests as
the starter has them, and more.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HITS_ENV = "GRADED_TESTS_HITS"  # the file where child processes note the test that called a TODO
TEST_ENV = "GRADED_TESTS_CURRENT"  # the test running now (inherited by the processes it starts)
TODOS_ENV = "GRADED_TESTS_TODOS"
SITE = (
    "import os\n"
    "import sys\n\n"
    f"if os.environ.get({HITS_ENV!r}):\n"
    f"    sys.path.insert(0, {str(HERE)!r})\n"
    "    from graded_tests import watch_child\n\n"
    "    watch_child()\n"
)


def todo_matcher(todos: list[tuple[str, str]]) -> Callable[[Any], bool]:
    """Whether a code object is one of the functions with a TODO (file and qualified name)."""
    cache: dict[Any, bool] = {}

    def matches(code: Any) -> bool:
        found = cache.get(code)
        if found is None:
            filename = code.co_filename.replace("\\", "/")
            qualname = getattr(code, "co_qualname", code.co_name)
            found = any(
                qualname == function and filename.endswith("/" + file) for file, function in todos
            )
            cache[code] = found
        return found

    return matches


def install(todos: list[tuple[str, str]], on_hit: Callable[[], None]) -> None:
    """Call `on_hit` whenever a function with a TODO starts, in every thread."""
    matches = todo_matcher(todos)

    def profile(frame: Any, event: str, arg: object) -> None:
        if event == "call" and matches(frame.f_code):
            on_hit()

    sys.setprofile(profile)
    threading.setprofile(profile)


def watch_child() -> None:
    """In a Python process a test started: note the test once when it calls a TODO."""
    hits, todos = os.environ[HITS_ENV], json.loads(os.environ.get(TODOS_ENV, "[]"))
    noted: set[str] = set()

    def on_hit() -> None:
        test = os.environ.get(TEST_ENV, "")
        if test not in noted:
            noted.add(test)
            with open(hits, "a", encoding="utf-8") as out:
                out.write(test + "\n")

    install([tuple(t) for t in todos], on_hit)


class Counter:
    """The tests that ran, their outcomes, and which of them called a TODO."""

    def __init__(self, hits_file: Path) -> None:
        self.hits_file = hits_file
        self.hits = 0  # calls to a TODO in this process
        self.outcome: dict[str, str] = {}
        self.message: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self.exercised: set[str] = set()
        self.fixtures: set[str] = set()  # fixtures whose setup called a TODO
        self.fixtures_of: dict[str, list[str]] = {}
        self._before = 0

    def hit(self) -> None:
        self.hits += 1

    def _child_hits(self) -> list[str]:
        try:
            return self.hits_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        os.environ[TEST_ENV] = nodeid
        self._before = self.hits

    def pytest_itemcollected(self, item: Any) -> None:
        self.fixtures_of[item.nodeid] = list(getattr(item, "fixturenames", []))

    def marks(self) -> tuple[int, int]:
        """Where the counts of calls to a TODO stand (this process, the children)."""
        return self.hits, len(self._child_hits())

    def pytest_runtest_logreport(self, report: Any) -> None:
        nodeid = report.nodeid
        if self.hits > self._before:
            self.exercised.add(nodeid)
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + report.duration
        previous = self.outcome.get(nodeid)
        if report.failed:
            self.outcome[nodeid] = "failed"
            self.message[nodeid] = _short(report.longreprtext)
        elif report.skipped and previous != "failed":
            self.outcome[nodeid] = "skipped"
        elif report.when == "call" and report.passed and previous is None:
            self.outcome[nodeid] = "passed"

    def called_a_todo(self, nodeid: str) -> bool:
        children = set(self._child_hits())
        used = set(self.fixtures_of.get(nodeid, []))
        return nodeid in self.exercised or nodeid in children or bool(used & self.fixtures)

    def counted(self, nodeid: str) -> bool:
        """A test carries points unless it passed without calling a TODO (a test that failed,
        errored or skipped stays in the total, scoring nothing)."""
        return self.outcome.get(nodeid) != "passed" or self.called_a_todo(nodeid)


def _short(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


def fixture_hook(counter: Counter) -> object:
    """A pytest plugin object with the fixture-setup wrapper (pytest needs it as a hookwrapper)."""
    import pytest

    class Fixtures:
        @pytest.hookimpl(wrapper=True)
        def pytest_fixture_setup(
            self, fixturedef: Any, request: Any
        ) -> Generator[None, object, object]:
            before = counter.marks()
            try:
                return (yield)
            finally:
                if counter.marks() != before:
                    counter.fixtures.add(fixturedef.argname)

    return Fixtures()


def score(config: dict[str, Any], counter: Counter) -> dict[str, Any]:
    """The Classroom result: one entry a counted test, each file's points shared among them."""
    points = {entry["file"]: entry.get("points") for entry in config.get("tests", [])}
    by_file: dict[str, list[str]] = {}
    for nodeid in counter.outcome:
        if counter.counted(nodeid):
            by_file.setdefault(nodeid.split("::")[0], []).append(nodeid)
    tests: list[dict[str, Any]] = []
    max_score = 0.0
    for file, nodeids in sorted(by_file.items()):
        weight = points.get(file)
        total = float(weight) if weight is not None else float(len(nodeids))
        max_score += total
        for nodeid in nodeids:
            passed = counter.outcome[nodeid] == "passed"
            tests.append({
                "name": nodeid, "status": "pass" if passed else "fail",
                "score": round(total / len(nodeids), 4) if passed else 0,
                "message": counter.message.get(nodeid, counter.outcome[nodeid]),
                "line_no": 0, "execution_time": f"{counter.seconds.get(nodeid, 0.0):.2f}s",
                "test_code": nodeid, "filename": file,
            })  # fmt: skip
    failed = any(t["status"] != "pass" for t in tests)
    return {"version": 1, "status": "fail" if failed else "pass",
            "max_score": round(max_score, 4), "tests": tests}  # fmt: skip


def main() -> int:
    import pytest

    config = json.loads((HERE / "autograding.json").read_text(encoding="utf-8"))
    todos = [(t["file"], t["function"]) for t in config.get("todos", [])]
    with tempfile.TemporaryDirectory(prefix="graded-tests-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITE, encoding="utf-8")
        hits = Path(tmp) / "hits.txt"
        hits.touch()
        os.environ.update({HITS_ENV: str(hits), TODOS_ENV: json.dumps(todos)})
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p
        )
        counter = Counter(hits)
        started = time.monotonic()
        install(todos, counter.hit)
        try:
            pytest.main(["-q", "-p", "no:cacheprovider", "tests"],
                        plugins=[counter, fixture_hook(counter)])  # fmt: skip
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
        result = score(config, counter)
        # read the children's notes before the folder goes
        result["seconds"] = round(time.monotonic() - started, 1)
    got = sum(t["score"] for t in result["tests"])
    print(f"\nFeedback points: {got:g} / {result['max_score']:g} (the tests that exercise a TODO)")
    for nodeid in sorted(set(counter.outcome) - {t["name"] for t in result["tests"]}):
        print(f"  no points: {nodeid} (it passes without calling a function you write)")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        encoded = base64.b64encode(json.dumps(result).encode()).decode()
        with open(output, "a", encoding="utf-8") as out:
            out.write(f"result={encoded}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
