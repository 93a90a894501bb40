"""Instructor test for train.train_step and evaluate.predict_logits: exact step, exact logits."""

import pytest
import torch
from transformers import get_linear_schedule_with_warmup

from {{ cookiecutter.package_name }}.evaluate import (
    predict_logits,
)
from {{ cookiecutter.package_name }}.model import (
    build_tokenizer,
    tiny_bert,
)
from {{ cookiecutter.package_name }}.train import (
    batches,
    train_step,
)

WORDS = ["the", "movie", "was", "not", "good", "bad"]
TEXTS = ["the movie was good", "the movie was not good", "bad", "the movie was bad"]


def _setup():
    tokenizer = build_tokenizer(WORDS)
    model = tiny_bert(len(tokenizer), max_length=16, seed=3)
    (batch,) = batches(tokenizer, TEXTS, [1, 0, 0, 0], batch_size=4, max_length=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, 10)
    return tokenizer, model, batch, optimizer, scheduler


def test_one_step_returns_the_loss_before_it_and_applies_clipped_sgd():
    tokenizer, model, batch, optimizer, scheduler = _setup()
    model.train()
    reference = tiny_bert(len(tokenizer), max_length=16, seed=3).train()
    loss = reference(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
    expected = [p.detach() - 0.1 * p.grad for p in reference.parameters()]

    returned = train_step(model, batch, optimizer, scheduler, max_grad_norm=0.5)

    assert isinstance(returned, float)
    assert abs(returned - loss.item()) < 1e-6
    for param, want in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(param.detach(), want, rtol=1e-5, atol=1e-6)
    assert all(p.grad is None for p in model.parameters())
    assert scheduler.last_epoch == 1
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.09)  # the schedule stepped once


def test_predict_logits_is_the_eval_forward_in_input_order_for_any_batch_size():
    tokenizer, model, _, _, _ = _setup()
    model.train()  # predict_logits must switch dropout off itself
    one = predict_logits(model, tokenizer, TEXTS, batch_size=1, max_length=16)
    four = predict_logits(model, tokenizer, TEXTS, batch_size=4, max_length=16)
    assert not model.training
    assert one.dtype == torch.float32 and one.device.type == "cpu" and one.shape == (4, 2)
    torch.testing.assert_close(one, four, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        alone = model(**tokenizer(TEXTS[2], return_tensors="pt")).logits
    torch.testing.assert_close(one[2:3], alone, rtol=1e-5, atol=1e-5)


def test_predict_logits_reads_at_most_max_length_tokens_of_each_text():
    tokenizer, model, _, _, _ = _setup()
    long = " ".join(["the movie was not good"] * 6)  # 30 words: past the model's 16 positions
    logits = predict_logits(model, tokenizer, [long, TEXTS[0]], batch_size=2, max_length=8)
    with torch.no_grad():
        cut = tokenizer(long, truncation=True, max_length=8, return_tensors="pt")
        expected = model(**cut).logits
    torch.testing.assert_close(logits[0:1], expected, rtol=1e-5, atol=1e-5)
    shorter = predict_logits(model, tokenizer, [long], batch_size=1, max_length=6)
    assert not torch.allclose(shorter, logits[0:1])  # fewer tokens read, other logits
