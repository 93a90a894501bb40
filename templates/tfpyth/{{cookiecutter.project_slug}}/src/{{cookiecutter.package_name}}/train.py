"""Training: one torch loop, whichever bridge carries the TensorFlow half.

:func:`fit` knows nothing about TensorFlow: it gets a forward function and the parameters to
train. :func:`train_dlpack` runs it on the DLPack bridge in this process; :mod:`.legacy` runs the
same loop through tfpyth in a subprocess. Same seed, same batches, same initial weights, so the
two bridges can be compared step by step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import ModelConfig, TrainConfig, TrainResult
from .data import Split
from .evaluate import accuracy
from .model import HybridModel, init_extractor_weights, save_hybrid

__all__ = [
    "FitResult",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "batches",
    "fit",
    "gradient_error",
    "predict",
    "train_dlpack",
]

log = logging.getLogger(__name__)

Forward = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class FitResult:
    """Mean loss per epoch, loss per step, dev accuracy per epoch and the epoch kept (1-based)."""

    losses: list[float]
    step_losses: list[float]
    dev_accuracies: list[float]
    best_epoch: int


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
    dev: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> FitResult:
    """Train ``params`` with Adam on cross-entropy for ``config.epochs`` epochs (an empty
    ``params`` trains nothing).

    The batch order depends only on ``config.seed``. With ``dev`` (inputs, labels), the weights
    of the epoch with the best dev accuracy (the earliest, on a tie) are put back at the end, so
    the epoch is chosen on the dev split and never on the test split; without it, the last
    epoch's weights stay.
    """
    params = list(params)
    # nothing to train (every weight frozen): the loop still runs and reports, and learns nothing
    optimizer = torch.optim.Adam(params, lr=config.lr) if params else None
    generator = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    step_losses: list[float] = []
    dev_accuracies: list[float] = []
    best: tuple[float, int, list[torch.Tensor]] | None = None
    for epoch in range(config.epochs):
        total, count = 0.0, 0
        for index in batches(len(x), config.batch_size, generator):
            with torch.set_grad_enabled(optimizer is not None):
                loss = nn.functional.cross_entropy(forward(x[index]), y[index])
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            step_losses.append(loss.item())
            total += step_losses[-1] * len(index)
            count += len(index)
        losses.append(total / count)
        message = f"epoch {epoch + 1}/{config.epochs}  loss {losses[-1]:.4f}"
        if dev is not None:
            dev_accuracies.append(accuracy(predict(forward, dev[0]), dev[1].numpy()))
            message += f"  dev accuracy {dev_accuracies[-1]:.4f}"
            if best is None or dev_accuracies[-1] > best[0]:
                best = (dev_accuracies[-1], epoch + 1, [p.detach().clone() for p in params])
        log.info(message)
    best_epoch = config.epochs
    if best is not None:
        best_epoch = best[1]
        with torch.no_grad():
            for param, kept in zip(params, best[2], strict=True):
                param.copy_(kept)
    return FitResult(losses, step_losses, dev_accuracies, best_epoch)


@torch.no_grad()
def predict(forward: Forward, x: torch.Tensor, batch_size: int = 1024) -> np.ndarray:
    """Predicted class of every row of ``x`` (int64 array)."""
    out = [forward(chunk).argmax(dim=1) for chunk in x.split(batch_size)]
    return torch.cat(out).numpy()


def gradient_error(
    loss: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    params: Sequence[torch.Tensor],
    seed: int,
    steps: Sequence[float] = (1e-4, 1e-5, 1e-6, 1e-7),
    directions: int = 3,
) -> float:
    """How far a bridge's gradients are from the loss's own slopes: 0 when exact, 1 when absent.

    ``loss(x)`` must read ``params`` (float64 tensors that require grad, which the bridge
    differentiates) at every call. For the input ``x`` and for each tensor of ``params`` in
    turn, the gradient the bridge returns is dotted with ``directions`` random directions and
    compared with central differences of ``loss`` along them (float64, gradients off). Each
    tensor's error is the smallest over the step sizes ``steps``: a ReLU kink within one step
    spoils the large ones, round-off the small ones, and no step helps a wrong gradient.

    Returns the largest relative error over the tensors: about 1e-8 for a correct bridge, 1.0
    for one that drops the gradient of any tensor (its inputs or any of its variables), more for
    wrong signs or scales.
    """
    x = x.detach().clone().requires_grad_(True)
    tensors = [x, *params]
    if any(t.dtype != torch.float64 for t in tensors):
        raise ValueError("the gradient check runs in float64: cast the inputs and the weights")
    grads = torch.autograd.grad(loss(x), tensors, allow_unused=True)
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for tensor, grad in zip(tensors, grads, strict=True):
        vectors = [
            torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
            for _ in range(directions)
        ]
        bridge = np.array([0.0 if grad is None else float((grad * v).sum()) for v in vectors])
        errors = []
        for step in steps:
            numeric = np.array([_change(loss, x, tensor, step * v) / step for v in vectors])
            gap = float(np.linalg.norm(bridge - numeric))
            errors.append(gap / max(float(np.linalg.norm(numeric)), 1e-12))
        worst = max(worst, min(errors))
    return worst


@torch.no_grad()
def _change(
    loss: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tensor: torch.Tensor,
    delta: torch.Tensor,
) -> float:
    """The central difference ``(loss(t + delta) - loss(t - delta)) / 2`` for ``t = tensor``,
    which is changed in place and put back."""
    original = tensor.detach().clone()
    tensor.add_(delta)
    plus = float(loss(x))
    tensor.copy_(original - delta)
    minus = float(loss(x))
    tensor.copy_(original)
    return (plus - minus) / 2.0


def _model_gradient_error(model: HybridModel, split: Split, config: TrainConfig) -> float:
    """:func:`gradient_error` of the DLPack bridge, on a float64 twin of ``model`` and one batch."""
    weights = [w.astype(np.float64) for w in init_extractor_weights(split.n_features, config.model)]
    twin = HybridModel(split.n_features, split.n_classes, config.model, weights)
    twin.head.load_state_dict(model.head.state_dict())
    twin.head.double()
    x = torch.from_numpy(split.x_train[: config.batch_size]).double()
    y = torch.from_numpy(split.y_train[: config.batch_size])

    def loss(inputs: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(twin(inputs), y)

    return gradient_error(loss, x, list(twin.extractor.tf_params), seed=config.seed)


def train_dlpack(
    split: Split,
    config: TrainConfig,
    out_dir: str | Path | None = None,
    freeze_extractor: bool = False,
) -> TrainResult:
    """Train the hybrid model through the DLPack bridge, in this process.

    The epoch kept is chosen on the dev split. With ``freeze_extractor`` the TensorFlow half
    keeps its random initial weights and only the torch head trains (the baseline that shows
    what the bridge's gradients add); its bridge is then called ``"frozen_extractor"``. Writes
    ``model.pt`` into ``out_dir`` when given.
    """
    start = time.perf_counter()
    model = HybridModel(split.n_features, split.n_classes, config.model)
    check = None if freeze_extractor else _model_gradient_error(model, split, config)
    if freeze_extractor:
        # no parameter of the TF half requires grad: the bridge then runs without a tape
        model.extractor.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    x_train, y_train = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    dev = (torch.from_numpy(split.x_dev), torch.from_numpy(split.y_dev))
    fitted = fit(model, params, x_train, y_train, config, dev=dev)
    model.extractor.sync_to_tf()
    test_pred = predict(model, torch.from_numpy(split.x_test))
    checkpoint = None
    if out_dir is not None:
        checkpoint = str(save_hybrid(model, Path(out_dir) / "model.pt"))
    return TrainResult(
        bridge="frozen_extractor" if freeze_extractor else "dlpack",
        test_accuracy=accuracy(test_pred, split.y_test),
        dev_accuracy=fitted.dev_accuracies[fitted.best_epoch - 1],
        train_accuracy=accuracy(predict(model, x_train), split.y_train),
        best_epoch=fitted.best_epoch,
        losses=fitted.losses,
        step_losses=fitted.step_losses,
        predictions=test_pred.tolist(),
        seconds=time.perf_counter() - start,
        gradient_error=check,
        checkpoint=checkpoint,
    )
