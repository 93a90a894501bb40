"""What a run keeps for `report`: the loss of every step, the dev score of every epoch, and each
held-out sentence's prediction with its confidence."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import torch

from .data import LABELS
from .runs import RunFolder
from .train import TrainResult

PREDICTIONS = "predictions.jsonl"


def log_history(run: RunFolder, result: TrainResult, examples: int, batch_size: int) -> None:
    """One history row per optimiser step (`step`, `epoch`, `loss`), then one per epoch with a
    dev score (`step`, `epoch`, `dev_accuracy`)."""
    per_epoch = math.ceil(examples / batch_size)
    for index, loss in enumerate(result.losses):
        run.log(step=index + 1, epoch=index // per_epoch + 1, loss=loss)
    for epoch, score in enumerate(result.dev_scores, start=1):
        run.log(step=min(epoch * per_epoch, len(result.losses)), epoch=epoch, dev_accuracy=score)


def prediction_rows(
    run: RunFolder,
    texts: Sequence[str],
    labels: Sequence[int],
    logits: torch.Tensor,
    kinds: Sequence[str] | None = None,
) -> None:
    """`predictions.jsonl` in the run: text, true and predicted label, and the model's
    probability of its prediction (its confidence)."""
    probabilities = torch.softmax(logits.float(), dim=-1)
    confidence, predicted = probabilities.max(dim=-1)
    with run.path(PREDICTIONS).open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            row = {
                "text": text,
                "label": LABELS[int(labels[i])],
                "predicted": LABELS[int(predicted[i])],
                "confidence": round(float(confidence[i]), 4),
            }
            if kinds is not None:
                row["kind"] = kinds[i]
            out.write(json.dumps(row) + "\n")
