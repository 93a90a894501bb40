# points: 0
"""Rehearsal of the real mode (`pytest -m rehearsal`, offline, part of `make test`): the README's
real-run commands, `ping`, `ingest`, `query`, `detect`, `forecast` and `bench`, run end to end
through the command line, pointed by TDENGINE_URL (the variable the README documents) at a
server. Offline that server is the loopback fake (`fake_server.py`): the commands go through the
same DSN parsing and the same `taosrest` client they use against TDengine, and the fake answers
in TDengine's REST reply format. With TDENGINE_URL pointing at a real TDengine the `tdengine`
case (marked `server`) runs the same commands there: CI does, against its service container
(.github/workflows/tdengine.yml), WebSocket paths included.

Every command must end with the report shape (`targets.py`) on the last stdout line, with the
targets and margins the README publishes in Success criteria. A failed ingest must leave
nothing that blocks the next try: retrying the same command works without cleaning up.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.connect import Dsn, open_client
from {{ cookiecutter.package_name }}.data import FleetConfig, generate
from {{ cookiecutter.package_name }}.fake_server import FakeTDengine, Reply
from {{ cookiecutter.package_name }}.sql import drop_database

pytestmark = pytest.mark.rehearsal

ROOT = Path(__file__).resolve().parents[1]
# The fleet of tests/test_server.py: small enough for a test, large enough to meet every target.
FLEET = ["--devices", "8", "--days", "5", "--seed", "11"]
DB = f"rehearsal_{os.getpid()}"
REPORT_KEYS = {"ok", "seconds", "metrics", "targets"}
TARGET_KEYS = {"value", "op", "threshold", "met", "source"}
# README wording of each baseline -> the metric the report names it by.
README_BASELINES = {
    "union": "union_f1",
    "static threshold": "static_threshold_f1",
    "stuck rule": "stuck_rule_f1",
    "own history": "own_history_f1",
    "own history's": "own_history_calibration_recall",
}


def published_targets() -> dict[str, str]:
    """The target sources the README's Success criteria table publishes, as the report's
    `source` strings: {"baseline:union_f1 + 0.15", ..., "baseline:seasonal_naive_mae * 0.9"}."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| problem | metric", 1)[1].split("\n\n", 1)[0]
    out = {}
    for words, margin in re.findall(r">= ((?:\w+ )*?\w+(?:'s)?) \+ (\d\.\d+)", table):
        out[README_BASELINES[words]] = f"baseline:{README_BASELINES[words]} + {float(margin):g}"
    factor = re.search(r"<= (\d\.\d+) x seasonal naive", table)
    assert factor, "the README publishes the forecast target"
    out["seasonal_naive_mae"] = f"baseline:seasonal_naive_mae * {float(factor.group(1)):g}"
    limit = re.search(r"<= ([\d,]+) characters", table)
    assert limit, "the README publishes the statement limit"
    out["statement_limit"] = limit.group(1).replace(",", "")
    return out


def command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    """Run one command as `python -m <package>` does; (exit code, report, stderr)."""
    code = main(argv)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return code, report, err


def check_shape(report: dict[str, Any]) -> None:
    assert set(report) == REPORT_KEYS
    assert report["targets"], "a report needs a target"
    for name, entry in report["targets"].items():
        assert set(entry) == TARGET_KEYS, name
        assert entry["source"], name


@pytest.fixture(params=["fake", pytest.param("tdengine", marks=pytest.mark.server)])
def server(request: pytest.FixtureRequest, monkeypatch, tmp_path) -> Iterator[list[str]]:
    """TDENGINE_URL set to a server (runs/ in a temporary folder); yields the DSNs `bench` may
    use there (REST only for the fake: it serves no WebSocket)."""
    monkeypatch.chdir(tmp_path)
    if request.param == "fake":
        with FakeTDengine() as fake:
            url = fake.url.replace("http://", "http://root:taosdata@")
            monkeypatch.setenv("TDENGINE_URL", url)
            yield [url]
    else:
        url = request.getfixturevalue("tdengine_url")
        monkeypatch.setenv("TDENGINE_URL", url)
        d = Dsn.parse(url)
        auth = f"{d.user}:{d.password}@{d.host}:{6041 if d.kind == 'native' else d.port}"
        yield [f"http://{auth}", f"ws://{auth}"]
        client = open_client(f"http://{auth}")  # leave the server as it was
        for db in (DB, f"{DB}_b_rest_sql", f"{DB}_b_ws_line", f"{DB}_b_ws_sql"):
            client.execute(drop_database(db))
        client.close()


def test_the_real_commands_run_end_to_end_and_meet_the_published_targets(server, capsys):
    db = DB
    published = published_targets()
    code, report, _ = command(["ping"], capsys)
    assert code == 0 and report["ok"], report
    check_shape(report)

    code, report, _ = command(["ingest", "--db", db, "--fresh", *FLEET], capsys)
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    assert report["metrics"]["rows_in_table"] == len(generate(FleetConfig(8, 5.0, seed=11)))
    limit = report["targets"]["largest_statement_chars"]["threshold"]
    assert limit == pytest.approx(int(published["statement_limit"]), rel=1e-5)  # 6 digits
    assert json.loads(Path("runs", f"{db}.json").read_text(encoding="utf-8"))["fleet"]["seed"] == 11

    code, report, _ = command(["query", "--db", db, "--repeat", "1"], capsys)
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    assert report["metrics"]["meters"] == 8

    code, report, _ = command(["detect", "--db", db], capsys)  # the fleet from runs/<db>.json
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    sources = {entry["source"] for entry in report["targets"].values()}
    detection = {v for k, v in published.items() if k != "seasonal_naive_mae"}
    assert sources == detection - {published["statement_limit"]}, "README and report disagree"
    for entry in report["targets"].values():  # threshold = the same-run baseline + the margin
        name, margin = entry["source"].removeprefix("baseline:").split(" + ")
        expected = report["metrics"][name] + float(margin)
        assert entry["threshold"] == pytest.approx(expected, abs=1e-4)  # reports keep 6 digits

    code, report, _ = command(["forecast", "--db", db], capsys)
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    (entry,) = report["targets"].values()
    assert entry["source"] == published["seasonal_naive_mae"]
    expected = report["metrics"]["seasonal_naive_mae"] * 0.9
    assert entry["threshold"] == pytest.approx(expected, rel=1e-4)

    # every computing command left its run folder, with the fleet's seed; report draws them
    for name in ("ingest", "query", "detect", "forecast"):
        config = json.loads(Path("runs", f"{name}-{db}", "config.json").read_text("utf-8"))
        assert config["seed"] == 11, name
    assert not Path("runs", "ping").exists(), "ping computes nothing: no run folder"
    Path("README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"), "utf-8")
    assert main(["report", f"runs/detect-{db}"]) == 0
    assert {p.name for p in Path("figures").iterdir()} == {
        "targets.png",
        "detection_over_time.png",
        "anomalies.png",
    }
    assert main(["report", f"runs/forecast-{db}"]) == 0  # the last one's figures only
    assert {p.name for p in Path("figures").iterdir()} == {"targets.png", "downsampled.png"}
    capsys.readouterr()

    dsns = [arg for dsn in server for arg in ("--dsn", dsn)]
    bench = ["bench", *dsns, "--db-prefix", f"{db}_b", "--devices", "3", "--days", "1"]
    code, report, _ = command([*bench, "--repeat", "1"], capsys)
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    assert len(report["metrics"]["runs"]) == 1 + 2 * (len(server) - 1)


def test_the_entry_point_reads_tdengine_url(server):
    """`python -m <package> ping` in a fresh process finds the server through TDENGINE_URL."""
    done = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "ping"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    check_shape(report)
    assert report["metrics"]["dsn"] == Dsn.parse(os.environ["TDENGINE_URL"]).redacted()


class FlakyTDengine(FakeTDengine):
    """The fake, refusing the `fail_at`-th INSERT the way a dropped connection to taosd does
    (TDengine's code 0x000B, "Unable to establish connection"), until `healthy` is set."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.inserts = 0
        self.healthy = False

    def execute(self, statement: str, default_db: str | None = None) -> Reply:
        if statement.lstrip().upper().startswith("INSERT") and not self.healthy:
            self.inserts += 1
            if self.inserts >= self.fail_at:
                return {"code": 0x000B, "desc": "Unable to establish connection"}
        return super().execute(statement, default_db)


def test_a_failed_ingest_is_retried_without_cleaning_up(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["ingest", "--db", "flaky", "--devices", "4", "--days", "3", "--seed", "5"]
    argv += ["--batch-rows", "1000", "--workers", "1"]
    fake = FlakyTDengine(fail_at=3)
    with fake:
        monkeypatch.setenv("TDENGINE_URL", fake.url.replace("http://", "http://root:taosdata@"))
        fake.healthy = True  # an earlier, complete ingest: it leaves its record
        code, report, _ = command(argv, capsys)
        assert code == 0 and Path("runs/flaky.json").is_file()
        fake.healthy = False

        code, _, err = command(argv, capsys)  # the connection drops at the third batch
        assert code == 1
        assert "Unable to establish connection" in err and "run the same command again" in err
        # the earlier record is gone, so detect cannot pair it with a half-rewritten database
        assert not Path("runs/flaky.json").exists()
        # no partial file, no run folder of the failed ingest (the earlier one's is kept)
        assert [p.name for p in Path("runs").iterdir()] == ["ingest-flaky"]
        earlier = json.loads(Path("runs/ingest-flaky/report.json").read_text(encoding="utf-8"))
        assert earlier["ok"]
        code, _, err = command(["detect", "--db", "flaky"], capsys)
        assert code == 1 and "run `ingest --db flaky` first" in err

        fake.healthy = True  # the retry: the same command, no cleanup, no --fresh
        code, report, _ = command(argv, capsys)
    check_shape(report)
    assert code == 0 and report["ok"], report["targets"]
    # every row once: the rows of the earlier run and the failed one were overwritten
    assert report["metrics"]["rows_in_table"] == len(generate(FleetConfig(4, 3.0, seed=5)))
    record = json.loads(Path("runs/flaky.json").read_text(encoding="utf-8"))
    assert record["fleet"]["devices"] == 4 and record["fleet"]["seed"] == 5
    assert sorted(p.name for p in Path("runs").iterdir()) == [
        "flaky.json",
        "ingest-flaky",
        "ingest-flaky.previous",
    ]


def test_ping_wait_shows_the_first_and_the_last_error(monkeypatch, capsys):
    """A server that never answers: `ping --wait` gives up with both errors when they differ."""
    from {{ cookiecutter.package_name }} import pipeline
    from {{ cookiecutter.package_name }}.connect import ServerUnavailable

    errors = iter(["connection refused", "timed out", "timed out"])

    def refuse(*args: object, **kwargs: object) -> None:
        raise ServerUnavailable(next(errors))

    monkeypatch.setattr(pipeline, "open_client", refuse)
    clock = iter([0.0, 0.0, 0.0, 999.0])  # the deadline, then one reading after each failure
    fake_time = SimpleNamespace(
        perf_counter=time.perf_counter, monotonic=lambda: next(clock), sleep=lambda s: None
    )
    monkeypatch.setattr(pipeline, "time", fake_time)
    with pytest.raises(ServerUnavailable) as info:
        pipeline.ping("http://root:taosdata@127.0.0.1:9", wait_s=10.0)
    assert "timed out" in str(info.value) and "first try: connection refused" in str(info.value)
