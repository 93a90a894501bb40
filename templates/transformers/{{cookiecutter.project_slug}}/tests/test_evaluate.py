"""Metrics, targets, latency and the text-classification pipeline."""

import pytest

from {{ cookiecutter.package_name }}.data import (
    LABELS,
)
from {{ cookiecutter.package_name }}.evaluate import (
    accuracy,
    check_targets,
    evaluate,
    latency_ms,
    pipeline_predictions,
    predict_logits,
    text_classifier,
)
from {{ cookiecutter.package_name }}.model import (
    load_classifier,
)


def test_accuracy():
    assert accuracy([1, 0, 1, 1], [1, 0, 0, 1]) == 0.75
    with pytest.raises(ValueError, match="2 predictions but 3 labels"):
        accuracy([1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])


def test_targets_bound_metrics_from_below_and_above():
    metrics = {"accuracy": 0.9, "minutes": 12.0}
    assert check_targets(metrics, {"min_accuracy": 0.9, "max_minutes": 30})
    assert not check_targets(metrics, {"min_accuracy": 0.95})
    assert not check_targets(metrics, {"max_minutes": 10})
    with pytest.raises(ValueError, match="min_<metric>"):
        check_targets(metrics, {"accuracy": 0.9})
    with pytest.raises(ValueError, match="min_<metric>"):
        check_targets(metrics, {"min_f1": 0.9})


def test_the_pipeline_agrees_with_the_model(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    texts = [e.text for e in sentences[:50]]
    classifier = text_classifier(model, tokenizer)
    assert classifier.task == "text-classification"
    expected = predict_logits(model, tokenizer, texts).argmax(-1).tolist()
    assert pipeline_predictions(classifier, texts) == expected
    (single,) = classifier("the cast was superb")
    assert single["label"] in LABELS and 0.0 <= single["score"] <= 1.0


def test_evaluate_and_latency_report_sane_numbers(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    texts, labels = [e.text for e in sentences[:40]], [e.label for e in sentences[:40]]
    scores = evaluate(model, tokenizer, texts, labels)
    assert 0.0 <= scores["accuracy"] <= 1.0 and scores["examples"] == 40
    assert scores["sentences_per_second"] > 0
    timing = latency_ms(model, tokenizer, texts[:20])
    assert 0 < timing["p50_ms"] <= timing["p95_ms"]
    with pytest.raises(ValueError, match="no texts"):
        latency_ms(model, tokenizer, [])
