# points: 3
import math

import pytest

from {{ cookiecutter.package_name }} import sql
from {{ cookiecutter.package_name }}.sql import Target


@pytest.mark.parametrize("name", ["power", "_x1", "d0001", "A" * 64])
def test_plain_identifiers_pass(name):
    assert sql.ident(name) == name


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a;DROP DATABASE x", "a b", "x" * 65, "db.t"])
def test_anything_else_is_refused(name):
    with pytest.raises(ValueError):
        sql.ident(name)
    with pytest.raises(ValueError):
        Target(db=name)


def test_string_literals_escape_quotes_and_backslashes():
    assert sql.sql_str("O'Brien\\x") == "'O\\'Brien\\\\x'"
    assert sql.sql_str("") == "''"


def test_schema_statements():
    t = Target("power", "meters")
    assert sql.create_database("power") == "CREATE DATABASE IF NOT EXISTS power PRECISION 'ms'"
    assert sql.drop_database("power") == "DROP DATABASE IF EXISTS power"
    stable = sql.create_stable(t)
    assert stable.startswith("CREATE STABLE IF NOT EXISTS power.meters (ts TIMESTAMP")
    assert "TAGS (device NCHAR(16), location NCHAR(64), groupid INT)" in stable
    with pytest.raises(ValueError):
        sql.create_database("power", precision="s")


def test_inserts_cover_every_row_in_bounded_batches(small_fleet):
    t = Target("power", "meters")
    batches = list(sql.insert_statements(small_fleet, t, batch_rows=100))
    assert sum(n for _, n in batches) == len(small_fleet)
    assert len(batches) == math.ceil(len(small_fleet) / 100)
    assert all(n <= 100 for _, n in batches)
    first = batches[0][0]
    d = small_fleet.devices[0]
    assert first.startswith(
        f"INSERT INTO power.{d.name} USING power.meters TAGS "
        f"('{d.name}', '{d.location}', {d.groupid}) VALUES ({int(small_fleet.ts[0])}, "
    )
    assert sum(s.count("VALUES") for s, _ in batches) >= small_fleet.config.devices
    with pytest.raises(ValueError):
        next(sql.insert_statements(small_fleet, t, batch_rows=0))


def test_analysis_queries():
    t = Target("power", "meters")
    down = sql.downsample(t, "ts", 1000, 2000, "15m", "prev")
    assert down.endswith(
        "FROM power.meters WHERE ts >= 1000 AND ts < 2000 PARTITION BY device "
        "INTERVAL(15m) FILL(PREV)"
    )
    assert "LAST_ROW(current)" in sql.last_rows(t, "_ts")
    assert "PARTITION BY device" in sql.last_rows(t, "_ts")
    series = sql.device_series(t, "ts", "d'0")
    assert series.endswith("WHERE device = 'd\\'0' ORDER BY ts")
    state = sql.state_episodes(t, [("current", ">", 17.5), ("voltage", "<", 210)])
    case = "CASE WHEN current > 17.5 OR voltage < 210.0 THEN 1 ELSE 0 END"
    assert state.startswith("SELECT tbname, _wstart, _wend, COUNT(*), ")
    assert state.endswith(f"PARTITION BY tbname STATE_WINDOW({case})")  # required on a stable
    assert f"COUNT(*), {case} FROM" in state
    assert sql.device_tables(t) == "SELECT DISTINCT tbname, device FROM power.meters"


@pytest.mark.parametrize(
    "call",
    [
        lambda t: sql.downsample(t, "ts", 0, 10, "15 minutes"),
        lambda t: sql.downsample(t, "ts", 0, 10, "0m"),
        lambda t: sql.downsample(t, "ts", 0, 10, "15m", "SPLINE"),
        lambda t: sql.downsample(t, "ts", 10, 10),
        lambda t: sql.downsample(t, "ts; DROP", 0, 10),
        lambda t: sql.state_episodes(t, []),
        lambda t: sql.state_episodes(t, [("current", "=>", 1.0)]),
        lambda t: sql.state_episodes(t, [("current) OR (1", ">", 1.0)]),
    ],
)
def test_bad_query_parameters_are_refused(call):
    with pytest.raises(ValueError):
        call(Target())
