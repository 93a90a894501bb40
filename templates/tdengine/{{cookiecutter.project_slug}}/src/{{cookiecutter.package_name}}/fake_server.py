"""A loopback test double for taosAdapter's REST endpoint: the smoke run and the tests drive
the real `taosrest` client through it. It is not TDengine, and nothing measured through it says
anything about TDengine's speed or storage.

`FakeTDengine().start()` serves `POST /rest/sql[/<db>]` on 127.0.0.1 (an ephemeral port) with
HTTP Basic auth (root / taosdata by default), and answers in the reply shape of TDengine 3's REST
API reference:

    {"code": 0, "column_meta": [[name, type, length], ...], "data": [[...], ...], "rows": N}

or, for a refused statement, HTTP 200 with `{"code": <code>, "desc": "..."}` (HTTP 401 for a
wrong password), `code` being TDengine's documented error code (Error Codes reference; REST keeps
the last four hex digits): see the constants below.

What it implements, and only this (`sql.py` builds nothing else; tests/test_fake_server.py checks
that every FILL mode `sql.FILL_MODES` allows runs here):

- CREATE / DROP DATABASE [IF [NOT] EXISTS], CREATE STABLE, CREATE TABLE ... USING ... TAGS;
- multi-table INSERT INTO ... [USING ... TAGS (...)] VALUES (...) ..., rows overwriting rows with
  the same timestamp; statements longer than TDengine's default 1,048,576 characters refused;
- DESCRIBE; SELECT SERVER_VERSION();
- SELECT [DISTINCT] with WHERE (AND / OR of comparisons with literals), PARTITION BY a tag or
  tbname, INTERVAL(n s|m|h|d) windows aligned to the epoch with FILL(NONE | NULL | PREV | NEXT |
  LINEAR), STATE_WINDOW(CASE WHEN ... END) (which, as in TDengine, needs PARTITION BY tbname on a
  super table), ORDER BY one column, and COUNT, AVG, SUM, MIN, MAX, FIRST, LAST, LAST_ROW.

What it does not: any other statement or clause (a syntax error, code 0x2600), SLIDING, FILL(VALUE),
NULL_F / VALUE_F, LIMIT, sub-queries, joins, functions beyond the list, time zones (timestamps are
UTC), precisions other than ms, schemaless writes (REST has none; WebSocket is not served), data
types beyond TIMESTAMP / DOUBLE / INT / NCHAR, persistence. Where TDengine's exact behaviour is
unspecified by its docs (which rows FILL adds before the first window with data; what COUNT
reads in a filled window) the fake fills every aggregate the same way and says so here: leading
windows get NULL from PREV and LINEAR, trailing ones NULL from NEXT and LINEAR.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

# TDengine's documented error codes (Error Codes reference, module: description).
AUTH_FAILURE = 0x0357  # mnode: Authentication failure
STABLE_ALREADY_EXISTS = 0x0360  # mnode: STable already exists
DB_ALREADY_EXISTS = 0x0381  # mnode: Database already exists
DB_NOT_EXIST = 0x0388  # mnode: Database not exist
SQL_TOO_LONG = 0x0219  # tsc: SQL statement too long
SYNTAX_ERROR = 0x2600  # parser: syntax error near
INVALID_COLUMN = 0x2602  # parser: Invalid column name
TABLE_NOT_EXIST = 0x2603  # parser: Table does not exist
TAGS_NOT_MATCHED = 0x260D  # parser: Tags number not matched
DB_NOT_SPECIFIED = 0x2616  # parser: Database not specified
STATE_WINDOW_ON_STABLE = 0x262A  # parser: STATE_WINDOW not support for supertable query
COLUMNS_NOT_MATCHED = 0x263F  # parser: Illegal number of columns
FIRST_COLUMN_NOT_TS = 0x2641  # parser: First column must be timestamp
MAX_SQL_LENGTH = 1_048_576  # SQL manual, Names and Limits: default maximum statement length
FILL_MODES = ("NONE", "NULL", "PREV", "NEXT", "LINEAR")
VERSION = "3.3-loopback-fake"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FLAGS = re.IGNORECASE | re.DOTALL
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REF = rf"{_NAME}(?:\.{_NAME})?"
_STRING = r"'(?:[^'\\]|\\.)*'"
_NUMBER = r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

# The JSON shapes of a REST reply: the whole reply, `column_meta` ([name, type, length] a column)
# and `data` (a list a row); a Frame is a super table's rows as one array a column.
Reply = dict[str, Any]
Meta = list[list[Any]]
Data = list[list[Any]]
Frame = dict[str, np.ndarray]


class SqlError(Exception):
    """A statement the fake refuses; becomes {"code": code, "desc": message}."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _iso(ms: int) -> str:
    return (
        (_EPOCH + dt.timedelta(milliseconds=int(ms)))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _literal(text: str) -> Any:
    text = text.strip()
    if re.fullmatch(_STRING, text):
        return _unquote(text)
    if text.upper() == "NULL":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(_NUMBER, text):
        return float(text)
    raise SqlError(SYNTAX_ERROR, f"syntax error near {text[:40]!r}")


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Yield (index, char, depth) for each character outside single-quoted SQL strings.

    `depth` is the parenthesis depth after the character (a "(" counts itself).
    """
    depth, quoted, i = 0, False, start
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == "'":
                quoted = False
        elif ch == "'":
            quoted = True
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside parentheses and quotes."""
    parts, start = [], 0
    for i, ch, depth in _unquoted(text):
        if ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


@dataclass
class _Child:
    tags: list[Any]
    rows: dict[int, tuple[float | None, ...]] = field(default_factory=dict)


@dataclass
class _Stable:
    columns: list[tuple[str, str, int]]  # (name, type, length); the first is the timestamp
    tags: list[tuple[str, str, int]]
    children: dict[str, _Child] = field(default_factory=dict)
    version: int = 0
    cache: tuple[int, Frame] | None = None

    def types(self) -> dict[str, tuple[str, int]]:
        return {name.lower(): (typ, length) for name, typ, length in self.columns + self.tags}

    def frame(self) -> Frame:
        """All rows as column arrays (tags repeated), sorted by child then timestamp."""
        if self.cache and self.cache[0] == self.version:
            return self.cache[1]
        ts_name = self.columns[0][0].lower()
        names = [c[0].lower() for c in self.columns[1:]]
        cols: dict[str, list[Any]] = {ts_name: []}
        cols.update({n: [] for n in names})
        cols.update({t[0].lower(): [] for t in self.tags})
        cols["tbname"] = []
        for child_name in sorted(self.children):
            child = self.children[child_name]
            stamps = sorted(child.rows)
            cols[ts_name].extend(stamps)
            for j, n in enumerate(names):
                cols[n].extend(child.rows[t][j] for t in stamps)
            for (tag, _, _), value in zip(self.tags, child.tags, strict=True):
                cols[tag.lower()].extend([value] * len(stamps))
            cols["tbname"].extend([child_name] * len(stamps))
        frame = {ts_name: np.array(cols[ts_name], dtype=np.int64)}
        for n in names:
            frame[n] = np.array([np.nan if v is None else v for v in cols[n]], dtype=np.float64)
        for key in [t[0].lower() for t in self.tags] + ["tbname"]:
            frame[key] = np.array(cols[key], dtype=object)
        self.cache = (self.version, frame)
        return frame


_TYPE_LEN = {"TIMESTAMP": 8, "DOUBLE": 8, "FLOAT": 4, "INT": 4, "BIGINT": 8, "BOOL": 1}


def _parse_defs(text: str) -> list[tuple[str, str, int]]:
    defs = []
    for part in _split_top(text):
        m = re.fullmatch(rf"({_NAME})\s+(\w+)(?:\s*\(\s*(\d+)\s*\))?", part, _FLAGS)
        if not m:
            raise SqlError(SYNTAX_ERROR, f"syntax error near {part[:40]!r}")
        typ = m.group(2).upper()
        length = int(m.group(3)) if m.group(3) else _TYPE_LEN.get(typ, 8)
        defs.append((m.group(1), typ, length))
    return defs


def _fill(
    values: list[list[Any]],
    groups: list[tuple[Any, np.ndarray | None, int | None, int | None]],
    columns: list[int],
    mode: str,
) -> None:
    """Fill the aggregate `columns` of empty windows (groups without rows) in place.

    Per partition, in window order: PREV repeats the last window with data, NEXT takes the next
    one, LINEAR interpolates between the two by window start; a window with no such neighbour
    stays NULL.
    """
    by_key: dict[Any, list[int]] = {}
    for n, (key, _, _, _) in enumerate(groups):
        by_key.setdefault(key, []).append(n)
    for rows in by_key.values():
        have = [n for n in rows if groups[n][1] is not None]
        for n in rows:
            if groups[n][1] is not None:
                continue
            k = bisect.bisect_left(have, n)
            prev = have[k - 1] if k > 0 else None
            nxt = have[k] if k < len(have) else None
            for j in columns:
                if mode == "PREV":
                    values[n][j] = None if prev is None else values[prev][j]
                elif mode == "NEXT":
                    values[n][j] = None if nxt is None else values[nxt][j]
                elif prev is not None and nxt is not None:
                    a, b = values[prev][j], values[nxt][j]
                    if a is None or b is None:
                        values[n][j] = None
                    else:
                        t0, t1, t = groups[prev][2], groups[nxt][2], groups[n][2]
                        if t0 is None or t1 is None or t is None:
                            raise SqlError(SYNTAX_ERROR, "FILL(LINEAR) needs INTERVAL windows")
                        values[n][j] = a + (b - a) * (t - t0) / (t1 - t0)


class FakeTDengine:
    """In-memory tables plus a threaded HTTP server on 127.0.0.1; see the module docstring."""

    def __init__(self, user: str = "root", password: str = "taosdata") -> None:
        self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._lock = threading.Lock()
        self._dbs: dict[str, dict[str, _Stable]] = {}
        self._tables: dict[tuple[str, str], str] = {}  # (db, child) -> stable
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests = 0

    # ---- HTTP -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Serve on 127.0.0.1 at an ephemeral port; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, body: Reply) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0].rstrip("/")
                m = re.fullmatch(rf"/rest/sql(?:/({_NAME}))?", path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                if not m:
                    self._reply(404, {"code": 404, "desc": "api not found"})
                elif self.headers.get("Authorization") != fake._auth:
                    self._reply(401, {"code": AUTH_FAILURE, "desc": "Authentication failure"})
                else:
                    self._reply(200, fake.execute(body, m.group(1)))

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/-/ping":
                    self._reply(200, {"code": 0, "message": ""})
                else:
                    self._reply(404, {"code": 404, "desc": "api not found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTDengine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- SQL --------------------------------------------------------------------------------

    def execute(self, statement: str, default_db: str | None = None) -> Reply:
        """Run one statement; the REST reply as a dict (never raises for SQL errors)."""
        with self._lock:
            self.requests += 1
            try:
                if len(statement) > MAX_SQL_LENGTH:
                    raise SqlError(SQL_TOO_LONG, "SQL statement too long")
                meta, data = self._dispatch(statement.strip().rstrip(";").strip(), default_db)
            except SqlError as err:
                return {"code": err.code, "desc": str(err)}
        return {"code": 0, "column_meta": meta, "data": data, "rows": len(data)}

    @staticmethod
    def _affected(n: int) -> tuple[Meta, Data]:
        return [["affected_rows", "INT", 4]], [[n]]

    def _split_ref(self, ref: str, default_db: str | None) -> tuple[str, str]:
        if "." in ref:
            db, name = ref.split(".", 1)
        elif default_db:
            db, name = default_db, ref
        else:
            raise SqlError(DB_NOT_SPECIFIED, "Database not specified")
        if db not in self._dbs:
            raise SqlError(DB_NOT_EXIST, f"Database not exist: {db}")
        return db, name

    def _stable(self, ref: str, default_db: str | None) -> _Stable:
        db, name = self._split_ref(ref, default_db)
        if name not in self._dbs[db]:
            raise SqlError(TABLE_NOT_EXIST, f"Table does not exist: {name}")
        return self._dbs[db][name]

    def _dispatch(self, s: str, default_db: str | None) -> tuple[Meta, Data]:
        if re.fullmatch(r"SELECT\s+SERVER_VERSION\(\s*\)", s, _FLAGS):
            return [["server_version()", "VARCHAR", 32]], [[VERSION]]
        if m := re.fullmatch(
            rf"CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?({_NAME})(\s+.*)?", s, _FLAGS
        ):
            if m.group(2) in self._dbs and not m.group(1):
                raise SqlError(DB_ALREADY_EXISTS, "Database already exists")
            self._dbs.setdefault(m.group(2), {})
            return self._affected(0)
        if m := re.fullmatch(rf"DROP\s+DATABASE\s+(IF\s+EXISTS\s+)?({_NAME})", s, _FLAGS):
            if m.group(2) not in self._dbs and not m.group(1):
                raise SqlError(DB_NOT_EXIST, f"Database not exist: {m.group(2)}")
            self._dbs.pop(m.group(2), None)
            self._tables = {k: v for k, v in self._tables.items() if k[0] != m.group(2)}
            return self._affected(0)
        if m := re.fullmatch(
            rf"CREATE\s+STABLE\s+(IF\s+NOT\s+EXISTS\s+)?({_REF})\s*\((.*)\)\s*TAGS\s*\((.*)\)",
            s,
            _FLAGS,
        ):
            db, name = self._split_ref(m.group(2), default_db)
            columns, tags = _parse_defs(m.group(3)), _parse_defs(m.group(4))
            if not columns or columns[0][1] != "TIMESTAMP":
                raise SqlError(FIRST_COLUMN_NOT_TS, "First column must be timestamp")
            if name in self._dbs[db] and not m.group(1):
                raise SqlError(STABLE_ALREADY_EXISTS, f"STable already exists: {name}")
            self._dbs[db].setdefault(name, _Stable(columns, tags))
            return self._affected(0)
        if m := re.fullmatch(
            rf"CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?({_REF})\s+USING\s+({_REF})\s+TAGS\s*\((.*)\)",
            s,
            _FLAGS,
        ):
            db, child = self._split_ref(m.group(2), default_db)
            self._child(
                db, child, m.group(3), [_literal(v) for v in _split_top(m.group(4))], default_db
            )
            return self._affected(0)
        if m := re.fullmatch(rf"DESCRIBE\s+({_REF})", s, _FLAGS):
            st = self._stable(m.group(1), default_db)
            meta = [
                ["field", "VARCHAR", 64],
                ["type", "VARCHAR", 32],
                ["length", "INT", 4],
                ["note", "VARCHAR", 8],
            ]
            data = [[n, t, ln, ""] for n, t, ln in st.columns] + [
                [n, t, ln, "TAG"] for n, t, ln in st.tags
            ]
            return meta, data
        if re.match(r"INSERT\s+INTO\s", s, _FLAGS):
            return self._affected(self._insert(s, default_db))
        if re.match(r"SELECT\s", s, _FLAGS):
            return self._select(s, default_db)
        raise SqlError(
            SYNTAX_ERROR, f"syntax error near {s[:40]!r} (not understood by the loopback fake)"
        )

    def _child(
        self, db: str, child: str, stable_ref: str, tags: list[Any], default_db: str | None
    ) -> _Child:
        st_db, st_name = self._split_ref(stable_ref, default_db)
        if st_db != db:
            raise SqlError(SYNTAX_ERROR, "sub-table and super table must share a database")
        st = self._stable(stable_ref, default_db)
        if len(tags) != len(st.tags):
            raise SqlError(
                TAGS_NOT_MATCHED, f"Tags number not matched: {len(tags)} for {len(st.tags)}"
            )
        if child not in st.children:
            st.children[child] = _Child(tags)
            self._tables[(db, child)] = st_name
        return st.children[child]

    _TABLE_HEAD = re.compile(rf"\s*({_REF})\s+(?:USING\s+({_REF})\s+TAGS\s*\()?", _FLAGS)
    _VALUES = re.compile(r"\s*VALUES\s*", _FLAGS)
    _ROW = re.compile(r"\s*\(([^()']*)\)")

    def _insert(self, s: str, default_db: str | None) -> int:
        start = re.match(r"INSERT\s+INTO", s, _FLAGS)
        if start is None:
            raise SqlError(SYNTAX_ERROR, f"syntax error near {s[:40]!r}")
        pos = start.end()
        total = 0
        while pos < len(s):
            head = self._TABLE_HEAD.match(s, pos)
            if not head:
                raise SqlError(SYNTAX_ERROR, f"syntax error near {s[pos : pos + 40]!r}")
            db, child_name = self._split_ref(head.group(1), default_db)
            pos = head.end()
            if head.group(2):  # USING stable TAGS ( ... )
                close = self._close_paren(s, pos)
                tags = [_literal(v) for v in _split_top(s[pos:close])]
                child = self._child(db, child_name, head.group(2), tags, default_db)
                st = self._stable(head.group(2), default_db)
                pos = close + 1
            else:
                if (db, child_name) not in self._tables:
                    raise SqlError(TABLE_NOT_EXIST, f"Table does not exist: {child_name}")
                st = self._dbs[db][self._tables[(db, child_name)]]
                child = st.children[child_name]
            values = self._VALUES.match(s, pos)
            if not values:
                raise SqlError(SYNTAX_ERROR, f"syntax error near {s[pos : pos + 40]!r}")
            pos = values.end()
            width = len(st.columns)
            rows = 0
            while row := self._ROW.match(s, pos):
                fields = row.group(1).split(",")
                if len(fields) != width:
                    raise SqlError(COLUMNS_NOT_MATCHED, f"Illegal number of columns: {len(fields)}")
                try:
                    ts = int(fields[0])
                    rest = tuple(
                        None if f.strip().upper() == "NULL" else float(f) for f in fields[1:]
                    )
                except ValueError as err:
                    raise SqlError(
                        SYNTAX_ERROR, f"syntax error near {row.group(0)[:40]!r}"
                    ) from err
                child.rows[ts] = rest
                rows += 1
                pos = row.end()
            if rows == 0:
                raise SqlError(SYNTAX_ERROR, "VALUES needs at least one row")
            st.version += 1
            total += rows
            while pos < len(s) and s[pos].isspace():
                pos += 1
        return total

    @staticmethod
    def _close_paren(s: str, pos: int) -> int:
        """The index of the ")" closing the "(" just before `pos`."""
        for i, ch, depth in _unquoted(s, pos):
            if ch == ")" and depth == -1:
                return i
        raise SqlError(SYNTAX_ERROR, "unbalanced parentheses")

    # ---- SELECT -----------------------------------------------------------------------------

    _SELECT = re.compile(
        rf"SELECT\s+(?P<distinct>DISTINCT\s+)?(?P<items>.+?)\s+FROM\s+(?P<ref>{_REF})"
        r"(?:\s+WHERE\s+(?P<where>.+?))?"
        rf"(?:\s+PARTITION\s+BY\s+(?P<part>{_NAME}))?"
        r"(?:\s+INTERVAL\(\s*(?P<iv>\d+)(?P<unit>[smhd])\s*\)(?:\s+FILL\(\s*(?P<fill>\w+)\s*\))?)?"
        r"(?:\s+STATE_WINDOW\((?P<state>.+)\))?"
        rf"(?:\s+ORDER\s+BY\s+(?P<order>{_NAME})(?:\s+(?P<dir>ASC|DESC))?)?",
        _FLAGS,
    )
    _AGG = re.compile(rf"(COUNT|AVG|SUM|MIN|MAX|FIRST|LAST|LAST_ROW)\(\s*(\*|{_NAME})\s*\)", _FLAGS)
    _CASE = re.compile(
        r"CASE\s+WHEN\s+(?P<cond>.+?)\s+THEN\s+(?P<a>-?\d+)\s+ELSE\s+(?P<b>-?\d+)\s+END", _FLAGS
    )
    _CMP = re.compile(rf"({_NAME})\s*(<=|>=|<>|!=|=|<|>)\s*({_STRING}|{_NUMBER})", _FLAGS)

    def _condition(self, text: str, frame: Frame, rows: np.ndarray) -> np.ndarray:
        """Evaluate `a op x [AND|OR ...]` (AND binds tighter) on the given rows."""
        result = np.zeros(rows.shape[0], dtype=bool)
        for disjunct in re.split(r"\s+OR\s+", text.strip(), flags=re.IGNORECASE):
            term = np.ones(rows.shape[0], dtype=bool)
            for comparison in re.split(r"\s+AND\s+", disjunct.strip(), flags=re.IGNORECASE):
                m = self._CMP.fullmatch(comparison.strip())
                if not m:
                    raise SqlError(SYNTAX_ERROR, f"syntax error near {comparison[:40]!r}")
                name, op, value = m.group(1).lower(), m.group(2), _literal(m.group(3))
                if name not in frame:
                    raise SqlError(INVALID_COLUMN, f"Invalid column name: {m.group(1)}")
                column = frame[name][rows]
                ops = {
                    "=": lambda a, b: a == b,
                    "!=": lambda a, b: a != b,
                    "<>": lambda a, b: a != b,
                    "<": lambda a, b: a < b,
                    "<=": lambda a, b: a <= b,
                    ">": lambda a, b: a > b,
                    ">=": lambda a, b: a >= b,
                }
                term &= np.asarray(ops[op](column, value), dtype=bool)
            result |= term
        return result

    def _select(self, s: str, default_db: str | None) -> tuple[Meta, Data]:
        m = self._SELECT.fullmatch(s)
        if not m:
            raise SqlError(
                SYNTAX_ERROR, f"syntax error near {s[:40]!r} (not understood by the loopback fake)"
            )
        st = self._stable(m.group("ref"), default_db)
        frame = st.frame()
        types = st.types()
        ts_name = st.columns[0][0].lower()
        types["tbname"] = ("VARCHAR", 192)
        items = _split_top(m.group("items"))
        n_all = frame[ts_name].shape[0]
        rows = np.arange(n_all)
        if m.group("where"):
            rows = rows[self._condition(m.group("where"), frame, rows)]
        part = m.group("part")
        if part and part.lower() not in frame:
            raise SqlError(INVALID_COLUMN, f"Invalid column name: {part}")
        partitions: list[tuple[Any, np.ndarray]]
        if part:
            keys = frame[part.lower()][rows]
            partitions = [(k, rows[keys == k]) for k in sorted(set(keys.tolist()))]
        else:
            partitions = [(None, rows)]
        # Rows of a partition in time order: FIRST / LAST / windows rely on it.
        partitions = [
            (k, idx[np.argsort(frame[ts_name][idx], kind="stable")]) for k, idx in partitions
        ]
        aggregate = any(self._AGG.fullmatch(i) for i in items)
        meta = [self._meta(i, types, ts_name) for i in items]

        # Each group: (partition key, row indices, window start, window end).
        groups: list[tuple[Any, np.ndarray | None, int | None, int | None]] = []
        if m.group("distinct") and (part or aggregate or m.group("iv") or m.group("state")):
            raise SqlError(SYNTAX_ERROR, "the fake supports DISTINCT only on plain columns")
        if m.group("state"):
            if not part or part.lower() != "tbname":
                raise SqlError(
                    STATE_WINDOW_ON_STABLE,
                    "STATE_WINDOW not support for supertable query: PARTITION BY tbname",
                )
            state_m = self._CASE.fullmatch(m.group("state").strip())
            if not state_m:
                raise SqlError(SYNTAX_ERROR, "the fake supports STATE_WINDOW(CASE WHEN ... END)")
            for key, idx in partitions:
                state = self._case(state_m, frame, idx)
                edges = np.flatnonzero(np.diff(state)) + 1
                for chunk in np.split(idx, edges):
                    if chunk.size:
                        ts = frame[ts_name][chunk]
                        groups.append((key, chunk, int(ts[0]), int(ts[-1])))
        elif m.group("iv"):
            step = int(m.group("iv")) * _UNITS_MS[m.group("unit").lower()]
            fill = (m.group("fill") or "NONE").upper()
            if fill not in FILL_MODES:
                raise SqlError(SYNTAX_ERROR, f"the fake supports FILL({' | '.join(FILL_MODES)})")
            lo, hi = self._time_range(m.group("where"), ts_name, frame, rows)
            for key, idx in partitions:
                if lo is None:
                    continue
                ts = frame[ts_name][idx]
                bounds = np.arange((lo // step) * step, hi + step, step)
                cuts = np.searchsorted(ts, bounds)
                for w, a, b in zip(bounds[:-1].tolist(), cuts[:-1], cuts[1:], strict=True):
                    if w >= hi:
                        break
                    if b > a or fill != "NONE":
                        groups.append((key, idx[a:b] if b > a else None, w, w + step))
        elif part or aggregate:
            groups = [(key, idx, None, None) for key, idx in partitions]
        else:
            order = (m.group("order") or ts_name).lower()
            if order not in frame:
                raise SqlError(INVALID_COLUMN, f"Invalid column name: {order}")
            idx = rows[np.argsort(frame[order][rows], kind="stable")]
            if (m.group("dir") or "ASC").upper() == "DESC":
                idx = idx[::-1]
            columns = [
                self._column(i, frame, idx, meta_i) for i, meta_i in zip(items, meta, strict=True)
            ]
            data = [list(row) for row in zip(*columns, strict=True)] if columns else []
            if m.group("distinct"):
                unique: dict[tuple[Any, ...], list[Any]] = {}
                for row in data:
                    unique.setdefault(tuple(row), row)
                data = list(unique.values())
            return meta, data

        compiled = [self._compile(item, part) for item in items]
        values = [
            [self._group_value(item, frame, idx, key, w0, w1) for item in compiled]
            for key, idx, w0, w1 in groups
        ]
        fill = (m.group("fill") or "NONE").upper() if m.group("iv") else "NONE"
        if fill in ("PREV", "NEXT", "LINEAR"):
            aggregates = [j for j, item in enumerate(compiled) if item[0] == "agg"]
            _fill(values, groups, aggregates, fill)
        data = [
            [self._json(v, meta_i[1]) for v, meta_i in zip(row, meta, strict=True)]
            for row in values
        ]
        return meta, data

    def _compile(self, item: str, part: str | None) -> tuple[str, Any, Any]:
        """(kind, function, argument) of one select item, parsed once per query."""
        low = item.lower()
        if low in ("_wstart", "_wend"):
            return (low, None, None)
        if part and low == part.lower():
            return ("key", None, None)
        if agg := self._AGG.fullmatch(item):
            return ("agg", agg.group(1).upper(), agg.group(2).lower())
        if case := self._CASE.fullmatch(item):
            return ("case", None, case)
        return ("name", None, low)

    def _time_range(
        self, where: str | None, ts_name: str, frame: Frame, rows: np.ndarray
    ) -> tuple[int | None, int]:
        lo = hi = None
        for m in self._CMP.finditer(where or ""):
            if m.group(1).lower() == ts_name:
                value = int(float(m.group(3)))
                if m.group(2) in (">=", ">"):
                    lo = value + (1 if m.group(2) == ">" else 0)
                elif m.group(2) in ("<", "<="):
                    hi = value + (1 if m.group(2) == "<=" else 0)
        ts = frame[ts_name][rows]
        if lo is None:
            lo = int(ts.min()) if ts.size else None
        if hi is None:
            hi = int(ts.max()) + 1 if ts.size else 0
        return lo, hi

    def _case(self, m: re.Match[str], frame: Frame, idx: np.ndarray) -> np.ndarray:
        hit = self._condition(m.group("cond"), frame, idx)
        return np.where(hit, int(m.group("a")), int(m.group("b")))

    def _meta(self, item: str, types: dict[str, tuple[str, int]], ts_name: str) -> list[Any]:
        low = item.lower()
        if low in ("_wstart", "_wend"):
            return [item, "TIMESTAMP", 8]
        if agg := self._AGG.fullmatch(item):
            fn, arg = agg.group(1).upper(), agg.group(2).lower()
            if fn == "COUNT":
                return [item, "BIGINT", 8]
            if arg not in types:
                raise SqlError(INVALID_COLUMN, f"Invalid column name: {agg.group(2)}")
            if fn in ("AVG", "SUM"):
                return [item, "DOUBLE", 8]
            return [item, *types[arg]]
        if self._CASE.fullmatch(item):
            return [item, "BIGINT", 8]
        if low in types:
            return [item, *types[low]]
        if re.match(r"\w+\s*\(", item):
            raise SqlError(
                SYNTAX_ERROR,
                f"syntax error near {item[:40]!r} (not understood by the loopback fake)",
            )
        raise SqlError(INVALID_COLUMN, f"Invalid column name: {item[:40]}")

    @staticmethod
    def _json(value: Any, typ: str) -> Any:
        if value is None:
            return None
        if typ == "TIMESTAMP":
            return _iso(int(value))
        if isinstance(value, float | np.floating):
            return None if math.isnan(value) else float(value)
        if isinstance(value, np.integer):
            return int(value)
        return value

    def _column(self, item: str, frame: Frame, idx: np.ndarray, meta_i: list[Any]) -> list[Any]:
        """One select item over the rows `idx` of a plain (non-aggregate) query, as JSON values."""
        if self._AGG.fullmatch(item) or item.lower() in ("_wstart", "_wend"):
            raise SqlError(SYNTAX_ERROR, f"{item} needs a window or an aggregate query")
        if case := self._CASE.fullmatch(item):
            return [int(v) for v in self._case(case, frame, idx)]
        values = frame[item.lower()][idx]
        if meta_i[1] == "TIMESTAMP":  # vectorised: RFC 3339 in UTC, millisecond precision
            stamps = np.datetime_as_string(values.astype("datetime64[ms]"), unit="ms")
            return [f"{text}Z" for text in stamps.tolist()]
        if values.dtype.kind == "f":
            return [None if math.isnan(v) else v for v in values.tolist()]
        return [self._json(v, meta_i[1]) for v in values.tolist()]

    def _group_value(
        self,
        item: tuple[str, Any, Any],
        frame: Frame,
        idx: np.ndarray | None,
        key: Any,
        w0: int | None,
        w1: int | None,
    ) -> Any:
        """One select item over one group (rows `idx` in time order, or None for a filled gap)."""
        kind, fn, arg = item
        if kind == "_wstart":
            return w0
        if kind == "_wend":
            return w1
        if kind == "key":
            return key
        if idx is None or idx.size == 0:  # an empty window: FILL decides (NULL by default)
            return None
        if kind == "agg":
            if fn == "COUNT":
                if arg == "*":
                    return int(idx.size)
                col = frame[arg][idx]
                return int(np.sum(~np.isnan(col))) if col.dtype.kind == "f" else int(idx.size)
            col = frame[arg][idx]
            if fn in ("FIRST", "LAST", "LAST_ROW"):
                if fn != "LAST_ROW" and col.dtype.kind == "f":
                    col = col[~np.isnan(col)]
                if col.size == 0:
                    return None
                return col[0] if fn == "FIRST" else col[-1]
            values = col[~np.isnan(col)] if col.dtype.kind == "f" else col
            if values.size == 0:
                return None
            reduce: dict[str, Callable[[np.ndarray], Any]] = {
                "AVG": np.mean,
                "SUM": np.sum,
                "MIN": np.min,
                "MAX": np.max,
            }
            return reduce[fn](values)
        if kind == "case":
            return int(self._case(arg, frame, idx[:1])[0])
        if arg in frame and frame[arg].dtype == object:  # a tag: constant within a sub-table
            return frame[arg][idx[0]]
        raise SqlError(SYNTAX_ERROR, f"{arg} must be aggregated in a window or partition query")
