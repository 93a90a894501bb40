"""The training loop learns, is reproducible, and rejects bad input."""

import pytest
import torch

from {{ cookiecutter.package_name }}.model import (
    tiny_bert,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    TrainResult,
    batches,
    fit,
)

CONFIG = TrainConfig(epochs=8, batch_size=32, learning_rate=2e-3, max_length=48, log_every=10)


def _fit(tokenizer, sentences, seed=0):
    model = tiny_bert(len(tokenizer), max_length=48, seed=seed)
    texts, labels = [e.text for e in sentences], [e.label for e in sentences]
    return model, fit(model, tokenizer, texts, labels, CONFIG)


def test_batches_pad_to_their_longest_sentence_and_carry_labels(tokenizer):
    texts = ["the plot was good", "frankly i did not enjoy the soundtrack at times", "the cast"]
    out = list(batches(tokenizer, texts, [1, 0, 0], batch_size=2, max_length=48))
    assert [b["input_ids"].shape[0] for b in out] == [2, 1]
    longest = len(tokenizer(texts[1])["input_ids"])
    assert out[0]["input_ids"].shape[1] == longest
    assert out[0]["attention_mask"][0].sum() == len(tokenizer(texts[0])["input_ids"])
    assert out[0]["labels"].tolist() == [1, 0]


def test_batches_truncate_to_max_length(tokenizer):
    (batch,) = batches(tokenizer, ["the movie " * 40], None, batch_size=4, max_length=16)
    assert batch["input_ids"].shape == (1, 16)
    assert "labels" not in batch


def test_fit_lowers_the_loss(tokenizer, sentences):
    plain = [e for e in sentences if e.kind == "plain"]  # the rule a tiny model learns first
    model, result = _fit(tokenizer, plain)
    assert len(result.losses) == 8 * 7  # 8 epochs of ceil(200 / 32) steps
    assert result.mean_loss(first=False) < 0.8 * result.mean_loss(first=True)
    assert not model.training


def test_fit_is_reproducible(tokenizer, sentences):
    first, result_a = _fit(tokenizer, sentences[:100])
    second, result_b = _fit(tokenizer, sentences[:100])
    assert result_a.losses == result_b.losses
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_fit_reports_progress(tokenizer, sentences):
    messages = []
    model = tiny_bert(len(tokenizer), max_length=48)
    texts, labels = [e.text for e in sentences], [e.label for e in sentences]
    fit(model, tokenizer, texts[:64], labels[:64], CONFIG, log=messages.append)
    assert len(messages) == 2  # every 10 steps, and the last (16th) step
    assert messages[-1].startswith("epoch 8/8 step 16/16 loss ")


def test_fit_keeps_the_weights_of_the_best_dev_epoch_and_stops_when_dev_stalls(
    tokenizer, sentences
):
    model = tiny_bert(len(tokenizer), max_length=48)
    texts, labels = [e.text for e in sentences[:64]], [e.label for e in sentences[:64]]
    scripted = iter([0.5, 0.9, 0.7, 0.6, 0.95])  # epoch 2 is best; 3 and 4 do not improve
    snapshots = []

    def dev_score():
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(scripted)

    config = TrainConfig(epochs=5, batch_size=32, learning_rate=2e-3, max_length=48, patience=2)
    result = fit(model, tokenizer, texts, labels, config, dev_score=dev_score)
    assert result.dev_scores == [0.5, 0.9, 0.7, 0.6]  # stopped after 2 epochs without a gain
    assert result.best_epoch == 2 and len(result.losses) == 4 * 2
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[1][name]), name
    assert not torch.equal(snapshots[1]["classifier.weight"], snapshots[3]["classifier.weight"])
    assert not model.training


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [([], [], "no training texts"), (["the movie was good"], [1, 0], "labels")],
)
def test_fit_rejects_bad_data(tokenizer, texts, labels, message):
    with pytest.raises(ValueError, match=message):
        fit(tiny_bert(len(tokenizer)), tokenizer, texts, labels, CONFIG)


def test_a_result_without_steps_has_no_mean_loss():
    with pytest.raises(ValueError, match="no training step"):
        TrainResult().mean_loss(first=True)
