"""Anomaly scoring for one meter's series, and the static-threshold baseline it must beat.

The scorer, per meter:

- robust z-scores of log(current), voltage and phase against a centred rolling median, scaled by
  the median absolute deviation (MAD) of the residuals: local, so a spike at night counts even
  if it stays below the daytime peak; log(current) makes the multiplicative noise even;
- stuck runs: `min_stuck_run` or more consecutive readings repeating every channel exactly
  (a frozen meter), which no threshold on values can see; they score +inf.

A reading is anomalous when its score reaches `z_threshold`.

The baseline is what a first alerting rule does: one global static threshold a channel,
mean +- k standard deviations over the whole fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class ScorerConfig:
    """Window (readings, odd), alert threshold (robust z), shortest stuck run (readings)."""

    window: int = 31
    z_threshold: float = 6.0
    min_stuck_run: int = 3

    def __post_init__(self) -> None:
        if self.window < 3 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and >= 3, got {self.window}")
        if self.z_threshold <= 0:
            raise ValueError("z_threshold must be > 0")
        if self.min_stuck_run < 2:
            raise ValueError("min_stuck_run must be >= 2")


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median, edges padded with the edge value; same length as `x`."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("expected a 1-D series")
    if x.shape[0] == 0:
        return x.copy()
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    return np.median(sliding_window_view(padded, window), axis=1)


def robust_z(x: np.ndarray, window: int) -> np.ndarray:
    """|x - rolling median| in units of the residuals' MAD-based sigma.

    residual = x - rolling_median(x, window); sigma = MAD_TO_SIGMA * median(|residual -
    median(residual)|), floored at 1e-9 * max(1, max |x|) so a flat series scores 0, not nan.
    An empty series gives an empty array.
    """
    # >>> assignment: |x - rolling_median| / (MAD_TO_SIGMA * MAD of the residual)
    residual = np.asarray(x, dtype=np.float64) - rolling_median(x, window)
    if residual.shape[0] == 0:
        return residual
    scale = MAD_TO_SIGMA * np.median(np.abs(residual - np.median(residual)))
    scale = max(scale, 1e-9 * max(1.0, float(np.max(np.abs(x)))))
    return np.abs(residual) / scale
    # <<< assignment


def stuck_mask(*channels: np.ndarray, min_run: int = 3) -> np.ndarray:
    """Readings that repeat the previous reading on every channel, in runs >= `min_run`.

    Reading i (i >= 1) repeats when every channel equals its value at i - 1; the first reading of
    a frozen stretch (the last real value) is not flagged. Only runs of at least `min_run`
    consecutive repeating readings are kept.
    """
    if not channels:
        raise ValueError("need at least one channel")
    n = channels[0].shape[0]
    if any(c.shape != (n,) for c in channels):
        raise ValueError("channels must be 1-D and of equal length")
    # >>> assignment: flag repeats of the previous reading in runs >= min_run
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = np.logical_and.reduce([c[1:] == c[:-1] for c in channels])
    edges = np.flatnonzero(np.diff(np.concatenate([[0], same.astype(np.int8), [0]])))
    mask = np.zeros(n, dtype=bool)
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if end - start >= min_run:
            mask[start:end] = True
    return mask
    # <<< assignment


def score_series(
    current: np.ndarray,
    voltage: np.ndarray,
    phase: np.ndarray,
    config: ScorerConfig | None = None,
) -> np.ndarray:
    """Anomaly score of every reading of one meter (robust z units; +inf for stuck runs)."""
    config = config or ScorerConfig()
    current = np.asarray(current, dtype=np.float64)
    voltage = np.asarray(voltage, dtype=np.float64)
    phase = np.asarray(phase, dtype=np.float64)
    if not (current.shape == voltage.shape == phase.shape) or current.ndim != 1:
        raise ValueError("current, voltage and phase must be 1-D arrays of equal length")
    log_current = np.log(np.clip(current, 1e-3, None))
    score = np.maximum.reduce(
        [
            robust_z(log_current, config.window),
            robust_z(voltage, config.window),
            robust_z(phase, config.window),
        ]
    )
    score[stuck_mask(current, voltage, phase, min_run=config.min_stuck_run)] = np.inf
    return score


def detect(
    current: np.ndarray,
    voltage: np.ndarray,
    phase: np.ndarray,
    config: ScorerConfig | None = None,
) -> np.ndarray:
    """Boolean anomaly flags for one meter: score >= z_threshold."""
    config = config or ScorerConfig()
    return score_series(current, voltage, phase, config) >= config.z_threshold


@dataclass(frozen=True)
class StaticThresholds:
    """Global alert limits: current above `current_max`, voltage outside [min, max]."""

    current_max: float
    voltage_min: float
    voltage_max: float

    @classmethod
    def fit(cls, current: np.ndarray, voltage: np.ndarray, k: float = 3.0) -> StaticThresholds:
        """mean + k sigma of current; mean +- k sigma of voltage, over all meters at once."""
        current = np.asarray(current, dtype=np.float64)
        voltage = np.asarray(voltage, dtype=np.float64)
        if current.size == 0 or voltage.size == 0:
            raise ValueError("need data to fit thresholds")
        return cls(
            current_max=round(float(current.mean() + k * current.std()), 3),
            voltage_min=round(float(voltage.mean() - k * voltage.std()), 2),
            voltage_max=round(float(voltage.mean() + k * voltage.std()), 2),
        )

    def flags(self, current: np.ndarray, voltage: np.ndarray) -> np.ndarray:
        """Readings that break a limit."""
        current = np.asarray(current, dtype=np.float64)
        voltage = np.asarray(voltage, dtype=np.float64)
        return (
            (current > self.current_max)
            | (voltage < self.voltage_min)
            | (voltage > self.voltage_max)
        )

    def rules(self) -> list[tuple[str, str, float]]:
        """The same limits as SQL rules, for `sql.state_episodes`."""
        return [
            ("current", ">", self.current_max),
            ("voltage", "<", self.voltage_min),
            ("voltage", ">", self.voltage_max),
        ]
