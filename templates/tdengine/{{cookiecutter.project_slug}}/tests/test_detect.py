# points: 40
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.detect import (
    ScorerConfig,
    StaticThresholds,
    detect,
    robust_z,
    rolling_median,
    score_series,
    stuck_mask,
)
from {{ cookiecutter.package_name }}.evaluate import precision_recall_f1, recall_by_label
from {{ cookiecutter.package_name }}.pipeline import score_fleet


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


def test_stuck_mask_needs_every_channel_to_repeat_for_min_run():
    a = np.array([1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 4.0])
    b = np.array([5.0, 6.0, 6.0, 6.0, 6.0, 7.0, 7.0, 8.0])
    assert stuck_mask(a, b, min_run=3).tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert stuck_mask(a, b, min_run=2).tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert stuck_mask(a, b, min_run=1).tolist() == [0, 0, 1, 1, 1, 0, 1, 0]
    c = b.copy()
    c[3] = 0.0  # one channel moves: no longer stuck as a whole
    assert stuck_mask(a, c, min_run=3).sum() == 0
    with pytest.raises(ValueError):
        stuck_mask(a, b[:-1])


def test_scores_mark_stuck_runs_infinite_and_flag_a_sag():
    rng = np.random.default_rng(1)
    n = 300
    current = np.round(8 * np.exp(rng.normal(0, 0.03, n)), 3)
    voltage = np.round(220 + rng.normal(0, 0.8, n), 2)
    phase = np.round(0.3 + rng.normal(0, 0.01, n), 4)
    current[100:120], voltage[100:120], phase[100:120] = current[99], voltage[99], phase[99]
    voltage[200:206] *= 0.93
    score = score_series(current, voltage, phase)
    assert np.isinf(score[100:120]).all()
    flags = detect(current, voltage, phase)
    assert flags[200:206].all()
    assert flags.sum() <= 20 + 6 + 2


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        ScorerConfig(window=10)
    with pytest.raises(ValueError):
        ScorerConfig(z_threshold=0)
    with pytest.raises(ValueError):
        score_series(np.ones(5), np.ones(5), np.ones(4))
    with pytest.raises(ValueError):
        StaticThresholds.fit(np.array([]), np.array([]))


def test_static_thresholds_flags_and_rules_agree():
    t = StaticThresholds(current_max=20.0, voltage_min=210.0, voltage_max=230.0)
    flags = t.flags(np.array([5.0, 25.0, 5.0, 5.0]), np.array([220.0, 220.0, 200.0, 240.0]))
    assert flags.tolist() == [False, True, True, True]
    assert t.rules() == [("current", ">", 20.0), ("voltage", "<", 210.0), ("voltage", ">", 230.0)]
    fitted = StaticThresholds.fit(np.array([1.0, 2.0, 3.0]), np.array([219.0, 220.0, 221.0]), k=1)
    assert fitted.current_max == pytest.approx(2.816, abs=1e-3)
    assert fitted.voltage_min < 220 < fitted.voltage_max


def test_scorer_beats_the_static_threshold_on_the_fleet(fleet):
    series = [
        (
            i,
            {
                "ts": fleet.ts[fleet.rows_of(i)],
                "current": fleet.current[fleet.rows_of(i)],
                "voltage": fleet.voltage[fleet.rows_of(i)],
                "phase": fleet.phase[fleet.rows_of(i)],
            },
        )
        for i in range(fleet.config.devices)
    ]
    thresholds = StaticThresholds.fit(fleet.current, fleet.voltage)
    scores = score_fleet(series, fleet, thresholds)
    assert scores["scorer"]["f1"] >= 0.5
    assert scores["scorer"]["f1"] > scores["baseline"]["f1"] + 0.2
    assert scores["scorer_recall_by_kind"]["stuck"] > 0.95
    assert scores["baseline_recall_by_kind"]["stuck"] == 0.0


def test_precision_recall_f1_by_hand():
    pred = np.array([1, 1, 0, 0, 1], dtype=bool)
    truth = np.array([1, 0, 1, 0, 1], dtype=bool)
    m = precision_recall_f1(pred, truth)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["f1"] == pytest.approx(2 / 3, abs=1e-4)
    empty = precision_recall_f1(np.zeros(3, bool), np.zeros(3, bool))
    assert empty["f1"] == 0.0 and empty["precision"] == 0.0
    with pytest.raises(ValueError):
        precision_recall_f1(pred, truth[:3])


def test_recall_by_label():
    labels = np.array([0, 1, 1, 2, 3, 3])
    pred = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    assert recall_by_label(pred, labels) == {"spike": 0.5, "stuck": 1.0, "drop": 0.0}
