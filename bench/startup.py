"""Start-up and one generation, mlstarter against plain cookiecutter, as ratios from one run.

    python bench/startup.py [--runs 15] [--key python-autocomplete]

The two commands of each pair run interleaved (a, b, a, b, ...) so machine noise hits both alike;
the medians and their ratio go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, write_section

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def pair(a: list[str], b: list[str], runs: int, fresh: bool) -> tuple[float, float]:
    """Median seconds of a and of b over `runs` interleaved runs (each in a new folder if fresh)."""
    times: dict[str, list[float]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(runs + 1):  # the first round warms the file cache and is dropped
            for name, command in (("a", a), ("b", b)):
                cwd = Path(tmp) / f"{name}{n}"
                cwd.mkdir()
                seconds = timed(command, cwd)
                if n:
                    times[name].append(seconds)
                if fresh:
                    shutil.rmtree(cwd)
    return statistics.median(times["a"]), statistics.median(times["b"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--key", default="python-autocomplete")
    args = parser.parse_args()
    mlstarter, cookiecutter = str(BIN / "mlstarter"), str(BIN / "cookiecutter")
    template = str(REPO / "templates" / args.key)
    rows = []
    help_m, help_c = pair([mlstarter, "--help"], [cookiecutter, "--help"], args.runs, False)
    rows.append(("`--help`", help_m, help_c))
    new_m, new_c = pair(
        [mlstarter, "new", args.key, "--no-input", "-o", "."],
        [cookiecutter, "--no-input", template, "-o", ".", "--config-file", "/dev/null"],
        args.runs, True,
    )  # fmt: skip
    rows.append((f"one `new {args.key} --no-input`", new_m, new_c))
    lines = [
        f"Machine: {machine()}. Median of {args.runs} interleaved runs each (`bench/startup.py`).",
        "",
        "| what | mlstarter (s) | cookiecutter (s) | ratio mlstarter / cookiecutter |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {what} | {m:.3f} | {c:.3f} | {m / c:.2f} |" for what, m, c in rows]
    body = "\n".join(lines)
    write_section("startup", body)
    print(body)


if __name__ == "__main__":
    main()
