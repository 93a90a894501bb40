"""The interop cost study: moving a tensor between TensorFlow and PyTorch, numpy copy vs DLPack.

For each size (1 KB to 256 MB by default) and each direction, it times two routes:

- ``numpy``: what tfpyth does, through a numpy array: ``tf.convert_to_tensor(t.numpy())`` and
  ``torch.from_numpy(x.numpy())`` (one full copy each);
- ``dlpack``: :func:`.bridge.torch_to_tf` and :func:`.bridge.tf_to_torch` (no copy).

Each row also records whether the result shares memory with the source, *measured* by writing
through one framework and reading through the other, not assumed. Results go to a CSV, and to a
log-log plot when asked (``bench --plot``) and matplotlib is installed.
"""

from __future__ import annotations

import csv
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import torch

from .bridge import tf_to_torch, torch_to_tf

log = logging.getLogger(__name__)

KB = 1024
DEFAULT_SIZES = tuple(KB * 4**i for i in range(10))  # 1 KB, 4 KB, ..., 256 MB


def human_size(size_bytes: float) -> str:
    """``1024`` -> ``"1 KB"``, ``268435456`` -> ``"256 MB"`` (binary units, up to GB)."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class BenchRow:
    """One measurement: median seconds per transfer over ``repeats`` runs."""

    size_bytes: int
    direction: str
    method: str
    median_seconds: float
    repeats: int
    shares_memory: bool


def _routes() -> dict[tuple[str, str], Callable[[Any], Any]]:
    return {
        ("torch->tf", "numpy"): lambda t: tf.convert_to_tensor(t.numpy()),
        ("torch->tf", "dlpack"): torch_to_tf,
        ("tf->torch", "numpy"): lambda x: torch.from_numpy(x.numpy()),
        ("tf->torch", "dlpack"): tf_to_torch,
    }


def _shares_memory(direction: str, route: Callable[[Any], Any]) -> bool:
    """Change the source after the transfer: does the other framework see the change?"""
    source = torch.zeros(4, dtype=torch.float32)
    if direction == "torch->tf":
        result = route(source)
        source[0] = 1.0
        return bool(np.asarray(result)[0] == 1.0)
    tf_source = torch_to_tf(source)  # a TF tensor whose memory we can still write from torch
    result = route(tf_source)
    source[0] = 1.0
    return bool(result[0] == 1.0)


def _time(
    route: Callable[[Any], Any], source: Any, min_seconds: float, max_repeats: int
) -> tuple[float, int]:
    route(source)  # warm-up
    samples: list[float] = []
    deadline = time.perf_counter() + min_seconds
    while len(samples) < max_repeats and (len(samples) < 3 or time.perf_counter() < deadline):
        begin = time.perf_counter()
        route(source)
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples), len(samples)


def run_benchmark(
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    min_seconds: float = 0.2,
    max_repeats: int = 1000,
) -> list[BenchRow]:
    """Time every (size, direction, method); sizes are in bytes (float32 tensors, multiples of 4).

    Raises ``ValueError`` for an empty size list or a size that is not a positive multiple of 4.
    """
    if not sizes or any(s <= 0 or s % 4 for s in sizes):
        raise ValueError(f"sizes must be positive multiples of 4 bytes, got {sizes}")
    rows = []
    routes = _routes()
    shares = {key: _shares_memory(key[0], route) for key, route in routes.items()}
    for size in sizes:
        torch_source = torch.ones(size // 4, dtype=torch.float32)
        tf_source = tf.ones([size // 4], dtype=tf.float32)
        for (direction, method), route in routes.items():
            source = torch_source if direction == "torch->tf" else tf_source
            seconds, repeats = _time(route, source, min_seconds, max_repeats)
            rows.append(
                BenchRow(size, direction, method, seconds, repeats, shares[direction, method])
            )
            log.info("%8s  %-9s %-6s %10.1f us", human_size(size), direction, method, seconds * 1e6)
        del torch_source, tf_source
    return rows


def write_csv(rows: list[BenchRow], path: str | Path) -> Path:
    """Write the rows with a header line; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(BenchRow)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in rows)
    return path


def write_plot(rows: list[BenchRow], path: str | Path) -> Path | None:
    """Draw time against size (log-log), one panel per direction, in the style of `make report`
    (the same figure); ``None`` without matplotlib."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        log.info("matplotlib is not installed: no plot (it comes with the dev group: make setup)")
        return None
    from .report import bench_figure

    return bench_figure([asdict(row) for row in rows], Path(path))


def summarize(rows: list[BenchRow]) -> dict[str, Any]:
    """Speed-up of DLPack over numpy at the largest size, per direction, and the memory check."""
    largest = max(r.size_bytes for r in rows)
    summary: dict[str, Any] = {"largest_bytes": largest}
    for direction in ("torch->tf", "tf->torch"):
        at = {r.method: r for r in rows if r.size_bytes == largest and r.direction == direction}
        key = direction.replace("->", "_to_")
        summary[f"{key}_speedup"] = round(
            at["numpy"].median_seconds / at["dlpack"].median_seconds, 1
        )
        summary[f"{key}_dlpack_shares_memory"] = at["dlpack"].shares_memory
        summary[f"{key}_numpy_shares_memory"] = at["numpy"].shares_memory
    return summary
