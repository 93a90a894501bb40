# points: 5
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data import (
    DEFAULT_SEED,
    DROP,
    LABELS,
    LOCATIONS,
    NORMAL,
    SPIKE,
    STUCK,
    FleetConfig,
    generate,
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
    for kind in ("spike", "stuck", "drop"):
        assert counts[kind] > 0
    assert counts["normal"] / len(fleet) > 0.9


def test_values_are_physical(fleet):
    assert np.all(fleet.current > 0)
    normal = fleet.label == NORMAL
    assert 200 < np.median(fleet.voltage[normal]) < 240
    assert np.all((fleet.phase > 0) & (fleet.phase < 1))


def test_stuck_readings_repeat_the_previous_reading_exactly(fleet):
    rows = np.flatnonzero(fleet.label == STUCK)
    assert rows.size
    for r in rows:
        assert fleet.device[r] == fleet.device[r - 1]
        for column in (fleet.current, fleet.voltage, fleet.phase):
            assert column[r] == column[r - 1]


def test_spikes_raise_and_drops_lower_the_current_against_their_neighbours(fleet):
    for kind, low, high in ((SPIKE, 1.3, 3.0), (DROP, 0.0, 0.35)):
        for r in np.flatnonzero(fleet.label == kind):
            rows = fleet.rows_of(int(fleet.device[r]))
            lo, hi = max(rows.start, r - 20), min(rows.stop, r + 21)
            around = [k for k in range(lo, hi) if fleet.label[k] == NORMAL]
            ratio = fleet.current[r] / np.median(fleet.current[around])
            assert low < ratio < high, (LABELS[kind], r, ratio)


def test_gaps_remove_readings():
    kwargs = dict(devices=3, days=0.5, spikes_per_day=0, stuck_per_day=0, drops_per_day=0)
    full = generate(FleetConfig(**kwargs, gaps_per_day=0))
    gappy = generate(FleetConfig(**kwargs, gaps_per_day=10))
    assert len(full) == 3 * full.config.steps
    assert len(gappy) < len(full)
    assert full.label_counts()["normal"] == len(full)


def test_devices_have_unique_names_and_valid_tags():
    devices = make_devices(50, seed=1)
    assert len({d.name for d in devices}) == 50
    assert all(d.location in LOCATIONS and 1 <= d.groupid <= 4 for d in devices)


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
