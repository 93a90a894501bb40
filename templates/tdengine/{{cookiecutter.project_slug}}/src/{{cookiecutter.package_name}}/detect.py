"""Anomaly detectors for meter series, and the trivial rules they must beat.

Every detector has the same two steps: `fit(dev)` chooses its settings on labelled dev meters
(other fleets than the one scored: see `data.dev_seeds`), and `flags(meter)` marks the readings
of one meter it calls anomalous. So the model and the baselines get the same chance.

The model, `ScoreDetector`, combines three views of a meter:

- point: robust z-scores of log(current), phase, and the voltage residual against the meter's
  feeder peers, each against a centred rolling median and scaled by the median absolute
  deviation (MAD): spikes, drops and sags;
- level: the feeder residual (the meter's voltage minus the mean of the other meters on its
  feeder at the same minute, minus its own usual offset), smoothed by a rolling median: a
  calibration shift or drift moves it, while the grid's own wander, shared by every meter on the
  feeder, cancels out;
- flat: the rolling median of reading-to-reading changes against the meter's usual change, for
  current and voltage at once: a frozen sensor still jitters, but far less than a live one.

The baselines are what a first alerting setup does: `StaticThresholdRule` (fixed limits on
current and voltage, chosen on the dev fleets), `StuckRule` (runs of near-repeats on every
channel, tolerance and run length chosen on the dev fleets) and `UnionRule` (both, tuned
together).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .data import DECIMALS, NORMAL

MAD_TO_SIGMA = 1.4826
# Channel resolutions (one unit of the last kept decimal): the stuck rule's tolerance unit.
QUANTUM = {name: 10.0**-places for name, places in DECIMALS.items()}


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median, edges padded with the edge value; same length as `x`."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("expected a 1-D series")
    if x.shape[0] == 0:
        return x.copy()
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    # numpy's stubs type arithmetic on an ndarray of unknown dtype as Any: the annotated names in
    # this module say what the result is.
    medians: np.ndarray = np.median(sliding_window_view(padded, window), axis=1)
    return medians


def robust_z(x: np.ndarray, window: int) -> np.ndarray:
    """|x - rolling median| in units of the residuals' MAD-based sigma.

    residual = x - rolling_median(x, window); sigma = MAD_TO_SIGMA * median(|residual -
    median(residual)|), floored at 1e-9 * max(1, max |x|) so a flat series scores 0, not nan.
    An empty series gives an empty array.
    """
    # >>> assignment: |x - rolling_median| / (MAD_TO_SIGMA * MAD of the residual)
    residual: np.ndarray = np.asarray(x, dtype=np.float64) - rolling_median(x, window)
    if residual.shape[0] == 0:
        return residual
    scale = MAD_TO_SIGMA * np.median(np.abs(residual - np.median(residual)))
    scale = max(scale, 1e-9 * max(1.0, float(np.max(np.abs(x)))))
    z: np.ndarray = np.abs(residual) / scale
    return z
    # <<< assignment


def stuck_mask(
    *channels: np.ndarray, min_run: int = 3, tolerance: float | Sequence[float] = 0.0
) -> np.ndarray:
    """Readings that repeat the previous reading on every channel, in runs >= `min_run`.

    Reading i (i >= 1) repeats when |channel[i] - channel[i - 1]| <= tolerance on every channel
    (`tolerance` is one number for all channels or one per channel; 0 means exactly equal); the
    first reading of a frozen stretch (the last real value) is not flagged. Only runs of at
    least `min_run` consecutive repeating readings are kept.
    """
    if not channels:
        raise ValueError("need at least one channel")
    n = channels[0].shape[0]
    if any(c.shape != (n,) for c in channels):
        raise ValueError("channels must be 1-D and of equal length")
    if isinstance(tolerance, int | float):
        tolerances = [float(tolerance)] * len(channels)
    else:
        tolerances = [float(t) for t in tolerance]
    if len(tolerances) != len(channels) or any(t < 0 for t in tolerances):
        raise ValueError("tolerance: one non-negative number, or one per channel")
    # >>> assignment: flag changes <= tolerance on all channels, runs >= min_run
    same = np.zeros(n, dtype=bool)
    if n > 1:
        # Decimal values such as 0.003 - 0.001 are not exact in binary: allow a hair over.
        same[1:] = np.logical_and.reduce(
            [
                np.abs(np.diff(np.asarray(c, dtype=np.float64))) <= t * (1 + 1e-6)
                for c, t in zip(channels, tolerances, strict=True)
            ]
        )
    edges = np.flatnonzero(np.diff(np.concatenate([[0], same.astype(np.int8), [0]])))
    mask = np.zeros(n, dtype=bool)
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if end - start >= min_run:
            mask[start:end] = True
    return mask
    # <<< assignment


def mad_sigma(x: np.ndarray) -> float:
    """MAD-based standard deviation of `x` (NaNs ignored), floored so it is never 0."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 1e-9
    return max(MAD_TO_SIGMA * float(np.median(np.abs(x - np.median(x)))), 1e-9)


@dataclass
class MeterSeries:
    """One meter's readings as the detectors see them.

    `peer_voltage` is the mean voltage of the other meters on the same feeder at the same
    timestamps (NaN where no other meter reported); `label` is the truth, present for the dev
    fleets a detector is fitted on and for scoring, never read by `flags`.
    """

    device: str
    ts: np.ndarray
    current: np.ndarray
    voltage: np.ndarray
    phase: np.ndarray
    peer_voltage: np.ndarray
    label: np.ndarray | None = None

    def truth(self) -> np.ndarray:
        """Boolean truth: the reading belongs to a fault."""
        if self.label is None:
            raise ValueError(f"{self.device}: no labels")
        faulty: np.ndarray = np.asarray(self.label) != NORMAL
        return faulty


class Detector(Protocol):
    """What the pipeline needs from a detector (the model or a baseline)."""

    name: str

    def fit(self, dev: Sequence[MeterSeries]) -> Detector:
        """Choose settings on labelled dev meters; returns self."""
        ...

    def flags(self, meter: MeterSeries) -> np.ndarray:
        """Boolean flag per reading of `meter` (labels are not read)."""
        ...

    def settings(self) -> dict[str, Any]:
        """The chosen settings, for the report."""
        ...


def _pooled_truth(dev: Sequence[MeterSeries]) -> np.ndarray:
    if not dev:
        raise ValueError("need at least one dev meter to fit on")
    return np.concatenate([m.truth() for m in dev])


def _choose(options: Iterable[tuple[Any, np.ndarray]], truth: np.ndarray) -> tuple[Any, float]:
    """The option whose flags reach the highest F1 against `truth` (first one on ties)."""
    best, best_f1 = None, -1.0
    for option, mask in options:
        f1 = _f1(mask, truth)
        if f1 > best_f1:
            best, best_f1 = option, f1
    return best, best_f1


def _f1(mask: np.ndarray, truth: np.ndarray) -> float:
    """F1 of boolean flags (the tuning loops call this thousands of times: counts only)."""
    tp = np.count_nonzero(mask & truth)
    flagged, true = np.count_nonzero(mask), np.count_nonzero(truth)
    return 2.0 * tp / (flagged + true) if flagged + true else 0.0


def _argmax(values: Sequence[float]) -> int:
    """Index of the largest value, the first one on ties."""
    return int(np.argmax(values))


# ---- the model -------------------------------------------------------------------------------

# Candidate thresholds tried on the dev fleets; inf (or 0 for `flat`) switches a view off, so
# tuning may drop a view that only costs precision.
POINT_Z = (4.0, 5.0, 6.0, 8.0, 10.0, math.inf)
LEVEL_Z = (2.5, 3.0, 4.0, 5.0, 6.0, 8.0, math.inf)
FLAT_RATIO = (0.0, 0.1, 0.15, 0.2, 0.3, 0.4)


@dataclass
class ScoreDetector:
    """Point, level and flat views of a meter (module docstring); thresholds fitted on dev.

    With `use_peers=False` the feeder context is removed: the level and point views use the
    meter's own voltage around its own median instead of its residual against its peers.
    """

    use_peers: bool = True
    window: int = 31
    level_window: int = 15
    flat_window: int = 9
    point_z: float = 6.0
    level_z: float = 4.0
    flat_ratio: float = 0.15
    load_phase_z: float = 3.0
    name: str = "scorer"

    def views(self, m: MeterSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point z, level z, flat ratio) for every reading of `m`."""
        parts = self.channel_views(m)
        point = np.maximum(parts["current_point"], parts["voltage_point"])
        return point, parts["level"], parts["flat"]

    def channel_views(self, m: MeterSeries) -> dict[str, np.ndarray]:
        """The views with the point view split by channel (which one jumped: the demo draws
        a flag on that channel's line): current_point, voltage_point, level, flat."""
        current = np.asarray(m.current, dtype=np.float64)
        voltage = np.asarray(m.voltage, dtype=np.float64)
        log_current = np.log(np.clip(current, 1e-3, None))
        residual = voltage.copy()
        peers = np.asarray(m.peer_voltage, dtype=np.float64)
        if self.use_peers and np.isfinite(peers).any():
            residual = voltage - peers
            missing = ~np.isfinite(residual)
            if missing.any():  # a minute with no peer reading: bridge it from its neighbours
                known = np.flatnonzero(~missing)
                residual[missing] = np.interp(np.flatnonzero(missing), known, residual[known])
        residual = residual - np.median(residual)  # the meter's usual offset from its peers
        # A resistive appliance switching on raises the current and pulls the phase angle
        # down; a surge or a bad sample moves the current alone. So a rise in current that
        # comes with a clear fall in phase is a load, not a fault.
        current_z = _signed_z(log_current, self.window)
        phase_z = _signed_z(np.asarray(m.phase, dtype=np.float64), self.window)
        load = (current_z > 0) & (phase_z <= -self.load_phase_z)
        level = np.abs(rolling_median(residual, self.level_window)) / mad_sigma(residual)
        flat = np.maximum(
            _flat_ratio(log_current, self.flat_window), _flat_ratio(voltage, self.flat_window)
        )
        return {
            "current_point": np.where(load, 0.0, np.abs(current_z)),
            "voltage_point": robust_z(residual, self.window),
            "level": level,
            "flat": flat,
        }

    def _mask(self, views: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        point, level, flat = views
        return (point >= self.point_z) | (level >= self.level_z) | (flat <= self.flat_ratio)

    def fit(self, dev: Sequence[MeterSeries]) -> ScoreDetector:
        truth = _pooled_truth(dev)
        point, level, flat = (np.concatenate(v) for v in zip(*map(self.views, dev), strict=True))
        by_point = {t: point >= t for t in POINT_Z}
        by_level = {t: level >= t for t in LEVEL_Z}
        by_flat = {t: flat <= t for t in FLAT_RATIO}
        options = (
            ((p, lv, fr), by_point[p] | by_level[lv] | by_flat[fr])
            for p, lv, fr in itertools.product(POINT_Z, LEVEL_Z, FLAT_RATIO)
        )
        (self.point_z, self.level_z, self.flat_ratio), _ = _choose(options, truth)
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        return self._mask(self.views(meter))

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "name"}


def _signed_z(x: np.ndarray, window: int) -> np.ndarray:
    """(x - rolling median) over the MAD-based sigma of that residual, sign kept."""
    residual: np.ndarray = x - rolling_median(x, window)
    z: np.ndarray = residual / mad_sigma(residual)
    return z


def _flat_ratio(x: np.ndarray, window: int) -> np.ndarray:
    """Rolling median of |change| over `window` readings, over the series' median |change|."""
    if x.shape[0] < 2:
        return np.ones_like(x)
    change = np.abs(np.diff(x, prepend=x[0]))
    change[0] = change[1]
    typical = float(np.median(change))
    if typical <= 0:
        return np.ones_like(x)
    return rolling_median(change, window) / typical


# ---- the baselines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticThresholds:
    """Global alert limits: current outside [current_min, current_max], voltage outside
    [voltage_min, voltage_max]; an infinite limit is off."""

    current_max: float = math.inf
    current_min: float = -math.inf
    voltage_min: float = -math.inf
    voltage_max: float = math.inf

    def flags(self, current: np.ndarray, voltage: np.ndarray) -> np.ndarray:
        """Readings that break a limit."""
        current = np.asarray(current, dtype=np.float64)
        voltage = np.asarray(voltage, dtype=np.float64)
        return (
            (current > self.current_max)
            | (current < self.current_min)
            | (voltage < self.voltage_min)
            | (voltage > self.voltage_max)
        )

    def rules(self) -> list[tuple[str, str, float]]:
        """The finite limits as SQL rules, for `sql.state_episodes`."""
        rules = [
            ("current", ">", self.current_max),
            ("current", "<", self.current_min),
            ("voltage", "<", self.voltage_min),
            ("voltage", ">", self.voltage_max),
        ]
        return [rule for rule in rules if math.isfinite(rule[2])]


# Quantiles of the pooled dev readings tried as limits (None: that limit is off).
CURRENT_MAX_Q = (0.99, 0.995, 0.999, 0.9995, None)
CURRENT_MIN_Q = (0.001, 0.005, 0.01, None)
VOLTAGE_TAIL_Q = (0.001, 0.0025, 0.005, 0.01, 0.02, None)


@dataclass
class StaticThresholdRule:
    """The static-threshold baseline: limits set from quantiles of the dev readings."""

    limits: StaticThresholds = field(default_factory=StaticThresholds)
    name: str = "static_threshold"

    @staticmethod
    def candidates(dev: Sequence[MeterSeries]) -> list[StaticThresholds]:
        """Every combination of candidate limits, from the pooled dev readings."""
        current = np.concatenate([m.current for m in dev])
        voltage = np.concatenate([m.voltage for m in dev])

        quantiles = {  # each limit computed once, however many combinations use it
            (name, p): round(float(np.quantile(x, p)), 3)
            for name, x, ps in (
                ("current", current, (*CURRENT_MAX_Q, *CURRENT_MIN_Q)),
                ("voltage", voltage, (*VOLTAGE_TAIL_Q, *(1 - t for t in VOLTAGE_TAIL_Q if t))),
            )
            for p in ps
            if p is not None
        }

        def q(x: np.ndarray, p: float | None, off: float) -> float:
            return off if p is None else quantiles[("current" if x is current else "voltage", p)]

        return [
            StaticThresholds(
                current_max=q(current, hi, math.inf),
                current_min=q(current, lo, -math.inf),
                voltage_min=q(voltage, tail, -math.inf),
                voltage_max=q(voltage, None if tail is None else 1 - tail, math.inf),
            )
            for hi, lo, tail in itertools.product(CURRENT_MAX_Q, CURRENT_MIN_Q, VOLTAGE_TAIL_Q)
        ]

    @classmethod
    def masks(cls, dev: Sequence[MeterSeries]) -> list[tuple[StaticThresholds, np.ndarray]]:
        """Every candidate and its pooled dev flags (each limit compared once, then combined)."""
        current = np.concatenate([m.current for m in dev])
        voltage = np.concatenate([m.voltage for m in dev])
        candidates = cls.candidates(dev)
        parts: dict[tuple[str, float], np.ndarray] = {}

        def part(name: str, limit: float, values: np.ndarray, above: bool) -> np.ndarray:
            if (name, limit) not in parts:
                parts[(name, limit)] = values > limit if above else values < limit
            return parts[(name, limit)]

        return [
            (
                c,
                part("cmax", c.current_max, current, True)
                | part("cmin", c.current_min, current, False)
                | part("vmin", c.voltage_min, voltage, False)
                | part("vmax", c.voltage_max, voltage, True),
            )
            for c in candidates
        ]

    def fit(self, dev: Sequence[MeterSeries]) -> StaticThresholdRule:
        self.limits, _ = _choose(self.masks(dev), _pooled_truth(dev))
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        return self.limits.flags(meter.current, meter.voltage)

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self.limits).items() if math.isfinite(v)}


# Tolerances tried, in units of each channel's resolution (0: exact repeats), and run lengths.
STUCK_QUANTA = (0, 2, 5, 10, 20, 50, 100)
STUCK_MIN_RUN = (3, 5, 8, 12)


@dataclass
class StuckRule:
    """The stuck-meter baseline: runs of near-repeats on every channel (see `stuck_mask`)."""

    quanta: float = 0.0
    min_run: int = 3
    name: str = "stuck_rule"

    def _flags(self, m: MeterSeries, quanta: float, min_run: int) -> np.ndarray:
        tolerance = [quanta * QUANTUM[c] for c in ("current", "voltage", "phase")]
        return stuck_mask(m.current, m.voltage, m.phase, min_run=min_run, tolerance=tolerance)

    def masks(self, dev: Sequence[MeterSeries]) -> dict[tuple[float, int], np.ndarray]:
        """Pooled dev flags of every candidate (quanta, min_run)."""
        return {
            (q, r): np.concatenate([self._flags(m, q, r) for m in dev])
            for q, r in itertools.product(STUCK_QUANTA, STUCK_MIN_RUN)
        }

    def fit(self, dev: Sequence[MeterSeries]) -> StuckRule:
        (self.quanta, self.min_run), _ = _choose(self.masks(dev).items(), _pooled_truth(dev))
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        return self._flags(meter, self.quanta, self.min_run)

    def settings(self) -> dict[str, Any]:
        return {"quanta": self.quanta, "min_run": self.min_run}


@dataclass
class UnionRule:
    """Static threshold OR stuck rule, their settings tuned together on the dev fleets."""

    static: StaticThresholdRule = field(default_factory=StaticThresholdRule)
    stuck: StuckRule = field(default_factory=StuckRule)
    name: str = "union"

    def fit(self, dev: Sequence[MeterSeries]) -> UnionRule:
        # Coordinate ascent from the two rules fitted alone: the best limits given the stuck
        # rule, then the best stuck rule given the limits, until neither changes (the full
        # product of both grids gives the same answer here at twenty times the cost).
        truth = _pooled_truth(dev)
        limit_options = StaticThresholdRule.masks(dev)
        stuck_options = list(self.stuck.masks(dev).items())
        static_i = _argmax([_f1(mask, truth) for _, mask in limit_options])
        stuck_i = _argmax([_f1(mask, truth) for _, mask in stuck_options])
        for _ in range(5):
            a = stuck_options[stuck_i][1]
            new_static = _argmax([_f1(mask | a, truth) for _, mask in limit_options])
            b = limit_options[new_static][1]
            new_stuck = _argmax([_f1(mask | b, truth) for _, mask in stuck_options])
            if (new_static, new_stuck) == (static_i, stuck_i):
                break
            static_i, stuck_i = new_static, new_stuck
        self.static = StaticThresholdRule(limit_options[static_i][0])
        self.stuck = StuckRule(*stuck_options[stuck_i][0])
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        flagged: np.ndarray = self.static.flags(meter) | self.stuck.flags(meter)
        return flagged

    def settings(self) -> dict[str, Any]:
        return {"static": self.static.settings(), "stuck": self.stuck.settings()}


# The detectors the command line can put in the model's place (`smoke --detector NAME`).
DETECTORS: dict[str, Callable[[], Detector]] = {
    "scorer": ScoreDetector,
    "own-history": lambda: ScoreDetector(use_peers=False, name="own_history"),
    "stuck-rule": StuckRule,
    "static-threshold": StaticThresholdRule,
    "union": UnionRule,
}


def _limits(settings: dict[str, Any]) -> StaticThresholds:
    return StaticThresholds(**{k: float(v) for k, v in settings.items()})


def restore(name: str, settings: dict[str, Any]) -> Detector:
    """A fitted detector again, from its `name` and `settings()` as a run saved them (JSON: an
    infinite threshold, a view switched off, is saved as null)."""
    if name in ("scorer", "own_history"):

        def threshold(key: str) -> float:
            value = settings[key]
            return math.inf if value is None else float(value)

        return ScoreDetector(
            use_peers=bool(settings["use_peers"]),
            window=int(settings["window"]),
            level_window=int(settings["level_window"]),
            flat_window=int(settings["flat_window"]),
            point_z=threshold("point_z"),
            level_z=threshold("level_z"),
            flat_ratio=float(settings["flat_ratio"]),
            load_phase_z=float(settings["load_phase_z"]),
            name=name,
        )
    if name == "static_threshold":
        return StaticThresholdRule(_limits(settings))
    if name == "stuck_rule":
        return StuckRule(float(settings["quanta"]), int(settings["min_run"]))
    if name == "union":
        stuck = settings["stuck"]
        return UnionRule(
            StaticThresholdRule(_limits(settings["static"])),
            StuckRule(float(stuck["quanta"]), int(stuck["min_run"])),
        )
    raise ValueError(f"unknown detector {name!r} in the run's checkpoint")
