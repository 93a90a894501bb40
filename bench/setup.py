"""A starter's `make setup` with uv and with pip, in one run, caches warm (issue 13).

    python bench/setup.py [KEY ...]          # default: every starter; writes RESULTS.md

For each starter: generate it with the default answers, then
- uv: `make setup INSTALLER=uv` into a fresh `.venv`, once (it also writes uv.lock), then again;
- pip: a fresh venv (`python -m venv`, timed apart) and `make setup INSTALLER=pip`, timed
  (pip's cache is whatever earlier runs left: say so beside the numbers).
Both install the same locked set (the e2e tier checks that). Where PyTorch's CPU index is out of
reach (this machine), uv gets the local stand-in of tools/torch_index.py and pip its own config.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, write_section

REPO = Path(__file__).resolve().parent.parent
KEYS = (
    "transformers",
    "neuralclassifier",
    "tdengine",
    "video-object-removal",
    "python-autocomplete",
    "tfpyth",
    "medicalnet",
)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def main() -> None:
    keys = sys.argv[1:] or list(KEYS)
    base = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    override = subprocess.run(
        [sys.executable, str(REPO / "tools" / "torch_index.py"), str(REPO / ".ci-torch-index")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if override:
        base["UV_INDEX"] = override
        base["UV_NO_SOURCES_PACKAGE"] = "torchvision"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-setup-") as scratch:
        for key in keys:
            made = subprocess.run(
                [sys.executable, "-m", "mlstarter", "new", key, "--no-input", "-o", scratch,
                 "--json"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            repo = Path(json.loads(made.stdout)["path"])
            uv_times = []
            for _ in range(2):  # the first also writes uv.lock (no lock is shipped); then again
                shutil.rmtree(repo / ".venv", ignore_errors=True)
                uv_times.append(timed(["make", "setup", "INSTALLER=uv"], repo, base))
            shutil.rmtree(repo / ".venv", ignore_errors=True)
            venv = repo / ".venv"
            venv_s = timed([sys.executable, "-m", "venv", str(venv)], repo, base)
            env = {**base, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{base['PATH']}"}
            pip_s = timed(
                ["make", "setup", "INSTALLER=pip", "TORCH_INDEX=", f"PYTHON={venv / 'bin/python'}"],
                repo, env,
            )  # fmt: skip
            rows.append((key, uv_times[0], uv_times[1], venv_s, pip_s))
            print(f"{key}: uv {uv_times[1]:.1f} s, pip {pip_s:.1f} s", file=sys.stderr)
            shutil.rmtree(repo)
    lines = [
        f"Machine: {machine()}. `make setup` of each starter, default answers, one run",
        "(`bench/setup.py`): uv into a fresh `.venv` (the first also writes uv.lock; then"
        " again), and",
        "pip into a fresh venv with pip's cache as earlier runs left it. Same locked set.",
        "",
        "| starter | uv, first: lock + sync (s) | uv, again (s) | venv (s) | pip (s) "
        "| pip / uv again |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, uv_cold, uv_warm, venv_s, pip_s in rows:
        ratio = pip_s / uv_warm if uv_warm else float("inf")
        lines.append(
            f"| {key} | {uv_cold:.1f} | {uv_warm:.1f} | {venv_s:.1f} | {pip_s:.1f} | {ratio:.0f}x |"
        )
    write_section("setup", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
