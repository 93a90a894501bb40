"""`python -m {{ cookiecutter.package_name }} report [RUN]` (make report): figures from a run folder
and the README's Results section.

Figures (figures/, PNG): the targets chart of every run; from `smoke` and `detect`, the detection
over time (cumulative F1 of the detector and its baselines, hour by hour, over the anomalies of
each hour) and one meter's series with its true and detected anomalies; from `smoke` and
`forecast`, the downsampled view (1-minute readings, 15-minute INTERVAL averages, next-day
forecast). No model card: the detector is three thresholds picked from a fixed grid on dev
fleets, printed with the run (Results below), not a model anyone would ship or reuse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from . import showcase
from .evidence import FOLLOWED, METER
from .runs import latest_run, read_run

TARGETS, OVER_TIME, ANOMALIES, DOWNSAMPLED = (
    "targets.png", "detection_over_time.png", "anomalies.png", "downsampled.png",
)  # fmt: skip
NAMES = {
    "model": "the detector",
    "union": "union of rules",
    "own_history": "own history (no feeder context)",
    "static_threshold": "static threshold",
    "stuck_rule": "stuck rule",
}
COLORS = {
    "model": showcase.BLUE,
    "union": showcase.ORANGE,
    "own_history": showcase.PURPLE,
    "static_threshold": showcase.GREY,
    "stuck_rule": showcase.GREEN,
}
HEADLINE = (
    "anomaly_f1", "anomaly_precision", "anomaly_recall", "anomaly_calibration_recall",
    "union_f1", "own_history_f1", "forecast_mae", "seasonal_naive_mae", "rows_stored",
    "readings_scored", "anomalous_readings", "rows_per_s", "downsample_ms",
)  # fmt: skip


def make_report(
    run_dir: Path | None = None, readme: Path = Path("README.md"), figures: Path = Path("figures")
) -> list[Path]:
    """Draw the run's figures and write the README's Results section; returns the figures."""
    run = read_run(Path(run_dir) if run_dir is not None else latest_run())
    for stale in (TARGETS, OVER_TIME, ANOMALIES, DOWNSAMPLED):  # a figure of an earlier run
        (figures / stale).unlink(missing_ok=True)
    made = [
        (
            showcase.targets_chart(
                run["report"], figures / TARGETS, title=f"Targets of run {run['name']}"
            ),
            "Each target of the run: value, threshold and the same-run baseline",
        )
    ]
    if any(row.get("model_f1") is not None for row in run["history"]):
        made.append(
            (
                detection_over_time(run["history"], figures / OVER_TIME),
                "Cumulative F1 of the detector and the baselines hour by hour",
            )
        )
    meter_file = Path(run["path"]) / METER
    if meter_file.is_file():
        with np.load(meter_file) as loaded:
            meter = {key: loaded[key] for key in loaded.files}
        if "flags" in meter:
            made.append(
                (
                    anomalies(meter, figures / ANOMALIES),
                    "One meter's current and voltage with its true and detected anomalies",
                )
            )
        if "profile" in meter:
            made.append(
                (
                    downsampled(meter, figures / DOWNSAMPLED),
                    "1-minute readings, 15-minute averages and the next-day forecast",
                )
            )
    section = showcase.results_section(run, made, Path(readme).parent, HEADLINE)
    settings = run["report"].get("metrics", {}).get("settings", {}).get("model")
    if settings:
        chosen = ", ".join(f"{k} = {v}" for k, v in sorted(settings.items()))
        seeds = run["report"]["metrics"].get("dev_seeds", [])
        section += (
            f"\n\nThe detector's settings, chosen on the dev fleets of seeds {seeds} (never on "
            f"the scored fleet): {chosen}."
        )
    showcase.write_results(Path(readme), section)
    return [path for path, _ in made]


def detection_over_time(history: list[dict[str, Any]], path: Path) -> Path:
    """Top: cumulative F1 per detector at the end of each hour. Bottom: true and flagged
    anomalous readings per hour."""
    fig, (top, bottom) = showcase.new_figure(
        9.0, 5.0, nrows=2, sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    hours = np.array([row["hour"] for row in history], dtype=float)  # 1 = the first hour
    for name in FOLLOWED:
        key = f"{name}_f1"
        values = np.array(
            [np.nan if row.get(key) is None else row[key] for row in history], dtype=float
        )
        if np.isfinite(values).any():
            top.plot(hours / 24, values, label=NAMES[name], color=COLORS[name],
                     linewidth=2.2 if name == "model" else 1.4)  # fmt: skip
    top.set_ylim(0, 1.02)
    top.set_ylabel("F1 so far")
    top.set_title("Anomaly detection over the scored fleet's days (point-wise F1, cumulative)")
    top.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    anomalous = np.array([row["anomalous"] for row in history], dtype=float)
    flagged = np.array([row.get("flagged") or 0 for row in history], dtype=float)
    bottom.bar((hours - 1) / 24, anomalous, width=1 / 24, color=showcase.ORANGE, alpha=0.6,
               label="truly anomalous", align="edge")  # fmt: skip
    bottom.step((hours - 1) / 24, flagged, where="post", color=showcase.BLUE, linewidth=1.0,
                label="flagged by the detector")  # fmt: skip
    bottom.set_ylabel("readings / hour")
    bottom.set_xlabel("days since the first reading")
    bottom.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return showcase.save_figure(fig, path)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs of the runs of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _days(ts: np.ndarray) -> np.ndarray:
    days: np.ndarray = (ts - ts.min()) / 86_400_000
    return days


def anomalies(meter: dict[str, np.ndarray], path: Path) -> Path:
    """Current and voltage (with the feeder peers' median) of one meter; below, the true fault
    spans by kind and the readings the detector flagged."""
    fig, (cur, volt, strip) = showcase.new_figure(
        9.0, 6.0, nrows=3, sharex=True, gridspec_kw={"height_ratios": [2, 2, 1.1]}
    )
    days = _days(meter["ts"])
    label, flags = meter["label"], meter["flags"].astype(bool)
    names = [str(n) for n in meter["labels"]]
    truth = label != 0
    cur.plot(days, meter["current"], color=showcase.BLUE, linewidth=0.6)
    cur.set_ylabel("current (A)")
    volt.plot(days, meter["peer_voltage"], color=showcase.GREY, linewidth=0.8,
              label="feeder peers' median")  # fmt: skip
    volt.plot(days, meter["voltage"], color=showcase.BLUE, linewidth=0.6, label="this meter")
    volt.set_ylabel("voltage (V)")
    volt.legend(frameon=False, fontsize=8, loc="lower left", ncol=2)
    for ax in (cur, volt):
        ax.fill_between(days, 0, 1, where=truth, color=showcase.ORANGE, alpha=0.25, linewidth=0,
                        transform=ax.get_xaxis_transform())  # fmt: skip
    kinds = [k for k in range(1, len(names)) if (label == k).any()]
    palette = [showcase.VERMILION, showcase.PURPLE, showcase.GREEN, showcase.ORANGE, "#56B4E9"]
    step = float(np.median(np.diff(days))) if days.size > 1 else 1 / 1440
    for row, k in enumerate(kinds):
        spans = [(days[a], days[b - 1] - days[a] + step) for a, b in _spans(label == k)]
        strip.broken_barh(spans, (row + 0.6, 0.8), color=palette[(k - 1) % len(palette)])
    detected = [(days[a], days[b - 1] - days[a] + step) for a, b in _spans(flags)]
    strip.broken_barh(detected, (-0.4, 0.8), color=showcase.BLUE)
    strip.set_yticks(range(len(kinds) + 1), ["detected", *(f"true: {names[k]}" for k in kinds)])
    strip.set_ylim(-0.6, len(kinds) + 0.6)
    strip.grid(axis="y", visible=False)
    strip.set_xlabel("days since the first reading")
    found = int((flags & truth).sum())
    cur.set_title(
        f"Meter {meter['device']}: true faults shaded; detector caught {found} of "
        f"{int(truth.sum())} faulty readings, {int((flags & ~truth).sum())} false alarms"
    )
    return showcase.save_figure(fig, path)


def downsampled(meter: dict[str, np.ndarray], path: Path) -> Path:
    """The downsampled view: 1-minute current (when the run kept it), 15-minute INTERVAL
    averages, and the last day's forecast next to seasonal naive's."""
    fig, ax = showcase.new_figure(9.0, 3.8)
    step_ms, start_ms = int(meter["step_ms"]), int(meter["start_ms"])
    profile = meter["profile"]
    slot_days = np.arange(profile.shape[0]) * step_ms / 86_400_000
    if "current" in meter:
        raw_days = (meter["ts"] - start_ms) / 86_400_000
        ax.plot(raw_days, meter["current"], color="#bbbbbb", linewidth=0.5,
                label="1-minute readings")  # fmt: skip
    ax.step(slot_days, profile, where="post", color=showcase.BLUE, linewidth=1.3,
            label="15-minute averages (INTERVAL(15m) FILL(PREV))")  # fmt: skip
    per_day = meter["forecast"].shape[0]
    last = slot_days[-per_day:]
    ax.step(last, meter["forecast"], where="post", color=showcase.GREEN, linewidth=1.8,
            label="forecast of the last day (seasonal mean)")  # fmt: skip
    ax.step(last, meter["naive"], where="post", color=showcase.ORANGE, linewidth=1.2,
            linestyle="--", label="seasonal naive (same slot yesterday)")  # fmt: skip
    ax.axvline(last[0], color="#111111", linewidth=0.8)
    ax.set_xlabel("days since " + dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC).strftime(
        "%Y-%m-%d %H:%M UTC"))  # fmt: skip
    ax.set_ylabel("current (A)")
    shown = "readings, downsampled load" if "current" in meter else "downsampled load"
    ax.set_title(f"Meter {meter['device']}: {shown} and next-day forecast")
    ax.legend(frameon=False, fontsize=8, loc="upper left", ncol=2)
    top = np.nanmax(profile) if np.isfinite(profile).any() else 1.0
    # room for the legend; raw spikes above that are cut (they belong to the anomalies figure)
    ax.set_ylim(0, top * (1.6 if "current" in meter else 1.35))
    return showcase.save_figure(fig, path)
