from __future__ import annotations

import math

import pytest
import torch

from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig, State
from {{ cookiecutter.package_name }}.predict import Completer
from {{ cookiecutter.package_name }}.tokenizer import Token
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    TrainResult,
    learning_rate,
    seed_everything,
    train,
)
from {{ cookiecutter.package_name }}.vocab import Vocabulary


def short_run(corpus_tokens: list[Token], steps: int = 60):
    seed_everything(0)
    texts = [token.text for token in corpus_tokens]
    vocab = Vocabulary.build([texts], max_size=200)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 16, 32, num_layers=1, dropout=0.0))
    config = TrainConfig(batch_size=8, seq_len=16, lr=1e-2, max_steps=steps, log_every=1000)
    return train(model, vocab.encode(texts), config)


def test_a_short_training_run_lowers_the_loss(corpus_tokens):
    result = short_run(corpus_tokens)
    assert result.steps == 60
    assert result.mean_loss(first=False, window=10) < result.mean_loss(first=True, window=10) - 0.5
    assert result.epochs > 2  # the budget outlasts the text: training goes round again


def test_a_step_budget_gives_the_same_run_twice(corpus_tokens):
    assert short_run(corpus_tokens, steps=15).losses == short_run(corpus_tokens, steps=15).losses


def test_a_budget_is_required():
    with pytest.raises(ValueError, match="max_steps or max_minutes"):
        TrainConfig()


def test_the_learning_rate_warms_up_then_decays():
    config = TrainConfig(lr=1.0, warmup_steps=10, min_lr_fraction=0.1, max_steps=100)
    assert learning_rate(config, 0, 0.0) == pytest.approx(0.1)
    cosine = 0.5 * (1 + math.cos(math.pi * 0.09))
    assert learning_rate(config, 9, 0.09) == pytest.approx(0.1 + 0.9 * cosine)
    assert learning_rate(config, 50, 0.5) == pytest.approx(0.55)
    assert learning_rate(config, 99, 1.0) == pytest.approx(0.1)


class StateSpy(LSTMLanguageModel):
    """Records, for every window it is trained on, whether its state started blank."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.blank_starts: list[bool] = []

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        self.blank_starts.append(state is None)
        return super().forward(ids, state)


def test_the_state_is_carried_across_windows_and_starts_blank_every_context(corpus_tokens):
    texts = [token.text for token in corpus_tokens]
    vocab = Vocabulary.build([texts], max_size=200)
    spy = StateSpy(ModelConfig(len(vocab), 8, 16, num_layers=1, dropout=0.0))
    config = TrainConfig(batch_size=8, seq_len=16, context=64, max_steps=12, log_every=1000)
    train(spy, vocab.encode(texts), config)
    assert spy.blank_starts == [True, False, False, False] * 3  # 64 tokens = 4 windows


def test_frozen_parameters_stay_as_they_were(corpus_tokens):
    texts = [token.text for token in corpus_tokens]
    vocab = Vocabulary.build([texts], max_size=200)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 16, 32, num_layers=1, dropout=0.0))
    model.lstm.requires_grad_(False)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    train(model, vocab.encode(texts), TrainConfig(batch_size=8, max_steps=5, log_every=1000))
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter, before[name]) == name.startswith("lstm."), name
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(model, vocab.encode(texts), TrainConfig(max_steps=1))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_training_and_completion_run_on_the_gpu(trained, corpus_tokens):
    _, vocab = trained
    model = LSTMLanguageModel(ModelConfig(len(vocab), 32, 64, dropout=0.0))
    ids = vocab.encode(token.text for token in corpus_tokens)
    result = train(model, ids, TrainConfig(batch_size=8, max_steps=50, lr=1e-2), device="cuda")
    assert result.mean_loss(first=False) < result.mean_loss(first=True)
    assert next(model.parameters()).is_cuda
    assert isinstance(Completer(model, vocab, device="cuda").complete("import os\n"), str)


def test_ctrl_c_ends_the_training_not_the_run_and_the_history_has_every_step(corpus_tokens):
    texts = [token.text for token in corpus_tokens]
    vocab = Vocabulary.build([texts], max_size=50)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 8, 16, num_layers=1, dropout=0.0))
    config = TrainConfig(batch_size=4, max_steps=100, log_every=5)

    def ctrl_c(result: TrainResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the default: Ctrl-C stops the program
        train(model, vocab.encode(texts), config, on_progress=ctrl_c)
    result = train(model, vocab.encode(texts), config, on_progress=ctrl_c, stop_on_interrupt=True)
    assert result.interrupted and result.steps == 5
    history = result.history(window=2)
    assert [row["step"] for row in history] == [1, 2, 3, 4, 5]
    assert [row["loss"] for row in history] == result.losses
    assert history[-1]["loss_mean"] == pytest.approx(sum(result.losses[-2:]) / 2)
    assert history[0]["lr"] < history[-1]["lr"]  # the warm-up
