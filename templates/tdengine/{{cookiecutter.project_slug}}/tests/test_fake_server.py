# points: 3
"""The ingestion and query code, end to end through the real taosrest client and the loopback
fake of taosAdapter's REST API. These prove the client path, not TDengine's behaviour at scale."""

import numpy as np
import pytest
import taosrest

from {{ cookiecutter.package_name }} import queries
from {{ cookiecutter.package_name }}.connect import QueryError, open_client
from {{ cookiecutter.package_name }}.detect import StaticThresholds
from {{ cookiecutter.package_name }}.fake_server import DB_NOT_EXIST, SYNTAX_ERROR, TABLE_NOT_EXIST
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
    assert report.kind == "rest" and report.rows_per_s > 0
    yield client
    client.close()


def test_replies_have_tdengines_documented_shape(fake):
    rest = taosrest.RestClient(fake.url, user="root", password="taosdata")
    reply = rest.sql("SELECT SERVER_VERSION()")
    assert reply["code"] == 0
    assert reply["column_meta"] == [["server_version()", "VARCHAR", 32]]
    assert reply["rows"] == len(reply["data"]) == 1
    created = rest.sql("CREATE DATABASE IF NOT EXISTS power PRECISION 'ms'")
    assert created["column_meta"][0][0] == "affected_rows"


def test_errors_carry_code_and_description(fake_dsn):
    client = open_client(fake_dsn)
    with pytest.raises(QueryError) as info:
        client.query("SELECT COUNT(*) FROM nowhere.meters")
    assert info.value.code == DB_NOT_EXIST
    client.execute("CREATE DATABASE power")
    with pytest.raises(QueryError) as info:
        client.query("SELECT COUNT(*) FROM power.meters")
    assert info.value.code == TABLE_NOT_EXIST
    with pytest.raises(QueryError) as info:
        client.execute("GRANT ALL ON power.* TO everyone")
    assert info.value.code == SYNTAX_ERROR


def test_wrong_password_is_refused(fake):
    client = open_client(fake.url.replace("http://", "http://root:wrong@"))
    with pytest.raises(QueryError, match="401"):
        client.query("SELECT SERVER_VERSION()")


def test_rows_schema_and_series_round_trip_exactly(loaded, small_fleet):
    ts_col = queries.timestamp_column(loaded, TARGET)
    assert ts_col == "ts"
    count, first, last = queries.table_stats(loaded, TARGET, ts_col)
    assert count == len(small_fleet)
    assert (first, last) == (int(small_fleet.ts.min()), int(small_fleet.ts.max()))
    for i, device in enumerate(small_fleet.devices):
        rows = small_fleet.rows_of(i)
        series = queries.device_series(loaded, TARGET, ts_col, device.name)
        assert np.array_equal(series["ts"], small_fleet.ts[rows])
        for name in ("current", "voltage", "phase"):
            assert np.array_equal(series[name], getattr(small_fleet, name)[rows])


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


def test_downsample_fills_empty_windows(loaded, small_fleet):
    cfg = small_fleet.config
    step = 5 * 60_000
    n_windows = -(-(cfg.end_ms - cfg.start_ms) // step)
    args = (loaded, TARGET, "ts", cfg.start_ms, cfg.end_ms, "5m")
    prev = queries.downsample(*args, "PREV")
    none = queries.downsample(*args, "NONE")
    null = queries.downsample(*args, "NULL")
    assert len(prev) == len(null) == cfg.devices * n_windows
    assert len(none) < len(prev), "the small fleet has gaps longer than a window"
    present = {(w.device, w.start_ms) for w in none}
    for before, w in zip(prev, prev[1:], strict=False):
        if (w.device, w.start_ms) not in present and before.device == w.device:
            assert w.avg_current == before.avg_current  # FILL(PREV)
    assert any(w.avg_current is None for w in null)
    d0 = small_fleet.devices[0].name
    first = next(w for w in none if w.device == d0)
    rows = small_fleet.rows_of(0)
    in_window = (small_fleet.ts[rows] >= first.start_ms) & (
        small_fleet.ts[rows] < first.start_ms + step
    )
    assert first.avg_current == pytest.approx(small_fleet.current[rows][in_window].mean())
    assert first.max_current == pytest.approx(small_fleet.current[rows][in_window].max())


def test_state_window_episodes_equal_the_numpy_baseline(loaded, small_fleet):
    thresholds = StaticThresholds(
        current_max=float(np.percentile(small_fleet.current, 90)),
        voltage_min=215.0,
        voltage_max=226.0,
    )
    episodes = queries.state_episodes(loaded, TARGET, thresholds.rules())
    assert {e.state for e in episodes} == {0, 1}
    for i, device in enumerate(small_fleet.devices):
        rows = small_fleet.rows_of(i)
        mine = [e for e in episodes if e.device == device.name]
        assert sum(e.rows for e in mine) == rows.stop - rows.start
        ts = small_fleet.ts[rows]
        expected = thresholds.flags(small_fleet.current[rows], small_fleet.voltage[rows])
        assert np.array_equal(queries.episode_mask(episodes, device.name, ts), expected)


def test_sub_tables_map_to_devices(loaded, small_fleet):
    names = {d.name for d in small_fleet.devices}
    assert queries.device_tables(loaded, TARGET) == {n: n for n in names}


def test_state_window_on_a_super_table_needs_partition_by_tbname(loaded):
    with pytest.raises(QueryError, match="PARTITION BY tbname"):
        loaded.query(
            "SELECT device, COUNT(*) FROM power.meters PARTITION BY device "
            "STATE_WINDOW(CASE WHEN current > 1 THEN 1 ELSE 0 END)"
        )


def test_line_protocol_needs_a_websocket_dsn(fake_dsn, small_fleet):
    with pytest.raises(QueryError, match="ws://"):
        ingest(lambda: open_client(fake_dsn, check=False), small_fleet, TARGET, "line", 100)
