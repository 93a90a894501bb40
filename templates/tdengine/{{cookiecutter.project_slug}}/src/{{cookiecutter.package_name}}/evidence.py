"""What a run keeps besides its report: the detection over time and one meter for `make report`,
and the fitted detector for `make demo`.

- history.jsonl (`RunFolder.log`): one row per hour of the scored fleet, with the true and
  flagged anomalous readings of that hour and the cumulative precision, recall and F1 of the
  detector and of each baseline up to its end (the starter's learning curve: a detector fitted
  once, watched as the days go by);
- meter.npz: the meter with the most kinds of fault, as read back from the store (1-minute
  current and voltage, its feeder peers' median voltage, the truth, the detector's flags), and
  its 15-minute INTERVAL averages with the next-day forecast and seasonal naive's;
- detector.json: the checkpoint of the fitted detector (its name and the settings it chose on
  the dev fleets) and the config of the fleet it scored, from which the demo regenerates that
  fleet and its truth (a few hundred bytes: the detector has no weights, only thresholds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from .data import LABELS, NORMAL
from .detect import MeterSeries
from .runs import RunFolder, write_json

HOUR_MS = 3_600_000
METER = "meter.npz"
DETECTOR = "detector.json"
# The detectors the history follows: the model first, then the baselines it must beat.
FOLLOWED = ("model", "union", "own_history", "static_threshold", "stuck_rule")


def hourly_history(
    meters: Sequence[MeterSeries], flags: Mapping[str, Sequence[np.ndarray]]
) -> list[dict[str, Any]]:
    """One row per hour since the first reading: readings, true and flagged anomalies, and each
    detector's precision / recall / F1 over every reading up to the end of that hour."""
    ts = np.concatenate([m.ts for m in meters])
    truth = np.concatenate([m.truth() for m in meters])
    hour = ((ts - ts.min()) // HOUR_MS).astype(np.int64)
    hours = int(hour.max()) + 1 if hour.size else 0
    readings = np.bincount(hour, minlength=hours)
    true = np.bincount(hour, weights=truth, minlength=hours)
    cumulative: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    flagged_by_hour: dict[str, np.ndarray] = {}
    for name in FOLLOWED:
        if name not in flags:
            continue
        flagged = np.concatenate(list(flags[name])).astype(bool)
        flagged_by_hour[name] = np.bincount(hour, weights=flagged, minlength=hours)
        tp = np.cumsum(np.bincount(hour, weights=flagged & truth, minlength=hours))
        fp = np.cumsum(np.bincount(hour, weights=flagged & ~truth, minlength=hours))
        fn = np.cumsum(np.bincount(hour, weights=~flagged & truth, minlength=hours))
        cumulative[name] = (tp, fp, fn)
    rows = []
    for h in range(hours):
        row: dict[str, Any] = {
            "hour": h + 1,
            "readings": int(readings[h]),
            "anomalous": int(true[h]),
            "flagged": int(flagged_by_hour["model"][h]) if "model" in flagged_by_hour else None,
        }
        for name, (tp, fp, fn) in cumulative.items():
            precision = tp[h] / (tp[h] + fp[h]) if tp[h] + fp[h] else None
            recall = tp[h] / (tp[h] + fn[h]) if tp[h] + fn[h] else None
            f1 = 2 * tp[h] / (2 * tp[h] + fp[h] + fn[h]) if tp[h] + fp[h] + fn[h] else None
            row[f"{name}_precision"] = None if precision is None else round(float(precision), 4)
            row[f"{name}_recall"] = None if recall is None else round(float(recall), 4)
            row[f"{name}_f1"] = None if f1 is None else round(float(f1), 4)
        rows.append(row)
    return rows


def showcase_meter(meters: Sequence[MeterSeries]) -> int:
    """Index of the meter with the most kinds of fault (then the most faulty readings)."""

    def key(k: int) -> tuple[int, int]:
        label = np.asarray(meters[k].label)
        return len(set(label.tolist()) - {NORMAL}), int((label != NORMAL).sum())

    return max(range(len(meters)), key=key)


def save(
    folder: RunFolder,
    detection: Mapping[str, Any] | None = None,
    forecast: Mapping[str, Any] | None = None,
) -> None:
    """Write the history, meter.npz and detector.json from what `detection_study` /
    `forecast_study` left in their `evidence` dicts (either may be missing: `forecast` keeps no
    per-reading series)."""
    arrays: dict[str, Any] = {"labels": np.array(LABELS)}
    device: str | None = None
    if detection:
        meters: Sequence[MeterSeries] = detection["meters"]
        for row in hourly_history(meters, detection["flags"]):
            folder.log(**row)
        k = showcase_meter(meters)
        m = meters[k]
        device = m.device
        if "model" in detection:
            model = detection["model"]
            write_json(
                folder.path(DETECTOR),
                {
                    "detector": model.name,
                    "settings": model.settings(),
                    "fleet": asdict(detection["fleet"]),
                },
            )
        arrays.update(
            ts=m.ts,
            current=m.current.astype(np.float32),
            voltage=m.voltage.astype(np.float32),
            peer_voltage=m.peer_voltage.astype(np.float32),
            label=np.asarray(m.label, dtype=np.int8),
            flags=np.asarray(detection["flags"]["model"][k], dtype=bool),
        )
    if forecast:
        names: list[str] = forecast["devices"]
        k = names.index(device) if device in names else 0
        device = names[k]
        arrays.update(
            profile=np.asarray(forecast["profile"][k], dtype=np.float32),
            forecast=np.asarray(forecast["forecast"][k], dtype=np.float32),
            naive=np.asarray(forecast["naive"][k], dtype=np.float32),
            start_ms=np.int64(forecast["start_ms"]),
            step_ms=np.int64(forecast["step_ms"]),
        )
    if device is not None:
        np.savez_compressed(folder.path(METER), device=np.array(device), **arrays)
