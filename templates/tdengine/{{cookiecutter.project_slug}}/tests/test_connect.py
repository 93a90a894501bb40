# points: 4
import datetime as dt
import socket
import subprocess
import sys
import time

import pytest

from {{ cookiecutter.package_name }}.connect import (
    DEFAULT_DSN,
    ConnectorUnavailable,
    Dsn,
    QueryError,
    ServerUnavailable,
    default_dsn,
    open_client,
    probe,
    server_gate,
    to_epoch_ms,
)


def closed_port() -> int:
    """A local port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dsn_parsing():
    d = Dsn.parse("http://root:taosdata@localhost:6041")
    assert (d.kind, d.host, d.port, d.user, d.password, d.database) == (
        "rest",
        "localhost",
        6041,
        "root",
        "taosdata",
        None,
    )
    assert Dsn.parse("ws://u:p%40ss@db.example:7041/power").kind == "ws"
    assert Dsn.parse("ws://u:p%40ss@db.example:7041/power").password == "p@ss"
    assert Dsn.parse("ws://u:p%40ss@db.example:7041/power").database == "power"
    native = Dsn.parse("taos://example")
    assert (native.kind, native.port, native.user, native.password) == (
        "native",
        6030,
        "root",
        "taosdata",
    )
    assert Dsn.parse("taosws://h").port == 6041
    assert "taosdata" not in Dsn.parse("http://root:taosdata@h:1").redacted()


@pytest.mark.parametrize(
    "bad", ["mysql://h", "localhost:6041", "http://h:notaport", "http://h/bad-db-name"]
)
def test_bad_dsns_are_refused(bad):
    with pytest.raises(ValueError):
        Dsn.parse(bad)


def test_default_dsn_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("TDENGINE_URL", raising=False)
    assert default_dsn() == DEFAULT_DSN
    assert Dsn.parse(DEFAULT_DSN).port == 6041
    monkeypatch.setenv("TDENGINE_URL", "ws://other:6041")
    assert default_dsn() == "ws://other:6041"


@pytest.mark.parametrize("scheme", ["http", "ws", "taos"])
def test_probe_fails_fast_with_one_line_saying_how_to_start_a_server(scheme):
    dsn = Dsn.parse(f"{scheme}://127.0.0.1:{closed_port()}")
    t0 = time.monotonic()
    with pytest.raises(ServerUnavailable) as info:
        open_client(dsn)
    assert time.monotonic() - t0 < 3
    message = str(info.value)
    assert "docker compose up -d" in message
    assert "\n" not in message


def test_probe_passes_when_something_listens(fake):
    probe(Dsn.parse(fake.url))


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (1_735_689_600_123, 1_735_689_600_123),
        (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), 1_735_689_600_000),
        (dt.datetime(2025, 1, 1), 1_735_689_600_000),
        ("2025-01-01T00:00:00.250Z", 1_735_689_600_250),
        ("2025-01-01T08:00:00+08:00", 1_735_689_600_000),
        ("2025-01-01 08:00:00.5 +08:00", 1_735_689_600_500),
        ("2025-01-01 00:00:00.123456789 UTC", 1_735_689_600_123),
        ("2024-12-31 19:00:00 -05:00", 1_735_689_600_000),
    ],
)
def test_timestamps_from_any_connector(value, ms):
    assert to_epoch_ms(value) == ms


def test_non_timestamps_are_refused():
    with pytest.raises(TypeError):
        to_epoch_ms(True)
    with pytest.raises(TypeError):
        to_epoch_ms(1.5)
    with pytest.raises(ValueError):
        to_epoch_ms("yesterday")


def test_rest_cannot_send_line_protocol(fake_dsn):
    client = open_client(fake_dsn)
    with pytest.raises(QueryError, match="ws://"):
        client.insert_lines("power", ["m f=1f64 1"])


def test_the_native_module_is_never_imported_unless_asked_for():
    code = (
        "import sys\n"
        "import {{ cookiecutter.package_name }}.__main__, {{ cookiecutter.package_name }}.pipeline\n"
        "print('taos' in sys.modules, 'taosws' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_native_dsn_without_libtaos_says_so(fake):
    try:
        import taos  # noqa: F401
    except Exception:  # no libtaos.so here: the expected case offline
        pass
    else:
        pytest.skip("libtaos.so is installed: the native connector loads")
    port = int(fake.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectorUnavailable, match="libtaos.so") as info:
        open_client(f"taos://127.0.0.1:{port}")
    assert "\n" not in str(info.value)


# ---- when the `server` tests run ---------------------------------------------------------------


def test_server_tests_skip_with_the_way_to_run_them_when_no_url_is_set():
    gate = server_gate({})
    assert gate.action == "skip"
    assert "TDENGINE_URL" in gate.reason and "docker compose up -d" in gate.reason


def test_server_tests_skip_when_nothing_answers_at_the_url():
    gate = server_gate({"TDENGINE_URL": f"http://root:taosdata@127.0.0.1:{closed_port()}"})
    assert gate.action == "skip"
    assert "no usable TDengine" in gate.reason and "taosdata" not in gate.reason


def test_server_tests_skip_on_a_malformed_url():
    assert server_gate({"TDENGINE_URL": "mysql://somewhere"}).action == "skip"


def test_server_tests_fail_instead_of_skipping_where_a_server_is_required():
    """CI sets TDENGINE_REQUIRED=1 beside its service container: a server that never came up
    must turn the job red, not into a run of skipped tests."""
    assert server_gate({"TDENGINE_REQUIRED": "1"}).action == "fail"
    closed = f"http://127.0.0.1:{closed_port()}"
    assert server_gate({"TDENGINE_URL": closed, "TDENGINE_REQUIRED": "1"}).action == "fail"
    assert server_gate({"TDENGINE_REQUIRED": "0"}).action == "skip"


def test_server_tests_run_against_a_server_that_answers(fake_dsn):
    gate = server_gate({"TDENGINE_URL": fake_dsn, "TDENGINE_REQUIRED": "1"})
    assert (gate.action, gate.dsn, gate.reason) == ("run", fake_dsn, "")


def test_something_listening_that_is_not_tdengine_is_no_server():
    """A port that accepts connections but does not answer SQL (another service) is a skip."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        gate = server_gate({"TDENGINE_URL": f"http://127.0.0.1:{port}"}, timeout=1.0)
    assert gate.action == "skip"
