# points: 6
"""Next-day load forecasts: the seasonal-naive baseline, the seasonal mean and how its window is
chosen on dev profiles."""

from __future__ import annotations

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.forecast import (
    LastDayMean,
    SeasonalMean,
    SeasonalNaive,
    by_day,
    evaluate,
    mae,
)


def days(n_days: int, noise: float, seed: int = 0, meters: int = 5, slots: int = 24) -> np.ndarray:
    """(meters, days, slots): the same daily shape every day plus independent noise."""
    rng = np.random.default_rng(seed)
    shape = 5 + 3 * np.sin(np.linspace(0, 2 * np.pi, slots, endpoint=False))
    return shape[None, None, :] + rng.normal(0, noise, (meters, n_days, slots))


def test_by_day_needs_whole_days():
    assert by_day(np.zeros((2, 96 * 3)), 96).shape == (2, 3, 96)
    with pytest.raises(ValueError):
        by_day(np.zeros((2, 100)), 96)
    with pytest.raises(ValueError):
        by_day(np.zeros((2, 96)), 96)


def test_seasonal_naive_repeats_the_last_day():
    history = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    np.testing.assert_array_equal(SeasonalNaive().predict(history), history[:, -1, :])


def test_seasonal_mean_averages_the_last_k_days_skipping_gaps():
    history = np.array([[[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]]])
    assert SeasonalMean(k=2).predict(history).tolist() == [[4.0, 6.0]]
    assert SeasonalMean(k=3).predict(history).tolist() == [[3.0, 4.0]]


def test_fit_picks_more_days_when_days_are_noisy_and_one_when_they_drift():
    noisy = [days(5, noise=1.0, seed=s) for s in range(2)]
    assert SeasonalMean().fit(noisy).k == 4
    trend = np.linspace(0, 8, 5)[None, :, None]  # each day well above the one before
    drifting = [days(5, noise=0.05, seed=s) + trend for s in range(2)]
    assert SeasonalMean().fit(drifting).k == 1  # seasonal naive is the better guess here


def test_averaging_beats_seasonal_naive_on_noisy_days_and_a_flat_line_loses():
    test = days(5, noise=1.0, seed=7)
    model = SeasonalMean().fit([days(5, noise=1.0, seed=s) for s in range(2)])
    model_mae, naive_mae, _ = evaluate(model, test)
    assert model_mae < 0.9 * naive_mae
    flat_mae, _, _ = evaluate(LastDayMean(), test)
    assert flat_mae > naive_mae


def test_mae_ignores_unknown_slots_and_refuses_when_none_is_known():
    assert mae(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, np.nan])) == 1.0
    with pytest.raises(ValueError):
        mae(np.array([np.nan]), np.array([1.0]))
