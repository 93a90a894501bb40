"""Metrics, and evaluation of a saved checkpoint through the DLPack bridge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .data import DEFAULT_SEED


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


def evaluate_checkpoint(
    path: str | Path, dataset: str = "digits", seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Load a checkpoint (from either bridge), run it through the DLPack bridge on the test split.

    Returns ``{"checkpoint", "dataset", "test_accuracy", "n_test"}``.
    """
    import torch

    from .data import load_split
    from .model import load_hybrid
    from .train import predict

    model = load_hybrid(path)
    split = load_split(dataset, seed=seed)
    if split.n_features != model.n_features:
        raise ValueError(
            f"{path} expects {model.n_features} features but {dataset} has {split.n_features}"
        )
    model.eval()
    pred = predict(model, torch.from_numpy(split.x_test))
    return {
        "checkpoint": str(path),
        "dataset": dataset,
        "test_accuracy": accuracy(pred, split.y_test),
        "n_test": int(len(split.y_test)),
    }
