import math

import pytest

from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.tokenizer import Token
from {{ cookiecutter.package_name }}.train import TrainConfig, learning_rate, seed_everything, train
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
