"""Training: one torch loop, whichever bridge carries the TensorFlow half.

:func:`fit` knows nothing about TensorFlow: it gets a forward function and the parameters to
train. :func:`train_dlpack` runs it on the DLPack bridge in this process; :mod:`.legacy` runs the
same loop through tfpyth in a subprocess. Same seed, same batches, same initial weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .data import DEFAULT_SEED, Split
from .evaluate import accuracy
from .model import HybridModel, ModelConfig, save_hybrid

log = logging.getLogger(__name__)

Forward = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``model`` holds the architecture and init seed."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = DEFAULT_SEED
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"epochs, batch_size and lr must be positive, got {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        model = values.get("model", {})
        return cls(
            **{**values, "model": ModelConfig(**{**model, "hidden": tuple(model["hidden"])})}
        )


@dataclass
class TrainResult:
    """What a training run reports: accuracy, per-epoch mean loss, predictions and timing."""

    bridge: str
    test_accuracy: float
    train_accuracy: float
    losses: list[float]
    predictions: list[int]
    seconds: float
    checkpoint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterable[torch.Tensor]:
    """Indices of one shuffled epoch in chunks of ``batch_size`` (the last may be shorter)."""
    order = torch.randperm(n, generator=generator)
    return order.split(batch_size)


def fit(
    forward: Forward,
    params: Iterable[nn.Parameter],
    x: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
) -> list[float]:
    """Train ``params`` with Adam on cross-entropy; return the mean loss of every epoch.

    The batch order depends only on ``config.seed``.
    """
    optimizer = torch.optim.Adam(list(params), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for epoch in range(config.epochs):
        total, count = 0.0, 0
        for index in batches(len(x), config.batch_size, generator):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(forward(x[index]), y[index])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
            count += len(index)
        losses.append(total / count)
        log.info("epoch %d/%d  loss %.4f", epoch + 1, config.epochs, losses[-1])
    return losses


@torch.no_grad()
def predict(forward: Forward, x: torch.Tensor, batch_size: int = 1024) -> np.ndarray:
    """Predicted class of every row of ``x`` (int64 array)."""
    out = [forward(chunk).argmax(dim=1) for chunk in x.split(batch_size)]
    return torch.cat(out).numpy()


def train_dlpack(
    split: Split, config: TrainConfig, out_dir: str | Path | None = None
) -> TrainResult:
    """Train the hybrid model through the DLPack bridge, in this process.

    Writes ``model.pt`` into ``out_dir`` when given.
    """
    start = time.perf_counter()
    model = HybridModel(split.n_features, split.n_classes, config.model)
    x_train, y_train = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    losses = fit(model, model.parameters(), x_train, y_train, config)
    model.extractor.sync_to_tf()
    test_pred = predict(model, torch.from_numpy(split.x_test))
    train_pred = predict(model, x_train)
    checkpoint = None
    if out_dir is not None:
        checkpoint = str(save_hybrid(model, Path(out_dir) / "model.pt"))
    return TrainResult(
        bridge="dlpack",
        test_accuracy=accuracy(test_pred, split.y_test),
        train_accuracy=accuracy(train_pred, split.y_train),
        losses=losses,
        predictions=test_pred.tolist(),
        seconds=time.perf_counter() - start,
        checkpoint=checkpoint,
    )
