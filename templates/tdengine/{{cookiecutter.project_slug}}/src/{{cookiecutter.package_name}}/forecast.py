"""Next-day load forecasts from 15-minute INTERVAL averages, and the seasonal-naive baseline.

Input: a (meters, slots) array of average current per `step` window, as
`SELECT _wstart, device, AVG(current) ... PARTITION BY device INTERVAL(15m) FILL(PREV)` returns
it, covering whole days. The last day is forecast from the days before it; error is the mean
absolute error (A) over every meter and slot of that day.

- `SeasonalNaive`: tomorrow's slot = today's slot (the standard baseline for seasonal series);
- `SeasonalMean`: the mean of the same slot over the last `k` days; `k` is chosen on dev fleets
  (other seeds), and `k = 1` is seasonal naive itself, so tuning can pick the baseline when
  averaging does not pay off;
- `LastDayMean`: a flat line at the last day's average (a forecaster that ignores the daily
  cycle; a breakage for the tests, never a candidate).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

SLOTS_PER_DAY_15M = 96


def by_day(profile: np.ndarray, slots_per_day: int) -> np.ndarray:
    """(meters, days, slots_per_day) view of a (meters, slots) profile of whole days."""
    meters, slots = profile.shape
    if slots % slots_per_day or slots < 2 * slots_per_day:
        raise ValueError(
            f"need at least two whole days of {slots_per_day} slots, got {slots} slots"
        )
    return profile.reshape(meters, slots // slots_per_day, slots_per_day)


def mae(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error over the entries where both are known."""
    ok = np.isfinite(forecast) & np.isfinite(actual)
    if not ok.any():
        raise ValueError("no slot has both a forecast and an actual value")
    return float(np.mean(np.abs(forecast[ok] - actual[ok])))


class Forecaster(Protocol):
    """Forecast the next day's slots from the days before it."""

    name: str

    def fit(self, dev: Sequence[np.ndarray]) -> Forecaster:
        """Choose settings on dev profiles, each (meters, days, slots); returns self."""
        ...

    def predict(self, history: np.ndarray) -> np.ndarray:
        """(meters, slots) forecast of the day after `history` (meters, days, slots)."""
        ...

    def settings(self) -> dict[str, Any]: ...


@dataclass
class SeasonalNaive:
    """Tomorrow repeats today, slot for slot."""

    name: str = "seasonal_naive"

    def fit(self, dev: Sequence[np.ndarray]) -> SeasonalNaive:
        return self

    def predict(self, history: np.ndarray) -> np.ndarray:
        return history[:, -1, :]

    def settings(self) -> dict[str, Any]:
        return {}


@dataclass
class SeasonalMean:
    """The mean of the same slot over the last `k` days (NaN days skipped)."""

    k: int = 1
    name: str = "seasonal_mean"

    def fit(self, dev: Sequence[np.ndarray]) -> SeasonalMean:
        if not dev:
            raise ValueError("need at least one dev profile to fit on")
        days = min(d.shape[1] for d in dev) - 1  # history days before each dev target day
        errors = {
            k: np.mean([mae(_mean_of_last(d[:, :-1, :], k), d[:, -1, :]) for d in dev])
            for k in range(1, days + 1)
        }
        self.k = min(errors, key=lambda k: (errors[k], k))
        return self

    def predict(self, history: np.ndarray) -> np.ndarray:
        return _mean_of_last(history, self.k)

    def settings(self) -> dict[str, Any]:
        return {"k": self.k}


@dataclass
class LastDayMean:
    """A flat line at the last day's mean: ignores the daily cycle."""

    name: str = "last_day_mean"

    def fit(self, dev: Sequence[np.ndarray]) -> LastDayMean:
        return self

    def predict(self, history: np.ndarray) -> np.ndarray:
        level = np.nanmean(history[:, -1, :], axis=1, keepdims=True)
        return np.repeat(level, history.shape[2], axis=1)

    def settings(self) -> dict[str, Any]:
        return {}


def _mean_of_last(history: np.ndarray, k: int) -> np.ndarray:
    window = history[:, -k:, :]
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(window).sum(axis=1)
        total = np.nansum(window, axis=1)
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def evaluate(forecaster: Forecaster, days: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(forecaster MAE, seasonal-naive MAE, forecast) on the last day of `days`."""
    history, actual = days[:, :-1, :], days[:, -1, :]
    forecast = forecaster.predict(history)
    return mae(forecast, actual), mae(SeasonalNaive().predict(history), actual), forecast


# The forecasters the command line can put in the model's place (`smoke --forecaster NAME`).
FORECASTERS: dict[str, Callable[[], Forecaster]] = {
    "seasonal-mean": SeasonalMean,
    "seasonal-naive": SeasonalNaive,
    "last-day-mean": LastDayMean,
}
