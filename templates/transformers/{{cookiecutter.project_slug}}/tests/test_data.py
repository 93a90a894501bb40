"""The synthetic grammar means what it says, its splits share nothing, and data errors are clear."""

import sys

import pytest

from {{ cookiecutter.package_name }}.data import (
    KINDS,
    NEGATIVE_ADJECTIVES,
    NEGATIVE_VERBS,
    POSITIVE_ADJECTIVES,
    POSITIVE_VERBS,
    SPLIT_FRACTIONS,
    SPLITS,
    grammar_splits,
    grammar_words,
    key_splits,
    keyword_baseline,
    load_sst2,
    synthetic_sentiment,
)
from {{ cookiecutter.package_name }}.errors import (
    StarterError,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_SEED,
)


def _clause_label(clause: str) -> int:
    """A clause's label by the grammar's rule: its polarity word, flipped by "not"."""
    return keyword_baseline(clause) ^ ("not" in clause.split())


def test_the_same_seed_gives_the_same_sentences():
    assert synthetic_sentiment(200, seed=3) == synthetic_sentiment(200, seed=3)
    assert synthetic_sentiment(200, seed=3) != synthetic_sentiment(200, seed=4)
    assert synthetic_sentiment(200, seed=3, split="test", draw=1) != synthetic_sentiment(
        200, seed=3, split="test"
    )


def test_the_default_seed_is_the_one_chosen_at_generation():
    assert DEFAULT_SEED == {{ cookiecutter.seed|int }}
    default = synthetic_sentiment(50, seed=DEFAULT_SEED)
    assert default != synthetic_sentiment(50, seed=DEFAULT_SEED + 1)


def test_sentences_are_distinct_and_the_kinds_and_labels_balanced(sentences):
    assert len({e.text for e in sentences}) == len(sentences) == 600
    for kind in KINDS:
        assert sum(e.kind == kind for e in sentences) == 200
    positives = sum(e.label for e in sentences)
    assert 0.4 < positives / len(sentences) < 0.6


def test_every_word_is_in_the_vocabulary(sentences):
    vocabulary = set(grammar_words())
    assert {word for e in sentences for word in e.text.split()} <= vocabulary


def test_plain_sentences_follow_their_polarity_word(sentences):
    plain = [e for e in sentences if e.kind == "plain"]
    assert all(keyword_baseline(e.text) == e.label for e in plain)


def test_negation_flips_the_label_so_keywords_always_fail(sentences):
    negated = [e for e in sentences if e.kind == "negated"]
    assert all("not" in e.text.split() for e in negated)
    assert all(keyword_baseline(e.text) != e.label for e in negated)


def test_in_a_contrast_the_clause_after_but_decides(sentences):
    contrasts = [e for e in sentences if e.kind == "contrast"]
    for example in contrasts:
        first, second = example.clauses
        assert example.core == f"{first} but {second}" and example.core in example.text
        assert _clause_label(second) == example.label
        assert _clause_label(first) != example.label


def test_each_group_of_keys_is_cut_in_the_stated_shares():
    owner = key_splits(seed=5)
    groups = [
        POSITIVE_ADJECTIVES,
        NEGATIVE_ADJECTIVES,
        [base for _, base in POSITIVE_VERBS],
        [base for _, base in NEGATIVE_VERBS],
    ]
    assert sum(len(group) for group in groups) * 12 == len(owner)  # 12 subjects
    for group in groups:
        sides = [side for (_, word), side in owner.items() if word in group]
        for split, share in SPLIT_FRACTIONS.items():
            assert abs(sides.count(split) - share * len(sides)) <= 1, (group, split)
    assert key_splits(seed=5) == owner != key_splits(seed=6)


@pytest.mark.parametrize("seed", [0, DEFAULT_SEED + 1])
def test_splits_share_no_key_clause_core_or_sentence(seed):
    splits = grammar_splits(900, 300, 300, seed=seed)
    owner = key_splits(seed)
    assert list(splits) == list(SPLITS)
    assert [len(examples) for examples in splits.values()] == [900, 300, 300]
    for split, examples in splits.items():
        assert all(owner[key] == split for e in examples for key in e.keys), split
    seen: dict[str, dict[str, set[object]]] = {split: {
        "keys": {k for e in examples for k in e.keys},
        "clauses": {c for e in examples for c in e.clauses},
        "cores": {e.core for e in examples},
        "texts": {e.text for e in examples},
    } for split, examples in splits.items()}  # fmt: skip
    for held_out in ("dev", "test"):
        for what, items in seen[held_out].items():
            assert not items & seen["train"][what], (held_out, what)
    assert not seen["dev"]["keys"] & seen["test"]["keys"]


def test_an_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="split"):
        synthetic_sentiment(10, split="validation")


@pytest.mark.parametrize("n", [0, -5])
def test_a_non_positive_count_is_an_error(n):
    with pytest.raises(ValueError, match="positive"):
        synthetic_sentiment(n)


def test_sst2_has_only_train_and_validation_labels():
    with pytest.raises(ValueError, match="split"):
        load_sst2("test")


def test_sst2_without_datasets_says_which_group_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(StarterError, match="run `make setup`"):
        load_sst2("validation")
