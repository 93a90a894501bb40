"""The smoke run and the real-mode commands. Each returns a JSON-ready report:

    {"ok": bool, "seconds": float, "metrics": {...}, "targets": {name: {value, op, threshold, met}}}

`ok` is true when every target is met.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from . import lineproto, queries
from .connect import Client, Dsn, QueryError, ServerUnavailable, open_client
from .data import DEFAULT_SEED, FleetConfig, Readings, generate, truth_for
from .detect import ScorerConfig, StaticThresholds, detect
from .evaluate import precision_recall_f1, recall_by_label
from .fake_server import FakeTDengine
from .ingest import default_method, ingest, prepare
from .sql import Target

log = logging.getLogger(__name__)
RUNS = Path("runs")
F1_TARGET = 0.5
ROWS_PER_S_TARGET = 100_000
DOWNSAMPLE_MS_TARGET = 200.0


def target(value: Any, op: str, threshold: Any) -> dict[str, Any]:
    """One target: its measured value, the comparison, the threshold, and whether it is met."""
    checks: dict[str, Callable[[Any, Any], bool]] = {
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "==": lambda a, b: a == b,
    }
    return {
        "value": value,
        "op": op,
        "threshold": threshold,
        "met": bool(checks[op](value, threshold)),
    }


def report(
    t0: float, metrics: dict[str, Any], targets: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        "ok": all(t["met"] for t in targets.values()),
        "seconds": round(time.perf_counter() - t0, 2),
        "metrics": metrics,
        "targets": targets,
    }


def read_back(
    client: Client, tgt: Target, ts_col: str, fleet: Readings
) -> list[tuple[int, dict[str, np.ndarray]]]:
    """Every meter's series as stored, paired with its index in `fleet`."""
    return [
        (i, queries.device_series(client, tgt, ts_col, d.name)) for i, d in enumerate(fleet.devices)
    ]


def score_fleet(
    series: list[tuple[int, dict[str, np.ndarray]]],
    fleet: Readings,
    thresholds: StaticThresholds,
    config: ScorerConfig | None = None,
) -> dict[str, Any]:
    """Scorer and baseline flags for every stored reading, against the injected truth."""
    preds, bases, labels = [], [], []
    for i, s in series:
        labels.append(truth_for(fleet, i, s["ts"]))
        preds.append(detect(s["current"], s["voltage"], s["phase"], config))
        bases.append(thresholds.flags(s["current"], s["voltage"]))
    pred, base, label = (np.concatenate(x) for x in (preds, bases, labels))
    truth = label != 0
    return {
        "scorer": precision_recall_f1(pred, truth),
        "baseline": precision_recall_f1(base, truth),
        "scorer_recall_by_kind": recall_by_label(pred, label),
        "baseline_recall_by_kind": recall_by_label(base, label),
        "anomalous_readings": int(truth.sum()),
        "_base_flags": base,
    }


def smoke(
    devices: int = 20, days: float = 1.0, seed: int = DEFAULT_SEED, workers: int = 2
) -> dict[str, Any]:
    """The whole pipeline offline: generate, build SQL and lines, ingest through the real taosrest
    client into the loopback fake, query, read back, score, compare with the truth."""
    t0 = time.perf_counter()
    fleet = generate(FleetConfig(devices=devices, days=days, seed=seed))
    log.info("generated %d readings from %d meters: %s", len(fleet), devices, fleet.label_counts())

    lines = lineproto.readings_to_lines(fleet)
    sample = range(0, len(lines), 97)
    lines_ok = all(
        lineproto.parse_line(lines[k])[2]
        == {"current": fleet.current[k], "voltage": fleet.voltage[k], "phase": fleet.phase[k]}
        for k in sample
    )
    log.info("built %d line-protocol lines (%d bytes)", len(lines), sum(map(len, lines)))

    tgt = Target("power", "meters")
    with FakeTDengine() as fake:
        dsn = Dsn.parse(fake.url.replace("http://", "http://root:taosdata@"))
        client = open_client(dsn)
        prepare(client, tgt, "sql", fresh=True)
        ingested = ingest(
            lambda: open_client(dsn, check=False),
            fleet,
            tgt,
            "sql",
            batch_rows=2000,
            workers=workers,
        )
        ts_col = queries.timestamp_column(client, tgt)
        count, first, last = queries.table_stats(client, tgt, ts_col)
        cfg = fleet.config
        windows, downsample_ms = queries.timed(
            lambda: queries.downsample(client, tgt, ts_col, cfg.start_ms, cfg.end_ms, "15m", "PREV")
        )
        latest, last_row_ms = queries.timed(lambda: queries.last_rows(client, tgt, ts_col))
        series = read_back(client, tgt, ts_col, fleet)
        stored = np.concatenate([s["current"] for _, s in series])
        volts = np.concatenate([s["voltage"] for _, s in series])
        thresholds = StaticThresholds.fit(stored, volts)
        episodes, state_ms = queries.timed(
            lambda: queries.state_episodes(client, tgt, thresholds.rules())
        )
        client.close()
        requests = fake.requests

    scores = score_fleet(series, fleet, thresholds)
    sql_flags = np.concatenate(
        [queries.episode_mask(episodes, fleet.devices[i].name, s["ts"]) for i, s in series]
    )
    sql_agreement = float(np.mean(sql_flags == scores.pop("_base_flags")))
    expected_windows = devices * int(np.ceil((cfg.end_ms - cfg.start_ms) / 900_000))
    last_ok = all(
        latest.get(d.name, (None,))[0] == int(fleet.ts[fleet.rows_of(i)][-1])
        for i, d in enumerate(fleet.devices)
    )
    exact = all(
        np.array_equal(s["current"], fleet.current[fleet.rows_of(i)])
        and np.array_equal(s["ts"], fleet.ts[fleet.rows_of(i)])
        for i, s in series
    )
    f1, base_f1 = scores["scorer"]["f1"], scores["baseline"]["f1"]
    metrics = {
        "rows_generated": len(fleet),
        "rows_ingested": count,
        "rows_read_back": int(sum(s["ts"].shape[0] for _, s in series)),
        "read_back_exact": exact,
        "time_range_ok": (first, last) == (int(fleet.ts.min()), int(fleet.ts.max())),
        "http_requests": requests,
        "insert_statements": ingested.requests,
        "insert_payload_bytes": ingested.payload_bytes,
        "loopback_fake_rest_rows_per_s": ingested.rows_per_s,
        "line_protocol_lines": len(lines),
        "line_protocol_roundtrip_ok": lines_ok,
        "downsample_windows": len(windows),
        "downsample_windows_expected": expected_windows,
        "loopback_fake_downsample_ms": downsample_ms,
        "loopback_fake_last_row_ms": last_row_ms,
        "loopback_fake_state_window_ms": state_ms,
        "last_row_matches": last_ok,
        "state_episodes_flagged": sum(e.state == 1 for e in episodes),
        "sql_baseline_agreement": round(sql_agreement, 4),
        "thresholds": asdict(thresholds),
        **{f"anomaly_{k}": v for k, v in scores["scorer"].items()},
        **{f"baseline_{k}": v for k, v in scores["baseline"].items()},
        "scorer_recall_by_kind": scores["scorer_recall_by_kind"],
        "baseline_recall_by_kind": scores["baseline_recall_by_kind"],
        "note": "rows/s and ms are through a Python loopback fake of the REST API, not TDengine",
    }
    targets = {
        "anomaly_f1": target(f1, ">=", F1_TARGET),
        "f1_gain_over_static_threshold": target(round(f1 - base_f1, 4), ">", 0.0),
        "rows_round_trip": target(count, "==", len(fleet)),
        "read_back_exact": target(exact, "==", True),
        "downsample_fill_windows": target(len(windows), "==", expected_windows),
        "last_row_matches": target(last_ok, "==", True),
        "sql_state_window_matches_baseline": target(round(sql_agreement, 4), "==", 1.0),
        "line_protocol_roundtrip": target(lines_ok, "==", True),
    }
    return report(t0, metrics, targets)


# ---- real mode -------------------------------------------------------------------------------


def run_file(db: str) -> Path:
    return RUNS / f"{db}.json"


def ping(dsn: str, wait_s: float = 0.0) -> dict[str, Any]:
    """The server's version; with `wait_s`, keep trying that long (for a starting container)."""
    t0 = time.perf_counter()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            client = open_client(dsn, timeout=5.0)
            version = client.query("SELECT SERVER_VERSION()")[0][0]
            client.close()
            break
        except (ServerUnavailable, QueryError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(2.0)
    return report(t0, {"dsn": Dsn.parse(dsn).redacted(), "server_version": version}, {})


def ingest_fleet(
    dsn: str,
    db: str,
    fleet_config: FleetConfig,
    method: str | None = None,
    batch_rows: int = 5000,
    workers: int = 4,
    fresh: bool = False,
) -> dict[str, Any]:
    """Generate the fleet, create the schema, write it, count the rows; saves runs/<db>.json."""
    t0 = time.perf_counter()
    parsed = Dsn.parse(dsn)
    client = open_client(parsed)
    method = method or default_method(parsed.kind)
    tgt = Target(db)
    fleet = generate(fleet_config)
    log.info("generated %d readings from %d meters", len(fleet), fleet_config.devices)
    prepare(client, tgt, method, fresh=fresh)
    result = ingest(
        lambda: open_client(parsed, check=False), fleet, tgt, method, batch_rows, workers
    )
    ts_col = queries.timestamp_column(client, tgt)
    count, _, _ = queries.table_stats(client, tgt, ts_col)
    client.close()
    RUNS.mkdir(exist_ok=True)
    run_file(db).write_text(
        json.dumps({"fleet": asdict(fleet_config), "method": method}, indent=2), encoding="utf-8"
    )
    metrics = {**result.as_dict(), "db": db, "rows_in_table": count}
    # Throughput is a target of `bench`, which compares paths; here it is only reported.
    targets = {"rows_round_trip": target(count, ">=", len(fleet))}
    return report(t0, metrics, targets)


def query_timings(
    dsn: str,
    db: str,
    interval: str = "15m",
    fill: str = "PREV",
    repeat: int = 5,
    rules: list[tuple[str, str, float]] | None = None,
) -> dict[str, Any]:
    """Median latency of the analysis queries over `repeat` runs."""
    t0 = time.perf_counter()
    client = open_client(dsn)
    tgt = Target(db)
    ts_col = queries.timestamp_column(client, tgt)
    count, first, last = queries.table_stats(client, tgt, ts_col)
    if not count or first is None or last is None:
        raise QueryError(f"{tgt.stable_ref} is empty: run `ingest` first")
    windows, down_ms = queries.timed(
        lambda: queries.downsample(client, tgt, ts_col, first, last + 1, interval, fill), repeat
    )
    latest, last_ms = queries.timed(lambda: queries.last_rows(client, tgt, ts_col), repeat)
    rules = rules or [("current", ">", 20.0), ("voltage", "<", 209.0), ("voltage", ">", 231.0)]
    episodes, state_ms = queries.timed(lambda: queries.state_episodes(client, tgt, rules), repeat)
    client.close()
    metrics = {
        "db": db,
        "rows": count,
        "downsample_ms": down_ms,
        "downsample_windows": len(windows),
        "last_row_ms": last_ms,
        "meters": len(latest),
        "state_window_ms": state_ms,
        "episodes_flagged": sum(e.state == 1 for e in episodes),
    }
    return report(t0, metrics, {"downsample_ms": target(down_ms, "<", DOWNSAMPLE_MS_TARGET)})


def detect_fleet(dsn: str, db: str, fleet_config: FleetConfig | None = None) -> dict[str, Any]:
    """Read every meter back, score it, and compare scorer and baseline with the injected truth.

    The truth is regenerated from the fleet config saved by `ingest` (runs/<db>.json), or from
    `fleet_config` if given.
    """
    t0 = time.perf_counter()
    client = open_client(dsn)
    if fleet_config is None:
        path = run_file(db)
        if not path.exists():
            raise QueryError(
                f"{path} not found: run `ingest --db {db}` first (it records the fleet)"
            )
        fleet_config = FleetConfig(**json.loads(path.read_text(encoding="utf-8"))["fleet"])
    fleet = generate(fleet_config)
    tgt = Target(db)
    ts_col = queries.timestamp_column(client, tgt)
    series, read_ms = queries.timed(lambda: read_back(client, tgt, ts_col, fleet))
    stored = np.concatenate([s["current"] for _, s in series])
    volts = np.concatenate([s["voltage"] for _, s in series])
    thresholds = StaticThresholds.fit(stored, volts)
    episodes = queries.state_episodes(client, tgt, thresholds.rules())
    client.close()
    scores = score_fleet(series, fleet, thresholds)
    base_flags = scores.pop("_base_flags")
    sql_flags = np.concatenate(
        [queries.episode_mask(episodes, fleet.devices[i].name, s["ts"]) for i, s in series]
    )
    f1, base_f1 = scores["scorer"]["f1"], scores["baseline"]["f1"]
    metrics = {
        "db": db,
        "rows_scored": int(base_flags.shape[0]),
        "read_back_ms": read_ms,
        "thresholds": asdict(thresholds),
        "sql_baseline_agreement": round(float(np.mean(sql_flags == base_flags)), 4),
        **scores,
    }
    targets = {
        "anomaly_f1": target(f1, ">=", F1_TARGET),
        "f1_gain_over_static_threshold": target(round(f1 - base_f1, 4), ">", 0.0),
    }
    return report(t0, metrics, targets)


def bench(
    dsns: list[str],
    fleet_config: FleetConfig,
    db_prefix: str = "bench",
    batch_rows: int = 5000,
    workers: int = 4,
    repeat: int = 5,
) -> dict[str, Any]:
    """Ingest the same fleet through every connector and method the DSNs allow, each into a fresh
    database `<prefix>_<kind>_<method>`, then time the downsample query on it."""
    t0 = time.perf_counter()
    parsed = [Dsn.parse(d) for d in dsns]
    for p in parsed:  # fail fast, before generating anything
        open_client(p).close()
    runs = []
    for dsn_text, p in zip(dsns, parsed, strict=True):
        for method in ("sql",) if p.kind == "rest" else ("line", "sql"):
            db = f"{db_prefix}_{p.kind}_{method}"
            log.info("bench: %s via %s into %s", method, p.redacted(), db)
            ing = ingest_fleet(dsn_text, db, fleet_config, method, batch_rows, workers, fresh=True)
            qry = query_timings(dsn_text, db, repeat=repeat)
            runs.append(
                {
                    "kind": p.kind,
                    "method": method,
                    "db": db,
                    "rows": ing["metrics"]["rows"],
                    "rows_per_s": ing["metrics"]["rows_per_s"],
                    "build_seconds": ing["metrics"]["build_seconds"],
                    "downsample_ms": qry["metrics"]["downsample_ms"],
                }
            )
    best = max(runs, key=lambda r: r["rows_per_s"])
    metrics = {"runs": runs, "best": f"{best['kind']}/{best['method']}", "workers": workers}
    targets = {
        "best_rows_per_s": target(best["rows_per_s"], ">=", ROWS_PER_S_TARGET),
        "downsample_ms": target(min(r["downsample_ms"] for r in runs), "<", DOWNSAMPLE_MS_TARGET),
    }
    return report(t0, metrics, targets)
