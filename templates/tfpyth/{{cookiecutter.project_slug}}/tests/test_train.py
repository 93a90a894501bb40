# points: 20

import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.evaluate import accuracy, agreement, evaluate_checkpoint
from {{ cookiecutter.package_name }}.model import ModelConfig
from {{ cookiecutter.package_name }}.train import TrainConfig, batches, train_dlpack

QUICK = TrainConfig(epochs=4, model=ModelConfig(hidden=(64, 32), head_hidden=16))


def test_dlpack_training_learns_and_checkpoint_round_trips(digits, tmp_path):
    result = train_dlpack(digits, QUICK, out_dir=tmp_path)
    assert result.bridge == "dlpack" and len(result.losses) == QUICK.epochs
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert result.test_accuracy >= 0.85  # chance is 0.10
    assert len(result.predictions) == len(digits.y_test)
    reloaded = evaluate_checkpoint(result.checkpoint, dataset="digits")  # the project seed
    assert reloaded["test_accuracy"] == pytest.approx(result.test_accuracy)


def test_training_is_deterministic(digits):
    config = TrainConfig(epochs=1, model=ModelConfig(hidden=(32,), head_hidden=8))
    first, second = train_dlpack(digits, config), train_dlpack(digits, config)
    assert first.losses == second.losses and first.predictions == second.predictions


def test_batches_cover_every_index_once():
    chunks = list(batches(10, 4, torch.Generator().manual_seed(0)))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert sorted(torch.cat(chunks).tolist()) == list(range(10))


def test_config_round_trips_through_json_dict():
    assert TrainConfig.from_dict(QUICK.to_dict()) == QUICK


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"batch_size": 0}, {"lr": 0.0}])
def test_bad_train_config_is_rejected(bad):
    with pytest.raises(ValueError, match="positive"):
        TrainConfig(**bad)


def test_metrics():
    assert accuracy(np.array([1, 2, 3]), np.array([1, 2, 0])) == pytest.approx(2 / 3)
    assert agreement([1, 1], [1, 1]) == 1.0
    with pytest.raises(ValueError, match="shape"):
        accuracy([1, 2], [1])
    with pytest.raises(ValueError):
        accuracy([], [])
