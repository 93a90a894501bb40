"""The real run: fine-tune a pretrained encoder on SST-2, evaluate it, serve it.

Needs the `real` extra (`datasets`) and, once, network access to the Hugging Face hub; after
`download` everything reads the local cache, so it also runs with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import set_seed

from .data import load_sst2
from .errors import StarterError
from .evaluate import check_targets, evaluate, latency_ms, text_classifier
from .model import count_parameters, load_classifier, save_classifier
from .settings import CPU_TRAIN_EXAMPLES, REAL_TARGETS
from .train import TrainConfig, fit


def default_train_examples(device: torch.device) -> int | None:
    """How many SST-2 training examples to use by default: a subset on CPU, all on a GPU."""
    return None if device.type == "cuda" else CPU_TRAIN_EXAMPLES


def _report(metrics: dict[str, float], targets: dict[str, float], start: float) -> dict[str, Any]:
    metrics = {name: round(value, 4) for name, value in metrics.items()}
    return {
        "ok": check_targets(metrics, targets),
        "seconds": round(time.perf_counter() - start, 2),
        "metrics": metrics,
        "targets": targets,
    }


def run_finetune(
    model_name: str,
    out_dir: str | Path,
    device: torch.device,
    train_examples: int | None,
    config: TrainConfig,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune `model_name` on (a seeded subset of) SST-2 train, score it on the validation set.

    Saves the model and tokenizer to `out_dir/model` and the report to `out_dir/metrics.json`;
    returns the report (`ok` when the accuracy and time targets in REAL_TARGETS are met).
    """
    say = log or (lambda message: None)
    start = time.perf_counter()
    set_seed(config.seed)
    texts, labels = load_sst2("train", limit=train_examples, seed=config.seed)
    val_texts, val_labels = load_sst2("validation")
    say(f"SST-2: {len(texts):,} training phrases, {len(val_texts)} validation sentences")

    model, tokenizer = load_classifier(model_name)
    model.to(device)
    say(f"{model_name}: {count_parameters(model) / 1e6:.1f}M parameters on {device}")
    result = fit(model, tokenizer, texts, labels, config, device=device, log=say)

    scores = evaluate(model, tokenizer, val_texts, val_labels, max_length=config.max_length)
    timing = latency_ms(model, tokenizer, val_texts[:100], max_length=config.max_length)
    say(f"validation accuracy {scores['accuracy']:.4f}")
    model_dir = save_classifier(model, tokenizer, Path(out_dir) / "model")
    metrics = {
        **scores,
        **timing,
        "train_examples": len(texts),
        "train_steps": len(result.losses),
        "train_minutes": result.seconds / 60,
        "train_cpu_minutes": result.cpu_seconds / 60,
        "loss_first": result.mean_loss(first=True),
        "loss_last": result.mean_loss(first=False),
    }
    report = _report(metrics, REAL_TARGETS, start)
    report["model"] = model_name
    report["device"] = device.type
    (Path(out_dir) / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    say(f"saved the model to {model_dir}")
    return report


def run_evaluate(
    model_dir: str | Path, device: torch.device, max_length: int = 64, latency_samples: int = 200
) -> dict[str, Any]:
    """Accuracy of a saved model on the SST-2 validation set, and its one-sentence latency."""
    start = time.perf_counter()
    model, tokenizer = load_classifier(_existing(model_dir))
    model.to(device)
    val_texts, val_labels = load_sst2("validation")
    metrics = {
        **evaluate(model, tokenizer, val_texts, val_labels, max_length=max_length),
        **latency_ms(model, tokenizer, val_texts[:latency_samples], max_length=max_length),
    }
    return _report(metrics, {"min_accuracy": REAL_TARGETS["min_accuracy"]}, start)


def predict(
    model_dir: str | Path, texts: Sequence[str], device: torch.device
) -> list[dict[str, Any]]:
    """Label and score of each text by a saved model, via `pipeline("text-classification")`."""
    if not texts:
        raise ValueError("give at least one text to classify")
    model, tokenizer = load_classifier(_existing(model_dir))
    classifier = text_classifier(model.to(device), tokenizer)
    outputs = classifier(list(texts), truncation=True)
    return [
        {"text": text, "label": out["label"], "score": round(float(out["score"]), 4)}
        for text, out in zip(texts, outputs, strict=True)
    ]


def download(model_name: str) -> dict[str, Any]:
    """Fetch the model, its tokenizer and both SST-2 splits into the Hugging Face cache."""
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(variable, "").lower() in ("1", "true", "yes", "on"):
            raise StarterError(f"{variable} is set: unset it to download (`unset {variable}`)")
    start = time.perf_counter()
    model, _ = load_classifier(model_name)
    train_texts, _ = load_sst2("train")
    val_texts, _ = load_sst2("validation")
    return {
        "ok": True,
        "seconds": round(time.perf_counter() - start, 2),
        "model": model_name,
        "parameters": count_parameters(model),
        "sst2_train": len(train_texts),
        "sst2_validation": len(val_texts),
    }


def _existing(model_dir: str | Path) -> Path:
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise StarterError(
            f"no saved model in {path}/ (config.json missing): run `python -m {__package__} train` "
            "or `smoke` first, or pass --model-dir"
        )
    return path
