# points: 10
"""The command line as a user meets it: subprocesses, exit codes, one JSON line, one error line."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from {{ cookiecutter.package_name }}.__main__ import _fleet_config, build_parser
from {{ cookiecutter.package_name }}.data import DEFAULT_SEED

PACKAGE = "{{ cookiecutter.package_name }}"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TDENGINE_URL"}
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Commands write runs/ in the working folder: never the project's own runs/."""
    monkeypatch.chdir(tmp_path)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("command", "scheme"),
    [
        ("ping", "http"),
        ("ingest", "http"),
        ("ingest", "ws"),
        ("query", "ws"),
        ("detect", "http"),
        ("forecast", "ws"),
        ("bench", "ws"),
        ("ingest", "taos"),
    ],
)
def test_without_a_server_every_command_fails_fast_with_one_line(command, scheme):
    t0 = time.monotonic()
    out = run(command, "--dsn", f"{scheme}://root:taosdata@127.0.0.1:{closed_port()}")
    elapsed = time.monotonic() - t0
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "docker compose up -d" in lines[0]
    assert elapsed < 8, f"took {elapsed:.1f} s"


def test_ping_wait_gives_up_after_the_wait():
    t0 = time.monotonic()
    out = run("ping", "--dsn", f"http://127.0.0.1:{closed_port()}", "--wait", "1")
    assert out.returncode == 2
    assert time.monotonic() - t0 < 10
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_bad_dsn_is_one_clear_line():
    out = run("ping", "--dsn", "mysql://localhost")
    assert out.returncode == 1
    assert "unsupported DSN scheme" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_failing_smoke_prints_its_report_last_and_exits_1():
    """Through a real subprocess: a baseline in the model's place misses the targets; the JSON
    report is still the last stdout line and the exit code says it failed."""
    out = run("smoke", "--devices", "4", "--days", "3", "--detector", "stuck-rule")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"] is False
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert not report["targets"]["f1_over_stuck_rule"]["met"]
    assert "MISSED" in out.stderr  # the targets, as a person reads them


def test_a_smoke_that_cannot_run_says_why_in_one_line():
    out = run("smoke", "--days", "2")
    assert out.returncode == 1
    assert out.stdout == ""
    assert not any(os.scandir("runs")), "a failed command leaves no run folder"
    assert "whole days" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_the_project_seed_is_every_commands_default():
    parser = build_parser()
    assert parser.parse_args(["smoke"]).seed == DEFAULT_SEED
    for command in ("ingest", "detect", "forecast", "bench"):
        assert _fleet_config(parser.parse_args([command])).seed == DEFAULT_SEED
    assert _fleet_config(parser.parse_args(["ingest", "--seed", "7"])).seed == 7


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("smoke", "ping", "ingest", "query", "detect", "forecast", "bench"):
        assert command in out.stdout
