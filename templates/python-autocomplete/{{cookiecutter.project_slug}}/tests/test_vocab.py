from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.vocab import PAD, UNK, Vocabulary


def test_build_keeps_the_most_frequent_tokens_after_the_specials():
    vocab = Vocabulary.build([["b", "a", "b", "c", "b", "a"], ["d"]], max_size=4)
    assert vocab.tokens == [PAD, UNK, "b", "a"]
    assert (vocab.pad_id, vocab.unk_id) == (0, 1)


def test_ties_are_broken_by_the_token_so_builds_are_repeatable():
    assert Vocabulary.build([["z", "y", "x"]], max_size=10).tokens == [PAD, UNK, "x", "y", "z"]


def test_unknown_tokens_encode_as_unk_and_decode_inverts_encode():
    vocab = Vocabulary.build([["self", ".", "x"]], max_size=10)
    ids = vocab.encode(["self", ".", "never_seen"])
    assert ids[-1] == vocab.unk_id
    assert vocab.decode(ids) == ["self", ".", UNK]
    assert "self" in vocab and "never_seen" not in vocab


def test_save_then_load_gives_an_equal_vocabulary(tmp_path: Path):
    vocab = Vocabulary.build([["def", "f", "(", ")", ":", "café"]], max_size=100)
    path = tmp_path / "nested" / "vocab.json"
    vocab.save(path)
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    assert loaded.encode(["café", "f"]) == vocab.encode(["café", "f"])


def test_a_vocabulary_without_the_specials_first_is_rejected():
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", PAD, UNK])


def test_a_file_in_another_format_is_rejected():
    with pytest.raises(ValueError, match="format"):
        Vocabulary.from_dict({"tokens": [PAD, UNK]})


def test_max_size_must_leave_room_for_tokens():
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build([["a"]], max_size=2)
