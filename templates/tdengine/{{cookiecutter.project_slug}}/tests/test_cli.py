# points: 6
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


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TDENGINE_URL"}
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "scheme"),
    [
        ("ping", "http"),
        ("ingest", "http"),
        ("ingest", "ws"),
        ("query", "ws"),
        ("detect", "http"),
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


def test_smoke_prints_one_json_report_last():
    # a small fleet at a fixed seed: F1 over a few dozen anomalous readings is noisy, so the
    # project's own seed is exercised by test_pipeline (10 meters) and `make smoke` (20 meters)
    out = run("smoke", "--devices", "6", "--days", "0.5", "--seed", "0")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert report["metrics"]["rows_ingested"] == report["metrics"]["rows_generated"]
    assert "loopback" in report["metrics"]["note"]


def test_the_project_seed_is_every_commands_default():
    parser = build_parser()
    assert parser.parse_args(["smoke"]).seed == DEFAULT_SEED
    for command in ("ingest", "detect", "bench"):
        assert _fleet_config(parser.parse_args([command])).seed == DEFAULT_SEED
    assert _fleet_config(parser.parse_args(["ingest", "--seed", "7"])).seed == 7


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("smoke", "ping", "ingest", "query", "detect", "bench"):
        assert command in out.stdout
