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
    tiny_bert,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    fit,
)


def test_accuracy():
    assert accuracy([1, 0, 1, 1], [1, 0, 0, 1]) == 0.75
    with pytest.raises(ValueError, match="2 predictions but 3 labels"):
        accuracy([1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])


@pytest.fixture(scope="module")
def trained(tokenizer, sentences):
    """The tiny BERT after a few epochs on plain sentences: its answers differ between sentences,
    so a check of order can fail (an untrained model gives every sentence the same answer)."""
    model = tiny_bert(len(tokenizer), max_length=48)
    plain = [e for e in sentences if e.kind == "plain"]
    config = TrainConfig(epochs=6, batch_size=32, learning_rate=4e-3, max_length=48)
    fit(model, tokenizer, [e.text for e in plain], [e.label for e in plain], config)
    texts = [e.text for e in sentences[:40]]
    answers = pipeline_predictions(text_classifier(model, tokenizer), texts)
    assert 5 <= sum(answers) <= 35  # both answers occur: order matters from here on
    return model, texts, answers


def test_the_pipeline_agrees_with_the_model(trained, tokenizer):
    model, texts, answers = trained
    classifier = text_classifier(model, tokenizer)
    assert classifier.task == "text-classification"
    assert predict_logits(model, tokenizer, texts, batch_size=7).argmax(-1).tolist() == answers
    (single,) = classifier("the cast was superb")
    assert single["label"] in LABELS and 0.0 <= single["score"] <= 1.0


def test_evaluate_scores_the_model_against_the_labels_in_order(trained, tokenizer):
    model, texts, answers = trained
    # Labels equal to the pipeline's answers score 1, their opposites 0, a mix in between:
    # this fails if evaluate shuffles, drops or misaligns sentences and labels.
    assert evaluate(model, tokenizer, texts, answers)["accuracy"] == 1.0
    assert evaluate(model, tokenizer, texts, [1 - a for a in answers])["accuracy"] == 0.0
    half = answers[:20] + [1 - a for a in answers[20:]]
    scores = evaluate(model, tokenizer, texts, half, batch_size=7)
    assert scores["accuracy"] == 0.5 and scores["examples"] == 40
    assert scores["sentences_per_second"] > 0


def test_latency_is_measured_per_sentence(untrained_model_dir, sentences):
    model, tokenizer = load_classifier(untrained_model_dir)
    timing = latency_ms(model, tokenizer, [e.text for e in sentences[:20]])
    assert 0 < timing["p50_ms"] <= timing["p95_ms"]
    with pytest.raises(ValueError, match="no texts"):
        latency_ms(model, tokenizer, [])
