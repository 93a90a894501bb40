"""The smoke run: the whole pipeline on the standard library, offline, in about 20 s of CPU.

It tokenizes a sample of the stdlib, builds the vocabulary, counts the unigram, bigram and
4-gram baselines, trains a small LSTM for a fixed number of steps (so every run gives the
same numbers), saves and reloads the checkpoint, completes an example line, and scores the
LSTM and the baselines on the same held-out tokens of the test split. Its targets
(``criteria.smoke_targets``) require the LSTM to beat the bigram by stated margins: a model
that never learns, or that cannot use the tokens before the last one, misses them.

The model is made by ``model_factory``, so tests can break it on purpose (freeze it, cut its
state between tokens, hide its input) and watch this very code path fail.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .criteria import smoke_targets
from .data import DEFAULT_SEED, load_split
from .evaluate import COMPLETION, completion_example, evaluate_heldout
from .model import LSTMLanguageModel, ModelConfig
from .ngram import fit_baselines
from .predict import Completer
from .runs import write_json
from .targets import build_report
from .train import TrainConfig, seed_everything, train, write_history
from .vocab import Vocabulary

log = logging.getLogger(__name__)

ModelFactory = Callable[[ModelConfig], LSTMLanguageModel]

EXAMPLE_PREFIX = (
    "import os\n\n\ndef read_lines(path):\n    with open(path) as handle:\n        return handle."
)


@dataclass(frozen=True)
class SmokeSettings:
    """The smoke run's budget and model. The step count and learning rate were chosen on
    the dev split (``split="dev"``); the reported run scores the test split."""

    steps: int = 300
    lr: float = 5e-3
    batch_size: int = 16
    seq_len: int = 32
    vocab_size: int = 3000
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    max_train_tokens: int = 200_000
    max_heldout_tokens: int = 30_000
    split: str = "test"
    seed: int = DEFAULT_SEED
    latency_samples: int = 30
    threads: int = 1  # one thread: the same numbers run after run, fair on shared runners

    def model_config(self, vocab_size: int) -> ModelConfig:
        """The LSTM's shape for a vocabulary of ``vocab_size`` tokens (no dropout: too short)."""
        return ModelConfig(
            vocab_size=vocab_size,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=0.0,
        )


def run_smoke(
    out_dir: Path | None = None,
    settings: SmokeSettings = SmokeSettings(),
    *,
    model_factory: ModelFactory = LSTMLanguageModel,
) -> dict[str, Any]:
    """Run the pipeline end to end and return the report (``targets.build_report``).

    ``ok`` is true exactly when every target of ``criteria.smoke_targets`` is met. The
    trained model and the report are saved in ``out_dir`` when it is given.
    """
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        metrics = _measure(out_dir, settings, model_factory)
    finally:
        torch.set_num_threads(threads)
    report = build_report(metrics, smoke_targets(metrics), started)
    if out_dir is not None:
        (Path(out_dir) / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _measure(
    out_dir: Path | None, settings: SmokeSettings, model_factory: ModelFactory
) -> dict[str, Any]:
    """Every step of the pipeline; returns the metrics of the LSTM and of the baselines."""
    seed_everything(settings.seed)
    train_corpus, heldout_corpus = load_split(
        split=settings.split,
        max_train_tokens=settings.max_train_tokens,
        max_heldout_tokens=settings.max_heldout_tokens,
        seed=settings.seed,
    )
    texts = [token.text for token in train_corpus.tokens]
    vocab = Vocabulary.build([texts], settings.vocab_size)
    ids = vocab.encode(texts)
    baselines = fit_baselines(ids)
    model = model_factory(settings.model_config(len(vocab)))
    log.info("training %s parameters for %d steps", f"{model.num_parameters():,}", settings.steps)
    config = TrainConfig(
        batch_size=settings.batch_size,
        seq_len=settings.seq_len,
        lr=settings.lr,
        max_steps=settings.steps,
    )
    result = train(model, ids, config)

    if out_dir is not None:
        meta = {"run": "smoke", "settings": asdict(settings)}
        path = save_checkpoint(Path(out_dir) / "model.pt", model, vocab, meta)
        model = load_checkpoint(path, model_factory=model_factory).model  # as `predict` loads it
        log.info("saved %s", path)
        write_history(Path(out_dir), result)
        write_json(
            Path(out_dir) / COMPLETION, completion_example(model, vocab, heldout_corpus.tokens)
        )
    completion = Completer(model, vocab).complete(EXAMPLE_PREFIX)
    log.info("example: %r -> %r", EXAMPLE_PREFIX.rsplit("\n", 1)[-1], completion)

    metrics: dict[str, Any] = {"split": settings.split}
    metrics.update(
        evaluate_heldout(
            model,
            vocab,
            heldout_corpus.tokens,
            baselines=baselines,
            latency_samples=settings.latency_samples,
        )
    )
    metrics.update(
        heldout_files=len(heldout_corpus.files),
        excluded_files=len(train_corpus.excluded) + len(heldout_corpus.excluded),
        loss_start=result.mean_loss(first=True),
        loss_end=result.mean_loss(first=False),
        steps=result.steps,
        train_tokens=len(ids),
        parameters=model.num_parameters(),
    )
    return metrics
