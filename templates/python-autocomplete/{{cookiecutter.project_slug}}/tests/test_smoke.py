"""The smoke run's quality signal, on a smaller budget than `make smoke` (same code path)."""

import json
from pathlib import Path

from {{ cookiecutter.package_name }}.smoke import TARGETS, SmokeSettings, run_smoke


def test_a_short_smoke_run_learns_and_beats_its_targets(tmp_path: Path):
    settings = SmokeSettings(steps=150, max_train_tokens=100_000, max_heldout_tokens=10_000)
    result = run_smoke(tmp_path, settings)

    assert set(result) == {"ok", "seconds", "metrics", "targets"}
    json.dumps(result)  # the CLI prints it as one JSON line
    metrics = result["metrics"]
    assert metrics["loss_end"] < metrics["loss_start"]
    assert metrics["top5"] > TARGETS["top5"] and metrics["top1"] > 0.2
    assert metrics["top5"] > metrics["top1"]
    assert 0 < metrics["keystrokes_saved"] < 1 and 0 < metrics["ngram_top5"] < 1
    assert result["ok"] is True
    assert (tmp_path / "model.pt").is_file()
