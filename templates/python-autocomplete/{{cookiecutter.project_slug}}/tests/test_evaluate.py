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
from {{ cookiecutter.package_name }}.ngram import NGramModel
from {{ cookiecutter.package_name }}.tokenizer import tokenize_source
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
    lstm = rank_lstm(model, ids, batch_size=4, seq_len=32, k=8)
    assert lstm.candidates.shape == (len(lstm.targets), 8)
    assert lstm.targets.tolist() == ids[1 : 1 + len(lstm.targets)]
    ngram = rank_ngram(NGramModel().fit(ids), ids, k=8)
    assert ngram.targets.tolist() == ids[1:]


def test_the_trained_model_beats_chance_and_reports_every_metric(trained, corpus_tokens):
    model, vocab = trained
    ngram = NGramModel().fit(vocab.encode(t.text for t in corpus_tokens))
    metrics = evaluate_heldout(model, vocab, corpus_tokens[:1000], ngram=ngram, latency_samples=5)
    expected = {"top1", "top5", "keystrokes_saved", "loss", "latency_ms_p50", "latency_ms_p95"}
    assert expected | {f"ngram_{name}" for name in ("top1", "top5")} <= metrics.keys()
    assert metrics["top1"] > 0.5 and metrics["top5"] > 0.8  # it has seen these files
    assert 0 < metrics["keystrokes_saved"] < 1
