# points: 15

import numpy as np
import pytest
import tensorflow as tf
import torch

from {{ cookiecutter.package_name }}.model import (
    DEFAULT_FEATURES,
    HybridModel,
    ModelConfig,
    TFFeatureExtractor,
    extract_features,
    init_extractor_weights,
    load_hybrid,
    resolve_features,
    save_hybrid,
)

SMALL = ModelConfig(hidden=(16, 8), head_hidden=4, seed=3)


def test_init_weights_shapes_and_determinism():
    weights = init_extractor_weights(64, SMALL)
    assert [w.shape for w in weights] == [(64, 16), (16,), (16, 8), (8,)]
    assert all(w.dtype == np.float32 for w in weights)
    again = init_extractor_weights(64, SMALL)
    assert all(np.array_equal(a, b) for a, b in zip(weights, again, strict=True))


def test_extract_features_is_a_relu_stack():
    weights = init_extractor_weights(64, SMALL)
    x = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    features = extract_features(tf.constant(x), *weights).numpy()
    expected = np.maximum(np.maximum(x @ weights[0] + weights[1], 0) @ weights[2] + weights[3], 0)
    assert features.shape == (5, 8) and features.min() >= 0
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    module = TFFeatureExtractor(weights)
    np.testing.assert_allclose(module(x).numpy(), features)
    assert len(module.trainable_variables) == 4


def test_extract_features_needs_pairs():
    with pytest.raises(ValueError, match="pairs"):
        extract_features(tf.ones((1, 2)), tf.ones((2, 2)))


@pytest.mark.parametrize("bad", [{"hidden": ()}, {"hidden": (8, 0)}, {"head_hidden": 0}])
def test_bad_config_is_rejected(bad):
    with pytest.raises(ValueError, match="positive"):
        ModelConfig(**bad)


def test_hybrid_model_shapes_and_parameters():
    model = HybridModel(64, 10, SMALL)
    logits = model(torch.rand(7, 64))
    assert logits.shape == (7, 10)
    # 4 TensorFlow weights mirrored as torch parameters + 4 in the torch head
    assert len(list(model.parameters())) == 8
    with pytest.raises(ValueError, match="shape"):
        model(torch.rand(7, 63))


def test_save_load_round_trip(tmp_path):
    model = HybridModel(64, 10, SMALL)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.01)  # not the initial weights any more
    x = torch.rand(6, 64)
    path = save_hybrid(model, tmp_path / "ckpt" / "model.pt")
    loaded = load_hybrid(path)
    assert loaded.config == SMALL
    torch.testing.assert_close(loaded(x), model(x))
    np.testing.assert_array_equal(
        loaded.tf_extractor.weights[0].numpy(), model.extractor.tf_params[0].detach().numpy()
    )


def test_load_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_hybrid(tmp_path / "nope.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": [torch.ones(1)]}, foreign)
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_hybrid(foreign)


def test_the_feature_function_is_part_of_the_config(tmp_path):
    assert resolve_features(DEFAULT_FEATURES) is extract_features
    frozen = ModelConfig(
        hidden=(16, 8), head_hidden=4, seed=3, features="breakages:frozen_features"
    )
    model, plain = HybridModel(64, 10, frozen), HybridModel(64, 10, SMALL)
    x = torch.rand(5, 64)
    torch.testing.assert_close(model(x), plain(x))  # the same values ...
    model(x).sum().backward()
    assert all(float(p.grad.abs().sum()) == 0.0 for p in model.extractor.tf_params)  # no TF grads
    assert load_hybrid(save_hybrid(model, tmp_path / "m.pt")).config.features == frozen.features
    with pytest.raises(ValueError, match="module:function"):
        ModelConfig(features="extract_features")
    with pytest.raises(ValueError, match="does not name a function"):
        resolve_features("math:pi")
