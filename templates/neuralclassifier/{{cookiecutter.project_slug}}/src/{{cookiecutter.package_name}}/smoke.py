"""The smoke run: the whole pipeline on a synthetic hierarchical corpus, offline, on CPU.

1. write train/dev/test files and a taxonomy in NeuralClassifier's format (no text in two
   splits), then read them back through the validator;
2. train the TextCNN twice, hierarchical and flat (see ``HIERARCHICAL_VARIANT``), each picking
   its epoch on dev, and score both on the test split;
3. save the hierarchical model, load it back and check that it predicts the same labels;
4. score the baselines on the same test documents: the majority label set, and TF-IDF + one-vs-
   rest logistic regression over words and over words and word pairs (C chosen on dev);
5. write the NeuralClassifier config for the same files (what ``upstream train`` would run).

The corpus hides the second and third level of a label path in word order and negation (see
``synthetic``), so the targets ask the TextCNN to beat the best bag of n-grams by a margin.
The margins come from a seed sweep (see the README): below what the TextCNN reaches on its worst
seed, above what the baselines and broken TextCNNs (one-token kernels, no learning) reach.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from . import DEFAULT_SEED
from .data import Document, read_corpus
from .evaluate import label_style, majority_baseline, score_metrics
from .report import NODE_SCORES, node_scores
from .runs import RunFolder, write_json
from .synthetic import SyntheticSpec, write_synthetic
from .targets import Target, beats_baseline, build_report
from .taxonomy import Taxonomy
from .train import Classifier, ModelFactory, TrainConfig, fit, fit_tfidf_baseline
from .upstream import build_config, write_config

log = logging.getLogger(__name__)

# How far the hierarchical TextCNN must beat the best bag of n-grams (same test documents).
MICRO_MARGIN = 0.20
MACRO_MARGIN = 0.30
# The flat TextCNN must beat it too: both training modes have to read word order.
FLAT_MICRO_MARGIN = 0.15
# A smaller TextCNN than the real-run default, so the smoke run takes seconds on two cores.
SMOKE_CONFIG: dict[str, Any] = {
    "batch_size": 32,
    "lr": 8e-3,
    "embed_dim": 32,
    "num_kernels": 48,
    "dropout": 0.1,
    "min_count": 1,
}
HIERARCHICAL_VARIANT = (
    "targets closed under ancestors (every node on a path is a target) plus a recursive "
    "regulariser pulling each child's output weights towards its parent's (Gopal & Yang 2013)"
)
FLAT_VARIANT = "only the most specific label of each path is a target; no hierarchy in training"


def run_smoke(
    out_dir: str | Path = "runs/smoke",
    seed: int = DEFAULT_SEED,
    epochs: int = 8,
    *,
    lr: float | None = None,
    kernel_sizes: Sequence[int] | None = None,
    model_factory: ModelFactory | None = None,
    spec: SyntheticSpec | None = None,
) -> dict[str, Any]:
    """Run the smoke pipeline; return the report (``ok``, ``seconds``, ``metrics``, ``targets``).

    Everything lands in the run folder ``out_dir`` (see ``runs.RunFolder``: staged beside it,
    renamed into place when the run ends): ``report.json``, ``history.jsonl`` (one row per epoch,
    both training modes), ``config.json``, ``environment.json``, ``per_node_f1.json``, the
    corpus, the checkpoint and the NeuralClassifier config.

    ``lr`` and ``kernel_sizes`` override the smoke's TextCNN; ``model_factory`` replaces it
    (for both training modes). They exist so that tests can break the model on purpose and
    watch the targets fail; the defaults are the smoke run.
    """
    started = time.perf_counter()
    threads = torch.get_num_threads()
    # The smoke model is tiny: one thread is as fast as several and never waits on busy cores.
    torch.set_num_threads(1)
    overrides: dict[str, Any] = {}
    if lr is not None:
        overrides["lr"] = lr
    if kernel_sizes is not None:
        overrides["kernel_sizes"] = tuple(kernel_sizes)
    config = TrainConfig(epochs=epochs, seed=seed, **{**SMOKE_CONFIG, **overrides})
    out = Path(out_dir)
    settings = {**dataclasses.asdict(config), "command": "smoke"}
    try:
        with RunFolder(out.name, settings, out.parent) as run:
            report = _run(run, out, config, model_factory, spec, started)
            run.finish(report)
            return report
    finally:
        torch.set_num_threads(threads)


def _run(
    run: RunFolder,
    out: Path,
    config: TrainConfig,
    model_factory: ModelFactory | None,
    spec: SyntheticSpec | None,
    started: float,
) -> dict[str, Any]:
    """The smoke's steps (see the module docstring) in ``run`` (``out`` once finished)."""
    data = write_synthetic(run.path("data"), config.seed, spec)
    taxonomy = Taxonomy.read(data / "taxonomy.tsv")
    splits = {s: read_corpus(data / f"{s}.json", taxonomy) for s in ("train", "dev", "test")}
    train, dev, test = splits["train"], splits["dev"], splits["test"]
    overlap = _shared_texts(train, dev, test)
    log.info(
        "corpus: %d train / %d dev / %d test documents, %d nodes in %d levels",
        len(train),
        len(dev),
        len(test),
        len(taxonomy.nodes),
        taxonomy.depth(),
    )
    gold = [doc.labels for doc in test]
    style = label_style(doc.labels for doc in train)
    label_map = {label for doc in train for label in doc.labels}
    metrics: dict[str, Any] = {}

    log.info("TextCNN, hierarchical: %s", HIERARCHICAL_VARIANT)
    hier = fit(train, dev, config, model_factory)
    predicted = hier.classifier.predict(test)
    metrics.update(score_metrics("", gold, predicted, style, label_map))
    log.info("TextCNN, flat: %s", FLAT_VARIANT)
    flat = fit(train, dev, dataclasses.replace(config, mode="flat"), model_factory)
    metrics.update(score_metrics("flat_", gold, flat.classifier.predict(test), style, label_map))

    reloaded: list[set[str]] | None = None
    try:
        reloaded = Classifier.load(hier.classifier.save(run.path("model.pt"))).predict(test)
    except TypeError as err:  # an injected network that is not a TextCNN cannot be saved
        log.warning("no checkpoint: %s", err)

    majority = majority_baseline([d.labels for d in train], len(test))
    metrics.update(score_metrics("majority_", gold, majority, style, label_map))
    bags = {}
    for name, n in (("tfidf_unigram_", 1), ("tfidf_bigram_", 2)):
        baseline = fit_tfidf_baseline(train, dev, test, ngram=n)
        metrics.update(score_metrics(name, gold, baseline.predictions, style, label_map))
        metrics[f"{name}c"] = baseline.c
        bags[name] = metrics[f"{name}micro_f1"]
    # The stronger bag of n-grams on these test documents is the one to beat.
    bag = max(bags, key=lambda name: bags[name])

    upstream_config = build_config(
        train=[data / "train.json"],
        dev=[data / "dev.json"],
        test=[data / "test.json"],
        taxonomy=data / "taxonomy.tsv",
        run_dir=run.path("upstream"),
        model="TextCNN",
        epochs=2,
        device="cpu",
    )
    # The config names the files where they will be once the run folder is in place.
    staged, final = str(run.staging.resolve()), str(out.resolve())
    upstream_config = json.loads(json.dumps(upstream_config).replace(staged, final))
    write_config(upstream_config, run.path("upstream") / "config.json")
    log.info("NeuralClassifier config for the same files: %s", out / "upstream" / "config.json")

    for row, flat_row in zip(hier.history, flat.history, strict=False):
        run.log(
            **row, **{f"flat_{key}": value for key, value in flat_row.items() if key != "epoch"}
        )
    write_json(
        run.path(NODE_SCORES),
        node_scores(taxonomy, gold, predicted, "TextCNN, hierarchical", "test"),
    )

    metrics.update(
        {
            "hierarchical_variant": HIERARCHICAL_VARIANT,
            "flat_variant": FLAT_VARIANT,
            "label_style": style,
            "best_epoch": hier.best_epoch,
            "flat_best_epoch": flat.best_epoch,
            "first_epoch_loss": hier.history[0]["loss"],
            "last_epoch_loss": hier.history[-1]["loss"],
            "train_seconds": hier.seconds,
            "flat_train_seconds": flat.seconds,
            "reload_matches": reloaded == predicted,
            "texts_shared_between_splits": overlap,
            "train_docs": len(train),
            "dev_docs": len(dev),
            "test_docs": len(test),
        }
    )
    targets: dict[str, Target] = {
        "micro_f1_over_bag_of_ngrams": beats_baseline(
            metrics["micro_f1"], f"{bag}micro_f1", metrics[f"{bag}micro_f1"], MICRO_MARGIN
        ),
        "macro_f1_over_bag_of_ngrams": beats_baseline(
            metrics["macro_f1"], f"{bag}macro_f1", metrics[f"{bag}macro_f1"], MACRO_MARGIN
        ),
        "flat_micro_f1_over_bag_of_ngrams": beats_baseline(
            metrics["flat_micro_f1"], f"{bag}micro_f1", metrics[f"{bag}micro_f1"], FLAT_MICRO_MARGIN
        ),
        "reloaded_model_agrees": Target(
            1.0 if reloaded == predicted else 0.0,
            ">=",
            1.0,
            "check: the saved checkpoint, reloaded, predicts the same test labels",
        ),
        "held_out_texts_in_train": Target(
            overlap, "<=", 0, "check: no test or dev text also occurs in train"
        ),
    }
    return build_report(metrics, targets, started)


def _shared_texts(
    train: Sequence[Document], dev: Sequence[Document], test: Sequence[Document]
) -> int:
    """How many dev and test documents have the same tokens as a training document."""
    seen = {doc.tokens for doc in train}
    return sum(doc.tokens in seen for doc in (*dev, *test))
