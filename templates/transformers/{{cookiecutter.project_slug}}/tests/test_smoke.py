"""The smoke run, as a user runs it: it learns what a bag of n-grams cannot, saves, reloads and
serves, and says so in the shared report shape."""

import json
from pathlib import Path

from transformers import pipeline

from {{ cookiecutter.package_name }}.data import (
    KINDS,
    LABELS,
    grammar_splits,
    synthetic_sentiment,
)
from {{ cookiecutter.package_name }}.evaluate import (
    accuracy,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_SEED,
)
from {{ cookiecutter.package_name }}.smoke import (
    MARGINS,
    SMOKE_SIZES,
)

TARGETS = {
    "accuracy_over_bag_of_ngrams",
    "contrast_accuracy_over_bag_of_ngrams",
    "loss_drop",
    "roundtrip_abs_diff",
}


def test_smoke_exits_0_and_prints_the_report_shape_last(smoke_run):
    assert smoke_run["returncode"] == 0, smoke_run["stderr"][-3000:]
    report = smoke_run["report"]
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert report["ok"] is True and report["seconds"] > 0
    assert set(report["targets"]) == TARGETS
    for entry in report["targets"].values():
        assert set(entry) == {"value", "op", "threshold", "met", "source"} and entry["met"]
    assert json.loads(smoke_run["stdout"].strip().splitlines()[-1]) == report


def test_the_bar_is_the_bag_of_ngrams_measured_in_the_same_run(smoke_run):
    metrics, targets = smoke_run["report"]["metrics"], smoke_run["report"]["targets"]
    overall = targets["accuracy_over_bag_of_ngrams"]
    assert overall["source"] == f"baseline:bow_accuracy + {MARGINS['accuracy']:g}"
    assert abs(overall["threshold"] - metrics["bow_accuracy"] - MARGINS["accuracy"]) < 1e-6
    contrast = targets["contrast_accuracy_over_bag_of_ngrams"]
    assert contrast["value"] == metrics["accuracy_contrast"]
    assert (
        abs(contrast["threshold"] - metrics["bow_accuracy_contrast"] - MARGINS["accuracy_contrast"])
        < 1e-6
    )
    # both were scored on the same test sentences, per kind
    assert metrics["test_sentences"] == SMOKE_SIZES["test"]
    for prefix in ("accuracy", "bow_accuracy"):
        per_kind = [metrics[f"{prefix}_{kind}"] for kind in KINDS]
        assert abs(sum(per_kind) / len(KINDS) - metrics[prefix]) < 1e-3  # kinds are equal thirds


def test_the_readme_states_the_margins_the_smoke_checks():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    success = readme[readme.index("## Success criteria") : readme.index("## Quickstart")]
    overall = f">= bag of n-grams + {MARGINS['accuracy']:g} |"
    contrast = f">= bag of n-grams + {MARGINS['accuracy_contrast']:g} |"
    assert f"| test accuracy on the grammar | {overall}" in success
    assert f'| test accuracy on "X but Y" contrasts | {contrast}' in success


def test_the_epoch_kept_is_the_best_on_dev(smoke_run):
    metrics = smoke_run["report"]["metrics"]
    by_epoch = metrics["dev_accuracy_by_epoch"]
    assert metrics["dev_accuracy"] == max(by_epoch) == by_epoch[metrics["best_epoch"] - 1]


def test_smoke_logs_progress_to_stderr_only(smoke_run):
    assert "loss" in smoke_run["stderr"] and "targets:" in smoke_run["stderr"]
    assert len(smoke_run["stdout"].strip().splitlines()) == 1


def test_the_saved_model_serves_sentences_it_never_saw_by_path(smoke_run):
    # Another draw of test-split sentences: none of their (subject, polarity word) keys, and so
    # none of their clauses, occur in the smoke's training sentences.
    train = grammar_splits(SMOKE_SIZES["train"], 1, 1, seed=DEFAULT_SEED)["train"]
    train_keys = {key for e in train for key in e.keys}
    fresh = synthetic_sentiment(300, seed=DEFAULT_SEED, split="test", draw=1)
    assert not {key for e in fresh for key in e.keys} & train_keys
    classifier = pipeline("text-classification", model=str(smoke_run["out"] / "model"))
    outputs = classifier([e.text for e in fresh])
    labels = [LABELS.index(out["label"]) for out in outputs]
    contrasts = [i for i, e in enumerate(fresh) if e.kind == "contrast"]
    assert accuracy(labels, [e.label for e in fresh]) >= 0.9
    assert accuracy([labels[i] for i in contrasts], [fresh[i].label for i in contrasts]) >= 0.85
