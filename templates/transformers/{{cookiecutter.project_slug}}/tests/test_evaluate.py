"""Metrics, latency and the text-classification pipeline."""

import pytest

from {{ cookiecutter.package_name }}.data import (
    LABELS,
)
from {{ cookiecutter.package_name }}.evaluate import (
    accuracy,
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


def test_the_pipeline_agrees_with_the_model(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    texts = [e.text for e in sentences[:50]]
    classifier = text_classifier(model, tokenizer)
    assert classifier.task == "text-classification"
    expected = predict_logits(model, tokenizer, texts).argmax(-1).tolist()
    assert pipeline_predictions(classifier, texts) == expected
    (single,) = classifier("the cast was superb")
    assert single["label"] in LABELS and 0.0 <= single["score"] <= 1.0


def test_evaluate_scores_the_model_against_the_labels_in_order(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    texts = [e.text for e in sentences[:40]]
    predicted = predict_logits(model, tokenizer, texts).argmax(-1).tolist()
    # Labels equal to the model's own answers score 1, their opposites 0, a mix in between:
    # this fails if evaluate shuffles, drops or misaligns sentences and labels.
    assert evaluate(model, tokenizer, texts, predicted)["accuracy"] == 1.0
    assert evaluate(model, tokenizer, texts, [1 - p for p in predicted])["accuracy"] == 0.0
    half = predicted[:20] + [1 - p for p in predicted[20:]]
    scores = evaluate(model, tokenizer, texts, half, batch_size=7)
    assert scores["accuracy"] == 0.5 and scores["examples"] == 40
    assert scores["sentences_per_second"] > 0


def test_latency_is_measured_per_sentence(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    timing = latency_ms(model, tokenizer, [e.text for e in sentences[:20]])
    assert 0 < timing["p50_ms"] <= timing["p95_ms"]
    with pytest.raises(ValueError, match="no texts"):
        latency_ms(model, tokenizer, [])
