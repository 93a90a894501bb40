"""Instructor test for model.build_tokenizer: exact ids, lowercasing, specials, the [UNK] guard."""

import pytest

from {{ cookiecutter.package_name }}.model import (
    SPECIAL_TOKENS,
    build_tokenizer,
)


def test_ids_are_the_special_tokens_then_the_sorted_lowercased_words():
    tokenizer = build_tokenizer(["Movie", "good", "movie", "[CLS]", "bad"], max_length=12)
    vocab = tokenizer.get_vocab()
    assert [token for token, _ in sorted(vocab.items(), key=lambda kv: kv[1])] == [
        *SPECIAL_TOKENS,
        "bad",
        "good",
        "movie",
    ]
    assert len(tokenizer) == 8 and tokenizer.model_max_length == 12
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id) == (0, 1)
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id) == (2, 3)


def test_encoding_lowercases_and_maps_only_unknown_words_to_unk():
    tokenizer = build_tokenizer(["good", "movie"])
    assert tokenizer("GOOD movie")["input_ids"] == [2, 5, 6, 3]
    assert tokenizer("good zeppelin", add_special_tokens=False)["input_ids"] == [5, 1]


def test_a_vocabulary_of_special_tokens_only_is_rejected():
    with pytest.raises(ValueError, match="vocabulary"):
        build_tokenizer(["[PAD]", "[MASK]"])
