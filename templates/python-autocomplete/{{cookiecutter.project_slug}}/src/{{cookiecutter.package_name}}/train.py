"""Training: truncated backpropagation through time over contiguous rows of code."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional

from .data import batchify, windows
from .model import MAX_CONTEXT, LSTMLanguageModel, State, detach_state
from .runs import HISTORY, atomic_file

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
    learning_rates: list[float] = field(default_factory=list)
    elapsed: list[float] = field(default_factory=list)  # seconds since the start, per step
    tokens_seen: int = 0
    epochs: float = 0.0
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C ended the training early (``stop_on_interrupt``)

    @property
    def steps(self) -> int:
        return len(self.losses)

    def mean_loss(self, first: bool, window: int = 20) -> float:
        """Mean loss of the first or the last ``window`` steps (nan before any step)."""
        part = self.losses[:window] if first else self.losses[-window:]
        return sum(part) / len(part) if part else math.nan

    def history(self, window: int = 50) -> list[dict[str, float]]:
        """One row per step for the run folder's history: the step's loss, the mean loss of the
        last ``window`` steps (the learning curve a person reads), learning rate, seconds."""
        rows = []
        total = 0.0
        for index, loss in enumerate(self.losses):
            total += loss - (self.losses[index - window] if index >= window else 0.0)
            rows.append(
                {
                    "step": index + 1,
                    "loss": loss,
                    "loss_mean": total / min(index + 1, window),
                    "lr": self.learning_rates[index],
                    "seconds": self.elapsed[index],
                }
            )
        return rows


def write_history(folder: Path, result: TrainResult) -> Path:
    """The per-step history (``TrainResult.history``) as the run folder's ``history.jsonl``."""
    with atomic_file(Path(folder) / HISTORY) as staging:
        staging.write_text(
            "".join(json.dumps(row) + "\n" for row in result.history()), encoding="utf-8"
        )
    return Path(folder) / HISTORY


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
    stop_on_interrupt: bool = False,
) -> TrainResult:
    """Train ``model`` on the token-id stream ``ids`` until the step or time budget is spent.

    The stream is cut into ``batch_size`` rows read ``seq_len`` tokens at a time, the LSTM
    state carried from window to window and started blank every ``context`` tokens, for as
    many epochs as the budget allows. Only
    parameters that require gradients are trained (freeze one to ablate it); raises
    ``ValueError`` when none does.
    ``on_progress`` is called every ``log_every`` steps (to log, or to save a checkpoint).
    With ``stop_on_interrupt``, Ctrl-C ends the training (the model keeps what it learned,
    ``TrainResult.interrupted`` says so) instead of the program.
    """
    result = TrainResult()
    try:
        _train(model, ids, config, result, device, on_progress)
    except KeyboardInterrupt:
        if not stop_on_interrupt:
            raise
        result.interrupted = True
        log.warning("interrupted at step %d: the model keeps what it learned so far", result.steps)
    return result


def _train(
    model: LSTMLanguageModel,
    ids: Sequence[int],
    config: TrainConfig,
    result: TrainResult,
    device: str | torch.device,
    on_progress: Callable[[TrainResult], None] | None,
) -> None:
    inputs, targets = batchify(ids, config.batch_size)
    inputs, targets = inputs.to(device), targets.to(device)
    model.to(device).train()
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if not trainable:
        raise ValueError("the model has no trainable parameters")
    optimizer = torch.optim.Adam(trainable, lr=config.lr)
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
            result.seconds = elapsed
            if _spent(config, result.steps, elapsed, budget_seconds):
                return
            progress = max(
                result.steps / config.max_steps if config.max_steps else 0.0,
                elapsed / budget_seconds,
            )
            rate = learning_rate(config, result.steps, progress)
            for group in optimizer.param_groups:
                group["lr"] = rate
            logits, state = model(window_inputs, state)
            state = detach_state(state)
            loss = functional.cross_entropy(logits.flatten(0, 1), window_targets.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            optimizer.step()
            result.losses.append(loss.item())
            result.learning_rates.append(rate)
            result.elapsed.append(time.perf_counter() - start)
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
