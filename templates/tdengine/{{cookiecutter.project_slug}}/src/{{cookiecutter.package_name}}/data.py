"""A fleet of simulated smart meters, with injected anomalies and their known truth.

Each meter reports current (A), voltage (V) and phase (rad, the power-factor angle) at a fixed
interval. Current follows a daily load curve with multiplicative noise, voltage wanders around
its nominal value, phase drifts with the load. On top of that the generator injects:

- spikes: current jumps by x1.4 to x2.5 for 1 to 3 readings (a surge, or a bad sample);
- stuck values: the meter freezes and repeats its last reading for 10 to 40 readings;
- drops: the supply sags (voltage x0.90 to x0.97) and the load falls (current x0.02 to x0.3)
  for 3 to 12 readings;
- gaps: missing readings (lost packets), which are not anomalies but leave empty windows that
  INTERVAL queries have to FILL.

It also adds normal behaviour that looks anomalous: appliance bursts (a kettle, a heater) raise
the current x1.3 to x2.2 for 2 to 8 readings and, being resistive, pull the phase angle down.
They are labelled normal; a detector that flags every jump in current pays for them in precision.

Rows are ordered by device, then time; `label` holds the truth for every present row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NORMAL, SPIKE, STUCK, DROP = 0, 1, 2, 3
LABELS = ("normal", "spike", "stuck", "drop")

# 2025-01-01T00:00:00Z in milliseconds: a fixed start keeps runs reproducible.
DEFAULT_START_MS = 1_735_689_600_000
DAY_MS = 86_400_000
# The project's seed (a template answer: instructors give each student their own). It picks the
# fleet the smoke run and every command generate unless --seed says otherwise.
DEFAULT_SEED = {{ cookiecutter.seed|int }}

LOCATIONS = (
    "California.SanFrancisco",
    "California.LosAngeles",
    "California.SanDiego",
    "California.SanJose",
    "California.PaloAlto",
    "California.Campbell",
    "California.MountainView",
    "California.Sunnyvale",
    "California.SantaClara",
    "California.Cupertino",
)

# Decimal places kept per channel: values round-trip exactly through SQL and line protocol text.
DECIMALS = {"current": 3, "voltage": 2, "phase": 4}


@dataclass(frozen=True)
class FleetConfig:
    """What to simulate. Same config, same readings, byte for byte."""

    devices: int = 20
    days: float = 1.0
    interval_s: int = 60
    start_ms: int = DEFAULT_START_MS
    seed: int = DEFAULT_SEED
    nominal_voltage: float = 220.0
    spikes_per_day: float = 3.0
    stuck_per_day: float = 1.0
    drops_per_day: float = 1.0
    gaps_per_day: float = 0.5
    bursts_per_day: float = 4.0

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise ValueError(f"devices must be >= 1, got {self.devices}")
        if self.interval_s < 1:
            raise ValueError(f"interval_s must be >= 1, got {self.interval_s}")
        if self.steps < 60:
            raise ValueError(
                f"days * 86400 / interval_s must give >= 60 readings a device, got {self.steps}"
            )
        for name in (
            "spikes_per_day",
            "stuck_per_day",
            "drops_per_day",
            "gaps_per_day",
            "bursts_per_day",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    @property
    def steps(self) -> int:
        """Readings a device would send with no gaps."""
        return int(self.days * 86_400 // self.interval_s)

    @property
    def end_ms(self) -> int:
        """First timestamp after the simulated range."""
        return self.start_ms + self.steps * self.interval_s * 1000


@dataclass(frozen=True)
class Device:
    """One meter: its sub-table name and its tags."""

    name: str
    location: str
    groupid: int


@dataclass
class Readings:
    """Column arrays of one fleet's readings, sorted by device then timestamp."""

    devices: list[Device]
    device: np.ndarray  # int32 index into `devices`
    ts: np.ndarray  # int64, epoch milliseconds
    current: np.ndarray  # float64
    voltage: np.ndarray  # float64
    phase: np.ndarray  # float64
    label: np.ndarray  # int8, one of NORMAL / SPIKE / STUCK / DROP
    config: FleetConfig = field(default_factory=FleetConfig)

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def rows_of(self, index: int) -> slice:
        """The contiguous row range of device `index`."""
        lo, hi = np.searchsorted(self.device, [index, index + 1])
        return slice(int(lo), int(hi))

    def label_counts(self) -> dict[str, int]:
        """How many rows carry each label."""
        counts = np.bincount(self.label, minlength=len(LABELS))
        return {name: int(n) for name, n in zip(LABELS, counts, strict=True)}


def _place(occupied: np.ndarray, length: int, margin: int, rng: np.random.Generator) -> int | None:
    """A start index where `length` readings (plus `margin` either side) are still free."""
    n = occupied.shape[0]
    lo, hi = margin + 1, n - length - margin
    if hi <= lo:
        return None
    for _ in range(100):
        start = int(rng.integers(lo, hi))
        if not occupied[start - margin : start + length + margin].any():
            occupied[start - margin : start + length + margin] = True
            return start
    return None


def _simulate_device(
    config: FleetConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid offsets, channels and labels of one meter (gaps already removed)."""
    n = config.steps
    step = np.arange(n, dtype=np.int64)
    ts = config.start_ms + step * config.interval_s * 1000
    hours = (ts % DAY_MS) / 3_600_000.0

    base = rng.uniform(4.0, 16.0)
    shift = rng.uniform(-1.5, 1.5)
    shape = 0.6 + 0.4 * np.sin(2 * np.pi * (hours - 9.0 - shift) / 24.0)
    current = base * shape * np.exp(rng.normal(0.0, 0.03, n))
    voltage = (
        config.nominal_voltage
        + rng.uniform(-3.0, 3.0)
        + 1.5 * np.sin(2 * np.pi * (hours - 18.0) / 24.0)
        + rng.normal(0.0, 0.8, n)
    )
    phase = 0.3 + rng.uniform(-0.05, 0.05) + 0.03 * shape + rng.normal(0.0, 0.01, n)
    label = np.zeros(n, dtype=np.int8)
    occupied = np.zeros(n, dtype=bool)
    margin = 20

    def count(rate: float) -> int:
        return int(rng.poisson(rate * config.days))

    stuck_runs = []
    for _ in range(count(config.stuck_per_day)):
        length = int(rng.integers(10, 41))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            stuck_runs.append((start, length))
    for _ in range(count(config.drops_per_day)):
        length = int(rng.integers(3, 13))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            sl = slice(start, start + length)
            voltage[sl] *= rng.uniform(0.90, 0.97)
            current[sl] *= rng.uniform(0.02, 0.3)
            label[sl] = DROP
    for _ in range(count(config.spikes_per_day)):
        length = int(rng.integers(1, 4))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            sl = slice(start, start + length)
            current[sl] *= rng.uniform(1.4, 2.5)
            label[sl] = SPIKE
    for _ in range(count(config.bursts_per_day)):  # normal behaviour, label stays NORMAL
        length = int(rng.integers(2, 9))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            sl = slice(start, start + length)
            current[sl] *= rng.uniform(1.3, 2.2)
            phase[sl] -= rng.uniform(0.05, 0.1)
    gaps = []
    for _ in range(count(config.gaps_per_day)):
        length = int(rng.integers(5, 41))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            gaps.append((start, length))

    current = np.round(current, DECIMALS["current"])
    voltage = np.round(voltage, DECIMALS["voltage"])
    phase = np.round(phase, DECIMALS["phase"])
    for start, length in stuck_runs:  # freeze after rounding, so repeats are exact
        sl = slice(start, start + length)
        current[sl] = current[start - 1]
        voltage[sl] = voltage[start - 1]
        phase[sl] = phase[start - 1]
        label[sl] = STUCK

    keep = np.ones(n, dtype=bool)
    for start, length in gaps:
        keep[start : start + length] = False
    return ts[keep], current[keep], voltage[keep], phase[keep], label[keep]


def make_devices(count: int, seed: int = 0) -> list[Device]:
    """`count` meters named d0000, d0001, ... with a location and a group id as tags."""
    rng = np.random.default_rng([seed, 1])
    return [
        Device(
            name=f"d{i:04d}",
            location=LOCATIONS[int(rng.integers(len(LOCATIONS)))],
            groupid=int(rng.integers(1, 5)),
        )
        for i in range(count)
    ]


def generate(config: FleetConfig | None = None) -> Readings:
    """Simulate the fleet described by `config`; deterministic for a given config."""
    config = config or FleetConfig()
    devices = make_devices(config.devices, config.seed)
    parts = []
    for i in range(config.devices):
        rng = np.random.default_rng([config.seed, 2, i])
        ts, current, voltage, phase, label = _simulate_device(config, rng)
        parts.append((np.full(ts.shape[0], i, dtype=np.int32), ts, current, voltage, phase, label))
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return Readings(devices, *columns, config=config)


def truth_for(readings: Readings, index: int, ts: np.ndarray) -> np.ndarray:
    """Labels of device `index` at timestamps `ts` (e.g. read back from the database).

    Raises ValueError when a timestamp was never generated: then the data in the database is not
    the fleet `readings` describes (other seed, size or start).
    """
    rows = readings.rows_of(index)
    known = readings.ts[rows]
    pos = np.searchsorted(known, ts)
    pos = np.clip(pos, 0, max(known.shape[0] - 1, 0))
    if known.shape[0] == 0 or not np.array_equal(known[pos], ts):
        raise ValueError(
            f"device {readings.devices[index].name}: timestamps in the database do not match the "
            "generated fleet (ingest and detect must use the same --seed/--devices/--days/--start)"
        )
    return readings.label[rows][pos]
