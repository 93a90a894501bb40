"""The end-to-end tier: every starter in the catalog, generated with --no-input and verified in a
fresh venv of its own (install, its tests offline, its smoke run). Slow: minutes a starter.

Each run appends its timings to bench/out/verify-timings.jsonl; bench/record_verify.py turns
them into the table in bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import pytest

from mlstarter.catalog import load_catalog

from ..conftest import REPO, TEMPLATES

pytestmark = pytest.mark.e2e
TIMINGS = REPO / "bench" / "out" / "verify-timings.jsonl"


@pytest.mark.parametrize("key", load_catalog(TEMPLATES).keys)
def test_starter_generates_installs_passes_its_tests_and_smokes(key, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    made = subprocess.run(
        [sys.executable, "-m", "mlstarter", "new", key, "--no-input", "-o", str(tmp_path), "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    repo = json.loads(made.stdout)["path"]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "verify", repo, "--json"],
        capture_output=True, text=True, env=env, timeout=1800,
    )  # fmt: skip
    report = json.loads(done.stdout)
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a", encoding="utf-8") as out:
        record = {
            "key": key, "ok": report["ok"], "total": round(time.monotonic() - started, 1),
            "steps": {s["name"]: s["seconds"] for s in report.get("steps", [])},
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}",
            "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        }  # fmt: skip
        out.write(json.dumps(record) + "\n")
    assert done.returncode == 0, done.stderr[-4000:]
    assert report["smoke"]["ok"] is True
    assert report["smoke"]["metrics"]
