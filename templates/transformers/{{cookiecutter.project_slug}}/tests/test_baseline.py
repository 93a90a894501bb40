"""The bag-of-n-grams baseline is a fair one: it learns what a bag can, and only that."""

import pytest

from {{ cookiecutter.package_name }}.baseline import (
    fit_bag_of_ngrams,
    ngrams,
)
from {{ cookiecutter.package_name }}.data import (
    grammar_splits,
)
from {{ cookiecutter.package_name }}.evaluate import (
    accuracy,
)


@pytest.fixture(scope="module")
def splits():
    return grammar_splits(1800, 300, 600, seed=11)


def _texts_labels(examples, kind=None):
    chosen = [e for e in examples if kind is None or e.kind == kind]
    return [e.text for e in chosen], [e.label for e in chosen]


def test_ngrams_are_the_lowercased_words_then_adjacent_pairs():
    assert ngrams("The plot was  GOOD") == [
        "the",
        "plot",
        "was",
        "good",
        "the plot",
        "plot was",
        "was good",
    ]
    assert ngrams("") == []


def test_on_plain_sentences_a_bag_of_words_is_enough(splits):
    # Trained and tested on plain sentences only, the baseline must be nearly perfect on keys
    # it never saw: the polarity word decides. (A crippled baseline would flatter the model.)
    model = fit_bag_of_ngrams(
        *_texts_labels(splits["train"], "plain"), *_texts_labels(splits["dev"], "plain")
    )
    texts, labels = _texts_labels(splits["test"], "plain")
    assert accuracy(model.predict(texts), labels) >= 0.95


def test_on_contrasts_a_bag_of_ngrams_is_near_chance(splits):
    # What makes the smoke a proof: in "X but Y" word order decides, which a bag cannot read.
    model = fit_bag_of_ngrams(*_texts_labels(splits["train"]), *_texts_labels(splits["dev"]))
    texts, labels = _texts_labels(splits["test"], "contrast")
    assert 0.35 <= accuracy(model.predict(texts), labels) <= 0.65


def test_the_penalty_is_the_one_most_accurate_on_dev(splits):
    train, dev = _texts_labels(splits["train"], "plain"), _texts_labels(splits["dev"], "plain")
    # A penalty of 100 shrinks every weight to about zero: a constant answer, worse on dev.
    assert fit_bag_of_ngrams(*train, *dev, penalties=(100.0, 1e-3)).penalty == 1e-3
    only = fit_bag_of_ngrams(*train, *dev, penalties=(100.0,))
    assert only.penalty == 100.0
    assert len(set(only.predict(dev[0]))) == 1


def test_unknown_ngrams_are_ignored(splits):
    model = fit_bag_of_ngrams(*_texts_labels(splits["train"]), *_texts_labels(splits["dev"]))
    assert model.predict(["zeppelin quux"]) == model.predict([""])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"penalties": ()}, "penalty"), ({"dev_texts": []}, "dev"), ({"train_labels": [1]}, "label")],
)
def test_bad_input_is_an_error(kwargs, message):
    args = {
        "train_texts": ["good", "bad"],
        "train_labels": [1, 0],
        "dev_texts": ["good"],
        "dev_labels": [1],
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        fit_bag_of_ngrams(**args)
