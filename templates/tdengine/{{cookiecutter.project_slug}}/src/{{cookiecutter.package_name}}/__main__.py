"""Command line: smoke (offline), ping / ingest / query / detect / forecast / bench (need
TDengine), report (figures and the README's Results from a run folder), demo (the web app over a
run's detector) and space (that app as a Hugging Face Space folder).

Every command logs to stderr and prints one JSON report as the last line of stdout (the shape of
`targets.py`); it exits 0 when its targets are met, 1 when not (or a statement failed), 2 when no
server or connector is available (one line on stderr saying how to start one). Each but `ping`
leaves its run folder `runs/<command>` (`runs/<command>-<db>` for the database commands):
report, history, config with the seed, environment, and what `report` draws (see
`evidence.py`). A command that fails leaves none. `report`, `demo` and `space` write no run
folder; they exit 1 with one line on stderr when the run (or the demo's group) is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

from . import pipeline
from .connect import (
    ConnectorUnavailable,
    Dsn,
    QueryError,
    ServerUnavailable,
    default_dsn,
)
from .data import DEFAULT_SEED, DEFAULT_START_MS, FleetConfig
from .detect import DETECTORS
from .forecast import FORECASTERS
from .runs import RunFolder
from .targets import describe, emit

FLEET_SIZE = {{ cookiecutter.fleet_size }}


def start_ms(text: str) -> int:
    """`now` (rounded down to the minute), epoch milliseconds, or an ISO 8601 date-time (UTC if
    no offset)."""
    if text == "now":
        now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        return now - now % 60_000
    if text.isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a start time: {text!r}") from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _fleet_args(p: argparse.ArgumentParser, devices: int | None) -> None:
    p.add_argument("--devices", type=int, default=devices, help="meters to simulate")
    p.add_argument("--days", type=float, default=None, help="days of readings (default 5)")
    p.add_argument("--interval-s", type=int, default=None, help="seconds between readings (60)")
    p.add_argument("--seed", type=int, default=None, help=f"random seed ({DEFAULT_SEED})")
    p.add_argument(
        "--start", type=start_ms, default=None, help="first timestamp: ISO 8601, epoch ms, or now"
    )


def _fleet_config(args: argparse.Namespace) -> FleetConfig:
    return FleetConfig(
        devices=args.devices if args.devices is not None else FLEET_SIZE,
        days=args.days if args.days is not None else 5.0,
        interval_s=args.interval_s if args.interval_s is not None else 60,
        seed=args.seed if args.seed is not None else DEFAULT_SEED,
        start_ms=args.start if args.start is not None else DEFAULT_START_MS,
    )


def _fleet_given(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, k) is not None for k in ("devices", "days", "interval_s", "seed", "start")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.package_name }}",
        description="Smart-meter pipeline on TDengine. `smoke` runs offline; the other commands "
        "need a server (docker compose up -d) at --dsn, TDENGINE_URL, or " + default_dsn(),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("smoke", help="the whole pipeline offline, against a loopback fake")
    p.add_argument("--devices", type=int, default=12)
    p.add_argument("--days", type=float, default=5.0, help="whole days, at least 3")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed ({DEFAULT_SEED})")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--detector",
        choices=list(DETECTORS),
        default="scorer",
        help="what stands in the model's place: put a baseline there and the smoke must fail",
    )
    p.add_argument(
        "--forecaster",
        choices=list(FORECASTERS),
        default="seasonal-mean",
        help="likewise for the forecast: seasonal-naive there must fail the smoke",
    )

    def server(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--dsn", default=default_dsn(), help="http://, ws:// or taos:// DSN")
        return p

    p = server("ping", "is a server reachable? prints its version")
    p.add_argument("--wait", type=float, default=0.0, help="keep trying this many seconds")

    p = server("ingest", "generate the fleet and write it to --db")
    p.add_argument("--db", default="power")
    p.add_argument(
        "--method",
        choices=("sql", "line"),
        default=None,
        help="sql INSERTs or schemaless lines (default: sql for REST, line otherwise)",
    )
    p.add_argument("--batch-rows", type=int, default=5000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--fresh", action="store_true", help="drop the database first")
    _fleet_args(p, None)

    p = server("query", "time INTERVAL+FILL, LAST_ROW and STATE_WINDOW queries on --db")
    p.add_argument("--db", default="power")
    p.add_argument("--interval", default="15m")
    p.add_argument("--fill", default="PREV", choices=("NONE", "NULL", "PREV", "NEXT", "LINEAR"))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--current-max", type=float, default=20.0)
    p.add_argument("--voltage-min", type=float, default=209.0)
    p.add_argument("--voltage-max", type=float, default=231.0)

    p = server(
        "detect",
        "read --db back, score anomalies, compare with the injected truth "
        "(fleet options override the fleet recorded by ingest in runs/<db>.json)",
    )
    p.add_argument("--db", default="power")
    _fleet_args(p, None)

    p = server(
        "forecast",
        "forecast the last day of --db from 15-minute INTERVAL averages vs seasonal naive",
    )
    p.add_argument("--db", default="power")
    _fleet_args(p, None)

    p = sub.add_parser("bench", help="ingest + downsample timing through every connector")
    p.add_argument(
        "--dsn",
        action="append",
        default=None,
        help="repeat for several (default: REST and WebSocket on the default host)",
    )
    p.add_argument("--db-prefix", default="bench")
    p.add_argument("--batch-rows", type=int, default=5000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--repeat", type=int, default=5)
    _fleet_args(p, None)

    p = sub.add_parser("report", help="figures/ and the README's Results section from a run folder")
    p.add_argument("run", nargs="?", type=Path, default=None, help="runs/<name> (default: latest)")
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.add_argument("--figures", type=Path, default=Path("figures"))

    run_help = "runs/<name> with a detector.json (default: the latest such run)"
    p = sub.add_parser("demo", help="serve the web demo of a run's detector (make setup-demo)")
    p.add_argument("--run", type=Path, default=None, help=run_help)
    p.add_argument("--port", type=int, default=None, help="default: GRADIO_SERVER_PORT, else 7860")

    p = sub.add_parser("space", help="the demo as a Hugging Face Space folder")
    p.add_argument("--run", type=Path, default=None, help=run_help)
    p.add_argument("--out", type=Path, default=Path("dist/space"))
    return parser


def demo_command(args: argparse.Namespace) -> int:
    """`demo`: serve the app until Ctrl-C; `space`: write the Space folder and print its path."""
    from .demo import SPACE_FILES, build_app, latest_detector_run, load_checkpoint
    from .demo_server import DemoUnavailable, serve
    from .space import SpaceError, build_space

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own requests, one a line
    try:
        run = args.run if args.run is not None else latest_detector_run()
        if args.command == "demo":
            return serve(lambda: build_app(run), args.port)
        load_checkpoint(run)  # the same check as the demo's, before anything is written
        out = build_space(
            run=run,
            run_files=[name for name in SPACE_FILES if (run / name).exists()],
            out=args.out,
            title="{{ cookiecutter.project_slug }}: meter anomalies",
            description="A smart-meter fault detector on TDengine data: pick a meter and a day, "
            "see the readings it flags against the faults the simulator injected.",
        )
    except (DemoUnavailable, SpaceError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _bench_dsns() -> list[str]:
    d = Dsn.parse(default_dsn())
    auth = f"{d.user}:{d.password}@" if d.kind != "native" else ""
    port = 6041 if d.kind == "native" else d.port
    return [f"http://{auth}{d.host}:{port}", f"ws://{auth}{d.host}:{port}"]


def run_name(args: argparse.Namespace) -> str:
    """The run folder's name: the command, and the database it worked on."""
    db = getattr(args, "db", None)
    return f"{args.command}-{db}" if db else str(args.command)


def run_config(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of the run, with the seed of the fleet it generated (or scored)."""
    config = {k: v for k, v in vars(args).items() if k != "command"}
    config["command"] = args.command
    if args.command != "smoke":
        recorded = Path("runs", f"{getattr(args, 'db', '')}.json")
        given = hasattr(args, "seed") and _fleet_given(args)
        if args.command in ("query", "detect", "forecast") and not given and recorded.is_file():
            config["seed"] = json.loads(recorded.read_text(encoding="utf-8"))["fleet"]["seed"]
        elif hasattr(args, "seed"):
            config["seed"] = _fleet_config(args).seed
    return config


def run(args: argparse.Namespace, folder: RunFolder | None = None) -> dict[str, Any]:
    """Dispatch one parsed command; returns its JSON report."""
    if args.command == "smoke":
        return pipeline.smoke(
            args.devices,
            args.days,
            args.seed,
            args.workers,
            args.detector,
            args.forecaster,
            folder=folder,
        )
    if args.command == "ping":
        return pipeline.ping(args.dsn, args.wait)
    if args.command == "ingest":
        return pipeline.ingest_fleet(
            args.dsn,
            args.db,
            _fleet_config(args),
            args.method,
            args.batch_rows,
            args.workers,
            args.fresh,
        )
    if args.command == "query":
        rules = [
            ("current", ">", args.current_max),
            ("voltage", "<", args.voltage_min),
            ("voltage", ">", args.voltage_max),
        ]
        return pipeline.query_timings(
            args.dsn, args.db, args.interval, args.fill, args.repeat, rules
        )
    if args.command == "detect":
        config = _fleet_config(args) if _fleet_given(args) else None
        return pipeline.detect_fleet(args.dsn, args.db, config, folder=folder)
    if args.command == "forecast":
        config = _fleet_config(args) if _fleet_given(args) else None
        return pipeline.forecast_fleet(args.dsn, args.db, config, folder=folder)
    if args.command == "bench":
        return pipeline.bench(
            args.dsn or _bench_dsns(),
            _fleet_config(args),
            args.db_prefix,
            args.batch_rows,
            args.workers,
            args.repeat,
        )
    raise ValueError(f"unknown command {args.command!r}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 targets met, 1 missed or failed, 2 no server)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.command in ("demo", "space"):
        return demo_command(args)
    if args.command == "report":
        from .report import make_report

        try:
            made = make_report(args.run, args.readme, args.figures)
        except (FileNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        for path in made:
            print(path)
        return 0
    where = None
    try:
        if args.command == "ping":  # computes nothing: no run folder
            result = run(args)
        else:
            with RunFolder(run_name(args), run_config(args)) as folder:
                result = run(args, folder)
                where = folder.finish(result)
    except (ServerUnavailable, ConnectorUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (QueryError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(describe(result), file=sys.stderr)
    if where is not None:
        print(f"run folder: {where} (make report draws it)", file=sys.stderr)
    return emit(result)


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
