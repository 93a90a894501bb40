"""Turn the e2e tier's timings (bench/out/verify-timings.jsonl) into the table in RESULTS.md.

    python bench/record_verify.py

The e2e tier (`pytest -m e2e`) appends one line a starter per run; the newest line of each starter
is shown. Run it after the tier; .ci/run does.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from common import write_section

STEPS = ("venv", "setup", "lint", "test", "smoke")
TIMINGS = Path(__file__).resolve().parent / "out" / "verify-timings.jsonl"


def main() -> None:
    if not TIMINGS.exists():
        raise SystemExit(f"{TIMINGS} does not exist: run `pytest -m e2e` first")
    newest: dict[str, dict] = {}
    for line in TIMINGS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            newest[record["key"]] = record
    machines = sorted({r["machine"] for r in newest.values()})
    workers = sorted({int(r.get("workers", 1)) for r in newest.values()})
    at_once = (
        "one starter at a time"
        if workers == [1]
        else f"{' or '.join(map(str, workers))} tests of the tier at once (pytest-xdist), so each "
        "starter's seconds are under that load"
    )
    lines = [
        *textwrap.wrap(
            f"Machine: {'; '.join(machines)}. Seconds per step of `mlstarter verify --with demo` "
            "on a freshly generated repo (new venv; installer as `verify` chose it, caches warm), "
            f"from the e2e tier (`pytest -m e2e`), {at_once}.",
            width=100,
        ),
        "",
        "| starter | venv | install (make setup) | lint | tests | smoke | total | ok | when (UTC) |"
        "",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for key, r in newest.items():
        steps = r["steps"]
        cells = [f"{steps[n]:.1f}" if n in steps else "-" for n in STEPS]
        row = [key, *cells, f"{r['total']:.1f}", str(r["ok"]), r["when"]]
        lines.append("| " + " | ".join(row) + " |")
    body = "\n".join(lines)
    write_section("verify", body)
    print(body)


if __name__ == "__main__":
    main()
