"""Training: truncated backpropagation through time over contiguous rows of code."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch.nn import functional

from .data import batchify, windows
from .model import MAX_CONTEXT, LSTMLanguageModel, State, detach_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """How long and how to train. Training stops at ``max_steps`` or ``max_minutes``, first
    reached; a step budget gives the same model on every run, a time budget does not."""

    batch_size: int = 16
    seq_len: int = 32
    context: int = MAX_CONTEXT  # the state starts blank every `context` tokens (see model.py)
    lr: float = 5e-3
    warmup_steps: int = 20
    min_lr_fraction: float = 0.1
    grad_clip: float = 1.0
    max_steps: int | None = None
    max_minutes: float | None = None
    log_every: int = 100

    def __post_init__(self) -> None:
        if self.max_steps is None and self.max_minutes is None:
            raise ValueError("give max_steps or max_minutes (or both)")


@dataclass
class TrainResult:
    """What happened: the loss of every step, and how much text and time it took."""

    losses: list[float] = field(default_factory=list)
    tokens_seen: int = 0
    epochs: float = 0.0
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.losses)

    def mean_loss(self, first: bool, window: int = 20) -> float:
        """Mean loss of the first or the last ``window`` steps (nan before any step)."""
        part = self.losses[:window] if first else self.losses[-window:]
        return sum(part) / len(part) if part else math.nan


def seed_everything(seed: int) -> None:
    """Seed Python and torch so that a step-budgeted run is repeatable."""
    random.seed(seed)
    torch.manual_seed(seed)


def learning_rate(config: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_fraction * lr`` as progress goes 0 -> 1."""
    warmup = min(1.0, (step + 1) / max(1, config.warmup_steps))
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.lr * warmup * (config.min_lr_fraction + (1 - config.min_lr_fraction) * cosine)


def train(
    model: LSTMLanguageModel,
    ids: Sequence[int],
    config: TrainConfig,
    *,
    device: str | torch.device = "cpu",
    on_progress: Callable[[TrainResult], None] | None = None,
) -> TrainResult:
    """Train ``model`` on the token-id stream ``ids`` until the step or time budget is spent.

    The stream is cut into ``batch_size`` rows read ``seq_len`` tokens at a time, the LSTM
    state carried from window to window and started blank every ``context`` tokens, for as
    many epochs as the budget allows. Only
    parameters that require gradients are trained (freeze one to ablate it); raises
    ``ValueError`` when none does.
    ``on_progress`` is called every ``log_every`` steps (to log, or to save a checkpoint).
    """
    inputs, targets = batchify(ids, config.batch_size)
    inputs, targets = inputs.to(device), targets.to(device)
    model.to(device).train()
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not trainable:
        raise ValueError("the model has no trainable parameters")
    optimizer = torch.optim.Adam(trainable, lr=config.lr)
    result = TrainResult()
    budget_seconds = config.max_minutes * 60 if config.max_minutes is not None else math.inf
    windows_per_context = max(1, config.context // config.seq_len)
    start = time.perf_counter()
    while True:
        state: State | None = None
        for index, (window_inputs, window_targets) in enumerate(
            windows(inputs, targets, config.seq_len)
        ):
            if index % windows_per_context == 0:
                state = None  # a blank start, as when completing from the code before the cursor
            elapsed = time.perf_counter() - start
            if _spent(config, result.steps, elapsed, budget_seconds):
                result.seconds = elapsed
                return result
            progress = max(
                result.steps / config.max_steps if config.max_steps else 0.0,
                elapsed / budget_seconds,
            )
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, result.steps, progress)
            logits, state = model(window_inputs, state)
            state = detach_state(state)
            loss = functional.cross_entropy(logits.flatten(0, 1), window_targets.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            optimizer.step()
            result.losses.append(loss.item())
            result.tokens_seen += window_targets.numel()
            result.epochs = result.tokens_seen / targets.numel()
            if result.steps % config.log_every == 0:
                log.info(
                    "step %d  loss %.3f  epoch %.2f  %.0f s",
                    result.steps,
                    sum(result.losses[-config.log_every :]) / config.log_every,
                    result.epochs,
                    time.perf_counter() - start,
                )
                if on_progress is not None:
                    on_progress(result)


def _spent(config: TrainConfig, steps: int, elapsed: float, budget_seconds: float) -> bool:
    return (config.max_steps is not None and steps >= config.max_steps) or elapsed >= budget_seconds
