"""Training really learns, checkpoints round-trip, and the two modes differ as promised."""

from typing import Any

import pytest
import torch

from {{ cookiecutter.package_name }}.data import (
    Document,
    leaf_labels,
    read_corpus,
    targets,
)
from {{ cookiecutter.package_name }}.evaluate import (
    hierarchical_scores,
    majority_baseline,
)
from {{ cookiecutter.package_name }}.train import (
    Classifier,
    TrainConfig,
    encode_targets,
    fit,
    fit_tfidf_baseline,
    ngrams,
    recursive_penalty,
    textcnn_factory,
)

TINY: dict[str, Any] = {
    "epochs": 8,
    "batch_size": 32,
    "lr": 8e-3,
    "embed_dim": 16,
    "num_kernels": 16,
    "dropout": 0.1,
    "min_count": 1,
}


@pytest.fixture(scope="module")
def splits(small_corpus):
    return [read_corpus(small_corpus / f"{s}.json") for s in ("train", "dev", "test")]


@pytest.fixture(scope="module")
def trained(splits):
    train, dev, _ = splits
    return fit(train, dev, TrainConfig(**TINY))


def test_training_learns(trained, splits):
    train, _, test = splits
    losses = [h["loss"] for h in trained.history]
    assert losses[-1] < 0.5 * losses[0]
    gold = [d.labels for d in test]
    scores = hierarchical_scores(gold, trained.classifier.predict(test))
    chance = hierarchical_scores(gold, majority_baseline([d.labels for d in train], len(test)))
    assert scores["micro_f1"] > chance["micro_f1"] + 0.3
    assert 1 <= trained.best_epoch <= TINY["epochs"]


def test_save_load_round_trip(trained, splits, tmp_path):
    _, _, test = splits
    path = trained.classifier.save(tmp_path / "model.pt")
    loaded = Classifier.load(path)
    assert loaded.labels.labels == trained.classifier.labels.labels
    assert loaded.vocab.itos == trained.classifier.vocab.itos
    assert torch.allclose(loaded.predict_proba(test), trained.classifier.predict_proba(test))


def test_load_rejects_other_files(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        Classifier.load(tmp_path / "other.pt")


def test_hierarchical_and_flat_label_spaces(trained, splits):
    train, dev, _ = splits
    hierarchical = trained.classifier.labels.labels
    assert set(hierarchical) == {x for d in train for x in targets(d.labels, "hierarchical")}
    flat = fit(train, dev, TrainConfig(**{**TINY, "epochs": 2}, mode="flat")).classifier
    assert set(flat.labels.labels) == {x for d in train for x in leaf_labels(d.labels)}
    row = encode_targets(
        [Document(labels=("Science", "Science--Physics"), tokens=("x",))], flat.labels, "flat"
    )
    assert row.sum() == 1 and row[0, flat.labels.index["Science--Physics"]] == 1


def test_same_seed_same_model(splits):
    train, dev, _ = splits
    a = fit(train, dev, TrainConfig(**{**TINY, "epochs": 1}))
    b = fit(train, dev, TrainConfig(**{**TINY, "epochs": 1}))
    assert a.history == b.history


def test_recursive_penalty():
    weight = torch.tensor([[1.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    pairs = torch.tensor([[0, 1], [0, 2]])
    assert float(recursive_penalty(weight, pairs)) == pytest.approx(2.0)
    assert float(recursive_penalty(weight, torch.zeros(0, 2, dtype=torch.long))) == 0.0


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        TrainConfig(mode="tree")


def test_tfidf_baseline_learns(splits):
    train, dev, test = splits
    result = fit_tfidf_baseline(train, dev, test)
    gold = [d.labels for d in test]
    scores = hierarchical_scores(gold, result.predictions)
    chance = hierarchical_scores(gold, majority_baseline([d.labels for d in train], len(test)))
    assert scores["micro_f1"] > chance["micro_f1"] + 0.3
    assert result.c in (1.0, 10.0, 100.0)
    assert len(result.predictions) == len(test)


def test_bigram_features_see_pairs_and_come_from_train_only(splits):
    train, dev, test = splits
    assert ngrams(["a", "b", "c"], 2) == ["a", "b", "c", "a b", "b c"]
    unigram = fit_tfidf_baseline(train, dev, test, ngram=1, cs=(10.0,))
    bigram = fit_tfidf_baseline(train, dev, test, ngram=2, cs=(10.0,))
    assert bigram.features > 2 * unigram.features
    # a test-only token adds no feature: the vocabulary is built from train
    odd = [Document(labels=d.labels, tokens=(*d.tokens, "zzz-test-only")) for d in test]
    assert fit_tfidf_baseline(train, dev, odd, ngram=1, cs=(10.0,)).features == unigram.features


def test_injected_network_is_trained(splits):
    train, dev, _ = splits
    seen = []

    def factory(vocab_size, num_labels, config):
        model = textcnn_factory(vocab_size, num_labels, config)
        seen.append(model)
        return model

    result = fit(train, dev, TrainConfig(**{**TINY, "epochs": 1}), model_factory=factory)
    assert len(seen) == 1 and result.classifier.model is seen[0]
    with pytest.raises(ValueError, match="kernel sizes"):
        TrainConfig(kernel_sizes=(0,))
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=-1.0)
