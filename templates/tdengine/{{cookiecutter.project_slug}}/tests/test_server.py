# points: 1
"""The pipeline against a store: every test runs twice, against the loopback fake (always) and
against a real TDengine (marked `server`: runs when TDENGINE_URL points at one, see
`connect.server_gate`; CI starts a tdengine/tsdb service container for it).

Against TDengine these are the proof that the pipeline works on the real thing: the commands
meet their targets there, the fake's error codes and FILL semantics are TDengine's, and the numpy
twins the dev fleets are built with (`context.profile_local`) match what TDengine computes.
Against the fake they keep the same code paths tested offline.

    docker compose up -d && TDENGINE_URL=http://root:taosdata@localhost:6041 pytest -m server
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import pipeline, queries
from {{ cookiecutter.package_name }}.connect import Dsn, QueryError, open_client
from {{ cookiecutter.package_name }}.context import profile_local
from {{ cookiecutter.package_name }}.data import DEFAULT_START_MS, FleetConfig, generate
from {{ cookiecutter.package_name }}.detect import StaticThresholds
from {{ cookiecutter.package_name }}.fake_server import FakeTDengine
from {{ cookiecutter.package_name }}.sql import FILL_MODES, Target, create_stable, drop_database

CONFIG = FleetConfig(devices=8, days=5.0, seed=11)


@dataclass(frozen=True)
class Backend:
    """A store to test against: its name and DSNs (no WebSocket DSN for the fake)."""

    name: str
    rest: str
    ws: str | None


def dsn_for(url: str, scheme: str) -> str:
    """TDENGINE_URL turned into a DSN of the given scheme (REST and WebSocket share port 6041)."""
    d = Dsn.parse(url)
    port = 6041 if d.kind == "native" else d.port
    return f"{scheme}://{d.user}:{d.password}@{d.host}:{port}"


@pytest.fixture(params=["fake", pytest.param("tdengine", marks=pytest.mark.server)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        with FakeTDengine() as fake:
            yield Backend("fake", fake.url.replace("http://", "http://root:taosdata@"), None)
    else:
        url = request.getfixturevalue("tdengine_url")
        yield Backend("tdengine", dsn_for(url, "http"), dsn_for(url, "ws"))


@pytest.fixture
def database(
    backend: Backend, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], str]]:
    """Makes fresh database names (runs/ goes to a temporary folder); drops them afterwards."""
    monkeypatch.chdir(tmp_path)
    names: list[str] = []

    def make(tag: str) -> str:
        names.append(f"pytest_{tag}_{os.getpid()}")
        return names[-1]

    yield make
    client = open_client(backend.rest)
    for name in names:
        client.execute(drop_database(name))
    client.close()


def paths(backend: Backend) -> list[tuple[str, str]]:
    """(DSN, ingest method) pairs the backend serves."""
    out = [(backend.rest, "sql")]
    if backend.ws:
        out += [(backend.ws, "line"), (backend.ws, "sql")]
    return out


def test_the_commands_meet_their_targets(backend, database):
    for dsn, method in paths(backend):
        db = database(f"{Dsn.parse(dsn).kind}_{method}")
        ing = pipeline.ingest_fleet(dsn, db, CONFIG, method, batch_rows=2000, workers=2, fresh=True)
        assert ing["ok"], ing["targets"]
        assert ing["metrics"]["rows_in_table"] == len(generate(CONFIG))
        qry = pipeline.query_timings(dsn, db, repeat=1)
        assert qry["ok"], qry["targets"]
        assert qry["metrics"]["meters"] == CONFIG.devices
        det = pipeline.detect_fleet(dsn, db)
        assert det["ok"], det["targets"]
        fc = pipeline.forecast_fleet(dsn, db)
        assert fc["ok"], fc["targets"]


def test_series_and_load_profile_match_what_was_generated(backend, database):
    """Exact round trip of every series, and the 15-minute profile from INTERVAL + FILL(PREV)
    equals its numpy twin (the one the dev fleets are built with)."""
    db = database("exact")
    pipeline.ingest_fleet(backend.rest, db, CONFIG, "sql", fresh=True)
    fleet = generate(CONFIG)
    client = open_client(backend.rest)
    tgt = Target(db)
    ts_col = queries.timestamp_column(client, tgt)
    for i, s in pipeline.read_back(client, tgt, ts_col, fleet):
        rows = fleet.rows_of(i)
        for name in ("ts", "current", "voltage", "phase"):
            assert np.array_equal(s[name], getattr(fleet, name)[rows]), (i, name)
    profile = pipeline.load_profile(client, tgt, ts_col, fleet)
    client.close()
    np.testing.assert_allclose(profile, profile_local(fleet, pipeline.FORECAST_STEP_MS), rtol=1e-9)


def test_state_window_episodes_equal_the_static_rule(backend, database, small_fleet):
    db = database("state")
    config = small_fleet.config
    pipeline.ingest_fleet(backend.rest, db, config, "sql", batch_rows=100, fresh=True)
    limits = StaticThresholds(
        current_max=float(np.percentile(small_fleet.current, 90)),
        voltage_min=float(np.percentile(small_fleet.voltage, 10)),
    )
    client = open_client(backend.rest)
    episodes = queries.state_episodes(client, Target(db), limits.rules())
    client.close()
    assert {e.state for e in episodes} == {0, 1}
    for i, device in enumerate(small_fleet.devices):
        rows = small_fleet.rows_of(i)
        expected = limits.flags(small_fleet.current[rows], small_fleet.voltage[rows])
        got = queries.episode_mask(episodes, device.name, small_fleet.ts[rows])
        assert np.array_equal(got, expected), device.name


def _one_meter(client, db: str) -> None:
    """One meter, readings in 5-minute windows 0, 1, 4 and 5 of a half hour (2 and 3 empty)."""
    client.execute(f"CREATE DATABASE {db} PRECISION 'ms'")
    client.execute(create_stable(Target(db)))
    t0 = DEFAULT_START_MS
    values = {0: 1.0, 1: 2.0, 4: 5.0, 5: 4.0}  # window -> current, one reading a window
    rows = " ".join(f"({t0 + w * 300_000 + 60_000}, {c}, 220.0, 0.3)" for w, c in values.items())
    client.execute(f"INSERT INTO {db}.m0 USING {db}.meters TAGS ('m0', 'X', 1) VALUES {rows}")


def test_every_fill_mode_the_builder_allows_behaves_as_documented(backend, database):
    db = database("fill")
    client = open_client(backend.rest)
    _one_meter(client, db)
    t0 = DEFAULT_START_MS
    expected = {
        "NONE": [1.0, 2.0, 5.0, 4.0],
        "NULL": [1.0, 2.0, None, None, 5.0, 4.0],
        "PREV": [1.0, 2.0, 2.0, 2.0, 5.0, 4.0],
        "NEXT": [1.0, 2.0, 5.0, 5.0, 5.0, 4.0],
        "LINEAR": [1.0, 2.0, 3.0, 4.0, 5.0, 4.0],  # interpolated by window start
    }
    assert set(expected) == set(FILL_MODES), "a FILL mode the builder allows is untested here"
    for mode in FILL_MODES:
        windows = queries.downsample(client, Target(db), "ts", t0, t0 + 1_800_000, "5m", mode)
        assert [w.avg_current for w in windows] == pytest.approx(expected[mode]), mode
    client.close()


def test_errors_carry_tdengines_documented_codes(backend, database):
    """The codes are written out from TDengine's Error Codes reference, not imported from the
    fake: against the fake this checks the fake, against TDengine it checks the reference."""
    db = database("codes")
    client = open_client(backend.rest)
    cases: list[tuple[str, int]] = [
        (f"SELECT COUNT(*) FROM {db}_missing.meters", 0x0388),  # Database not exist
    ]
    client.execute(f"CREATE DATABASE {db}")
    client.execute(create_stable(Target(db)))
    cases += [
        (f"CREATE DATABASE {db}", 0x0381),  # Database already exists
        (create_stable(Target(db)).replace(" IF NOT EXISTS", ""), 0x0360),  # STable already exists
        (f"SELECT COUNT(*) FROM {db}.nowhere", 0x2603),  # Table does not exist
        (f"SELEKT 1 FROM {db}.meters", 0x2600),  # syntax error near  # codespell:ignore selekt
    ]
    for statement, code in cases:
        with pytest.raises(QueryError) as info:
            client.query(statement)
        assert info.value.code is not None and info.value.code & 0xFFFF == code, statement
    client.close()
