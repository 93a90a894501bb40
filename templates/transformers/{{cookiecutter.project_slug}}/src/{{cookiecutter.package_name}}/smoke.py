"""The offline smoke run: the whole fine-tune -> save -> reload -> serve pipeline in seconds.

A tiny BERT built from a config learns a synthetic sentiment grammar (with negation and "but"),
is saved with `save_pretrained`, reloaded with `from_pretrained` and served through
`pipeline("text-classification")`, which then labels sentences it never saw in training.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import set_seed

from .data import KINDS, grammar_words, keyword_baseline, split_examples, synthetic_sentiment
from .evaluate import (
    accuracy,
    check_targets,
    pipeline_predictions,
    predict_logits,
    text_classifier,
)
from .model import (
    build_tokenizer,
    check_vocabulary,
    count_parameters,
    load_classifier,
    save_classifier,
    tiny_bert,
)
from .settings import DEFAULT_SEED
from .train import TrainConfig, fit

SMOKE_TARGETS = {
    "min_heldout_accuracy": 0.90,  # chance and the keyword baseline both score about 0.5
    "max_loss_ratio": 0.5,  # mean loss of the last 10 % of steps / of the first 10 %
    "max_roundtrip_abs_diff": 1e-4,  # logits before saving vs after reloading
}
# A from-scratch model this small wants a learning rate 40x that of fine-tuning; 8 epochs of
# 6,400 sentences (1,600 steps) pass the targets on every seed tried, in about 15 CPU seconds.
SMOKE_CONFIG = TrainConfig(
    epochs=8, batch_size=32, learning_rate=2e-3, warmup_ratio=0.05, max_length=48, log_every=250
)


def run_smoke(
    out_dir: str | Path,
    n_sentences: int = 8000,
    seed: int = DEFAULT_SEED,
    config: TrainConfig = SMOKE_CONFIG,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the smoke pipeline, save the model under `out_dir`, return the report.

    The report is `{"ok", "seconds", "metrics", "targets"}`; `ok` is True when every target in
    SMOKE_TARGETS is met. Deterministic for a given seed on a given machine.
    """
    say = log or (lambda message: None)
    start = time.perf_counter()
    # A model this small runs fastest on one thread; more threads only add contention.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(Path(out_dir), n_sentences, seed, config, say, start)
    finally:
        torch.set_num_threads(threads)


def _run(
    out_dir: Path,
    n_sentences: int,
    seed: int,
    config: TrainConfig,
    say: Callable[[str], None],
    start: float,
) -> dict[str, Any]:
    set_seed(seed)
    examples = synthetic_sentiment(n_sentences, seed=seed)
    train, test = split_examples(examples, test_fraction=0.2)
    say(f"grammar: {len(train)} training and {len(test)} held-out sentences, e.g. {test[0].text!r}")

    tokenizer = build_tokenizer(grammar_words(), max_length=config.max_length)
    model = tiny_bert(len(tokenizer), max_length=config.max_length, seed=seed)
    say(f"tiny BERT: {count_parameters(model):,} parameters, vocabulary of {len(tokenizer)}")

    result = fit(
        model, tokenizer, [e.text for e in train], [e.label for e in train], config, log=say
    )
    say(f"trained {len(result.losses)} steps in {result.seconds:.1f} s")

    test_texts = [e.text for e in test]
    before = predict_logits(model, tokenizer, test_texts, max_length=config.max_length)
    model_dir = save_classifier(model, tokenizer, Path(out_dir) / "model")
    reloaded, reloaded_tokenizer = load_classifier(model_dir)
    check_vocabulary(reloaded_tokenizer, ["movie", "not"])
    after = predict_logits(reloaded, reloaded_tokenizer, test_texts, max_length=config.max_length)
    say(f"saved to {model_dir} and reloaded with from_pretrained")

    predictions = pipeline_predictions(text_classifier(reloaded, reloaded_tokenizer), test_texts)
    labels = [e.label for e in test]
    by_kind = {
        f"accuracy_{kind}": accuracy(
            [p for p, e in zip(predictions, test, strict=True) if e.kind == kind],
            [e.label for e in test if e.kind == kind],
        )
        for kind in KINDS
    }
    loss_first, loss_last = result.mean_loss(first=True), result.mean_loss(first=False)
    metrics: dict[str, float] = {
        "heldout_accuracy": round(accuracy(predictions, labels), 4),
        **{name: round(value, 4) for name, value in by_kind.items()},
        "keyword_baseline_accuracy": round(
            accuracy([keyword_baseline(text) for text in test_texts], labels), 4
        ),
        "loss_first": round(loss_first, 4),
        "loss_last": round(loss_last, 4),
        "loss_ratio": round(loss_last / loss_first, 4),
        "roundtrip_abs_diff": float(f"{float((before - after).abs().max()):.3g}"),
        "train_steps": len(result.losses),
        "train_seconds": round(result.seconds, 2),
        "train_sentences": len(train),
        "heldout_sentences": len(test),
        "parameters": count_parameters(model),
    }
    return {
        "ok": check_targets(metrics, SMOKE_TARGETS),
        "seconds": round(time.perf_counter() - start, 2),
        "metrics": metrics,
        "targets": SMOKE_TARGETS,
    }
