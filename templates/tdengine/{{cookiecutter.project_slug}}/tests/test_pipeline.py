# points: 20
"""The smoke run and the real-mode commands, driven through the loopback fake."""

import json

import pytest

from {{ cookiecutter.package_name }} import pipeline
from {{ cookiecutter.package_name }}.connect import QueryError
from {{ cookiecutter.package_name }}.data import DEFAULT_SEED, FleetConfig


@pytest.fixture(scope="module")
def smoke_report():
    """The smoke run on the project's own fleet (its seed), at half the default size."""
    return pipeline.smoke(devices=10, days=1.0, seed=DEFAULT_SEED, workers=2)


def test_smoke_meets_every_target(smoke_report):
    assert smoke_report["ok"], {k: v for k, v in smoke_report["targets"].items() if not v["met"]}
    assert set(smoke_report) == {"ok", "seconds", "metrics", "targets"}
    json.dumps(smoke_report)


def test_smoke_quality_signal(smoke_report):
    m = smoke_report["metrics"]
    assert m["anomaly_f1"] >= 0.5
    assert m["anomaly_f1"] > m["baseline_f1"]
    assert m["rows_ingested"] == m["rows_generated"] == m["rows_read_back"]
    assert m["sql_baseline_agreement"] == 1.0
    assert m["downsample_windows"] == m["downsample_windows_expected"] == 10 * 96


def test_ingest_query_detect_through_rest(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = FleetConfig(devices=4, days=1.0, seed=5)
    ing = pipeline.ingest_fleet(fake_dsn, "power", config, workers=2, fresh=True)
    assert ing["ok"]
    assert ing["metrics"]["method"] == "sql" and ing["metrics"]["kind"] == "rest"
    assert (tmp_path / "runs" / "power.json").exists()
    qry = pipeline.query_timings(fake_dsn, "power", repeat=1)
    assert qry["metrics"]["meters"] == 4
    assert qry["metrics"]["downsample_windows"] == 4 * 96
    det = pipeline.detect_fleet(fake_dsn, "power")
    assert det["metrics"]["rows_scored"] == ing["metrics"]["rows"]
    assert det["metrics"]["sql_baseline_agreement"] == 1.0
    assert det["metrics"]["scorer"]["f1"] >= 0.5


def test_detect_without_a_recorded_run_says_what_to_do(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueryError, match="ingest"):
        pipeline.detect_fleet(fake_dsn, "power")


def test_query_on_an_empty_table_says_what_to_do(fake_dsn, fake):
    fake.execute("CREATE DATABASE power")
    fake.execute(
        "CREATE STABLE power.meters (ts TIMESTAMP, current DOUBLE, voltage DOUBLE, phase DOUBLE) "
        "TAGS (device NCHAR(16), location NCHAR(64), groupid INT)"
    )
    with pytest.raises(QueryError, match="ingest"):
        pipeline.query_timings(fake_dsn, "power", repeat=1)


def test_bench_reports_every_path(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = pipeline.bench([fake_dsn], FleetConfig(devices=3, days=0.25), workers=2, repeat=1)
    assert [(r["kind"], r["method"], r["db"]) for r in out["metrics"]["runs"]] == [
        ("rest", "sql", "bench_rest_sql")
    ]
    assert out["metrics"]["best"] == "rest/sql"
    assert set(out["targets"]) == {"best_rows_per_s", "downsample_ms"}
