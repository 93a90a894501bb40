"""The synthetic grammar means what it says, and data errors are clear."""

import sys

import pytest

from {{ cookiecutter.package_name }}.data import (
    KINDS,
    Example,
    grammar_words,
    keyword_baseline,
    load_sst2,
    split_examples,
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
        first, second = example.text.split(" but ")
        assert _clause_label(second) == example.label
        assert _clause_label(first) != example.label


def test_split_is_disjoint_and_sized(sentences):
    train, test = split_examples(sentences, test_fraction=0.25)
    assert (len(train), len(test)) == (450, 150)
    assert not {e.text for e in train} & {e.text for e in test}


@pytest.mark.parametrize("n", [0, -5])
def test_a_non_positive_count_is_an_error(n):
    with pytest.raises(ValueError, match="positive"):
        synthetic_sentiment(n)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_a_test_fraction_outside_0_1_is_an_error(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        split_examples([Example("a", 0, "plain")] * 10, test_fraction=fraction)


def test_sst2_has_only_train_and_validation_labels():
    with pytest.raises(ValueError, match="split"):
        load_sst2("test")


def test_sst2_without_datasets_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(StarterError, match=r"\.\[real\]"):
        load_sst2("validation")
