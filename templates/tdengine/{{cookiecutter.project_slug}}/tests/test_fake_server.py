# points: 3
"""The loopback fake is a test double: it must accept exactly what `sql.py` builds, refuse the
rest the way TDengine does, and hand the real `taosrest` client replies it can read. (Its error
codes and FILL semantics are checked against TDengine itself in test_server.py.)"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import taosrest

from {{ cookiecutter.package_name }} import fake_server, queries, sql
from {{ cookiecutter.package_name }}.connect import QueryError, open_client
from {{ cookiecutter.package_name }}.ingest import ingest, prepare
from {{ cookiecutter.package_name }}.sql import Target

TARGET = Target("power", "meters")


@pytest.fixture
def loaded(fake_dsn, small_fleet):
    """The small fleet ingested over REST with two workers; yields an open client."""
    client = open_client(fake_dsn)
    prepare(client, TARGET, "sql", fresh=True)
    report = ingest(
        lambda: open_client(fake_dsn, check=False), small_fleet, TARGET, "sql", 100, workers=2
    )
    assert report.rows == len(small_fleet)
    assert report.requests == -(-len(small_fleet) // 100)
    yield client
    client.close()


def test_the_fake_implements_exactly_the_fill_modes_the_builder_allows():
    assert fake_server.FILL_MODES == sql.FILL_MODES
    assert fake_server.MAX_SQL_LENGTH == sql.MAX_SQL_LENGTH


def test_every_statement_the_builder_makes_runs_on_the_fake(loaded, small_fleet):
    cfg = small_fleet.config
    statements = [
        sql.server_version(),
        sql.describe(TARGET),
        sql.table_stats(TARGET, "ts"),
        sql.device_series(TARGET, "ts", small_fleet.devices[0].name),
        sql.last_rows(TARGET, "ts"),
        sql.device_tables(TARGET),
        sql.state_episodes(TARGET, [("current", ">", 5.0), ("voltage", "<", 219.0)]),
        *(
            sql.downsample(TARGET, "ts", cfg.start_ms, cfg.end_ms, "5m", mode)
            for mode in sql.FILL_MODES
        ),
    ]
    for statement in statements:
        assert loaded.query(statement), statement  # every one returns rows
    for statement in (sql.create_database("power"), sql.create_stable(TARGET)):
        loaded.execute(statement)  # IF NOT EXISTS: no error the second time


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT AVG(current) FROM power.meters INTERVAL(5m) SLIDING(1m)",
        "SELECT AVG(current) FROM power.meters INTERVAL(5m) FILL(VALUE, 0)",
        "SELECT AVG(current) FROM power.meters LIMIT 5",
        "SELECT APERCENTILE(current, 50) FROM power.meters",
        "GRANT ALL ON power.* TO everyone",
    ],
)
def test_what_the_builder_never_makes_is_a_syntax_error(loaded, statement):
    """The fake does not pretend: a clause it does not implement is refused, not ignored."""
    with pytest.raises(QueryError) as info:
        loaded.query(statement)
    assert info.value.code == 0x2600  # TDengine: "syntax error near"


def test_statements_over_tdengines_length_limit_are_refused(fake_dsn):
    client = open_client(fake_dsn)
    client.execute("CREATE DATABASE power")
    padding = " " * sql.MAX_SQL_LENGTH
    with pytest.raises(QueryError) as info:
        client.execute("SELECT SERVER_VERSION()" + padding)
    assert info.value.code == 0x0219  # TDengine: "SQL statement too long"


def test_the_real_client_reads_typed_values_from_the_fake(fake, loaded, small_fleet):
    """taosrest turns the fake's JSON into the types TDengine's replies give: aware datetimes
    for TIMESTAMP, floats for DOUBLE, ints for BIGINT, str for NCHAR tags."""
    rest = taosrest.connect(url=fake.url, user="root", password="taosdata", timezone="UTC")
    name = small_fleet.devices[0].name
    row = rest.query(
        f"SELECT device, LAST_ROW(ts), LAST_ROW(current) FROM power.meters WHERE device = '{name}' "
        "PARTITION BY device"
    ).data[0]
    r = small_fleet.rows_of(0).stop - 1
    assert row[0] == name
    assert isinstance(row[1], dt.datetime) and row[1].tzinfo is not None
    assert int(row[1].timestamp() * 1000) == int(small_fleet.ts[r])
    assert row[2] == float(small_fleet.current[r])
    count = rest.query("SELECT COUNT(*) FROM power.meters").data[0][0]
    assert isinstance(count, int) and count == len(small_fleet)


def test_wrong_password_is_refused_with_http_401(fake):
    client = open_client(fake.url.replace("http://", "http://root:wrong@"))
    with pytest.raises(QueryError, match="401"):
        client.query("SELECT SERVER_VERSION()")


def test_writing_the_same_rows_again_overwrites_them(loaded, fake_dsn, small_fleet):
    ingest(lambda: open_client(fake_dsn, check=False), small_fleet, TARGET, "sql", 500)
    assert queries.table_stats(loaded, TARGET, "ts")[0] == len(small_fleet)


def test_last_row_per_meter(loaded, small_fleet):
    latest = queries.last_rows(loaded, TARGET, "ts")
    assert set(latest) == {d.name for d in small_fleet.devices}
    for i, device in enumerate(small_fleet.devices):
        r = small_fleet.rows_of(i).stop - 1
        assert latest[device.name] == (
            int(small_fleet.ts[r]),
            float(small_fleet.current[r]),
            float(small_fleet.voltage[r]),
            float(small_fleet.phase[r]),
        )


def test_downsample_windows_and_aggregates(loaded, small_fleet):
    cfg = small_fleet.config
    step = 5 * 60_000
    n_windows = -(-(cfg.end_ms - cfg.start_ms) // step)
    args = (loaded, TARGET, "ts", cfg.start_ms, cfg.end_ms, "5m")
    prev = queries.downsample(*args, "PREV")
    none = queries.downsample(*args, "NONE")
    assert len(prev) == cfg.devices * n_windows
    assert len(none) < len(prev), "the small fleet has gaps longer than a window"
    d0 = small_fleet.devices[0].name
    first = next(w for w in none if w.device == d0)
    rows = small_fleet.rows_of(0)
    in_window = (small_fleet.ts[rows] >= first.start_ms) & (
        small_fleet.ts[rows] < first.start_ms + step
    )
    assert first.avg_current == pytest.approx(small_fleet.current[rows][in_window].mean())
    assert first.max_current == pytest.approx(small_fleet.current[rows][in_window].max())


def test_sub_tables_map_to_devices(loaded, small_fleet):
    names = {d.name for d in small_fleet.devices}
    assert queries.device_tables(loaded, TARGET) == {n: n for n in names}


def test_state_window_on_a_super_table_needs_partition_by_tbname(loaded):
    with pytest.raises(QueryError, match="PARTITION BY tbname") as info:
        loaded.query(
            "SELECT device, COUNT(*) FROM power.meters PARTITION BY device "
            "STATE_WINDOW(CASE WHEN current > 1 THEN 1 ELSE 0 END)"
        )
    assert info.value.code == 0x262A  # TDengine: "STATE_WINDOW not support for supertable query"


def test_line_protocol_needs_a_websocket_dsn(fake_dsn, small_fleet):
    with pytest.raises(QueryError, match="ws://"):
        ingest(lambda: open_client(fake_dsn, check=False), small_fleet, TARGET, "line", 100)


def test_episode_mask_marks_exactly_the_state_1_runs():
    episodes = [
        queries.Episode("a", 10, 20, 2, 1),
        queries.Episode("a", 30, 30, 1, 0),
        queries.Episode("b", 0, 100, 5, 1),
    ]
    ts = np.array([5, 10, 20, 25, 30])
    assert queries.episode_mask(episodes, "a", ts).tolist() == [0, 1, 1, 0, 0]
