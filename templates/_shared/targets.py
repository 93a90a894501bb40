"""The report every command ends with: what was measured, what it had to reach, and whether it did.

`smoke`, `train`, `evaluate` and the starter's own commands print it as the last line of stdout:

    {"ok": bool, "seconds": float, "metrics": {...},
     "targets": {NAME: {"value", "op", "threshold", "met", "source"}}}

`ok` is true exactly when every target is met, and the command exits 0 when ok, 1 otherwise.
`source` says where a threshold comes from: `baseline:<metric> + <margin>` for a baseline measured
in the same run on the same held-out data, or the citation of a published result.
This file is the same in every mlstarter starter.
"""

from __future__ import annotations

import json
import math
import operator
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Target:
    """One claim a run must meet: `value op threshold`, and where the threshold comes from."""

    value: float
    op: str
    threshold: float
    source: str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown comparison {self.op!r}: use one of {', '.join(OPS)}")
        if not self.source.strip():
            raise ValueError("a target needs a source: a baseline of this run or a citation")

    @property
    def met(self) -> bool:
        """Whether the value reaches the threshold; a missing or NaN value never does."""
        if self.value is None:
            return False
        value, threshold = float(self.value), float(self.threshold)
        if math.isnan(value) or math.isnan(threshold):
            return False
        return OPS[self.op](value, threshold)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _number(self.value),
            "op": self.op,
            "threshold": _number(self.threshold),
            "met": self.met,
            "source": self.source,
        }


def beats_baseline(
    value: float, baseline_name: str, baseline: float, margin: float, higher_is_better: bool = True
) -> Target:
    """`value` must beat a baseline measured in the same run by `margin` (in the metric's units).

    Higher is better: value >= baseline + margin. Lower is better: value <= baseline - margin.
    """
    if higher_is_better:
        return Target(value, ">=", baseline + margin, f"baseline:{baseline_name} + {margin:g}")
    return Target(value, "<=", baseline - margin, f"baseline:{baseline_name} - {margin:g}")


def beats_baseline_by_factor(
    value: float, baseline_name: str, baseline: float, factor: float, higher_is_better: bool = True
) -> Target:
    """`value` must beat a same-run baseline by a ratio, e.g. factor 0.9 for "10 % lower error"."""
    op = ">=" if higher_is_better else "<="
    return Target(value, op, baseline * factor, f"baseline:{baseline_name} * {factor:g}")


def published(value: float, op: str, threshold: float, citation: str) -> Target:
    """A target taken from a published result; `citation` names the paper and table or page."""
    return Target(value, op, threshold, citation)


def build_report(
    metrics: Mapping[str, Any], targets: Mapping[str, Target], started: float
) -> dict[str, Any]:
    """The report: `started` is a `time.perf_counter()` reading taken when the run began."""
    if not targets:
        raise ValueError("a report needs a target: a run that cannot fail proves nothing")
    checked = {name: target.as_dict() for name, target in targets.items()}
    return {
        "ok": all(entry["met"] for entry in checked.values()),
        "seconds": round(time.perf_counter() - started, 2),
        "metrics": {name: _clean(value) for name, value in metrics.items()},
        "targets": checked,
    }


def emit(report: Mapping[str, Any]) -> int:
    """Print the report as the last line of stdout; return the exit code (0 when ok, else 1)."""
    sys.stdout.write(json.dumps(report, allow_nan=False) + "\n")
    sys.stdout.flush()
    return 0 if report.get("ok") is True else 1


def describe(report: Mapping[str, Any]) -> str:
    """The targets as lines a person reads: name, value, comparison, threshold, met, source."""
    lines = []
    for name, entry in report["targets"].items():
        mark = "met" if entry["met"] else "MISSED"
        lines.append(
            f"{mark:>6}  {name}: {entry['value']} {entry['op']} {entry['threshold']}"
            f"  ({entry['source']})"
        )
    return "\n".join(lines)


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    # six significant digits: a tiny gradient error or loss gap stays visible (not 0.0)
    return None if math.isnan(value) or math.isinf(value) else float(f"{value:.6g}")


def _clean(value: Any) -> Any:
    """Metrics as JSON-safe values: floats rounded, NaN and infinity as null, nesting kept."""
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    try:
        return _number(float(value))
    except (TypeError, ValueError):
        return str(value)
