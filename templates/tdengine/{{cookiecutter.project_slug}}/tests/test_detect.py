# points: 30
"""The detector's three views, the trivial rules, and how each is fitted on dev meters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.context import local_meters
from {{ cookiecutter.package_name }}.data import DRIFT, SHIFT, dev_seeds, generate
from {{ cookiecutter.package_name }}.detect import (
    DETECTORS,
    MeterSeries,
    ScoreDetector,
    StaticThresholdRule,
    StaticThresholds,
    StuckRule,
    UnionRule,
    robust_z,
    rolling_median,
    stuck_mask,
)
from {{ cookiecutter.package_name }}.evaluate import precision_recall_f1, recall_by_label


def meter(n: int = 600, seed: int = 1, **overrides: np.ndarray) -> MeterSeries:
    """A quiet synthetic meter with peers that see the same grid voltage."""
    rng = np.random.default_rng(seed)
    grid = 220 + np.cumsum(rng.normal(0, 0.2, n))  # the feeder wanders; peers see it too
    arrays = {
        "current": np.round(8 * np.exp(rng.normal(0, 0.03, n)), 3),
        "voltage": np.round(grid + rng.normal(0, 0.3, n), 2),
        "phase": np.round(0.3 + rng.normal(0, 0.01, n), 4),
        "peer_voltage": grid + rng.normal(0, 0.15, n),
    }
    arrays.update(overrides)
    return MeterSeries(device="m", ts=np.arange(n, dtype=np.int64) * 60_000, **arrays)


def test_rolling_median_follows_trends_and_ignores_single_outliers():
    x = np.arange(50, dtype=float)
    assert np.allclose(rolling_median(x, 5)[2:-2], x[2:-2])
    y = np.ones(30)
    y[10] = 100.0
    assert np.allclose(rolling_median(y, 5), 1.0)
    assert rolling_median(np.array([]), 5).shape == (0,)
    with pytest.raises(ValueError):
        rolling_median(np.ones((3, 3)), 3)


def test_robust_z_singles_out_a_spike():
    rng = np.random.default_rng(0)
    x = 10 + rng.normal(0, 0.1, 500)
    x[250] += 3.0
    z = robust_z(x, 31)
    assert int(np.argmax(z)) == 250
    assert z[250] > 20
    assert np.sum(z > 6) == 1


def test_stuck_mask_with_a_tolerance_finds_a_jittering_frozen_meter():
    rng = np.random.default_rng(3)
    live = 10 + rng.normal(0, 0.3, 200)
    frozen = live.copy()
    frozen[80:120] = np.round(live[79] + rng.normal(0, 0.002, 40), 3)  # jitter of a few quanta
    assert stuck_mask(frozen, min_run=5).sum() == 0  # no exact repeat anywhere
    found = stuck_mask(frozen, min_run=5, tolerance=0.02)
    assert found[81:120].all() and found.sum() <= 41
    assert stuck_mask(live, min_run=5, tolerance=0.02).sum() == 0
    a = np.array([1.0, 1.001, 1.0, 1.002])
    b = np.array([5.0, 5.0, 5.3, 5.3])
    assert stuck_mask(a, b, min_run=1, tolerance=[0.001, 0.0]).tolist() == [0, 1, 0, 0]
    with pytest.raises(ValueError):
        stuck_mask(a, b, tolerance=[0.1])
    with pytest.raises(ValueError):
        stuck_mask(a, tolerance=-1.0)


def test_the_point_view_flags_a_spike_but_not_an_appliance_switching_on():
    base = meter()
    current, phase = base.current.copy(), base.phase.copy()
    current[100] *= 2.0  # a surge: current alone
    current[300:305] *= 2.0  # a kettle: current up, phase angle down (resistive load)
    phase[300:305] -= 0.08
    point, _, _ = ScoreDetector().views(meter(current=current, phase=phase))
    assert point[100] > 15
    assert point[300:305].max() < 6


def test_the_level_view_sees_a_calibration_shift_only_against_peers():
    base = meter()
    voltage = base.voltage.copy()
    voltage[200:320] += 4.0  # 1.8 % of nominal: inside any static band
    shifted = meter(voltage=voltage)
    _, level, _ = ScoreDetector().views(shifted)
    _, blind, _ = ScoreDetector(use_peers=False).views(shifted)
    inside, outside = level[215:305], np.r_[level[:185], level[335:]]
    assert inside.min() > 2 * outside.max()
    # without the feeder, the grid's own wander hides the step
    assert blind[215:305].min() < blind[np.r_[0:185, 335:600]].max()


def test_the_level_view_is_not_fooled_by_one_faulty_peer(fleet):
    """Peers are combined by their median: one shifted peer must not flag the others."""
    meters = local_meters(fleet)
    labels = np.concatenate([m.label for m in meters])
    detector = ScoreDetector().fit(local_meters(generate(fleet.config.with_seed(99))))
    flags = np.concatenate([detector.flags(m) for m in meters])
    healthy = labels == 0
    assert flags[healthy].mean() < 0.02
    assert flags[(labels == SHIFT) | (labels == DRIFT)].mean() > 0.8


def test_the_flat_view_finds_a_frozen_meter_that_still_jitters():
    base = meter()
    current, voltage = base.current.copy(), base.voltage.copy()
    current[250:280] = np.round(
        current[249] * (1 + np.random.default_rng(5).normal(0, 0.002, 30)), 3
    )
    voltage[250:280] = np.round(voltage[249] + np.random.default_rng(6).normal(0, 0.03, 30), 2)
    _, _, flat = ScoreDetector().views(meter(current=current, voltage=voltage))
    assert flat[255:275].max() < 0.2
    assert np.median(flat) > 0.7


def test_fitting_chooses_thresholds_on_the_dev_meters(fleet):
    dev = local_meters(generate(fleet.config.with_seed(dev_seeds(fleet.config.seed)[0])))
    detector = ScoreDetector().fit(dev)
    truth = np.concatenate([m.truth() for m in dev])
    flags = np.concatenate([detector.flags(m) for m in dev])
    chosen = precision_recall_f1(flags, truth)["f1"]
    for other in ((4.0, 2.5, 0.4), (math.inf, math.inf, 0.0), (10.0, 8.0, 0.1)):
        d = ScoreDetector(point_z=other[0], level_z=other[1], flat_ratio=other[2])
        f = np.concatenate([d.flags(m) for m in dev])
        assert precision_recall_f1(f, truth)["f1"] <= chosen


def test_the_model_beats_every_trivial_rule_on_a_fresh_fleet(fleet):
    dev = [
        m
        for s in dev_seeds(fleet.config.seed)
        for m in local_meters(generate(fleet.config.with_seed(s)))
    ]
    test = local_meters(fleet)
    truth = np.concatenate([m.truth() for m in test])
    labels = np.concatenate([m.label for m in test])
    f1 = {}
    for name in ("scorer", "stuck-rule", "static-threshold", "union"):
        detector = DETECTORS[name]().fit(dev)
        flags = np.concatenate([detector.flags(m) for m in test])
        f1[name] = precision_recall_f1(flags, truth)["f1"]
        if name == "stuck-rule":
            assert recall_by_label(flags, labels)["stuck"] > 0.8  # it does find frozen meters
    assert f1["scorer"] > max(f1["stuck-rule"], f1["static-threshold"], f1["union"]) + 0.15


def test_static_thresholds_flags_and_rules_agree():
    t = StaticThresholds(current_max=20.0, voltage_min=210.0, voltage_max=230.0)
    flags = t.flags(np.array([5.0, 25.0, 5.0, 5.0]), np.array([220.0, 220.0, 200.0, 240.0]))
    assert flags.tolist() == [False, True, True, True]
    assert t.rules() == [("current", ">", 20.0), ("voltage", "<", 210.0), ("voltage", ">", 230.0)]
    assert StaticThresholds().rules() == []


def test_the_baselines_fit_their_settings_on_dev(fleet):
    dev = local_meters(fleet)
    static = StaticThresholdRule().fit(dev)
    assert static.settings(), "some limit must be on"
    stuck = StuckRule().fit(dev)
    assert stuck.quanta > 0  # jittering frozen meters: exact repeats are not the best rule
    union = UnionRule().fit(dev)
    truth = np.concatenate([m.truth() for m in dev])
    f1 = {
        name: precision_recall_f1(np.concatenate([d.flags(m) for m in dev]), truth)["f1"]
        for name, d in (("static", static), ("stuck", stuck), ("union", union))
    }
    assert f1["union"] >= max(f1["static"], f1["stuck"]) - 1e-9
    # the union really is both rules: it finds the frozen meters and the sags
    labels = np.concatenate([m.label for m in dev])
    union_recall = recall_by_label(np.concatenate([union.flags(m) for m in dev]), labels)
    assert union_recall["stuck"] > 0.8 and union_recall["drop"] > 0.8


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        ScoreDetector().fit([])
    with pytest.raises(ValueError):
        meter().truth()


def test_stuck_labels_are_what_the_flat_view_is_for(fleet):
    meters = local_meters(fleet)
    detector = ScoreDetector(point_z=math.inf, level_z=math.inf, flat_ratio=0.3)
    flags = np.concatenate([detector.flags(m) for m in meters])
    labels = np.concatenate([m.label for m in meters])
    assert recall_by_label(flags, labels)["stuck"] > 0.8
    assert flags[labels == 0].mean() < 0.01


def test_precision_recall_f1_by_hand():
    pred = np.array([1, 1, 0, 0, 1], dtype=bool)
    truth = np.array([1, 0, 1, 0, 1], dtype=bool)
    m = precision_recall_f1(pred, truth)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["f1"] == pytest.approx(2 / 3, abs=1e-4)
    with pytest.raises(ValueError):
        precision_recall_f1(pred, truth[:3])


def test_recall_by_label():
    labels = np.array([0, 1, 1, 2, 3, 3, 4, 5])
    pred = np.array([1, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
    assert recall_by_label(pred, labels) == {
        "spike": 0.5,
        "stuck": 1.0,
        "drop": 0.0,
        "shift": 1.0,
        "drift": 0.0,
    }
