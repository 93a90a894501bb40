# points: 10

import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.baselines import logistic_regression
from {{ cookiecutter.package_name }}.bridge import torch_from_tf
from {{ cookiecutter.package_name }}.data import load_split
from {{ cookiecutter.package_name }}.evaluate import accuracy, agreement, evaluate_checkpoint
from {{ cookiecutter.package_name }}.model import ModelConfig
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    batches,
    fit,
    gradient_error,
    train_dlpack,
)

QUICK = TrainConfig(epochs=4, lr=5e-3, model=ModelConfig(hidden=(64, 32), head_hidden=16))


def test_dlpack_training_learns_and_checkpoint_round_trips(digits, tmp_path):
    result = train_dlpack(digits, QUICK, out_dir=tmp_path)
    assert result.bridge == "dlpack" and len(result.losses) == QUICK.epochs
    assert len(result.step_losses) == QUICK.epochs * -(-len(digits.y_train) // QUICK.batch_size)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert result.test_accuracy >= 0.85  # chance is 0.10
    assert len(result.predictions) == len(digits.y_test)
    assert result.gradient_error < 1e-6  # the bridge's gradients match central differences
    reloaded = evaluate_checkpoint(result.checkpoint, load_split("digits"))  # the project seed
    assert reloaded["test_accuracy"] == pytest.approx(result.test_accuracy)


def test_the_frozen_extractor_trains_the_head_alone(digits):
    config = TrainConfig(epochs=2, model=ModelConfig(hidden=(32, 4), head_hidden=8))
    frozen = train_dlpack(digits, config, freeze_extractor=True)
    trained = train_dlpack(digits, config)
    assert frozen.bridge == "frozen_extractor" and frozen.gradient_error is None
    assert frozen.losses[-1] < frozen.losses[0]  # the head learns ...
    assert frozen.step_losses[0] == pytest.approx(trained.step_losses[0])  # ... from the same start
    assert frozen.step_losses[1:] != trained.step_losses[1:]  # ... while the TF half stays put


def test_fit_keeps_the_epoch_with_the_best_dev_accuracy():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    y = (x[:, 0] > 0).long()
    layer = torch.nn.Linear(3, 2)
    config = TrainConfig(epochs=6, batch_size=16, lr=0.5, seed=0)
    # a dev split whose labels are the opposite: the best dev epoch is the first, not the last
    flipped = (x, 1 - y)
    result = fit(layer, layer.parameters(), x, y, config, dev=flipped)
    assert len(result.dev_accuracies) == 6
    assert result.best_epoch == 1 + int(np.argmax(result.dev_accuracies))
    best = result.dev_accuracies[result.best_epoch - 1]
    kept = accuracy(layer(x).argmax(1).numpy(), (1 - y).numpy())
    assert kept == pytest.approx(best)  # the weights put back are that epoch's
    assert result.best_epoch < config.epochs  # not simply the last epoch's weights


def test_gradient_error_is_small_for_a_true_gradient_and_one_for_a_missing_one():
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 4, dtype=torch.float64)
    true = torch_from_tf(lambda x, w: tf_tanh_matmul(x, w))
    assert gradient_error(lambda x: true(x, w).square().sum(), x, [w], seed=0) < 1e-7

    class DropsW(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):  # type: ignore[override]
            ctx.save_for_backward(x, w)
            return torch.tanh(x @ w)

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            x, w = ctx.saved_tensors
            inner = grad * (1 - torch.tanh(x @ w) ** 2)
            return inner @ w.T, torch.zeros_like(w)  # the gradient of w is lost

    assert gradient_error(lambda x: DropsW.apply(x, w).square().sum(), x, [w], seed=0) == (
        pytest.approx(1.0)
    )
    with pytest.raises(ValueError, match="float64"):
        gradient_error(lambda x: x.sum(), x.float(), [], seed=0)


def tf_tanh_matmul(x, w):
    import tensorflow as tf

    return tf.tanh(tf.matmul(x, w))


def test_logistic_regression_chooses_c_on_dev(digits):
    baseline = logistic_regression(digits, grid=(0.001, 10.0))
    assert baseline.setting == 10.0  # C = 0.001 barely fits the pixels
    assert baseline.dev_accuracy > 0.9 and baseline.test_accuracy > 0.9


def test_training_is_deterministic(digits):
    config = TrainConfig(epochs=1, model=ModelConfig(hidden=(32,), head_hidden=8))
    first, second = train_dlpack(digits, config), train_dlpack(digits, config)
    assert first.step_losses == second.step_losses and first.predictions == second.predictions


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
