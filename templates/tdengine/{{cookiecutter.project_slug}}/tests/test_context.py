# points: 4
"""Feeder context (peer voltage) and load profiles: the inputs the detector and the forecaster
see, whether they come from the database or from a generated dev fleet."""

from __future__ import annotations

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.context import (
    local_meters,
    local_series,
    meter_series,
    peer_voltages,
    profile_from_windows,
    profile_local,
)


def series(ts: list[int], voltage: list[float]) -> dict[str, np.ndarray]:
    n = len(ts)
    return {
        "ts": np.array(ts, dtype=np.int64),
        "voltage": np.array(voltage, dtype=float),
        "current": np.ones(n),
        "phase": np.full(n, 0.3),
    }


def test_peer_voltage_is_the_median_of_the_other_meters_at_the_same_time():
    meters = [
        series([0, 60, 120], [220.0, 221.0, 222.0]),
        series([0, 60, 120], [219.0, 230.0, 223.0]),  # a bad reading at 60
        series([0, 120], [221.0, 224.0]),  # missed the reading at 60
        series([0, 60, 120], [218.0, 218.0, 218.0]),
        series([0, 60], [200.0, 200.0]),  # another feeder
    ]
    peers = peer_voltages(["A", "A", "A", "A", "B"], meters)
    assert peers[0].tolist() == [219.0, 224.0, 223.0]  # medians of 3, 2 and 3 others
    assert peers[2].tolist() == [219.0, 222.0]
    assert np.isnan(peers[4]).all()  # alone on its feeder


def test_meter_series_from_the_store_equal_the_dev_path(small_fleet):
    """The database path and the dev-fleet path build identical inputs from identical series."""
    stored = meter_series(small_fleet, local_series(small_fleet))
    local = local_meters(small_fleet)
    for a, b in zip(stored, local, strict=True):
        assert a.device == b.device
        np.testing.assert_array_equal(a.peer_voltage, b.peer_voltage)
        np.testing.assert_array_equal(a.label, b.label)


def test_profile_local_averages_and_fills_forward(small_fleet):
    cfg = small_fleet.config
    step = 5 * 60_000
    profile = profile_local(small_fleet, step)
    slots = -(-(cfg.end_ms - cfg.start_ms) // step)
    assert profile.shape == (cfg.devices, slots)
    rows = small_fleet.rows_of(0)
    ts, current = small_fleet.ts[rows], small_fleet.current[rows]
    first = (ts >= cfg.start_ms) & (ts < cfg.start_ms + step)
    assert profile[0, 0] == pytest.approx(current[first].mean())
    slot_of = (ts - cfg.start_ms) // step
    empty = sorted(set(range(slots)) - set(slot_of.tolist()))
    assert empty, "the small fleet has gaps longer than a window"
    k = empty[0]
    assert profile[0, k] == profile[0, k - 1]  # FILL(PREV)


def test_profile_from_windows_places_each_row_and_leaves_the_rest_nan():
    rows = [("a", 1000, 2.0), ("b", 1000 + 900, 3.0), ("a", 1000 + 1800, None), ("x", 1000, 9.0)]
    out = profile_from_windows(rows, ["a", "b"], 1000, 900, 3)
    assert out[0, 0] == 2.0 and out[1, 1] == 3.0
    assert np.isnan(out[0, 2]) and np.isnan(out[1, 0])
