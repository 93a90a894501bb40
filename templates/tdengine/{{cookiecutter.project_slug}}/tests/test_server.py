# points: 1
"""Against a real TDengine: run only when TDENGINE_URL is set (`docker compose up -d`, then
TDENGINE_URL=http://root:taosdata@localhost:6041 pytest -m server)."""

import os

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import pipeline, queries
from {{ cookiecutter.package_name }}.connect import Dsn, open_client
from {{ cookiecutter.package_name }}.data import FleetConfig, generate
from {{ cookiecutter.package_name }}.sql import Target, drop_database

pytestmark = pytest.mark.server
CONFIG = FleetConfig(devices=5, days=0.5, seed=11)


def dsn_for(kind: str) -> str:
    """TDENGINE_URL turned into a DSN of the given kind (REST and WebSocket share port 6041)."""
    d = Dsn.parse(os.environ["TDENGINE_URL"])
    scheme = {"rest": "http", "ws": "ws"}[kind]
    port = 6041 if d.kind == "native" else d.port
    return f"{scheme}://{d.user}:{d.password}@{d.host}:{port}"


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = []

    def make(tag: str) -> str:
        names.append(f"pytest_{tag}_{os.getpid()}")
        return names[-1]

    yield make
    client = open_client(dsn_for("rest"))
    for name in names:
        client.execute(drop_database(name))


def test_ping():
    report = pipeline.ping(os.environ["TDENGINE_URL"])
    assert report["metrics"]["server_version"]


@pytest.mark.parametrize(("kind", "method"), [("rest", "sql"), ("ws", "line"), ("ws", "sql")])
def test_ingest_query_detect(kind, method, database):
    db = database(f"{kind}_{method}")
    dsn = dsn_for(kind)
    ing = pipeline.ingest_fleet(dsn, db, CONFIG, method, batch_rows=1000, workers=2, fresh=True)
    assert ing["metrics"]["rows_in_table"] == ing["metrics"]["rows"]
    qry = pipeline.query_timings(dsn, db, repeat=1)
    assert qry["metrics"]["meters"] == CONFIG.devices
    det = pipeline.detect_fleet(dsn, db)
    assert det["metrics"]["scorer"]["f1"] >= 0.5
    assert det["metrics"]["sql_baseline_agreement"] == 1.0


def test_series_round_trip_exactly_over_rest(database):
    db = database("exact")
    dsn = dsn_for("rest")
    pipeline.ingest_fleet(dsn, db, CONFIG, "sql", fresh=True)
    fleet = generate(CONFIG)
    client = open_client(dsn)
    series = queries.device_series(client, Target(db), "ts", fleet.devices[0].name)
    rows = fleet.rows_of(0)
    assert np.array_equal(series["ts"], fleet.ts[rows])
    assert np.array_equal(series["voltage"], fleet.voltage[rows])
