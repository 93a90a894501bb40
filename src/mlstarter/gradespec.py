"""The grading spec: `grading.yml` in a project's grader folder, read strictly.

Every key is optional; without the file, every test item (each parametrized case) is worth one
point. Example:

    points:                       # points of ONE test item; the first pattern that matches wins
      "tests/hidden/*": 2         # a file pattern: every item of the matching files
      "tests/test_model.py::test_gradients*": 3
      "tests/test_cli.py": 0      # 0: run and reported, worth nothing
    default_points: 1             # an item no pattern names
    score_untouched: no           # yes: tests that pass on the untouched assignment score too
    timeout: 900                  # seconds for one student's test run (and for their smoke)
    test_timeout: 300             # seconds for one test item
    memory_mb: 0                  # address-space limit of the test process (0: none)
    take_from_student: marked     # marked: the files with TODOs and new files; package: all
    smoke: yes                    # run each student's smoke on the common seed
    leaderboard:
      metric: top1                # the smoke metric that orders the leaderboard
      higher_is_better: yes

Patterns are shell-style (`fnmatch`), matched against the test id (`tests/x.py::test_f[case]`),
the id without its parameters, and the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from mlstarter.errors import UsageError
from mlstarter.userfiles import MAX_ANSWERS_BYTES, load_data_file

SPEC_FILE = "grading.yml"
KEYS = {
    "points", "default_points", "score_untouched", "timeout", "test_timeout", "memory_mb",
    "take_from_student", "smoke", "leaderboard",
}  # fmt: skip
DEFAULT_TIMEOUT = 900.0
DEFAULT_TEST_TIMEOUT = 300.0
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class GradingSpec:
    """How one project is graded."""

    points: list[tuple[str, float]] = field(default_factory=list)
    default_points: float = 1.0
    score_untouched: bool = False
    timeout: float | None = None  # None: the command line's --timeout
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    memory_mb: int = 0
    take_from_student: str = "marked"
    smoke: bool = True
    metric: str | None = None
    higher_is_better: bool = True
    source: str = "defaults (no grading.yml)"

    def points_of(self, nodeid: str) -> float:
        """The points of one test item."""
        file = nodeid.split("::", 1)[0]
        bare = nodeid.split("[", 1)[0]
        for pattern, points in self.points:
            if fnmatchcase(nodeid, pattern) or fnmatchcase(bare, pattern):
                return points
            if fnmatchcase(file, pattern):
                return points
        return self.default_points


def load_spec(grader: Path | None) -> GradingSpec:
    """The spec of a grader folder (its `grading.yml`), or the defaults."""
    spec = GradingSpec()
    path = grader / SPEC_FILE if grader is not None else None
    if path is None or not path.is_file():
        return spec
    data = load_data_file(path, MAX_ANSWERS_BYTES, "grading spec")
    where = f"grading spec {path}"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping of settings")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        known = ", ".join(sorted(KEYS))
        raise UsageError(f"{where}: unknown setting '{unknown[0]}' (known: {known})")
    spec.source = str(path)
    points = data.get("points") or {}
    if not isinstance(points, dict):
        raise UsageError(f"{where}: 'points' must map test patterns to points")
    spec.points = [(str(k), _number(v, f"{where}: points of '{k}'")) for k, v in points.items()]
    if "default_points" in data:
        spec.default_points = _number(data["default_points"], f"{where}: default_points")
    spec.score_untouched = _yes(data.get("score_untouched", "no"), f"{where}: score_untouched")
    if "timeout" in data:
        spec.timeout = _positive(data["timeout"], f"{where}: timeout")
    if "test_timeout" in data:
        spec.test_timeout = _positive(data["test_timeout"], f"{where}: test_timeout")
    if "memory_mb" in data:
        spec.memory_mb = int(_number(data["memory_mb"], f"{where}: memory_mb"))
    take = str(data.get("take_from_student", "marked"))
    if take not in ("marked", "package"):
        raise UsageError(f"{where}: take_from_student must be 'marked' or 'package', not '{take}'")
    spec.take_from_student = take
    spec.smoke = _yes(data.get("smoke", "yes"), f"{where}: smoke")
    board = data.get("leaderboard") or {}
    if not isinstance(board, dict) or set(board) - {"metric", "higher_is_better"}:
        raise UsageError(f"{where}: 'leaderboard' takes 'metric' and 'higher_is_better'")
    if "metric" in board:
        spec.metric = str(board["metric"])
    spec.higher_is_better = _yes(board.get("higher_is_better", "yes"), f"{where}: higher_is_better")
    return spec


def _number(value: object, what: str) -> float:
    text = str(value).strip()
    if not NUMBER.fullmatch(text):
        raise UsageError(f"{what}: '{text}' is not a number of points (0 or more)")
    return float(text)


def _positive(value: object, what: str) -> float:
    number = _number(value, what)
    if number <= 0:
        raise UsageError(f"{what}: must be more than 0 seconds")
    return number


def _yes(value: object, what: str) -> bool:
    text = str(value).strip().lower()
    if text in {"yes", "true", "on", "1"}:
        return True
    if text in {"no", "false", "off", "0"}:
        return False
    raise UsageError(f"{what}: '{text}' is not yes or no")
