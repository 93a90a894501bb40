"""The analysis queries, run through any client, with their results as plain Python values.

- `downsample`: per-meter INTERVAL aggregates with FILL (the input of dashboards and forecasts);
- `last_rows`: the latest reading of every meter (LAST_ROW);
- `state_episodes`: runs of readings where a threshold rule fires (STATE_WINDOW on a CASE,
  per sub-table, mapped back to the device tag);
- `device_series`: one meter's raw readings, for the anomaly scorer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from . import sql
from .connect import Client, QueryError, to_epoch_ms
from .sql import Target

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """One INTERVAL window of one meter; aggregates are None where FILL left a gap."""

    device: str
    start_ms: int
    avg_current: float | None
    max_current: float | None
    avg_voltage: float | None
    avg_phase: float | None


@dataclass(frozen=True)
class Episode:
    """A run of consecutive readings of one meter in one state (1 = a rule fires)."""

    device: str
    start_ms: int
    end_ms: int
    rows: int
    state: int


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def timestamp_column(client: Client, target: Target) -> str:
    """The super table's timestamp column: `ts` if created by SQL, `_ts` if by schemaless."""
    rows = client.query(sql.describe(target))
    for row in rows:
        if str(row[1]).upper() == "TIMESTAMP":
            return sql.ident(str(row[0]))
    raise QueryError(f"{target.stable_ref} has no TIMESTAMP column")


def table_stats(client: Client, target: Target, ts_col: str) -> tuple[int, int | None, int | None]:
    """(rows, first timestamp ms, last timestamp ms) of the super table."""
    rows = client.query(sql.table_stats(target, ts_col))
    if not rows:
        return 0, None, None
    count, first, last = rows[0]
    return (
        int(count or 0),
        None if first is None else to_epoch_ms(first),
        None if last is None else to_epoch_ms(last),
    )


def downsample(
    client: Client,
    target: Target,
    ts_col: str,
    start_ms: int,
    end_ms: int,
    interval: str = "15m",
    fill: str = "PREV",
) -> list[Window]:
    """Per-meter windows over [start_ms, end_ms), sorted by device then time."""
    rows = client.query(sql.downsample(target, ts_col, start_ms, end_ms, interval, fill))
    windows = [
        Window(str(r[1]), to_epoch_ms(r[0]), _num(r[2]), _num(r[3]), _num(r[4]), _num(r[5]))
        for r in rows
    ]
    return sorted(windows, key=lambda w: (w.device, w.start_ms))


def last_rows(
    client: Client, target: Target, ts_col: str
) -> dict[str, tuple[int, float | None, float | None, float | None]]:
    """device -> (timestamp ms, current, voltage, phase) of its latest reading."""
    return {
        str(device): (to_epoch_ms(ts), _num(current), _num(voltage), _num(phase))
        for device, ts, current, voltage, phase in client.query(sql.last_rows(target, ts_col))
    }


def device_tables(client: Client, target: Target) -> dict[str, str]:
    """Sub-table name -> device tag, for every meter in the super table."""
    return {str(tb): str(device) for tb, device in client.query(sql.device_tables(target))}


def state_episodes(
    client: Client, target: Target, rules: list[tuple[str, str, float]]
) -> list[Episode]:
    """Every STATE_WINDOW run of every meter, sorted by device then time."""
    names = device_tables(client, target)
    episodes = [
        Episode(names.get(str(tb), str(tb)), to_epoch_ms(a), to_epoch_ms(b), int(n), int(s))
        for tb, a, b, n, s in client.query(sql.state_episodes(target, rules))
    ]
    return sorted(episodes, key=lambda e: (e.device, e.start_ms))


def device_series(
    client: Client, target: Target, ts_col: str, device: str
) -> dict[str, np.ndarray]:
    """One meter's readings: arrays ts (int64 ms), current, voltage, phase (float64)."""
    rows = client.query(sql.device_series(target, ts_col, device))
    ts = np.array([to_epoch_ms(r[0]) for r in rows], dtype=np.int64)
    values = np.array([r[1:4] for r in rows], dtype=np.float64).reshape(-1, 3)
    return {"ts": ts, "current": values[:, 0], "voltage": values[:, 1], "phase": values[:, 2]}


def episode_mask(episodes: list[Episode], device: str, ts: np.ndarray) -> np.ndarray:
    """Readings of `device` at `ts` that fall in one of its state-1 episodes."""
    mask = np.zeros(ts.shape[0], dtype=bool)
    for e in episodes:
        if e.device == device and e.state == 1:
            mask |= (ts >= e.start_ms) & (ts <= e.end_ms)
    return mask


def duration_ms(text: str) -> int:
    """Milliseconds in a duration such as `15m` (validated by `sql.duration`)."""
    text = sql.duration(text)
    return int(text[:-1]) * {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[text[-1]]


def timed(fn: Callable[[], T], repeat: int = 1) -> tuple[T, float]:
    """(result of the last call, median wall time in ms over `repeat` calls)."""
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    times: list[float] = []
    for _ in range(repeat):  # at least once: `result` is always bound
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return result, round(statistics.median(times), 2)
