"""A fleet of simulated smart meters, with injected faults and their known truth.

Each meter reports current (A), voltage (V) and phase (rad, the power-factor angle) at a fixed
interval. Meters hang off feeders (the `location` tag): every meter on a feeder sees the same
grid voltage (a daily swing plus a slow random wander) seen through its own small offset, load
drop and sensor noise. Current follows a daily load curve, a level that changes from day to day
(weather, occupancy) and multiplicative noise; phase moves a little with the load. Readings are
rounded to the meter's resolution (`DECIMALS`), so values round-trip exactly through SQL text.

Faults, each labelled on the readings it spoils:

- spike: current x1.4 to x2.5 for 1 to 3 readings (a surge, or a bad sample);
- drop: the supply sags (voltage x0.90 to x0.97) and the load falls (current x0.02 to x0.3)
  for 3 to 12 readings;
- stuck: the sensing element freezes for 10 to 40 readings, but the meter still reports its
  last value with a little analogue noise and quantisation on top, as real frozen meters do:
  the readings move, just far too little. No exact-repeat rule finds them;
- shift: the voltage channel steps by 1.5 % to 4 % of nominal for 1 to 4 hours (a bad
  recalibration); the meter's own series looks normal on either side of the step;
- drift: the voltage channel drifts away linearly, reaching 2 % to 5 % of nominal after 2 to 6
  hours, then snaps back. Labelled only where the error exceeds 1 % of nominal (accuracy class 1):
  the first part of a drift is within tolerance and counts as normal.

Shifts and drifts are only visible against the other meters on the same feeder; a threshold on
the meter's own values or a look at its own recent past misses most of them.

Normal behaviour that looks anomalous: appliance bursts (a kettle, a heater) raise the current
x1.3 to x2.2 for 2 to 8 readings and, being resistive, pull the phase angle down; lost packets
leave gaps that INTERVAL windows have to FILL. Neither is a fault.

Rows are ordered by device, then time; `label` holds the truth for every present row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

NORMAL, SPIKE, STUCK, DROP, SHIFT, DRIFT = 0, 1, 2, 3, 4, 5
LABELS = ("normal", "spike", "stuck", "drop", "shift", "drift")

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
# A voltage error counts as a fault once it exceeds accuracy class 1 (1 % of nominal).
ACCURACY_CLASS = 0.01


@dataclass(frozen=True)
class FleetConfig:
    """What to simulate. Same config, same readings, byte for byte."""

    devices: int = 12
    days: float = 5.0
    interval_s: int = 60
    start_ms: int = DEFAULT_START_MS
    seed: int = DEFAULT_SEED
    nominal_voltage: float = 220.0
    meters_per_feeder: int = 4
    spikes_per_day: float = 2.0
    stuck_per_day: float = 0.5
    drops_per_day: float = 0.5
    shifts_per_day: float = 0.3
    drifts_per_day: float = 0.3
    gaps_per_day: float = 0.5
    bursts_per_day: float = 4.0

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise ValueError(f"devices must be >= 1, got {self.devices}")
        if self.interval_s < 1:
            raise ValueError(f"interval_s must be >= 1, got {self.interval_s}")
        if self.meters_per_feeder < 1:
            raise ValueError(f"meters_per_feeder must be >= 1, got {self.meters_per_feeder}")
        if self.steps < 60:
            raise ValueError(
                f"days * 86400 / interval_s must give >= 60 readings a device, got {self.steps}"
            )
        for name in (
            "spikes_per_day",
            "stuck_per_day",
            "drops_per_day",
            "shifts_per_day",
            "drifts_per_day",
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

    @property
    def feeders(self) -> int:
        """Number of feeders (locations): devices are dealt to them in turn."""
        return math.ceil(self.devices / self.meters_per_feeder)

    def with_seed(self, seed: int) -> FleetConfig:
        """The same fleet shape drawn from another seed (for dev fleets)."""
        return replace(self, seed=seed)


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
    label: np.ndarray  # int8, one of the LABELS codes
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


def feeder_voltage(config: FleetConfig, feeder: int) -> np.ndarray:
    """The grid voltage every meter on `feeder` sees: offset, daily swing, slow wander."""
    rng = np.random.default_rng([config.seed, 3, feeder])
    n = config.steps
    hours = (np.arange(n) * config.interval_s / 3600.0 + _start_hour(config)) % 24.0
    # AR(1) wander with a time constant of about 50 minutes and a spread of about 1.3 V: load on
    # the feeder changes slowly, and every meter on it sees the change at once.
    wander = _ar1(rng, n, sd=1.3, phi=math.exp(-config.interval_s / 3000.0))
    voltage: np.ndarray = (
        config.nominal_voltage
        + rng.uniform(-3.0, 3.0)
        + 1.5 * np.sin(2 * np.pi * (hours - 18.0) / 24.0)
        + wander
    )
    return voltage


def _ar1(rng: np.random.Generator, n: int, sd: float, phi: float) -> np.ndarray:
    """A stationary AR(1) series of length `n` with standard deviation `sd` and lag-1 `phi`."""
    shocks = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    level = rng.normal(0.0, sd)
    for k in range(n):  # a plain loop: n is a few thousand, and lfilter would need scipy
        level = phi * level + shocks[k]
        out[k] = level
    return out


def _start_hour(config: FleetConfig) -> float:
    return (config.start_ms % DAY_MS) / 3_600_000.0


def _simulate_device(
    config: FleetConfig, grid: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid offsets, channels and labels of one meter (gaps already removed)."""
    n = config.steps
    step = np.arange(n, dtype=np.int64)
    ts = config.start_ms + step * config.interval_s * 1000
    hours = (ts % DAY_MS) / 3_600_000.0
    day = ((ts - config.start_ms) // DAY_MS).astype(np.int64)

    base = rng.uniform(4.0, 16.0)
    shift = rng.uniform(-1.5, 1.5)
    shape = 0.6 + 0.4 * np.sin(2 * np.pi * (hours - 9.0 - shift) / 24.0)
    day_level = np.exp(rng.normal(0.0, 0.015, int(day.max()) + 1))[day]
    # Appliances come and go over tens of minutes: a slow AR(1) term in log current, on top of
    # the reading-to-reading noise. It is what makes one day's 15-minute profile a poor guess
    # of the next day's.
    usage = _ar1(rng, n, sd=0.06, phi=math.exp(-config.interval_s / 1800.0))
    current = base * day_level * shape * np.exp(usage + rng.normal(0.0, 0.03, n))
    # The meter sees its feeder's voltage minus its own line drop, plus its sensor noise.
    voltage = grid + rng.uniform(-1.0, 1.0) - 0.04 * current + rng.normal(0.0, 0.3, n)
    phase = 0.3 + rng.uniform(-0.05, 0.05) + 0.03 * shape + rng.normal(0.0, 0.01, n)
    label = np.zeros(n, dtype=np.int8)
    occupied = np.zeros(n, dtype=bool)
    margin = 20
    nominal = config.nominal_voltage

    def count(rate: float) -> int:
        return int(rng.poisson(rate * config.days))

    def sign() -> float:
        return 1.0 if rng.random() < 0.5 else -1.0

    for _ in range(count(config.drifts_per_day)):
        length = max(2, round(rng.uniform(2.0, 6.0) * 3600 / config.interval_s))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            sl = slice(start, start + length)
            error = sign() * rng.uniform(0.015, 0.04) * nominal * np.linspace(0, 1, length)
            voltage[sl] += error
            label[sl] = np.where(np.abs(error) >= ACCURACY_CLASS * nominal, DRIFT, NORMAL)
    for _ in range(count(config.shifts_per_day)):
        length = max(2, round(rng.uniform(1.0, 4.0) * 3600 / config.interval_s))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            sl = slice(start, start + length)
            voltage[sl] += sign() * rng.uniform(0.012, 0.03) * nominal
            label[sl] = SHIFT
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
    for start, length in stuck_runs:
        # Frozen at the last real value, with the noise of the analogue front end on top.
        sl = slice(start, start + length)
        current[sl] = current[start - 1] * (1.0 + rng.normal(0.0, 0.002, length))
        voltage[sl] = voltage[start - 1] + rng.normal(0.0, 0.03, length)
        phase[sl] = phase[start - 1] + rng.normal(0.0, 0.0003, length)
        label[sl] = STUCK
    gaps = []
    for _ in range(count(config.gaps_per_day)):
        length = int(rng.integers(5, 41))
        start = _place(occupied, length, margin, rng)
        if start is not None:
            gaps.append((start, length))

    floor = 10.0 ** -DECIMALS["current"]  # a dead load still reads one unit of resolution
    current = np.maximum(current, floor).round(DECIMALS["current"])
    voltage = np.round(voltage, DECIMALS["voltage"])
    phase = np.round(phase, DECIMALS["phase"])
    keep = np.ones(n, dtype=bool)
    for start, length in gaps:
        keep[start : start + length] = False
    return ts[keep], current[keep], voltage[keep], phase[keep], label[keep]


def make_devices(count: int, seed: int = 0, meters_per_feeder: int = 4) -> list[Device]:
    """`count` meters named d0000, d0001, ...; meter i hangs off feeder i % feeders.

    The feeder is the `location` tag (feeders beyond the tenth get a numbered suffix); the group
    id is a second, random tag.
    """
    feeders = math.ceil(count / meters_per_feeder)
    rng = np.random.default_rng([seed, 1])
    return [
        Device(
            name=f"d{i:04d}",
            location=location_name(i % feeders),
            groupid=int(rng.integers(1, 5)),
        )
        for i in range(count)
    ]


def location_name(feeder: int) -> str:
    """The `location` tag of a feeder."""
    name = LOCATIONS[feeder % len(LOCATIONS)]
    return name if feeder < len(LOCATIONS) else f"{name}.F{feeder // len(LOCATIONS)}"


def generate(config: FleetConfig | None = None) -> Readings:
    """Simulate the fleet described by `config`; deterministic for a given config."""
    config = config or FleetConfig()
    devices = make_devices(config.devices, config.seed, config.meters_per_feeder)
    grids = [feeder_voltage(config, f) for f in range(config.feeders)]
    parts = []
    for i in range(config.devices):
        rng = np.random.default_rng([config.seed, 2, i])
        ts, current, voltage, phase, label = _simulate_device(
            config, grids[i % config.feeders], rng
        )
        parts.append((np.full(ts.shape[0], i, dtype=np.int32), ts, current, voltage, phase, label))
    device, ts, current, voltage, phase, label = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    return Readings(devices, device, ts, current, voltage, phase, label, config=config)


def dev_seeds(seed: int, count: int = 2) -> list[int]:
    """Seeds of the dev fleets that settings are chosen on: never the scored seed itself."""
    return [seed + 1_000_003 * (k + 1) for k in range(count)]


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
