"""Metrics, and evaluation of a saved checkpoint through the DLPack bridge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .data import Split


def accuracy(predictions: np.ndarray | list[int], labels: np.ndarray | list[int]) -> float:
    """Fraction of ``predictions`` equal to ``labels``; raises ``ValueError`` on a length mismatch
    or empty input."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or predictions.size == 0:
        raise ValueError(
            f"need two non-empty arrays of one shape, got {predictions.shape} and {labels.shape}"
        )
    return float((predictions == labels).mean())


def agreement(a: np.ndarray | list[int], b: np.ndarray | list[int]) -> float:
    """Fraction of examples on which two models predict the same class."""
    return accuracy(a, b)


def evaluate_checkpoint(path: str | Path, split: Split) -> dict[str, Any]:
    """Load a checkpoint (from either bridge) and run it through the DLPack bridge on the test
    split of ``split``.

    Returns ``{"checkpoint", "dataset", "test_accuracy", "test_error", "n_test"}``. Raises
    ``ValueError`` when the checkpoint expects another number of input features.
    """
    import torch

    from .model import load_hybrid
    from .train import predict

    model = load_hybrid(path)
    if split.n_features != model.n_features:
        raise ValueError(
            f"{path} expects {model.n_features} features but {split.name} has {split.n_features}"
        )
    model.eval()
    pred = predict(model, torch.from_numpy(split.x_test))
    test_accuracy = accuracy(pred, split.y_test)
    return {
        "checkpoint": str(path),
        "dataset": split.name,
        "test_accuracy": test_accuracy,
        "test_error": 1.0 - test_accuracy,
        "n_test": int(len(split.y_test)),
    }
