"""Write a fleet's readings through one connector, in batches, from one or more worker threads.

Two methods:

- `sql`: multi-table `INSERT INTO ... USING ... TAGS ... VALUES ...` statements (every connector);
- `line`: schemaless line protocol (WebSocket and native only); TDengine creates the super table
  itself, with a `_ts` timestamp column, DOUBLE fields and NCHAR tags.

Keep one database per method: the two schemas differ (see `sql.create_stable`).

The main thread builds one payload at a time while the workers send earlier ones; at most
`2 * workers` payloads wait in memory, so a fleet of any size streams through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from . import lineproto, sql
from .connect import Client
from .data import Readings
from .sql import Target

log = logging.getLogger(__name__)
METHODS = ("sql", "line")


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion run did and how fast.

    `seconds` runs from the first payload built to the last reply; `rows_per_s` is rows over that,
    so it includes the client's cost of formatting statements or lines. `build_seconds` is the
    part of it the main thread spent formatting (overlapping with sending when workers > 0).
    """

    kind: str
    method: str
    rows: int
    requests: int
    batch_rows: int
    workers: int
    payload_bytes: int
    largest_payload: int
    build_seconds: float
    seconds: float
    rows_per_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_method(kind: str) -> str:
    """REST can only send SQL; WebSocket and native default to schemaless line protocol."""
    return "sql" if kind == "rest" else "line"


def prepare(client: Client, target: Target, method: str, fresh: bool = False) -> None:
    """Create the database (dropping it first if `fresh`) and, for `sql`, the super table."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if fresh:
        client.execute(sql.drop_database(target.db))
    client.execute(sql.create_database(target.db))
    if method == "sql":
        client.execute(sql.create_stable(target))


def payloads(
    readings: Readings, target: Target, method: str, batch_rows: int
) -> Iterator[tuple[str | list[str], int]]:
    """The payloads to send, built lazily: (INSERT statement or list of lines, rows) pairs."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if batch_rows < 1:
        raise ValueError("batch_rows must be >= 1")
    if method == "sql":
        yield from sql.insert_statements(readings, target, batch_rows)
        return
    for lo in range(0, len(readings), batch_rows):
        rows = slice(lo, min(lo + batch_rows, len(readings)))
        yield lineproto.readings_to_lines(readings, target.stable, rows), rows.stop - rows.start


def ingest(
    open_client: Callable[[], Client],
    readings: Readings,
    target: Target,
    method: str,
    batch_rows: int = 5000,
    workers: int = 1,
) -> IngestReport:
    """Send every reading; `open_client` is called once per worker thread.

    The schema must exist (see `prepare`). Raises the first error a worker hit, after cancelling
    the payloads not yet sent.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    local = threading.local()
    lock = threading.Lock()
    clients: list[Client] = []

    def send(payload: str | list[str]) -> None:
        if not hasattr(local, "client"):
            local.client = open_client()
            with lock:
                clients.append(local.client)
        if isinstance(payload, str):
            local.client.execute(payload)
        else:
            local.client.insert_lines(target.db, payload)

    requests = payload_bytes = largest = 0
    build_seconds = 0.0
    t0 = time.perf_counter()
    in_flight: deque[Future[None]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
            try:
                stream = payloads(readings, target, method, batch_rows)
                while True:
                    tb = time.perf_counter()
                    item = next(stream, None)
                    build_seconds += time.perf_counter() - tb
                    if item is None:
                        break
                    payload = item[0]
                    requests += 1
                    size = (
                        len(payload)
                        if isinstance(payload, str)
                        else sum(len(line) + 1 for line in payload)
                    )
                    payload_bytes += size
                    largest = max(largest, size)
                    in_flight.append(pool.submit(send, payload))
                    if len(in_flight) >= 2 * workers:
                        in_flight.popleft().result()
                while in_flight:
                    in_flight.popleft().result()
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise
    finally:
        for client in clients:
            client.close()
    seconds = time.perf_counter() - t0
    rows = len(readings)
    report = IngestReport(
        kind=clients[0].kind if clients else "none",
        method=method,
        rows=rows,
        requests=requests,
        batch_rows=batch_rows,
        workers=workers,
        payload_bytes=payload_bytes,
        largest_payload=largest,
        build_seconds=round(build_seconds, 4),
        seconds=round(seconds, 4),
        rows_per_s=round(rows / max(seconds, 1e-9), 1),
    )
    log.info(
        "ingested %d rows via %s/%s in %d requests (%d workers): %.0f rows/s",
        rows,
        report.kind,
        method,
        requests,
        workers,
        report.rows_per_s,
    )
    return report
