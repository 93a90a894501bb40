"""The smoke run, as a user runs it: it learns, saves, reloads and serves."""

import json

from transformers import pipeline

from {{ cookiecutter.package_name }}.data import (
    LABELS,
    synthetic_sentiment,
)
from {{ cookiecutter.package_name }}.evaluate import (
    accuracy,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_SEED,
)
from {{ cookiecutter.package_name }}.smoke import (
    SMOKE_TARGETS,
)


def test_smoke_exits_0_and_prints_one_json_report_last(smoke_run):
    assert smoke_run["returncode"] == 0, smoke_run["stderr"][-3000:]
    report = smoke_run["report"]
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert report["ok"] is True
    assert report["targets"] == SMOKE_TARGETS
    assert json.loads(smoke_run["stdout"].strip().splitlines()[-1]) == report


def test_smoke_logs_progress_to_stderr_only(smoke_run):
    assert "loss" in smoke_run["stderr"]
    assert len(smoke_run["stdout"].strip().splitlines()) == 1


def test_the_model_learned_what_keywords_cannot(smoke_run):
    metrics = smoke_run["report"]["metrics"]
    assert metrics["heldout_accuracy"] >= 0.9
    assert metrics["heldout_accuracy"] >= metrics["keyword_baseline_accuracy"] + 0.25
    assert metrics["accuracy_negated"] >= 0.85
    assert metrics["accuracy_contrast"] >= 0.85
    assert metrics["loss_last"] < 0.5 * metrics["loss_first"]
    assert metrics["roundtrip_abs_diff"] <= 1e-4


def test_the_saved_model_serves_fresh_sentences_by_path(smoke_run):
    classifier = pipeline("text-classification", model=str(smoke_run["out"] / "model"))
    fresh = synthetic_sentiment(300, seed=DEFAULT_SEED + 1)
    outputs = classifier([e.text for e in fresh])
    labels = [LABELS.index(out["label"]) for out in outputs]
    assert accuracy(labels, [e.label for e in fresh]) >= 0.9
