"""Instructor test for train.batches: order, seeded shuffle, padding, truncation, label dtype."""

import torch

from {{ cookiecutter.package_name }}.model import (
    build_tokenizer,
)
from {{ cookiecutter.package_name }}.train import (
    batches,
)

WORDS = ["a", "b", "c", "d", "e", "f", "g"]


def _first_words(tokenizer, batch_list):
    return [
        tokenizer.convert_ids_to_tokens(int(row[1]))
        for batch in batch_list
        for row in batch["input_ids"]
    ]


def test_unshuffled_batches_keep_the_order_and_pad_each_batch_to_its_longest():
    tokenizer = build_tokenizer(WORDS)
    texts = ["a", "b c d", "c", "d e", "e"]
    out = list(batches(tokenizer, texts, [0, 1, 0, 1, 1], batch_size=2, max_length=32))
    assert [tuple(b["input_ids"].shape) for b in out] == [(2, 5), (2, 4), (1, 3)]
    assert _first_words(tokenizer, out) == ["a", "b", "c", "d", "e"]
    assert out[0]["input_ids"][0].tolist() == [2, 5, 3, 0, 0]
    assert out[0]["attention_mask"][0].tolist() == [1, 1, 1, 0, 0]
    assert all(b["labels"].dtype == torch.long for b in out)
    assert torch.cat([b["labels"] for b in out]).tolist() == [0, 1, 0, 1, 1]


def test_shuffling_is_a_seeded_permutation_that_keeps_labels_with_their_texts():
    tokenizer = build_tokenizer(WORDS)
    texts = WORDS
    labels = list(range(len(WORDS)))
    first = list(batches(tokenizer, texts, labels, 3, 32, shuffle=True, seed=5))
    again = list(batches(tokenizer, texts, labels, 3, 32, shuffle=True, seed=5))
    other = list(batches(tokenizer, texts, labels, 3, 32, shuffle=True, seed=6))
    order = _first_words(tokenizer, first)
    assert sorted(order) == WORDS and order != WORDS
    assert order == _first_words(tokenizer, again) != _first_words(tokenizer, other)
    for word, label in zip(order, torch.cat([b["labels"] for b in first]).tolist(), strict=True):
        assert WORDS[label] == word


def test_long_texts_are_cut_to_max_length_with_the_closing_sep():
    tokenizer = build_tokenizer(WORDS)
    (batch,) = batches(tokenizer, ["a b c d e f g"], None, batch_size=8, max_length=5)
    assert batch["input_ids"].tolist() == [[2, 5, 6, 7, 3]]
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
