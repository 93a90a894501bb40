"""The smoke run: the whole pipeline on a synthetic hierarchical corpus, offline, on CPU.

1. write train/dev/test files and a taxonomy in NeuralClassifier's format, then read them back
   through the validator;
2. train the hierarchical TextCNN, pick the epoch on dev, score the test split per level;
3. save the model, load it back and check that it predicts the same labels;
4. score two references on the same test split: the majority label set and TF-IDF + one-vs-rest
   logistic regression;
5. write the NeuralClassifier config for the same files (what ``upstream train`` would run).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from . import DEFAULT_SEED
from .data import read_corpus
from .evaluate import hierarchical_scores, majority_baseline
from .synthetic import write_synthetic
from .taxonomy import Taxonomy
from .train import Classifier, TrainConfig, fit, fit_tfidf_baseline
from .upstream import build_config, write_config

log = logging.getLogger(__name__)

# A metric passes when it is at least its target. Chance level (the majority label set) scores
# a micro-F1 near 0.2 on this corpus; a working model reaches about 0.9.
TARGETS = {"micro_f1": 0.85, "macro_f1": 0.75, "lift_over_majority": 0.50}
# A smaller TextCNN than the real-run default, so the smoke run takes seconds on two cores.
SMOKE_CONFIG = {
    "batch_size": 32,
    "lr": 8e-3,
    "embed_dim": 32,
    "num_kernels": 48,
    "dropout": 0.1,
    "min_count": 1,
}


def run_smoke(
    out_dir: str | Path = "runs/smoke", seed: int = DEFAULT_SEED, epochs: int = 8
) -> dict:
    """Run the smoke pipeline; return ``{"ok", "seconds", "metrics", "targets"}``."""
    start = time.perf_counter()
    threads = torch.get_num_threads()
    # The smoke model is tiny: one thread is as fast as several and never waits on busy cores.
    torch.set_num_threads(1)
    try:
        return _run(Path(out_dir), seed, epochs, start)
    finally:
        torch.set_num_threads(threads)


def _run(out: Path, seed: int, epochs: int, start: float) -> dict:
    data = write_synthetic(out / "data", seed)
    taxonomy = Taxonomy.read(data / "taxonomy.tsv")
    train, dev, test = (read_corpus(data / f"{s}.json", taxonomy) for s in ("train", "dev", "test"))
    log.info(
        "corpus: %d train / %d dev / %d test documents, %d nodes in %d levels",
        len(train),
        len(dev),
        len(test),
        len(taxonomy.nodes),
        taxonomy.depth(),
    )

    result = fit(train, dev, TrainConfig(epochs=epochs, seed=seed, **SMOKE_CONFIG))
    gold = [doc.labels for doc in test]
    predicted = result.classifier.predict(test)
    scores = hierarchical_scores(gold, predicted)

    model_path = result.classifier.save(out / "model.pt")
    reloaded = Classifier.load(model_path).predict(test)

    majority = hierarchical_scores(gold, majority_baseline([d.labels for d in train], len(test)))
    log.info("TF-IDF + one-vs-rest logistic regression baseline ...")
    tfidf = fit_tfidf_baseline(train, dev, test)

    config = build_config(
        train=[data / "train.json"],
        dev=[data / "dev.json"],
        test=[data / "test.json"],
        taxonomy=data / "taxonomy.tsv",
        run_dir=out / "upstream",
        model="TextCNN",
        epochs=2,
        device="cpu",
    )
    write_config(config, out / "upstream" / "config.json")

    metrics: dict[str, object] = {
        "micro_f1": scores["micro_f1"],
        "macro_f1": scores["macro_f1"],
    }
    for k, level_scores in scores["levels"].items():
        metrics[f"level_{k}_micro_f1"] = level_scores["micro_f1"]
        metrics[f"level_{k}_macro_f1"] = level_scores["macro_f1"]
    metrics.update(
        {
            "majority_micro_f1": majority["micro_f1"],
            "lift_over_majority": round(scores["micro_f1"] - majority["micro_f1"], 4),
            "tfidf_lr_micro_f1": tfidf["micro_f1"],
            "first_epoch_loss": result.history[0]["loss"],
            "last_epoch_loss": result.history[-1]["loss"],
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "reload_matches": reloaded == predicted,
            "labels": scores["labels"],
            "test_docs": len(test),
        }
    )
    ok = bool(metrics["reload_matches"]) and all(metrics[k] >= v for k, v in TARGETS.items())
    return {
        "ok": ok,
        "seconds": round(time.perf_counter() - start, 2),
        "metrics": metrics,
        "targets": dict(TARGETS),
    }
