from __future__ import annotations

import random

import pytest
import torch

from {{ cookiecutter.package_name }}.evaluate import (
    Ranking,
    accuracy,
    evaluate_heldout,
    keystrokes_saved,
    rank_lstm,
    rank_ngram,
)
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.ngram import NGramModel, fit_baselines
from {{ cookiecutter.package_name }}.tokenizer import tokenize_source
from {{ cookiecutter.package_name }}.train import TrainConfig, seed_everything, train
from {{ cookiecutter.package_name }}.vocab import Vocabulary

LINE = "self.value = name\n"  # tokens: self . value = name <newline>


def setup_line():
    tokens = tokenize_source(LINE)
    vocab = Vocabulary.build([[t.text for t in tokens] + ["other", "selfish"]], max_size=20)
    ids = vocab.encode(t.text for t in tokens)
    return tokens, vocab, ids


def ranking_with_first_choices(ids, choices):
    """A ranking over ids[1:] whose first candidate at each position is choices[i]."""
    candidates = torch.tensor([[choice, 0, 0, 0, 0] for choice in choices])
    return Ranking(torch.tensor(ids[1:]), candidates)


def test_accuracy_counts_hits_in_the_first_k_candidates():
    ranking = Ranking(torch.tensor([3, 4, 5]), torch.tensor([[3, 9], [9, 4], [9, 9]]))
    assert accuracy(ranking, 1) == pytest.approx(1 / 3)
    assert accuracy(ranking, 2) == pytest.approx(2 / 3)


def test_a_perfect_model_saves_every_line_but_one_key_per_accept():
    tokens, vocab, ids = setup_line()
    ranking = ranking_with_first_choices(ids, ids[1:])
    # from "." on, the whole rest ". value = name" (11 chars) is accepted with one key
    typed = sum(t.typed_chars for t in tokens[1:])  # . value = name \n -> 12
    assert keystrokes_saved(ranking, tokens, vocab) == pytest.approx((11 - 1) / typed)


def test_a_wrong_model_saves_nothing():
    tokens, vocab, ids = setup_line()
    other = vocab.id("other")
    ranking = ranking_with_first_choices(ids, [other] * (len(ids) - 1))
    assert keystrokes_saved(ranking, tokens, vocab) == 0.0


def test_typing_a_prefix_filters_the_suggestions():
    tokens, vocab, ids = setup_line()
    value, name = vocab.id("value"), vocab.id("name")
    # "value" is only the second candidate: after typing "v" it is the best one starting so
    candidates = torch.tensor([[name, value], [name, value], [name, value], [name, value], [0, 0]])
    ranking = Ranking(torch.tensor(ids[1:]), candidates)
    typed = sum(t.typed_chars for t in tokens[1:])
    saved_value = len("value") - 1 - 1  # typed "v", accepted with one key
    saved_name = len("name") - 1  # first choice at the boundary
    assert keystrokes_saved(ranking, tokens, vocab) == pytest.approx(
        (saved_value + saved_name) / typed
    )


def test_literals_are_not_counted_as_typed_code():
    tokens = tokenize_source("x = 'a very long string literal'\n")
    vocab = Vocabulary.build([[t.text for t in tokens]], max_size=20)
    ids = vocab.encode(t.text for t in tokens)
    ranking = ranking_with_first_choices(ids, [0] * (len(ids) - 1))
    assert keystrokes_saved(ranking, tokens, vocab) == 0.0  # and no division by the literal


def test_lstm_and_ngram_rankings_line_up_with_the_stream(trained, corpus_tokens):
    model, vocab = trained
    ids = vocab.encode(t.text for t in corpus_tokens[:500])
    lstm = rank_lstm(model, ids, batch_size=4, context=32, k=8)
    assert lstm.candidates.shape == (len(lstm.targets), 8)
    assert lstm.targets.tolist() == ids[1 : 1 + len(lstm.targets)]
    ngram = rank_ngram(NGramModel().fit(ids), ids, k=8)
    assert ngram.targets.tolist() == ids[1:]


KEYWORD_BODIES = {"if": "pass", "while": "break", "with": "return", "for": "continue"}


def blocks(seed: int, count: int) -> str:
    """Blocks whose body token is decided by the keyword five tokens before it
    (``if a:`` then ``pass``; ``while a:`` then ``break``...): an n-gram of the last three
    tokens (``: <newline> <indent>``) cannot tell them apart; a model with memory can."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        keyword, name = rng.choice(sorted(KEYWORD_BODIES)), rng.choice(["a", "b", "c"])
        lines.append(f"for {name} in items:" if keyword == "for" else f"{keyword} {name}:")
        lines.append(f"    {KEYWORD_BODIES[keyword]}")
    return "\n".join(lines) + "\n"


def test_held_out_metrics_rank_a_model_with_memory_above_the_n_grams():
    train_tokens = tokenize_source(blocks(seed=0, count=400))
    heldout = tokenize_source(blocks(seed=1, count=120))  # fresh draws, never trained on
    texts = [token.text for token in train_tokens]
    vocab = Vocabulary.build([texts], max_size=50)
    ids = vocab.encode(texts)
    seed_everything(0)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 16, 64, num_layers=1, dropout=0.0))
    train(model, ids, TrainConfig(batch_size=8, lr=1e-2, max_steps=600, log_every=1000))

    metrics = evaluate_heldout(
        model, vocab, heldout, baselines=fit_baselines(ids), latency_samples=5
    )
    for prefix in ("", "unigram_", "bigram_", "fourgram_"):
        assert {f"{prefix}{name}" for name in ("top1", "top5", "keystrokes_saved", "loss")} <= (
            metrics.keys()
        )
    assert metrics["latency_ms_p95"] >= metrics["latency_ms_p50"] > 0
    # each reads more context than the one before, and it shows on text none of them saw
    assert metrics["bigram_top1"] > metrics["unigram_top1"]
    assert metrics["fourgram_top1"] > metrics["bigram_top1"]
    assert metrics["top1"] >= metrics["fourgram_top1"] + 0.05
    assert metrics["loss"] < metrics["fourgram_loss"] < metrics["unigram_loss"]


def test_the_baselines_are_scored_on_the_positions_the_lstm_is_scored_on(trained, corpus_tokens):
    model, vocab = trained
    tokens = corpus_tokens[:333]  # batching drops the tail the LSTM cannot fill a row with
    ids = vocab.encode(t.text for t in tokens)
    ngram = NGramModel(order=2).fit(ids)
    metrics = evaluate_heldout(model, vocab, tokens, baselines={"b": ngram}, latency_samples=0)
    lstm_positions = rank_lstm(model, ids).targets
    scored = ids[: 1 + len(lstm_positions)]
    assert metrics["heldout_tokens"] == len(lstm_positions) < len(ids) - 1
    assert metrics["b_loss"] == pytest.approx(ngram.cross_entropy(scored, len(vocab)))
    assert metrics["b_top1"] == pytest.approx(accuracy(rank_ngram(ngram, scored), 1))
