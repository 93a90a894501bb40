"""Fine-tuning: one plain PyTorch loop for the tiny smoke model and for a pretrained encoder."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup


@dataclass
class TrainConfig:
    """Hyperparameters of `fit`; the defaults suit fine-tuning a pretrained encoder."""

    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 64
    max_grad_norm: float = 1.0
    seed: int = 0
    log_every: int = 50
    # bfloat16 autocast on a CUDA GPU that supports it; CPU training stays float32.
    mixed_precision: bool = True
    # With a dev score: stop after this many epochs without a better one (None: run them all).
    patience: int | None = None


@dataclass
class TrainResult:
    """What `fit` did: the loss of every optimiser step, the dev score after every epoch (when
    there was a dev set), the epoch whose weights were kept, and the time it took."""

    losses: list[float] = field(default_factory=list)
    dev_scores: list[float] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def mean_loss(self, first: bool, fraction: float = 0.1) -> float:
        """Mean loss over the first (or last) `fraction` of the steps, at least one step."""
        if not self.losses:
            raise ValueError("no training step was taken")
        k = max(1, round(len(self.losses) * fraction))
        window = self.losses[:k] if first else self.losses[-k:]
        return sum(window) / len(window)


def batches(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int] | None,
    batch_size: int,
    max_length: int,
    shuffle: bool = False,
    seed: int = 0,
) -> Iterator[dict[str, torch.Tensor]]:
    """Tokenized batches, each padded to its own longest sentence (at most `max_length` tokens).

    With `labels`, each batch carries a `labels` tensor, so the model returns its loss.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    # >>> assignment: seeded shuffle; pad/truncate each slice; add long labels
    order = list(range(len(texts)))
    if shuffle:
        random.Random(seed).shuffle(order)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in index],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        if labels is not None:
            batch["labels"] = torch.tensor([labels[i] for i in index], dtype=torch.long)
        yield dict(batch)
    # <<< assignment


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    # No weight decay on biases and LayerNorm weights (the usual BERT recipe).
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for param in model.parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # transformers 5 removed transformers.AdamW: torch's own is the one to use.
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def train_step(
    model: PreTrainedModel,
    batch: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    max_grad_norm: float,
    use_bf16: bool = False,
) -> float:
    """One optimiser step on one batch (with `labels`, on the model's device); returns its loss.

    Forward (under bfloat16 autocast when `use_bf16`), backward, clip the gradient norm to
    `max_grad_norm`, step the optimiser and then the schedule, and clear the gradients.
    """
    # >>> assignment: forward (autocast), backward, clip, step both, zero grads
    with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=use_bf16):
        loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()
    # <<< assignment


def fit(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int],
    config: TrainConfig,
    device: torch.device | None = None,
    log: Callable[[str], None] | None = None,
    dev_score: Callable[[], float] | None = None,
) -> TrainResult:
    """Fine-tune `model` in place on (texts, labels) with AdamW and a linear warm-up schedule.

    With `dev_score` (higher is better, measured on a dev split the model does not train on),
    the model is scored after every epoch and ends with the weights of its best epoch; training
    stops early after `config.patience` epochs without improvement. The test split never takes
    part in this choice. The model is left on `device` in eval mode. The same seed, data and
    device give the same weights. Raises ValueError on empty or mismatched data.
    """
    if not texts:
        raise ValueError("no training texts")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if config.epochs <= 0:
        raise ValueError(f"epochs must be positive, got {config.epochs}")
    device = device or torch.device("cpu")
    torch.manual_seed(config.seed)
    model.to(device).train()
    optimizer = _optimizer(model, config)
    total_steps = math.ceil(len(texts) / config.batch_size) * config.epochs
    scheduler = get_linear_schedule_with_warmup(
        optimizer, round(config.warmup_ratio * total_steps), total_steps
    )
    use_bf16 = config.mixed_precision and device.type == "cuda" and torch.cuda.is_bf16_supported()
    result = TrainResult()
    best_state: dict[str, torch.Tensor] | None = None
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(config.epochs):
        for batch in batches(
            tokenizer,
            texts,
            labels,
            config.batch_size,
            config.max_length,
            shuffle=True,
            seed=config.seed + epoch,
        ):
            batch = {key: value.to(device) for key, value in batch.items()}
            loss = train_step(model, batch, optimizer, scheduler, config.max_grad_norm, use_bf16)
            result.losses.append(loss)
            step = len(result.losses)
            if log and (step % config.log_every == 0 or step == total_steps):
                recent = result.losses[-config.log_every :]
                log(
                    f"epoch {epoch + 1}/{config.epochs} step {step}/{total_steps} "
                    f"loss {sum(recent) / len(recent):.4f} ({time.perf_counter() - start:.0f} s)"
                )
        if dev_score is None:
            continue
        score = dev_score()
        result.dev_scores.append(score)
        if log:
            log(f"epoch {epoch + 1}/{config.epochs} dev score {score:.4f}")
        if score > max(result.dev_scores[:-1], default=-math.inf):
            result.best_epoch = epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif config.patience is not None and epoch + 1 - result.best_epoch >= config.patience:
            break
        model.train()  # scoring switched the model to eval mode
    if best_state is not None:
        model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    model.eval()
    return result
