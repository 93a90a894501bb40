"""`mlstarter batch` of N rows against a shell loop of N plain `cookiecutter --no-input` calls.

    python bench/batch.py [--rows 100] [--key python-autocomplete] [--jobs 2]

Both make one repo per student from the same template; the loop is what an instructor writes by
hand. One run of each, back to back, on one machine; the ratio goes to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, write_section

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--key", default="python-autocomplete")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        roster = root / "roster.csv"
        rows = (f"s{i:03d},Student {i},s{i}@uni.example,student{i}\n" for i in range(args.rows))
        roster.write_text("student_id,name,email,github_username\n" + "".join(rows))
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "mlstarter"), "batch", str(roster), "--project", args.key,
             "-o", str(root / "batch"), "--jobs", str(args.jobs)],
            check=True, capture_output=True,
        )  # fmt: skip
        ours = time.perf_counter() - started
        loop = (
            f'for i in $(seq -f "%03g" 0 {args.rows - 1}); do '
            f'"{BIN / "cookiecutter"}" --no-input "{REPO / "templates" / args.key}" '
            f'-o "{root / "loop"}" --config-file /dev/null project_slug="{args.key}-s$i" '
            f'author_name="Student $i" || exit 1; done'
        )
        started = time.perf_counter()
        subprocess.run(["bash", "-c", loop], check=True, capture_output=True)
        theirs = time.perf_counter() - started
        made = sum(1 for p in (root / "batch").iterdir() if p.is_dir())
    body = (
        f"Machine: {machine()}. One run each (`bench/batch.py --rows {args.rows} "
        f"--jobs {args.jobs}`), {args.key} template.\n\n"
        "| what | seconds | repos |\n|---|---:|---:|\n"
        f"| `mlstarter batch` ({args.rows} rows, --jobs {args.jobs}) | {ours:.1f} | {made} |\n"
        f"| shell loop of {args.rows} `cookiecutter --no-input` | {theirs:.1f} | {args.rows} |\n\n"
        f"Speed-up: **{theirs / ours:.1f}x** (loop time / batch time)."
    )
    write_section("batch", body)
    print(body)


if __name__ == "__main__":
    main()
