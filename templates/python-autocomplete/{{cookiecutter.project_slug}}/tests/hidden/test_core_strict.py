"""The instructor's checks of the three pieces students write (exact values, edge cases).

Self-contained: no fixtures from tests/conftest.py (the grader runs this file on its own).
"""

import pytest
import torch

from {{ cookiecutter.package_name }}.evaluate import Ranking, accuracy
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.tokenizer import Token, tokenize_source

torch.set_num_threads(1)


def test_the_tokenizer_maps_every_kind_of_token_exactly():
    source = (
        "# a comment line\n"
        "x = 0x1F + 1.5e3j  # trailing\n"
        "\n"
        "if x:\n"
        "\tname = 'a' \"b\"\n"
        "y = (1,\n"
        "     2)\n"
    )
    assert tokenize_source(source) == [
        Token("x", "x"), Token("=", "="), Token("<num>", "0x1F"), Token("+", "+"),
        Token("<num>", "1.5e3j"), Token("<newline>", "\n"),
        Token("if", "if"), Token("x", "x"), Token(":", ":"), Token("<newline>", "\n"),
        Token("<indent>", "\t"), Token("name", "name"), Token("=", "="),
        Token("<str>", "'a'\"b\""), Token("<newline>", "\n"), Token("<dedent>", ""),
        Token("y", "y"), Token("=", "="), Token("(", "("), Token("<num>", "1"), Token(",", ","),
        Token("<num>", "2"), Token(")", ")"), Token("<newline>", "\n"),
    ]  # fmt: skip
    assert tokenize_source("") == []
    assert [t.text for t in tokenize_source("# only a comment\n\n")] == []
    # the keystrokes a programmer types: layout is free but the newline key
    typed = [t.typed_chars for t in tokenize_source("if a:\n    b\n")]
    assert typed == [2, 1, 1, 1, 0, 1, 1, 0]


def _model(dropout: float = 0.0) -> LSTMLanguageModel:
    torch.manual_seed(7)
    return LSTMLanguageModel(ModelConfig(11, 6, 9, num_layers=2, dropout=dropout))


def test_encode_is_the_embedding_through_the_lstm_and_forward_continues_a_sequence():
    model = _model().eval()
    ids = torch.tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
    hidden, (h, c) = model.encode(ids)
    expected, (eh, ec) = model.lstm(model.embedding(ids))
    assert hidden.shape == (2, 5, 9) and h.shape == c.shape == (2, 2, 9)
    assert torch.allclose(hidden, expected) and torch.allclose(h, eh) and torch.allclose(c, ec)
    logits, _ = model(ids)
    assert logits.shape == (2, 5, 11)
    assert torch.allclose(logits, model.logits(expected))
    first, state = model(ids[:, :2])
    rest, _ = model(ids[:, 2:], state)  # the state carries the sequence on
    assert torch.allclose(torch.cat([first, rest], dim=1), logits, atol=1e-6)
    assert not torch.allclose(model(ids[:, 2:])[0], rest)  # and it matters


def test_dropout_is_applied_in_training_only():
    model = _model(dropout=0.5)
    ids = torch.tensor([[1, 2, 3, 4]])
    model.eval()
    assert torch.equal(model(ids)[0], model(ids)[0])
    model.train()
    torch.manual_seed(0)
    noisy_a = model(ids)[0]
    torch.manual_seed(1)
    noisy_b = model(ids)[0]
    assert not torch.allclose(noisy_a, noisy_b)


def test_dropout_reaches_both_the_embeddings_and_the_lstm_outputs():
    # one layer: the LSTM adds no dropout of its own, so every zero below is encode's
    torch.manual_seed(3)
    model = LSTMLanguageModel(ModelConfig(11, 32, 48, num_layers=1, dropout=0.5)).train()
    seen = []
    model.lstm.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach()))
    ids = torch.randint(1, 11, (4, 16))
    hidden, _ = model.encode(ids)
    embedded = model.embedding(ids).detach()
    dropped = seen[-1] == 0
    assert 0.3 < dropped.float().mean().item() < 0.7  # the embeddings are dropped out...
    assert torch.allclose(seen[-1][~dropped], 2 * embedded[~dropped])  # ...and rescaled
    assert 0.3 < (hidden == 0).float().mean().item() < 0.7  # and so are the LSTM's outputs
    model.eval()
    assert (model.encode(ids)[0] == 0).float().mean().item() < 0.01  # none of it in eval mode


def test_accuracy_counts_hits_within_the_first_k_candidates_exactly():
    targets = torch.tensor([3, 5, 7, 9])
    candidates = torch.tensor([[3, 1, 2], [1, 5, 2], [1, 2, 7], [-1, -1, -1]])
    ranking = Ranking(targets, candidates)
    assert accuracy(ranking, 1) == pytest.approx(0.25)
    assert accuracy(ranking, 2) == pytest.approx(0.5)
    assert accuracy(ranking, 3) == pytest.approx(0.75)
    assert accuracy(ranking, 64) == pytest.approx(0.75)  # k past the list: all of it
    assert isinstance(accuracy(ranking, 1), float)
    repeated = Ranking(torch.tensor([4, 4]), torch.tensor([[4, 4], [0, 0]]))
    assert accuracy(repeated, 2) == pytest.approx(0.5)  # a repeated candidate counts once
