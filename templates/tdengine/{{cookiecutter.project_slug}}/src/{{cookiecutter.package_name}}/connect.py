"""DSNs, a fast reachability probe, and one small client interface over TDengine's connectors.

A DSN picks the connector:

    http://root:taosdata@localhost:6041      REST, through `taosrest` (taospy): SQL only, stateless
    ws://root:taosdata@localhost:6041        WebSocket, through `taosws` (taos-ws-py): SQL and
                                             schemaless line protocol
    taos://root:taosdata@localhost:6030      native, through `taos` (taospy + the C client
                                             libtaos.so, imported only when asked for)

`taosrest.connect` rejects unknown keyword arguments, and `taosws.connect` waits about 8 s before
giving up on a dead server, so `open_client` first probes the port with a plain TCP connect (1.5 s
at most) and fails with one line saying how to start a server.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

DEFAULT_DSN = "{{ 'ws' if cookiecutter.default_connector == 'websocket' else 'http' }}://root:taosdata@localhost:6041"
ENV_VAR = "TDENGINE_URL"
START_HINT = (
    "start TDengine with `docker compose up -d` in this repo (see README: Real run), "
    f"or point {ENV_VAR} / --dsn at a running server"
)

# One result row: the column values as the connector returns them (int, float, str, datetime,
# None, ...); the column types come from the query, not from Python.
Row = tuple[Any, ...]

_KINDS = {
    "http": "rest",
    "https": "rest",
    "taosrest": "rest",
    "ws": "ws",
    "taosws": "ws",
    "taos": "native",
}
_DEFAULT_PORTS = {"rest": 6041, "ws": 6041, "native": 6030}


class ServerUnavailable(RuntimeError):
    """No TDengine server answers at the DSN's host and port."""


class ConnectorUnavailable(RuntimeError):
    """The connector the DSN asks for cannot be loaded (e.g. no libtaos.so for `taos://`)."""


class QueryError(RuntimeError):
    """TDengine (or the loopback fake) refused a statement; `code` is its error code if known."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Dsn:
    """A parsed DSN. `kind` is rest, ws or native."""

    kind: str
    scheme: str
    host: str
    port: int
    user: str = "root"
    password: str = "taosdata"
    database: str | None = None

    @classmethod
    def parse(cls, url: str) -> Dsn:
        """Parse `scheme://[user[:password]@]host[:port][/database]`; ValueError if malformed."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _KINDS:
            raise ValueError(
                f"unsupported DSN scheme {scheme!r} in {url!r}: use http:// (REST), "
                "ws:// (WebSocket) or taos:// (native)"
            )
        kind = _KINDS[scheme]
        try:
            port = parts.port or _DEFAULT_PORTS[kind]
        except ValueError as err:
            raise ValueError(f"bad port in DSN {url!r}") from err
        database = parts.path.strip("/") or None
        if database is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", database):
            raise ValueError(f"bad database name {database!r} in DSN")
        return cls(
            kind=kind,
            scheme=scheme,
            host=parts.hostname or "localhost",
            port=port,
            user=unquote(parts.username) if parts.username else "root",
            password=unquote(parts.password) if parts.password is not None else "taosdata",
            database=database,
        )

    def redacted(self) -> str:
        """The DSN without its password, for logs."""
        db = f"/{self.database}" if self.database else ""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}{db}"


def default_dsn() -> str:
    """TDENGINE_URL if set, else the project's default DSN."""
    return os.environ.get(ENV_VAR) or DEFAULT_DSN


def probe(dsn: Dsn, timeout: float = 1.5) -> None:
    """Return if something accepts TCP connections at host:port; raise ServerUnavailable if not."""
    try:
        with socket.create_connection((dsn.host, dsn.port), timeout=timeout):
            return
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ServerUnavailable(
            f"no TDengine server at {dsn.host}:{dsn.port} ({reason}): {START_HINT}"
        ) from err


def to_epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch from what connectors return for a TIMESTAMP.

    Accepts ints (already ms), datetimes (naive ones are taken as UTC), and strings: RFC 3339
    (REST) or `YYYY-MM-DD HH:MM:SS[.f] +HH:MM` / `... UTC` (how taosws prints a timestamp).
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not a timestamp")
    if isinstance(value, int):
        return value
    moment: dt.datetime
    if isinstance(value, str):
        text = re.sub(r"\s*(?:Z|UTC)$", "+00:00", value.strip())
        text = re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", text)
        moment = dt.datetime.fromisoformat(text)
    elif isinstance(value, dt.datetime):
        moment = value
    else:
        raise TypeError(f"cannot read a timestamp from {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


class Client(Protocol):
    """What the pipeline needs from a connector."""

    kind: str

    def execute(self, sql: str) -> int:
        """Run a statement; return the affected rows (0 for DDL)."""
        ...

    def query(self, sql: str) -> list[Row]:
        """Run a query; return its rows."""
        ...

    def insert_lines(self, db: str, lines: list[str]) -> int:
        """Write schemaless line-protocol lines (millisecond timestamps) into `db`."""
        ...

    def close(self) -> None: ...


def _wrap(sql: str, err: Exception) -> Exception:
    """Turn a connector error into ServerUnavailable (connection lost) or QueryError."""
    if isinstance(err, OSError):  # requests' ConnectionError is an OSError
        return ServerUnavailable(f"lost the TDengine server ({type(err).__name__}): {START_HINT}")
    code = getattr(err, "errno", None)
    head = " ".join(sql.split())[:120]
    return QueryError(f"{err} [in: {head}]", code if isinstance(code, int) else None)


class RestClient:
    """REST through `taosrest`: SQL over HTTP, one request a statement, no session state."""

    kind = "rest"

    def __init__(self, dsn: Dsn, timeout: float = 30.0) -> None:
        import taosrest

        self._errors = (taosrest.Error, taosrest.HTTPError, OSError)
        scheme = "https" if dsn.scheme == "https" else "http"
        self._conn = taosrest.connect(
            url=f"{scheme}://{dsn.host}:{dsn.port}",
            user=dsn.user,
            password=dsn.password,
            timeout=timeout,
            timezone="UTC",
        )

    def execute(self, sql: str) -> int:
        try:
            return int(self._conn.execute(sql) or 0)
        except self._errors as err:
            raise _wrap(sql, err) from err

    def query(self, sql: str) -> list[Row]:
        try:
            return [tuple(row) for row in self._conn.query(sql).data]
        except self._errors as err:
            raise _wrap(sql, err) from err

    def insert_lines(self, db: str, lines: list[str]) -> int:
        raise QueryError(
            "schemaless line protocol is not available through taosrest: use a ws:// DSN "
            "(or --method sql)"
        )

    def close(self) -> None:
        self._conn.close()


class WsClient:
    """WebSocket through `taosws`: SQL and schemaless line protocol on one session."""

    kind = "ws"

    def __init__(self, dsn: Dsn, timeout: float = 30.0) -> None:
        import taosws

        self._taosws = taosws
        self._errors = (taosws.Error, taosws.InterfaceError)
        self._db: str | None = None
        # Everything goes in the DSN string: keyword arguments make taosws add a second address.
        auth = f"{quote(dsn.user, safe='')}:{quote(dsn.password, safe='')}"
        try:
            self._conn = taosws.connect(f"taosws://{auth}@{dsn.host}:{dsn.port}")
        except self._errors as err:
            raise ServerUnavailable(f"WebSocket connect failed ({err}): {START_HINT}") from err

    def execute(self, sql: str) -> int:
        try:
            return int(self._conn.execute(sql) or 0)
        except self._errors as err:
            raise _wrap(sql, err) from err

    def query(self, sql: str) -> list[Row]:
        try:
            return [tuple(row) for row in self._conn.query(sql)]
        except self._errors as err:
            raise _wrap(sql, err) from err

    def insert_lines(self, db: str, lines: list[str]) -> int:
        if self._db != db:
            self.execute(f"USE {db}")
            self._db = db
        try:
            self._conn.schemaless_insert(
                lines=lines,
                protocol=self._taosws.PySchemalessProtocol.Line,
                precision=self._taosws.PySchemalessPrecision.Millisecond,
                ttl=0,
                req_id=0,
            )
        except self._errors as err:
            raise _wrap("schemaless insert", err) from err
        return len(lines)

    def close(self) -> None:
        self._conn.close()


class NativeClient:
    """Native through `taos` (needs libtaos.so, TDengine's C client); imported only here."""

    kind = "native"

    def __init__(self, dsn: Dsn, timeout: float = 30.0) -> None:
        try:
            import taos
        except Exception as err:  # without libtaos.so it raises InterfaceError, not ImportError
            raise ConnectorUnavailable(
                "the native connector needs TDengine's client library libtaos.so "
                f"({type(err).__name__}); install the TDengine client package, or use an "
                "http:// or ws:// DSN"
            ) from err
        self._taos = taos
        self._db: str | None = None
        self._conn = taos.connect(
            host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password
        )

    def execute(self, sql: str) -> int:
        try:
            return int(self._conn.execute(sql) or 0)
        except self._taos.Error as err:
            raise _wrap(sql, err) from err

    def query(self, sql: str) -> list[Row]:
        try:
            rows = self._conn.query(sql).fetch_all()
        except self._taos.Error as err:
            raise _wrap(sql, err) from err
        # The native connector returns naive local-time datetimes: make them aware.
        return [
            tuple(
                v.astimezone() if isinstance(v, dt.datetime) and v.tzinfo is None else v
                for v in row
            )
            for row in rows
        ]

    def insert_lines(self, db: str, lines: list[str]) -> int:
        if self._db != db:
            self._conn.select_db(db)
            self._db = db
        try:
            self._conn.schemaless_insert(
                lines, self._taos.SmlProtocol.LINE_PROTOCOL, self._taos.SmlPrecision.MILLI_SECONDS
            )
        except self._taos.Error as err:
            raise _wrap("schemaless insert", err) from err
        return len(lines)

    def close(self) -> None:
        self._conn.close()


_CLIENTS: dict[str, Callable[[Dsn, float], Client]] = {
    "rest": RestClient,
    "ws": WsClient,
    "native": NativeClient,
}


def open_client(dsn: Dsn | str, timeout: float = 30.0, check: bool = True) -> Client:
    """A connected client for `dsn`; probes the server first unless `check` is False.

    Raises ServerUnavailable (no server) or ConnectorUnavailable (connector not loadable), each
    with a one-line message that says what to do.
    """
    dsn = Dsn.parse(dsn) if isinstance(dsn, str) else dsn
    if check:
        probe(dsn)
    return _CLIENTS[dsn.kind](dsn, timeout)


# ---- tests against a real server -------------------------------------------------------------

REQUIRED_VAR = "TDENGINE_REQUIRED"


@dataclass(frozen=True)
class ServerGate:
    """Whether the `server` tests run: `action` is run, skip or fail; `reason` says why not."""

    action: str
    dsn: str | None = None
    reason: str = ""


def server_gate(env: dict[str, str] | None = None, timeout: float = 5.0) -> ServerGate:
    """Decide, from the environment, whether tests against a real TDengine can run.

    Runs when TDENGINE_URL is set, parses, and a server there answers `SELECT SERVER_VERSION()`.
    Otherwise the tests skip with the reason, or fail with it when TDENGINE_REQUIRED=1 (CI sets
    it next to its TDengine service container, so a server that never came up cannot pass as a
    green run of skipped tests).
    """
    env = dict(os.environ) if env is None else env
    required = env.get(REQUIRED_VAR, "") not in ("", "0")
    url = env.get(ENV_VAR, "")
    reason = ""
    if not url:
        reason = (
            f"{ENV_VAR} is not set: start TDengine (`docker compose up -d`), then "
            f"{ENV_VAR}=http://root:taosdata@localhost:6041 pytest -m server"
        )
    else:
        try:
            client = open_client(Dsn.parse(url), timeout=timeout)
            try:
                client.query("SELECT SERVER_VERSION()")
            finally:
                client.close()
        except (ValueError, ServerUnavailable, ConnectorUnavailable, QueryError) as err:
            reason = f"no usable TDengine at {ENV_VAR}={_redact(url)}: {err}"
    if not reason:
        return ServerGate("run", url)
    return ServerGate("fail" if required else "skip", url or None, reason)


def _redact(url: str) -> str:
    try:
        return Dsn.parse(url).redacted()
    except ValueError:
        return "(unparsable DSN)"
