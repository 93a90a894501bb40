"""The feeder context a detector scores a meter against, and the 15-minute load profile a
forecaster learns from.

Feeder context: a meter's peer voltage at a reading is the median voltage of the *other* meters
on its feeder (`location` tag) at the same timestamp, NaN when none of them reported. The median,
not the mean: one faulty peer must not drag a healthy meter's reference with it. It is computed
from the series as stored (read back from the database), or, for the dev fleets that settings are
chosen on, from the generated arrays: the same function either way.

Load profile: per meter, the average current of every `step` window over [start, end), empty
windows filled with the previous window's value, as `INTERVAL(15m) FILL(PREV)` returns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .data import Readings, truth_for
from .detect import MeterSeries

Series = dict[str, np.ndarray]


def peer_voltages(locations: Sequence[str], series: Sequence[Series]) -> list[np.ndarray]:
    """For each meter, the median voltage of the other meters on its feeder at its timestamps."""
    out = [np.full(s["ts"].shape[0], np.nan) for s in series]
    for location in sorted(set(locations)):
        members = [k for k, loc in enumerate(locations) if loc == location]
        if len(members) < 2:
            continue
        grid = np.unique(np.concatenate([series[k]["ts"] for k in members]))
        table = np.full((len(members), grid.shape[0]), np.nan)
        for row, k in enumerate(members):
            table[row, np.searchsorted(grid, series[k]["ts"])] = series[k]["voltage"]
        for row, k in enumerate(members):
            others = np.delete(table, row, axis=0)[:, np.searchsorted(grid, series[k]["ts"])]
            seen = np.isfinite(others).any(axis=0)
            # nanmedian warns on all-NaN columns: compute only where some peer reported.
            out[k][seen] = np.nanmedian(others[:, seen], axis=0)
    return out


def meter_series(
    fleet: Readings, series: Sequence[tuple[int, Series]], labels: bool = True
) -> list[MeterSeries]:
    """MeterSeries for stored series (device index, arrays), with peer voltage and truth."""
    locations = [fleet.devices[i].location for i, _ in series]
    peers = peer_voltages(locations, [s for _, s in series])
    return [
        MeterSeries(
            device=fleet.devices[i].name,
            ts=s["ts"],
            current=s["current"],
            voltage=s["voltage"],
            phase=s["phase"],
            peer_voltage=peer,
            label=truth_for(fleet, i, s["ts"]) if labels else None,
        )
        for (i, s), peer in zip(series, peers, strict=True)
    ]


def local_series(fleet: Readings) -> list[tuple[int, Series]]:
    """Every meter's arrays straight from the generated fleet (what a perfect store returns)."""
    out = []
    for i in range(len(fleet.devices)):
        rows = fleet.rows_of(i)
        arrays = {
            "ts": fleet.ts[rows],
            "current": fleet.current[rows],
            "voltage": fleet.voltage[rows],
            "phase": fleet.phase[rows],
        }
        out.append((i, arrays))
    return out


def local_meters(fleet: Readings) -> list[MeterSeries]:
    """MeterSeries of a generated fleet without a database: how dev fleets are built."""
    return meter_series(fleet, local_series(fleet))


# ---- load profiles ---------------------------------------------------------------------------


def profile_from_windows(
    windows: Iterable[tuple[str, int, float | None]],
    devices: list[str],
    start_ms: int,
    step_ms: int,
    slots: int,
) -> np.ndarray:
    """(meters, slots) average current from (device, window start, avg) rows; NaN if missing."""
    index = {name: k for k, name in enumerate(devices)}
    out = np.full((len(devices), slots), np.nan)
    for device, start, value in windows:
        slot = (int(start) - start_ms) // step_ms
        if device in index and 0 <= slot < slots and value is not None:
            out[index[device], slot] = float(value)
    return out


def profile_local(fleet: Readings, step_ms: int) -> np.ndarray:
    """The numpy twin of `INTERVAL(step) FILL(PREV)` on AVG(current), per meter."""
    cfg = fleet.config
    slots = -(-(cfg.end_ms - cfg.start_ms) // step_ms)
    out = np.full((len(fleet.devices), slots), np.nan)
    for i in range(len(fleet.devices)):
        rows = fleet.rows_of(i)
        slot = (fleet.ts[rows] - cfg.start_ms) // step_ms
        sums = np.bincount(slot, weights=fleet.current[rows], minlength=slots)
        counts = np.bincount(slot, minlength=slots)
        have = counts > 0
        out[i, have] = sums[have] / counts[have]
        for k in range(1, slots):  # FILL(PREV): an empty window repeats the one before
            if not have[k] and np.isfinite(out[i, k - 1]):
                out[i, k] = out[i, k - 1]
    return out
