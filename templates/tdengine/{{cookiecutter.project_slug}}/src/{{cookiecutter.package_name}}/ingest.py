"""Write a fleet's readings through one connector, in batches, optionally from several threads.

Two methods:

- `sql`: multi-table `INSERT INTO ... USING ... TAGS ... VALUES ...` statements (every connector);
- `line`: schemaless line protocol (WebSocket and native only); TDengine creates the super table
  itself, with a `_ts` timestamp column, DOUBLE fields and NCHAR tags.

Keep one database per method: the two schemas differ (see `sql.create_stable`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from . import lineproto, sql
from .connect import Client
from .data import Readings
from .sql import Target

log = logging.getLogger(__name__)
METHODS = ("sql", "line")


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion run did and how fast.

    `rows_per_s` counts from the first request to the last reply; `end_to_end_rows_per_s` also
    counts building the statement text from the arrays.
    """

    kind: str
    method: str
    rows: int
    requests: int
    payload_bytes: int
    build_seconds: float
    send_seconds: float
    rows_per_s: float
    end_to_end_rows_per_s: float

    def as_dict(self) -> dict:
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


def batches(
    readings: Readings, target: Target, method: str, batch_rows: int
) -> list[tuple[str | list[str], int]]:
    """The payloads to send: (INSERT statement or list of lines, rows) pairs."""
    if method == "sql":
        return list(sql.insert_statements(readings, target, batch_rows))
    if method == "line":
        if batch_rows < 1:
            raise ValueError("batch_rows must be >= 1")
        lines = lineproto.readings_to_lines(readings, target.stable)
        return [
            (lines[i : i + batch_rows], len(lines[i : i + batch_rows]))
            for i in range(0, len(lines), batch_rows)
        ]
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def ingest(
    open_client: Callable[[], Client],
    readings: Readings,
    target: Target,
    method: str,
    batch_rows: int = 5000,
    workers: int = 1,
) -> IngestReport:
    """Send every reading; `open_client` is called once per worker thread.

    The schema must exist (see `prepare`). Returns the report; raises the first error a worker
    hit (after the others stop).
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    t0 = time.perf_counter()
    payloads = batches(readings, target, method, batch_rows)
    build_seconds = time.perf_counter() - t0
    payload_bytes = sum(
        len(p) if isinstance(p, str) else sum(len(line) + 1 for line in p) for p, _ in payloads
    )
    local = threading.local()
    clients: list[Client] = []
    lock = threading.Lock()
    kind_box: list[str] = []

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = open_client()
            with lock:
                clients.append(local.client)
                kind_box.append(local.client.kind)
        return local.client

    def send(payload: str | list[str]) -> None:
        c = client()
        if isinstance(payload, str):
            c.execute(payload)
        else:
            c.insert_lines(target.db, payload)

    t1 = time.perf_counter()
    try:
        if workers == 1:
            for payload, _ in payloads:
                send(payload)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(send, p) for p, _ in payloads]
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        for c in clients:
            c.close()
    send_seconds = time.perf_counter() - t1
    rows = len(readings)
    report = IngestReport(
        kind=kind_box[0] if kind_box else "none",
        method=method,
        rows=rows,
        requests=len(payloads),
        payload_bytes=payload_bytes,
        build_seconds=round(build_seconds, 4),
        send_seconds=round(send_seconds, 4),
        rows_per_s=round(rows / max(send_seconds, 1e-9), 1),
        end_to_end_rows_per_s=round(rows / max(build_seconds + send_seconds, 1e-9), 1),
    )
    log.info(
        "ingested %d rows via %s/%s in %d requests: %.0f rows/s (%.0f end to end)",
        rows, report.kind, method, report.requests, report.rows_per_s,
        report.end_to_end_rows_per_s,
    )
    return report
