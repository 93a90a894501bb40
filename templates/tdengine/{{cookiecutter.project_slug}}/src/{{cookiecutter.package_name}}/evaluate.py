"""Point-wise detection metrics against the injected truth."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .data import LABELS, NORMAL


def precision_recall_f1(predicted: npt.ArrayLike, truth: npt.ArrayLike) -> dict[str, float]:
    """Precision, recall and F1 of boolean flags (arrays or lists); 0.0 where a ratio has no
    denominator.

    Returns {"precision", "recall", "f1"} rounded to 4 places and the counts {"tp", "fp", "fn"}
    as ints (true positives, false positives, false negatives).
    """
    predicted = np.asarray(predicted, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if predicted.shape != truth.shape:
        raise ValueError(f"shape mismatch: predicted {predicted.shape} vs truth {truth.shape}")
    # >>> assignment: count tp, fp, fn; precision, recall, f1 (0.0 on x / 0)
    tp = int(np.sum(predicted & truth))
    fp = int(np.sum(predicted & ~truth))
    fn = int(np.sum(~predicted & truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }
    # <<< assignment


def recall_by_label(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Share of each anomaly kind's readings that were flagged (kinds absent from `labels`: 0)."""
    predicted = np.asarray(predicted, dtype=bool)
    labels = np.asarray(labels)
    if predicted.shape != labels.shape:
        raise ValueError("shape mismatch between predictions and labels")
    out = {}
    for code, name in enumerate(LABELS):
        if code == NORMAL:
            continue
        rows = labels == code
        out[name] = round(float(predicted[rows].mean()), 4) if rows.any() else 0.0
    return out
