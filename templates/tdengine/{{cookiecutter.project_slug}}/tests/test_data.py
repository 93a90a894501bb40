# points: 5
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data import (
    ACCURACY_CLASS,
    DEFAULT_SEED,
    DRIFT,
    DROP,
    LABELS,
    LOCATIONS,
    NORMAL,
    SHIFT,
    SPIKE,
    STUCK,
    FleetConfig,
    dev_seeds,
    generate,
    location_name,
    make_devices,
    truth_for,
)


def test_columns_are_aligned_sorted_and_on_the_grid(fleet):
    n = len(fleet)
    for column in (fleet.device, fleet.current, fleet.voltage, fleet.phase, fleet.label):
        assert column.shape == (n,)
    assert fleet.ts.dtype == np.int64
    assert np.all(np.diff(fleet.device) >= 0)
    cfg = fleet.config
    for i in range(cfg.devices):
        ts = fleet.ts[fleet.rows_of(i)]
        assert np.all(np.diff(ts) > 0)
        assert np.all((ts - cfg.start_ms) % (cfg.interval_s * 1000) == 0)
        assert ts.min() >= cfg.start_ms and ts.max() < cfg.end_ms


def test_same_config_same_readings_other_seed_other_readings():
    a = generate(FleetConfig(devices=4, days=0.5, seed=3))
    b = generate(FleetConfig(devices=4, days=0.5, seed=3))
    c = generate(FleetConfig(devices=4, days=0.5, seed=4))
    for name in ("ts", "current", "voltage", "phase", "label"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.current[:100], c.current[:100])


def test_the_project_seed_picks_the_default_fleet():
    """The seed asked when the repo was generated: same seed, same fleet; another, another."""
    default = generate(FleetConfig(devices=3, days=0.5))
    assert default.config.seed == DEFAULT_SEED
    same = generate(FleetConfig(devices=3, days=0.5, seed=DEFAULT_SEED))
    other = generate(FleetConfig(devices=3, days=0.5, seed=DEFAULT_SEED + 1))
    for name in ("ts", "current", "voltage", "phase", "label"):
        assert np.array_equal(getattr(default, name), getattr(same, name))
    assert not np.array_equal(default.current[:100], other.current[:100])
    assert [d.location for d in default.devices] == [d.location for d in same.devices]


def test_every_anomaly_kind_occurs_and_is_rare(fleet):
    counts = fleet.label_counts()
    assert sum(counts.values()) == len(fleet)
    assert set(counts) == set(LABELS)
    for kind in LABELS[1:]:
        assert counts[kind] > 0, kind
    assert counts["normal"] / len(fleet) > 0.85


def test_values_are_physical(fleet):
    assert np.all(fleet.current > 0)
    normal = fleet.label == NORMAL
    assert 200 < np.median(fleet.voltage[normal]) < 240
    assert np.all((fleet.phase > 0) & (fleet.phase < 1))


def test_frozen_meters_jitter_instead_of_repeating(fleet):
    """A stuck meter keeps reporting noise on its frozen value: hardly any exact repeats, but
    changes far smaller than a live meter's."""
    rows = np.flatnonzero(fleet.label == STUCK)
    assert rows.size
    prev = rows - 1
    same_device = fleet.device[rows] == fleet.device[prev]
    rows, prev = rows[same_device], prev[same_device]
    exact = (fleet.current[rows] == fleet.current[prev]) & (
        fleet.voltage[rows] == fleet.voltage[prev]
    )
    assert exact.mean() < 0.05
    stuck_change = np.median(np.abs(np.log(fleet.current[rows] / fleet.current[prev])))
    live = np.flatnonzero(fleet.label == NORMAL)[1:]
    live = live[fleet.device[live] == fleet.device[live - 1]]
    live_change = np.median(np.abs(np.log(fleet.current[live] / fleet.current[live - 1])))
    assert stuck_change < live_change / 5


def test_meters_on_a_feeder_share_its_voltage(fleet):
    """The context the detector relies on: two meters on one feeder move together."""
    feeder = fleet.devices[0].location
    a, b = [i for i, d in enumerate(fleet.devices) if d.location == feeder][:2]
    c = next(i for i, d in enumerate(fleet.devices) if d.location != feeder)

    def normal_volts(i: int) -> dict[int, float]:
        rows = fleet.rows_of(i)
        ok = fleet.label[rows] == NORMAL
        return dict(zip(fleet.ts[rows][ok].tolist(), fleet.voltage[rows][ok].tolist(), strict=True))

    va, vb, vc = normal_volts(a), normal_volts(b), normal_volts(c)
    common = sorted(set(va) & set(vb) & set(vc))
    xa, xb, xc = (np.array([v[t] for t in common]) for v in (va, vb, vc))
    assert np.std(xa - xb) < 0.5 * np.std(xa - xc)


def test_calibration_faults_move_the_voltage_beyond_the_accuracy_class(fleet):
    """Shifts are labelled throughout; drifts only where the error has passed 1 % of nominal."""
    nominal = fleet.config.nominal_voltage
    for kind in (SHIFT, DRIFT):
        rows = np.flatnonzero(fleet.label == kind)
        assert rows.size, LABELS[kind]
    # readings labelled DRIFT sit further from their feeder's median than ACCURACY_CLASS allows
    by_ts: dict[tuple[str, int], list[float]] = {}
    for k in range(len(fleet)):
        by_ts.setdefault((fleet.devices[fleet.device[k]].location, int(fleet.ts[k])), []).append(
            float(fleet.voltage[k])
        )
    drift = np.flatnonzero(fleet.label == DRIFT)
    errors = [
        abs(
            fleet.voltage[k]
            - np.median(by_ts[(fleet.devices[fleet.device[k]].location, int(fleet.ts[k]))])
        )
        for k in drift
    ]
    assert np.median(errors) > ACCURACY_CLASS * nominal


def test_dev_seeds_never_include_the_scored_seed():
    for seed in (0, 42, 123456, DEFAULT_SEED):
        seeds = dev_seeds(seed, 3)
        assert len(set(seeds)) == 3 and seed not in seeds


def test_spikes_raise_and_drops_lower_the_current_against_their_neighbours(fleet):
    for kind, low, high in ((SPIKE, 1.3, 3.0), (DROP, 0.0, 0.35)):
        for r in np.flatnonzero(fleet.label == kind):
            rows = fleet.rows_of(int(fleet.device[r]))
            lo, hi = max(rows.start, r - 20), min(rows.stop, r + 21)
            around = [k for k in range(lo, hi) if fleet.label[k] == NORMAL]
            ratio = fleet.current[r] / np.median(fleet.current[around])
            assert low < ratio < high, (LABELS[kind], r, ratio)


def test_gaps_remove_readings():
    kwargs: dict[str, Any] = dict(
        devices=3,
        days=0.5,
        spikes_per_day=0,
        stuck_per_day=0,
        drops_per_day=0,
        shifts_per_day=0,
        drifts_per_day=0,
    )
    full = generate(FleetConfig(**kwargs, gaps_per_day=0))
    gappy = generate(FleetConfig(**kwargs, gaps_per_day=10))
    assert len(full) == 3 * full.config.steps
    assert len(gappy) < len(full)
    assert full.label_counts()["normal"] == len(full)


def test_devices_have_unique_names_and_are_dealt_to_feeders():
    devices = make_devices(50, seed=1, meters_per_feeder=4)
    assert len({d.name for d in devices}) == 50
    assert all(1 <= d.groupid <= 4 for d in devices)
    feeders = {d.location for d in devices}
    assert len(feeders) == 13  # ceil(50 / 4)
    assert location_name(3) == LOCATIONS[3] and location_name(13) != location_name(3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"devices": 0},
        {"interval_s": 0},
        {"days": 0.001},
        {"spikes_per_day": -1.0},
    ],
)
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ValueError):
        FleetConfig(**kwargs)


def test_truth_for_maps_timestamps_to_labels_and_refuses_foreign_ones(fleet):
    rows = fleet.rows_of(2)
    ts = fleet.ts[rows]
    assert np.array_equal(truth_for(fleet, 2, ts), fleet.label[rows])
    assert np.array_equal(truth_for(fleet, 2, ts[::7]), fleet.label[rows][::7])
    with pytest.raises(ValueError, match="do not match"):
        truth_for(fleet, 2, ts + 1)
