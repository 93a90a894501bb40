"""Evaluation and serving: accuracy, latency, and the `text-classification` pipeline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase, pipeline
from transformers.pipelines import Pipeline

from .train import batches


@torch.no_grad()
def predict_logits(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 64,
    max_length: int = 64,
) -> torch.Tensor:
    """Logits of shape (len(texts), num_labels), float32 on the CPU, in the order of `texts`."""
    if not texts:
        raise ValueError("no texts to classify")
    # >>> assignment: eval mode; cat float32 CPU logits of each batches() batch
    model.eval()
    device = model.device
    chunks = [
        model(**{key: value.to(device) for key, value in batch.items()}).logits.float().cpu()
        for batch in batches(tokenizer, texts, None, batch_size, max_length)
    ]
    return torch.cat(chunks)
    # <<< assignment


def accuracy(predictions: Sequence[int], labels: Sequence[int]) -> float:
    """The fraction of predictions equal to their label."""
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions but {len(labels)} labels")
    if not labels:
        raise ValueError("accuracy of an empty set is undefined")
    return sum(int(p) == int(y) for p, y in zip(predictions, labels, strict=True)) / len(labels)


def evaluate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: Sequence[int],
    batch_size: int = 64,
    max_length: int = 64,
) -> dict[str, float]:
    """Accuracy on (texts, labels) and throughput in sentences per second."""
    start = time.perf_counter()
    predictions = predict_logits(model, tokenizer, texts, batch_size, max_length).argmax(-1)
    seconds = time.perf_counter() - start
    return {
        "accuracy": accuracy(predictions.tolist(), labels),
        "examples": len(texts),
        "sentences_per_second": len(texts) / seconds,
    }


@torch.no_grad()
def latency_ms(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int = 64,
    warmup: int = 3,
) -> dict[str, float]:
    """p50 and p95 latency of classifying one sentence at a time (tokenizer included), in ms."""
    if not texts:
        raise ValueError("no texts to time")
    model.eval()
    timings = []
    for i, text in enumerate([*texts[:warmup], *texts]):
        start = time.perf_counter()
        (batch,) = batches(tokenizer, [text], None, batch_size=1, max_length=max_length)
        model(**{key: value.to(model.device) for key, value in batch.items()})
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            timings.append(1000 * (time.perf_counter() - start))
    cuts = statistics.quantiles(timings, n=20, method="inclusive") if len(timings) > 1 else timings
    return {"p50_ms": statistics.median(timings), "p95_ms": cuts[-1]}


def text_classifier(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, device: torch.device | None = None
) -> Pipeline:
    """A `pipeline("text-classification")` serving `model`: call it on a string or a list."""
    return pipeline(
        "text-classification", model=model, tokenizer=tokenizer, device=device or model.device
    )


def pipeline_predictions(
    classifier: Pipeline, texts: Sequence[str], batch_size: int = 64
) -> list[int]:
    """Label ids the pipeline gives `texts` (its label names mapped back through the config)."""
    label2id = classifier.model.config.label2id
    outputs = classifier(list(texts), batch_size=batch_size, truncation=True)
    return [int(label2id[output["label"]]) for output in outputs]
