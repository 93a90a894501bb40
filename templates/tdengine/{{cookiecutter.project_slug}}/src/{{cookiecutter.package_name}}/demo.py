"""The live demo (`make demo`): one meter's chart with the anomalies the run's detector finds, its
readings read with SQL from the loopback fake (the run's own fleet) or from a real TDengine.

The model logic is plain functions, testable without Gradio:

- `load_checkpoint(run)`: the run's fitted detector (detector.json, written by `make smoke` and
  by `detect`) and the config of the fleet it scored;
- `FakeStore`: the loopback fake of TDengine's REST API, filled with that fleet (regenerated from
  its seed, so the same readings) one feeder at a time, through the same client and INSERTs as
  the smoke run;
- `read_meter`: one meter and the other meters on its feeder, read back with SQL, as the
  detector sees them (the feeder's median voltage beside its own; the truth when the database
  holds the simulated fleet);
- `inspect`: the detector's flags over a day (or every day), its episodes with the view that
  fired, and the counts against the injected faults; `chart_svg` draws it, `summary` says it.

`build_app(run)` puts them behind a Gradio page; `python -m {{ cookiecutter.package_name }} demo` serves it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from . import queries
from .connect import (
    Client,
    ConnectorUnavailable,
    Dsn,
    QueryError,
    ServerUnavailable,
    default_dsn,
    open_client,
)
from .context import meter_series
from .data import DAY_MS, LABELS, NORMAL, FleetConfig, Readings, generate
from .demo_server import DemoUnavailable
from .detect import Detector, MeterSeries, ScoreDetector, restore
from .evidence import DETECTOR, METER
from .fake_server import FakeTDengine
from .ingest import ingest, prepare
from .runs import REPORT, RUNS
from .sql import Target

FAKE, SERVER = "fake", "tdengine"
ALL_DAYS = "all days"
DB = "power"
# What the Space needs of a run: the checkpoint, its numbers, and the meter the report shows.
SPACE_FILES = (DETECTOR, REPORT, METER)
# Colours of the injected fault kinds (light enough to read the lines through them).
KIND_COLOURS = {
    "spike": "#f4a261",
    "stuck": "#9b8cd9",
    "drop": "#e9c46a",
    "shift": "#7fc8a9",
    "drift": "#8ecae6",
}


# ---- the run's checkpoint --------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """What the demo loads from a run: the fitted detector, the fleet it scored, its numbers."""

    run: Path
    detector: Detector
    fleet: FleetConfig
    metrics: dict[str, Any] = field(default_factory=dict)
    showcase: str | None = None

    @property
    def db(self) -> str:
        """The database the run read (the smoke's fake uses `power` too)."""
        config = _read_json(self.run / "config.json")
        return str(config.get("db") or DB)


def latest_detector_run(root: Path = RUNS) -> Path:
    """The newest finished run that saved a detector (smoke or detect), for `demo` without --run."""
    found = [
        p.parent
        for p in Path(root).glob(f"*/{DETECTOR}")
        if not p.parent.name.endswith(".previous") and (p.parent / REPORT).is_file()
    ]
    if not found:
        raise DemoUnavailable(
            f"no run with a fitted detector ({DETECTOR}) in {root}/: run make smoke first"
        )
    return max(found, key=lambda p: (p / REPORT).stat().st_mtime)


def load_checkpoint(run: Path) -> Checkpoint:
    """The run's detector and fleet; DemoUnavailable (saying what to run) when it has none."""
    run = Path(run)
    path = run / DETECTOR
    if not path.is_file():
        what = "is not a folder" if not run.is_dir() else f"has no {DETECTOR} (the fitted detector)"
        raise DemoUnavailable(f"{run} {what}: run make smoke first")
    saved = json.loads(path.read_text(encoding="utf-8"))
    try:
        detector = restore(str(saved["detector"]), dict(saved["settings"]))
        fleet = FleetConfig(**saved["fleet"])
    except (KeyError, TypeError, ValueError) as err:
        raise DemoUnavailable(
            f"{path} is not a detector checkpoint ({err}): run make smoke first"
        ) from err
    showcase = None
    if (run / METER).is_file():
        with np.load(run / METER) as meter:
            showcase = str(meter["device"]) if "device" in meter else None
    report = _read_json(run / REPORT)
    return Checkpoint(run, detector, fleet, dict(report.get("metrics", {})), showcase)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=4)
def fleet_of(config: FleetConfig) -> Readings:
    """The simulated fleet of `config` (the same readings every time), cached."""
    return generate(config)


def recorded_fleet(db: str, fallback: FleetConfig, root: Path = RUNS) -> FleetConfig:
    """The fleet `ingest --db DB` wrote to TDengine (runs/<db>.json), else `fallback`."""
    saved = _read_json(Path(root) / f"{db}.json")
    return FleetConfig(**saved["fleet"]) if "fleet" in saved else fallback


def days_of(config: FleetConfig) -> list[str]:
    """The simulated days, as UTC dates (YYYY-MM-DD)."""
    first = config.start_ms - config.start_ms % DAY_MS
    return [_date(ms) for ms in range(first, config.end_ms, DAY_MS)]


def day_window(day: str) -> tuple[int, int] | None:
    """[start, end) in epoch ms of a UTC date; None for every day."""
    if day == ALL_DAYS:
        return None
    try:
        start = dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ValueError(f"not a day: {day!r} (YYYY-MM-DD, or {ALL_DAYS!r})") from None
    ms = int(start.timestamp() * 1000)
    return ms, ms + DAY_MS


def _date(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def _time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


# ---- where the readings come from ------------------------------------------------------------


def feeder_members(fleet: Readings, device: str) -> list[int]:
    """Indices of `device` and the other meters on its feeder (its `location`)."""
    names = [d.name for d in fleet.devices]
    if device not in names:
        last = names[-1] if names else "none"
        raise ValueError(f"no meter {device!r} in this fleet ({names[0]} to {last})")
    location = fleet.devices[names.index(device)].location
    return [k for k, d in enumerate(fleet.devices) if d.location == location]


def subset(fleet: Readings, members: Sequence[int]) -> Readings:
    """The rows of the meters `members` only (devices keep their indices and tags)."""
    keep = np.isin(fleet.device, np.asarray(members, dtype=np.int32))
    return Readings(
        fleet.devices,
        fleet.device[keep],
        fleet.ts[keep],
        fleet.current[keep],
        fleet.voltage[keep],
        fleet.phase[keep],
        fleet.label[keep],
        config=fleet.config,
    )


class FakeStore:
    """The loopback fake holding a fleet, filled a feeder at a time on first use (the smoke's
    schema and INSERT batches through the real `taosrest` client)."""

    def __init__(self, fleet: Readings, db: str = DB) -> None:
        self.fleet = fleet
        self.db = db
        self._fake = FakeTDengine()
        self._dsn: Dsn | None = None
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    def client_for(self, device: str) -> Client:
        """A client of the fake, once `device`'s feeder is in it."""
        members = feeder_members(self.fleet, device)
        location = self.fleet.devices[members[0]].location
        with self._lock:
            if self._dsn is None:
                url = self._fake.start().replace("http://", "http://root:taosdata@")
                self._dsn = Dsn.parse(url)
                setup = open_client(self._dsn)
                prepare(setup, Target(self.db), "sql", fresh=True)
                setup.close()
            dsn = self._dsn
            if location not in self._loaded:
                ingest(
                    lambda: open_client(dsn, check=False),
                    subset(self.fleet, members),
                    Target(self.db),
                    "sql",
                )
                self._loaded.add(location)
        return open_client(dsn)

    def close(self) -> None:
        self._fake.stop()


def read_meter(client: Client, db: str, fleet: Readings, device: str) -> MeterSeries:
    """`device` as stored in `db`, with its feeder peers' voltage and, when the stored readings
    are `fleet`'s, the truth (`label` None when they are not)."""
    target = Target(db)
    ts_col = queries.timestamp_column(client, target)
    members = feeder_members(fleet, device)
    series = [
        (k, queries.device_series(client, target, ts_col, fleet.devices[k].name)) for k in members
    ]
    series = [(k, s) for k, s in series if s["ts"].size]
    if not any(fleet.devices[k].name == device for k, _ in series):
        raise QueryError(f"{target.stable_ref} holds no readings of {device}")
    try:
        meters = meter_series(fleet, series)
    except ValueError:  # not the simulated fleet's timestamps: show the flags without a truth
        meters = meter_series(fleet, series, labels=False)
    return next(m for m in meters if m.device == device)


# ---- what the detector says ------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """A run of consecutive flagged readings, or an injected fault the detector missed."""

    start_ms: int
    end_ms: int
    readings: int
    why: str
    fault: str

    def row(self) -> list[str | int]:
        return [_time(self.start_ms), _time(self.end_ms), self.readings, self.why, self.fault]


@dataclass(frozen=True)
class Inspection:
    """The detector's verdict on one meter over a window (a day, or every day)."""

    meter: MeterSeries
    flags: np.ndarray
    episodes: list[Episode]
    # Which channel's line each flag belongs on (a flag is on at least one): current for a
    # current jump, voltage for a voltage jump or a voltage off its feeder, both when frozen.
    on_current: np.ndarray
    on_voltage: np.ndarray

    @property
    def readings(self) -> int:
        return int(self.meter.ts.shape[0])

    @property
    def flagged(self) -> int:
        return int(self.flags.sum())

    @property
    def known(self) -> bool:
        """Whether the truth is known (the stored readings are the simulated fleet's)."""
        return self.meter.label is not None

    @property
    def faulty(self) -> int:
        return int(self.meter.truth().sum()) if self.known else 0

    @property
    def caught(self) -> int:
        return int((self.flags & self.meter.truth()).sum()) if self.known else 0

    def faults_by_kind(self) -> dict[str, int]:
        """Injected faulty readings in the window, by kind."""
        if self.meter.label is None:
            return {}
        counts = np.bincount(np.asarray(self.meter.label, dtype=np.int64), minlength=len(LABELS))
        return {LABELS[k]: int(n) for k, n in enumerate(counts) if k != NORMAL and n}


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges of the True runs of a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _crop(m: MeterSeries, keep: np.ndarray) -> MeterSeries:
    return MeterSeries(
        m.device,
        m.ts[keep],
        m.current[keep],
        m.voltage[keep],
        m.phase[keep],
        m.peer_voltage[keep],
        None if m.label is None else np.asarray(m.label)[keep],
    )


def _explain(detector: Detector, meter: MeterSeries, flags: np.ndarray) -> tuple[Any, Any, Any]:
    """(why, on_current, on_voltage): a function (start, end) -> why the readings [start, end)
    were flagged, in words, and the flags that belong on each channel's line."""
    if not isinstance(detector, ScoreDetector):
        return (lambda a, b: f"{detector.name.replace('_', ' ')} rule"), flags, flags
    v = detector.channel_views(meter)
    frozen = v["flat"] <= detector.flat_ratio
    fired = {
        "current jump": v["current_point"] >= detector.point_z,
        "voltage jump": v["voltage_point"] >= detector.point_z,
        "voltage off its feeder": v["level"] >= detector.level_z,
    }

    def why(a: int, b: int) -> str:
        words = []
        for (text, hit), key in zip(fired.items(), ("current_point", "voltage_point", "level"),
                                    strict=True):  # fmt: skip
            if hit[a:b].any():
                words.append(f"{text} (z {v[key][a:b].max():.1f})")
        if frozen[a:b].any():
            words.append(f"frozen ({v['flat'][a:b].min():.2f}x its usual change)")
        return ", ".join(words) or "-"

    on_current = flags & (fired["current jump"] | frozen)
    on_voltage = flags & (fired["voltage jump"] | fired["voltage off its feeder"] | frozen)
    return why, on_current, on_voltage


def _kinds(label: np.ndarray | None) -> str:
    if label is None:
        return "unknown"
    kinds = [LABELS[k] for k in sorted(set(np.asarray(label).tolist())) if k != NORMAL]
    return ", ".join(kinds) or "none (false alarm)"


def inspect(detector: Detector, meter: MeterSeries, window: tuple[int, int] | None) -> Inspection:
    """Flag the whole series (the detector's rolling views need the context on both sides of the
    window), then keep `window` ([start, end) ms; None: everything): the flags, the flagged
    episodes with the view that fired, and the injected faults left without a flag."""
    flags = np.asarray(detector.flags(meter), dtype=bool)
    why, on_current, on_voltage = _explain(detector, meter, flags)
    keep = np.ones(meter.ts.shape[0], dtype=bool)
    if window is not None:
        keep = (meter.ts >= window[0]) & (meter.ts < window[1])
    offset = int(np.argmax(keep)) if keep.any() else 0
    shown = _crop(meter, keep)
    shown_flags = flags[keep]
    episodes = []
    for a, b in runs_of(shown_flags):
        label = None if shown.label is None else np.asarray(shown.label)[a:b]
        episodes.append(
            Episode(
                int(shown.ts[a]), int(shown.ts[b - 1]), b - a, why(a + offset, b + offset),
                _kinds(label),
            )
        )  # fmt: skip
    if shown.label is not None:
        truth = shown.truth()
        for a, b in runs_of(truth):
            if not shown_flags[a:b].any():
                kind = _kinds(np.asarray(shown.label)[a:b])
                episodes.append(
                    Episode(int(shown.ts[a]), int(shown.ts[b - 1]), b - a, "not flagged", kind)
                )
    episodes.sort(key=lambda e: e.start_ms)
    return Inspection(shown, shown_flags, episodes, on_current[keep], on_voltage[keep])


def summary(inspection: Inspection, location: str, where: str) -> str:
    """The verdict in words (Markdown)."""
    i = inspection
    if not i.readings:
        return f"**{i.meter.device}** has no readings in this window ({where})."
    first, last = _time(int(i.meter.ts[0])), _time(int(i.meter.ts[-1]))
    flagged = sum(1 for e in i.episodes if e.why != "not flagged")
    lines = [
        f"**{i.meter.device}** on feeder {location}, {first} to {last} UTC, {i.readings:,} "
        f"readings from {where}. The detector flagged **{i.flagged:,} readings** in "
        f"{flagged} episode{'s' if flagged != 1 else ''}."
    ]
    if not i.known:
        lines.append("No truth for these readings: they are not the simulated fleet's.")
    elif i.faulty:
        kinds = ", ".join(f"{k} {n}" for k, n in i.faults_by_kind().items())
        false_alarms = i.flagged - i.caught
        precision = f"{i.caught / i.flagged:.2f}" if i.flagged else "n/a"
        lines.append(
            f"The simulator injected {i.faulty:,} faulty readings ({kinds}): the detector caught "
            f"**{i.caught:,} of {i.faulty:,}** (recall {i.caught / i.faulty:.2f}) with "
            f"{false_alarms:,} false alarm{'s' if false_alarms != 1 else ''} "
            f"(precision {precision})."
        )
    else:
        lines.append(
            f"The simulator injected no fault here: {i.flagged:,} false "
            f"alarm{'s' if i.flagged != 1 else ''}."
        )
    return "\n\n".join(lines)


# ---- the chart -------------------------------------------------------------------------------

WIDTH, LEFT, RIGHT = 1000, 62, 14
PANEL, GAP, TOP = 170, 34, 40
STRIP = 14


def _nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    step = 10 ** np.floor(np.log10(raw))
    step *= next(f for f in (1, 2, 2.5, 5, 10) if f * step >= raw)
    first = np.ceil(lo / step) * step
    return [float(t) for t in np.arange(first, hi + step * 1e-9, step)]


def chart_svg(inspection: Inspection) -> str:
    """The meter's current and voltage (with its feeder's median voltage), the injected faults
    as shaded bands, and the flagged readings as red dots, as an SVG document."""
    m, flags = inspection.meter, inspection.flags
    height = TOP + 2 * PANEL + GAP + 2 * STRIP + 44
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-label="{escape(m.device)}: current and voltage with anomalies" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if m.ts.shape[0] == 0:
        out.append(
            f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">no readings</text>'
        )
        return "".join(out) + "</svg>"
    t0, t1 = int(m.ts[0]), int(m.ts[-1]) + 60_000

    def x(ms: np.ndarray | float) -> Any:
        return LEFT + (np.asarray(ms, dtype=np.float64) - t0) / (t1 - t0) * (WIDTH - LEFT - RIGHT)

    strips_y = TOP + 2 * PANEL + GAP + 26
    # Injected faults: a band in both panels and a coloured bar in the "injected" strip.
    if m.label is not None:
        label = np.asarray(m.label)
        for a, b in runs_of(label != NORMAL):
            kind = LABELS[int(label[a])]
            x0, x1 = float(x(m.ts[a])), max(float(x(m.ts[b - 1] + 60_000)), float(x(m.ts[a])) + 2)
            colour = KIND_COLOURS.get(kind, "#cccccc")
            for band_top in (TOP, TOP + PANEL + GAP):
                out.append(
                    f'<rect class="fault" data-kind="{kind}" x="{x0:.1f}" y="{band_top}" '
                    f'width="{x1 - x0:.1f}" height="{PANEL}" fill="{colour}" opacity="0.35"/>'
                )
            out.append(
                f'<rect x="{x0:.1f}" y="{strips_y}" width="{x1 - x0:.1f}" height="{STRIP - 3}" '
                f'fill="{colour}"><title>{kind}, {_time(int(m.ts[a]))}</title></rect>'
            )
    dashed = ' stroke-dasharray="3 2"'
    panels = [
        ("current (A)", TOP, [(m.current, "#1d4e89", "1.1", "")], inspection.on_current),
        (
            "voltage (V)",
            TOP + PANEL + GAP,
            [(m.peer_voltage, "#8a8a8a", "1", dashed), (m.voltage, "#1d4e89", "1.1", "")],
            inspection.on_voltage,
        ),
    ]
    xs = x(m.ts)
    for title, top, lines, on_line in panels:
        values = np.concatenate([v for v, *_ in lines])
        values = values[np.isfinite(values)]
        lo, hi = float(values.min()), float(values.max())
        pad = (hi - lo) * 0.06 or 1.0
        lo, hi = lo - pad, hi + pad

        def y(v: np.ndarray | float, top: int = top, lo: float = lo, hi: float = hi) -> Any:
            return top + PANEL - (np.asarray(v, dtype=np.float64) - lo) / (hi - lo) * PANEL

        out.append(
            f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{PANEL}" '
            'fill="none" stroke="#c8c8c8"/>'
        )
        out.append(f'<text x="{LEFT}" y="{top - 6}" font-weight="600">{title}</text>')
        for tick in _nice_ticks(lo, hi):
            ty = float(y(tick))
            out.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                'stroke="#ececec"/>'
                f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">'
                f"{round(tick, 9) + 0.0:g}</text>"  # + 0.0: never "-0"
            )
        for values_, colour, width, extra in lines:
            finite = np.isfinite(values_)
            points = " ".join(
                f"{px:.1f},{py:.1f}" for px, py in zip(xs[finite], y(values_[finite]), strict=True)
            )
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{extra} '
                f'points="{points}"/>'
            )
        main, channel = lines[-1][0], title.split()[0]
        for k in np.flatnonzero(on_line):
            out.append(
                f'<circle class="flag" data-channel="{channel}" cx="{xs[k]:.1f}" '
                f'cy="{float(y(main[k])):.1f}" r="2.2" fill="#d62828"/>'
            )
    # The two strips: what was injected, what the detector flagged.
    flag_y = strips_y + STRIP
    for a, b in runs_of(flags):
        x0, x1 = float(xs[a]), max(float(x(m.ts[b - 1] + 60_000)), float(xs[a]) + 2)
        out.append(
            f'<rect x="{x0:.1f}" y="{flag_y}" width="{x1 - x0:.1f}" height="{STRIP - 3}" '
            'fill="#d62828"/>'
        )
    for text, sy in (("injected", strips_y), ("flagged", flag_y)):
        out.append(
            f'<text x="{LEFT - 6}" y="{sy + STRIP - 4}" text-anchor="end" fill="#555">{text}</text>'
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy + STRIP - 2}" y2="{sy + STRIP - 2}" '
            'stroke="#e0e0e0"/>'
        )
    # Time axis under the voltage panel: hours within a day, dates across days.
    span = t1 - t0
    step = 3 * 3_600_000 if span <= 36 * 3_600_000 else DAY_MS
    axis_y = TOP + 2 * PANEL + GAP
    for tick in range(t0 - t0 % step + step, t1, step):
        tx = float(x(tick))
        stamp = dt.datetime.fromtimestamp(tick / 1000, dt.UTC)
        text = stamp.strftime("%H:%M") if step < DAY_MS else stamp.strftime("%b %d")
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#888"/>'
            f'<text x="{tx:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#555">{text}</text>'
        )
    # Legend across the top.
    legend = [("#1d4e89", "line", "meter"), ("#8a8a8a", "dash", "feeder median (other meters)"),
              ("#d62828", "dot", "flagged by the detector")]  # fmt: skip
    legend += [(c, "box", k) for k, c in KIND_COLOURS.items()]
    lx = LEFT
    for colour, shape, text in legend:
        if shape == "dot":
            out.append(f'<circle cx="{lx + 6}" cy="12" r="4" fill="{colour}"/>')
        elif shape == "box":
            out.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="3 2"' if shape == "dash" else ""
            out.append(
                f'<line x1="{lx}" x2="{lx + 14}" y1="12" y2="12" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
        out.append(f'<text x="{lx + 18}" y="16">{escape(text)}</text>')
        lx += 26 + 7 * len(text)
    return "".join(out) + "</svg>"


# ---- the app ---------------------------------------------------------------------------------


def header(checkpoint: Checkpoint) -> str:
    """The page's title and the line saying which model and run it shows."""
    m = checkpoint.metrics
    scored = ""
    if "anomaly_f1" in m:
        scored = f": F1 **{m['anomaly_f1']:.3f}** on the fleet it scored"
        if "union_f1" in m:
            scored += f", against {m['union_f1']:.3f} for the best trivial rule"
    return (
        "# Smart-meter anomaly detector\n\n"
        f"The fault detector of run `{checkpoint.run.name}` (`{checkpoint.detector.name}`, "
        f"thresholds chosen on other fleets{scored}). Pick a meter and a day: its readings are "
        "read with SQL from a TDengine (the loopback fake holds the run's own simulated fleet), "
        "scored against the other meters on its feeder, and drawn with what the detector flags "
        "(red) over the faults the simulator injected (shaded)."
    )


def examples(fleet: Readings, showcase: str | None) -> tuple[list[list[str]], list[str]]:
    """(source, meter, day) rows and their labels: for each kind of fault, the meter-day that
    holds the most of it; first, every day of `showcase` (the meter the report draws)."""
    rows: list[list[str]] = []
    labels: list[str] = []
    first_day = fleet.config.start_ms - fleet.config.start_ms % DAY_MS
    day = (fleet.ts - first_day) // DAY_MS
    days = days_of(fleet.config)
    if showcase is not None:
        rows.append([FAKE, showcase, ALL_DAYS])
        labels.append(f"every fault of {showcase}, all days")
    for kind in range(1, len(LABELS)):
        hit = fleet.label == kind
        if not hit.any():
            continue
        keys = fleet.device[hit].astype(np.int64) * len(days) + day[hit]
        best = int(np.bincount(keys).argmax())
        device, date = fleet.devices[best // len(days)].name, days[best % len(days)]
        rows.append([FAKE, device, date])
        labels.append(f"{LABELS[kind]}: {device}, {date}")
    return rows, labels


def _meter_choices(fleet: Readings) -> list[tuple[str, str]]:
    return [(f"{d.name} · {d.location}", d.name) for d in fleet.devices]


def build_app(run: Path | None = None) -> Any:
    """The Gradio app over `run` (default: the newest run with a detector); built, not launched."""
    from .demo_server import import_gradio

    gr = import_gradio()
    checkpoint = load_checkpoint(latest_detector_run() if run is None else Path(run))
    fleet = fleet_of(checkpoint.fleet)
    store = FakeStore(fleet)
    rows, labels = examples(fleet, checkpoint.showcase)
    # The page opens on the first single-day example: a day is easier to read than five.
    start = next((r for r in rows if r[2] != ALL_DAYS), [FAKE, fleet.devices[0].name, ALL_DAYS])

    def fleet_for(source: str, db: str) -> Readings:
        if source == FAKE:
            return fleet
        return fleet_of(recorded_fleet(db.strip() or DB, checkpoint.fleet))

    def show(source: str, dsn: str, db: str, device: str, day: str) -> tuple[str, str, Any]:
        try:
            readings = fleet_for(source, db)
            if source == FAKE:
                client, where = store.client_for(device), "the loopback fake"
                database = store.db
            else:
                url = dsn.strip() or default_dsn()
                client, where = open_client(url), f"TDengine at {Dsn.parse(url).redacted()}"
                database = db.strip() or DB
            try:
                meter = read_meter(client, database, readings, device)
            finally:
                client.close()
            result = inspect(checkpoint.detector, meter, day_window(day))
        except (ServerUnavailable, ConnectorUnavailable, QueryError, ValueError) as err:
            raise gr.Error(str(err)) from None
        location = readings.devices[feeder_members(readings, device)[0]].location
        table = [e.row() for e in result.episodes] or [["-", "-", 0, "nothing flagged", "-"]]
        return chart_svg(result), summary(result, location, where), table

    def example(source: str, device: str, day: str) -> tuple[str, str, Any]:
        return show(source, "", checkpoint.db, device, day)

    def choices(source: str, db: str) -> tuple[Any, Any]:
        readings = fleet_for(source, db)
        names = [d.name for d in readings.devices]
        days = [ALL_DAYS, *days_of(readings.config)]
        return (
            gr.update(choices=_meter_choices(readings), value=names[0]),
            gr.update(choices=days, value=days[1] if len(days) > 1 else ALL_DAYS),
        )

    with gr.Blocks(title="Smart-meter anomaly detector") as app:
        gr.Markdown(header(checkpoint), elem_id="header")
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                source = gr.Radio(
                    [("Loopback fake (the run's fleet)", FAKE), ("TDengine server", SERVER)],
                    value=FAKE,
                    label="Read the readings from",
                    elem_id="source",
                )
                dsn = gr.Textbox(
                    label="TDengine DSN (TDengine server only)",
                    placeholder=f"empty: TDENGINE_URL or {Dsn.parse(default_dsn()).redacted()}",
                    elem_id="dsn",
                )
                db = gr.Textbox(value=checkpoint.db, label="Database (TDengine server only)")
                meter = gr.Dropdown(
                    _meter_choices(fleet),
                    value=start[1],
                    label="Meter · feeder",
                    allow_custom_value=True,
                    elem_id="meter",
                )
                day = gr.Dropdown(
                    [ALL_DAYS, *days_of(fleet.config)],
                    value=start[2],
                    label="Day (UTC)",
                    elem_id="day",
                )
                button = gr.Button("Detect anomalies", variant="primary", elem_id="detect")
            with gr.Column(scale=4):
                summary_box = gr.Markdown(elem_id="summary")
                chart = gr.HTML(elem_id="chart")
        episodes = gr.Dataframe(
            headers=["from (UTC)", "to (UTC)", "readings", "why flagged", "injected fault"],
            label="Episodes: runs of flagged readings, and injected faults left unflagged",
            interactive=False,
            wrap=True,
            column_widths=["17%", "17%", "9%", "40%", "17%"],
            elem_id="episodes",
        )
        outputs = [chart, summary_box, episodes]
        gr.Examples(
            rows,
            inputs=[source, meter, day],
            outputs=outputs,
            fn=example,
            run_on_click=True,
            cache_examples=False,
            example_labels=labels,
            label="Examples: the meter-day with the most of each kind of fault",
            elem_id="examples",
        )
        inputs = [source, dsn, db, meter, day]
        button.click(show, inputs, outputs)
        source.input(choices, [source, db], [meter, day])  # a user's pick, not an example's
        db.submit(choices, [source, db], [meter, day])
        app.load(show, inputs, outputs)
    return app
