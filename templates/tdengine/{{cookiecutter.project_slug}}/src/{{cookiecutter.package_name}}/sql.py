"""The SQL this project sends to TDengine, built from validated names and escaped literals.

Every table is qualified as `db.table`: REST is stateless (no `USE`), and qualified names work
the same through every connector. Names must be plain identifiers (letters, digits, `_`), so no
user-supplied text can change a statement's shape; string literals are single-quoted with `\\`
and `'` escaped.

The schema (one super table, one sub-table a meter, created on first insert):

    CREATE STABLE db.meters (ts TIMESTAMP, current DOUBLE, voltage DOUBLE, phase DOUBLE)
        TAGS (device NCHAR(16), location NCHAR(64), groupid INT)
    INSERT INTO db.d0001 USING db.meters TAGS ('d0001', 'California.SanJose', 2)
        VALUES (1735689600000, 10.3, 219.5, 0.3101) (...) db.d0002 USING ... VALUES ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .data import Readings

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_DURATION = re.compile(r"[1-9][0-9]*[smhd]")
# The FILL modes `downsample` may ask for. The loopback fake implements exactly these (a test
# checks that the two agree); TDengine also has VALUE, NULL_F and VALUE_F, not used here.
FILL_MODES = ("NONE", "NULL", "PREV", "NEXT", "LINEAR")
COMPARATORS = ("<", "<=", ">", ">=")
# TDengine's default maximum SQL statement length, in characters (SQL manual, Names and Limits).
MAX_SQL_LENGTH = 1_048_576


@dataclass(frozen=True)
class Target:
    """Where the readings live: database and super table."""

    db: str = "power"
    stable: str = "meters"

    def __post_init__(self) -> None:
        ident(self.db)
        ident(self.stable)

    @property
    def stable_ref(self) -> str:
        return f"{self.db}.{self.stable}"

    def table_ref(self, table: str) -> str:
        return f"{self.db}.{ident(table)}"


def ident(name: object) -> str:
    """`name` if it is a plain identifier (<= 64 chars); ValueError otherwise (also for a
    non-string, say a number read from JSON)."""
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        raise ValueError(f"not a valid TDengine identifier: {name!r}")
    return name


def sql_str(value: str) -> str:
    """A single-quoted SQL string literal with backslashes and quotes escaped."""
    if "\x00" in value:
        raise ValueError("string literal must not contain NUL")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def duration(text: str) -> str:
    """A TDengine duration such as `15m`, `1h`, `30s`, `1d`; ValueError otherwise."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a duration like 15m / 1h / 30s / 1d: {text!r}")
    return text


def create_database(db: str, precision: str = "ms") -> str:
    if precision not in ("ms", "us", "ns"):
        raise ValueError(f"precision must be ms, us or ns, got {precision!r}")
    return f"CREATE DATABASE IF NOT EXISTS {ident(db)} PRECISION '{precision}'"


def drop_database(db: str) -> str:
    return f"DROP DATABASE IF EXISTS {ident(db)}"


def create_stable(target: Target) -> str:
    return (
        f"CREATE STABLE IF NOT EXISTS {target.stable_ref} "
        "(ts TIMESTAMP, current DOUBLE, voltage DOUBLE, phase DOUBLE) "
        "TAGS (device NCHAR(16), location NCHAR(64), groupid INT)"
    )


def describe(target: Target) -> str:
    return f"DESCRIBE {target.stable_ref}"


def server_version() -> str:
    return "SELECT SERVER_VERSION()"


def insert_statements(
    readings: Readings, target: Target, batch_rows: int = 5000
) -> Iterator[tuple[str, int]]:
    """Multi-table INSERT statements of at most `batch_rows` rows each: yields (sql, rows).

    Sub-tables are created on first use (`USING ... TAGS`). Rows keep their order, so a statement
    holds consecutive rows of one or more meters. Statements are built one at a time, so memory
    stays flat however large the fleet.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be >= 1")
    heads = [
        f"{target.table_ref(d.name)} USING {target.stable_ref} TAGS "
        f"({sql_str(d.name)}, {sql_str(d.location)}, {int(d.groupid)})"
        for d in readings.devices
    ]
    for lo in range(0, len(readings), batch_rows):
        rows = slice(lo, min(lo + batch_rows, len(readings)))
        device = readings.device[rows].tolist()
        values = [
            f"({t}, {c!r}, {v!r}, {p!r})"
            for t, c, v, p in zip(
                readings.ts[rows].tolist(),
                readings.current[rows].tolist(),
                readings.voltage[rows].tolist(),
                readings.phase[rows].tolist(),
                strict=True,
            )
        ]
        parts, start = ["INSERT INTO"], 0
        while start < len(values):
            d = device[start]
            end = start
            while end < len(values) and device[end] == d:
                end += 1
            parts.append(heads[d] + " VALUES " + " ".join(values[start:end]))
            start = end
        yield " ".join(parts), len(values)


def table_stats(target: Target, ts_col: str) -> str:
    """Row count and the first and last timestamp of the super table."""
    ts = ident(ts_col)
    return f"SELECT COUNT(*), FIRST({ts}), LAST({ts}) FROM {target.stable_ref}"


def device_series(target: Target, ts_col: str, device: str) -> str:
    """One meter's readings in time order."""
    ts = ident(ts_col)
    return (
        f"SELECT {ts}, current, voltage, phase FROM {target.stable_ref} "
        f"WHERE device = {sql_str(device)} ORDER BY {ts}"
    )


def downsample(
    target: Target,
    ts_col: str,
    start_ms: int,
    end_ms: int,
    interval: str = "15m",
    fill: str = "PREV",
) -> str:
    """Per-meter INTERVAL aggregates over [start_ms, end_ms), empty windows filled by `fill`."""
    fill = fill.upper()
    if fill not in FILL_MODES:
        raise ValueError(f"fill must be one of {FILL_MODES}, got {fill!r}")
    if end_ms <= start_ms:
        raise ValueError("end_ms must be after start_ms")
    ts = ident(ts_col)
    return (
        f"SELECT _wstart, device, AVG(current), MAX(current), AVG(voltage), AVG(phase) "
        f"FROM {target.stable_ref} WHERE {ts} >= {int(start_ms)} AND {ts} < {int(end_ms)} "
        f"PARTITION BY device INTERVAL({duration(interval)}) FILL({fill})"
    )


def last_rows(target: Target, ts_col: str) -> str:
    """The latest reading of every meter (LAST_ROW keeps NULLs, unlike LAST)."""
    ts = ident(ts_col)
    return (
        f"SELECT device, LAST_ROW({ts}), LAST_ROW(current), LAST_ROW(voltage), "
        f"LAST_ROW(phase) FROM {target.stable_ref} PARTITION BY device"
    )


def condition(rules: list[tuple[str, str, float]]) -> str:
    """`current > 17.2 OR voltage < 213.4 ...` from (column, comparator, threshold) rules."""
    if not rules:
        raise ValueError("need at least one rule")
    terms = []
    for column, op, value in rules:
        if op not in COMPARATORS:
            raise ValueError(f"comparator must be one of {COMPARATORS}, got {op!r}")
        terms.append(f"{ident(column)} {op} {float(value)!r}")
    return " OR ".join(terms)


def device_tables(target: Target) -> str:
    """Sub-table name and device tag of every meter (schemaless names sub-tables by a hash)."""
    return f"SELECT DISTINCT tbname, device FROM {target.stable_ref}"


def state_episodes(target: Target, rules: list[tuple[str, str, float]]) -> str:
    """STATE_WINDOW over `CASE WHEN rules THEN 1 ELSE 0 END`, per sub-table.

    On a super table TDengine requires `PARTITION BY tbname` for state windows (and allows only
    partition keys, pseudo-columns, aggregates and the state expression in the select list).
    Each result row is one run of consecutive readings in the same state: sub-table, first and
    last timestamp, number of readings, and the state (1 = some rule fires).
    """
    state = f"CASE WHEN {condition(rules)} THEN 1 ELSE 0 END"
    return (
        f"SELECT tbname, _wstart, _wend, COUNT(*), {state} FROM {target.stable_ref} "
        f"PARTITION BY tbname STATE_WINDOW({state})"
    )
