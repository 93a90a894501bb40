"""The hybrid model: a TensorFlow feature extractor feeding a PyTorch head.

Both training paths build exactly the same network from the same seed: the extractor is a pure
TensorFlow function (by default :func:`extract_features`, a stack of dense ReLU layers), the head
is a small torch MLP. The DLPack path keeps the extractor's weights in ``tf.Variable`` objects
(:class:`TFFeatureExtractor`); the tfpyth path feeds them to a TF1 graph through placeholders.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import torch
from torch import nn

from .bridge import TFModule
from .config import DEFAULT_FEATURES, ModelConfig
from .runs import atomic_file

__all__ = [
    "DEFAULT_FEATURES",
    "HybridModel",
    "ModelConfig",
    "TFFeatureExtractor",
    "extract_features",
    "init_extractor_weights",
    "load_hybrid",
    "make_head",
    "resolve_features",
    "save_checkpoint",
    "save_hybrid",
]

Features = Callable[..., tf.Tensor]


def init_extractor_weights(n_features: int, config: ModelConfig) -> list[np.ndarray]:
    """He-uniform weights and zero biases ``[w1, b1, w2, b2, ...]`` as float32 arrays.

    Deterministic: the same ``config.seed`` gives the same arrays in every process.
    """
    rng = np.random.default_rng(config.seed)
    weights: list[np.ndarray] = []
    fan_in = n_features
    for width in config.hidden:
        limit = np.sqrt(6.0 / fan_in)
        weights.append(rng.uniform(-limit, limit, size=(fan_in, width)).astype(np.float32))
        weights.append(np.zeros(width, dtype=np.float32))
        fan_in = width
    return weights


def extract_features(x: tf.Tensor, *weights: tf.Tensor) -> tf.Tensor:
    """The TensorFlow feature map: ``relu(x @ w + b)`` for each ``(w, b)`` pair in turn.

    Works on eager tensors, variables and TF1 placeholders alike.
    """
    if len(weights) % 2:
        raise ValueError("weights must come in (kernel, bias) pairs")
    for kernel, bias in zip(weights[::2], weights[1::2], strict=True):
        x = tf.nn.relu(tf.matmul(x, kernel) + bias)
    return x


def resolve_features(spec: str = DEFAULT_FEATURES) -> Features:
    """The TensorFlow feature function named ``"module:function"`` (``ModelConfig.features``).

    It must take ``(x, w1, b1, w2, b2, ...)`` like :func:`extract_features`. Raises
    ``ValueError`` when the name does not lead to a callable.
    """
    module_name, _, attr = spec.partition(":")
    function = getattr(importlib.import_module(module_name), attr, None)
    if not callable(function):
        raise ValueError(f"{spec!r} does not name a function")
    features: Features = function
    return features


class TFFeatureExtractor(tf.Module):
    """A feature function (default :func:`extract_features`) with its weights held in trainable
    ``tf.Variable`` objects."""

    def __init__(
        self,
        weights: list[np.ndarray],
        features: Features = extract_features,
        name: str = "feature_extractor",
    ) -> None:
        super().__init__(name=name)
        self.features = features
        self.weights = [
            tf.Variable(
                tf.convert_to_tensor(w),
                trainable=True,
                name=f"{'kernel' if i % 2 == 0 else 'bias'}_{i // 2}",
            )
            for i, w in enumerate(weights)
        ]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return self.features(x, *self.weights)


def make_head(n_features: int, n_classes: int, config: ModelConfig) -> nn.Sequential:
    """The torch head ``Linear -> ReLU -> Linear``, initialised from ``config.seed`` only.

    The global torch RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return nn.Sequential(
            nn.Linear(n_features, config.head_hidden),
            nn.ReLU(),
            nn.Linear(config.head_hidden, n_classes),
        )


class HybridModel(nn.Module):
    """``head(extractor(x))``: TensorFlow features, torch logits, one torch optimizer for all.

    ``self.extractor`` is a :class:`~.bridge.TFModule`: its parameters mirror the TensorFlow
    variables of ``self.tf_extractor``.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        config: ModelConfig | None = None,
        extractor_weights: list[np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        self.n_features = n_features
        self.n_classes = n_classes
        if extractor_weights is None:
            extractor_weights = init_extractor_weights(n_features, self.config)
        self.tf_extractor = TFFeatureExtractor(
            extractor_weights, resolve_features(self.config.features)
        )
        self.extractor = TFModule.from_tf_module(self.tf_extractor)
        self.head = make_head(self.config.hidden[-1], n_classes, self.config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (batch, n_classes) for ``x`` of shape (batch, n_features).

        Raises ``ValueError`` (message with "shape") for any other input shape.
        """
        # >>> assignment: check x is (batch, n_features); return head(extractor(x))
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"expected input of shape (batch, {self.n_features}), got {tuple(x.shape)}"
            )
        logits: torch.Tensor = self.head(self.extractor(x))
        return logits
        # <<< assignment


def save_checkpoint(
    path: str | Path,
    extractor_weights: Sequence[torch.Tensor],
    head: nn.Module,
    config: ModelConfig,
    n_features: int,
    n_classes: int,
) -> Path:
    """Write a checkpoint both training paths share; returns the path written."""
    path = Path(path)
    with atomic_file(path) as partial:  # renamed into place once complete
        torch.save(
            {
                "extractor": [w.detach().clone() for w in extractor_weights],
                "head": head.state_dict(),
                "config": asdict(config),
                "n_features": n_features,
                "n_classes": n_classes,
            },
            partial,
        )
    return path


def save_hybrid(model: HybridModel, path: str | Path) -> Path:
    """Save a :class:`HybridModel` with :func:`save_checkpoint`."""
    return save_checkpoint(
        path,
        list(model.extractor.tf_params),
        model.head,
        model.config,
        model.n_features,
        model.n_classes,
    )


def load_hybrid(path: str | Path) -> HybridModel:
    """Rebuild a :class:`HybridModel` from a checkpoint written by either training path.

    Raises ``FileNotFoundError`` if the file is missing and ``ValueError`` if it is not a
    checkpoint of this project.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    missing = {"extractor", "head", "config", "n_features", "n_classes"} - set(state)
    if missing:
        raise ValueError(f"{path} is not a checkpoint of this project (missing {sorted(missing)})")
    config = ModelConfig.from_dict(state["config"])
    weights = [w.numpy() for w in state["extractor"]]
    model = HybridModel(state["n_features"], state["n_classes"], config, weights)
    model.head.load_state_dict(state["head"])
    return model
