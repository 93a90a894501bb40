"""mlstarter's own code meets the bar its starters meet: ruff clean, formatted, type-checked."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing_and_the_code_is_formatted():
    for args in (("ruff", "check", "src", "tests", "tools", "bench"),
                 ("ruff", "format", "--check", "src", "tests", "tools", "bench")):  # fmt: skip
        done = run(*args)
        assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing_in_the_tool():
    done = run("mypy")  # [tool.mypy] in pyproject.toml: strict, src/mlstarter
    assert done.returncode == 0, done.stdout + done.stderr
