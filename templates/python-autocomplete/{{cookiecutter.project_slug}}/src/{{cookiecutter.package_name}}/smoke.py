"""The smoke run: the whole pipeline on the standard library, offline, in about 30 s of CPU.

It tokenizes the stdlib's top-level modules, builds the vocabulary, counts the n-gram
baseline, trains the small LSTM for a fixed number of steps (so every run gives the same
numbers), saves and reloads the checkpoint, completes an example line, and scores both
models on held-out modules. Nothing is mocked and no metric is hard-coded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .data import DEFAULT_SEED, load_split
from .evaluate import evaluate_heldout
from .model import PRESETS, LSTMLanguageModel, ModelConfig
from .ngram import NGramModel
from .predict import Completer
from .train import TrainConfig, seed_everything, train
from .vocab import Vocabulary

log = logging.getLogger(__name__)

# Each target is a lower bound on the metric of the same name.
TARGETS = {"top5": 0.30, "loss_drop": 1.0}
EXAMPLE_PREFIX = (
    "import os\n\n\ndef read_lines(path):\n    with open(path) as handle:\n        return "
)


@dataclass(frozen=True)
class SmokeSettings:
    """The smoke run's budget: small enough for ~30 s on one CPU core."""

    steps: int = 400
    max_train_tokens: int = 300_000
    max_heldout_tokens: int = 40_000
    seed: int = DEFAULT_SEED
    threads: int = 1  # one thread: the same numbers run after run, fair on shared runners


def run_smoke(
    out_dir: Path | None = None, settings: SmokeSettings = SmokeSettings()
) -> dict[str, Any]:
    """Run the pipeline end to end and return ``{"ok", "seconds", "metrics", "targets"}``.

    ``ok`` is true when every metric named in ``TARGETS`` reaches its target. The trained
    model is saved to ``out_dir/model.pt`` when ``out_dir`` is given.
    """
    started = time.perf_counter()
    torch.set_num_threads(settings.threads)
    seed_everything(settings.seed)
    train_corpus, heldout_corpus = load_split(
        max_depth=0,  # the stdlib's top-level modules
        max_train_tokens=settings.max_train_tokens,
        max_heldout_tokens=settings.max_heldout_tokens,
        seed=settings.seed,
    )
    shape = PRESETS["small"]
    vocab = Vocabulary.build([[token.text for token in train_corpus.tokens]], shape["vocab_size"])
    ids = vocab.encode(token.text for token in train_corpus.tokens)
    ngram = NGramModel().fit(ids)
    config = ModelConfig(**{**shape, "vocab_size": len(vocab)}, dropout=0.0)
    model = LSTMLanguageModel(config)
    log.info("training %s parameters for %d steps", f"{model.num_parameters():,}", settings.steps)
    result = train(model, ids, TrainConfig(max_steps=settings.steps))

    if out_dir is not None:
        path = save_checkpoint(Path(out_dir) / "model.pt", model, vocab, {"run": "smoke"})
        model = load_checkpoint(path).model  # what `predict` will load
        log.info("saved %s", path)
    completion = Completer(model, vocab).complete(EXAMPLE_PREFIX)
    log.info("example: %r -> %r", EXAMPLE_PREFIX.rsplit("\n", 1)[-1], completion)

    metrics: dict[str, float] = evaluate_heldout(model, vocab, heldout_corpus.tokens, ngram=ngram)
    metrics.update(
        loss_start=result.mean_loss(first=True),
        loss_end=result.mean_loss(first=False),
        loss_drop=result.mean_loss(first=True) - result.mean_loss(first=False),
        steps=result.steps,
        train_tokens=len(ids),
        parameters=model.num_parameters(),
    )
    ok = all(metrics[name] >= target for name, target in TARGETS.items())
    return {
        "ok": ok,
        "seconds": round(time.perf_counter() - started, 1),
        "metrics": {name: round(value, 4) for name, value in sorted(metrics.items())},
        "targets": TARGETS,
    }
