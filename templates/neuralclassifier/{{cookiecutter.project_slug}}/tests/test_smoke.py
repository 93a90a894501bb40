"""The smoke run: its report, learning a bag of n-grams cannot match, and proof that it can fail.

The breakage tests run the smoke's own code path (``main`` or ``run_smoke``) with the model
broken on purpose, and check that its central targets are then missed.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from {{ cookiecutter.package_name }} import DEFAULT_SEED
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.model import TextCNN
from {{ cookiecutter.package_name }}.report import make_report
from {{ cookiecutter.package_name }}.showcase import (
    RESULTS_BEGIN,
    RESULTS_END,
    parse_results,
)
from {{ cookiecutter.package_name }}.smoke import (
    FLAT_MICRO_MARGIN,
    MACRO_MARGIN,
    MICRO_MARGIN,
    run_smoke,
)
from {{ cookiecutter.package_name }}.train import TrainConfig

CENTRAL = (
    "micro_f1_over_bag_of_ngrams",
    "macro_f1_over_bag_of_ngrams",
    "flat_micro_f1_over_bag_of_ngrams",
)
CHECKS = ("reloaded_model_agrees", "held_out_texts_in_train")


def run_main(argv: list[str]) -> tuple[int, dict[str, Any]]:
    """Run the command line; return its exit code and the report on its last stdout line."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(argv)
    return code, json.loads(buffer.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("smoke")
    code, report = run_main(["--quiet", "smoke", "--out", str(out)])
    return code, report, out


def test_smoke_prints_the_report_last_and_meets_its_targets(smoke):
    code, report, _ = smoke
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert set(report["targets"]) == {*CENTRAL, *CHECKS}
    for name, target in report["targets"].items():
        assert set(target) == {"value", "op", "threshold", "met", "source"}, name
        assert target["met"] is True, name
    assert report["ok"] is True and code == 0


def test_targets_are_the_best_bag_of_ngrams_plus_a_margin(smoke):
    metrics, targets = smoke[1]["metrics"], smoke[1]["targets"]
    bags = ("tfidf_unigram_", "tfidf_bigram_")
    best = max(bags, key=lambda b: metrics[f"{b}micro_f1"])
    for name, metric, margin in (
        ("micro_f1_over_bag_of_ngrams", "micro_f1", MICRO_MARGIN),
        ("macro_f1_over_bag_of_ngrams", "macro_f1", MACRO_MARGIN),
        ("flat_micro_f1_over_bag_of_ngrams", "micro_f1", FLAT_MICRO_MARGIN),
    ):
        target = targets[name]
        assert target["source"] == f"baseline:{best}{metric} + {margin:g}"
        assert target["threshold"] == pytest.approx(metrics[f"{best}{metric}"] + margin, abs=1e-4)
        model_metric = f"flat_{metric}" if name.startswith("flat_") else metric
        assert target["value"] == metrics[model_metric]


def test_a_bag_of_ngrams_reads_the_top_level_only(smoke):
    m = smoke[1]["metrics"]
    for bag in ("tfidf_unigram_", "tfidf_bigram_"):
        assert m[f"{bag}level_1_micro_f1"] > 0.9  # topic words: a bag reads them
        assert m[f"{bag}level_2_micro_f1"] < 0.65  # which actor comes first: a coin toss
        assert m[f"{bag}level_3_micro_f1"] < 0.4  # which aspect is negated: worse
    assert m["level_2_micro_f1"] > 0.9 and m["level_3_micro_f1"] > 0.8  # the TextCNN reads them
    assert m["majority_micro_f1"] < m["tfidf_unigram_micro_f1"] - 0.3


def test_flat_and_hierarchical_training_are_both_measured(smoke):
    m = smoke[1]["metrics"]
    assert "closed under ancestors" in m["hierarchical_variant"]
    assert "recursive regulariser" in m["hierarchical_variant"]
    assert "most specific" in m["flat_variant"]
    for prefix in ("", "flat_"):
        for metric in ("micro_f1", "macro_f1", "raw_micro_f1", "raw_macro_f1"):
            assert f"{prefix}{metric}" in m
    assert m["flat_micro_f1"] != m["micro_f1"]  # two trained models, not one scored twice
    assert m["last_epoch_loss"] < 0.3 * m["first_epoch_loss"]


def test_as_written_scores_are_kept_apart_from_closed_ones(smoke):
    m = smoke[1]["metrics"]
    assert m["label_style"] == "specific"  # the corpus writes leaf paths, as RCV1 does
    # Closed scores credit the right parent of a wrong leaf; as-written scores do not.
    assert m["raw_micro_f1"] < m["micro_f1"]
    assert m["tfidf_bigram_raw_micro_f1"] < m["tfidf_bigram_micro_f1"]


def test_smoke_writes_data_model_report_and_upstream_config(smoke):
    _, report, out = smoke
    for name in (
        "data/train.json",
        "data/dev.json",
        "data/test.json",
        "data/taxonomy.tsv",
        "model.pt",
        "report.json",
        "upstream/config.json",
    ):
        assert (out / name).is_file(), name
    assert json.loads((out / "report.json").read_text())["targets"] == report["targets"]
    config = json.loads((out / "upstream/config.json").read_text())
    assert config["device"] == "cpu" and config["data"]["num_worker"] == 0
    assert config["data"]["generate_dict_using_all_json_files"] is False
    # the upstream config names the files where the finished run folder holds them
    assert config["data"]["train_json_files"] == [str((out / "data/train.json").resolve())]


def test_smoke_is_a_run_folder_that_make_report_shows(smoke, tmp_path):
    _, report, out = smoke
    settings = json.loads((out / "config.json").read_text())
    assert settings["seed"] == DEFAULT_SEED and settings["command"] == "smoke"
    assert "python" in json.loads((out / "environment.json").read_text())
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in history] == list(range(1, 9))
    assert {"loss", "dev_micro_f1", "flat_loss", "flat_dev_micro_f1"} <= set(history[0])
    nodes = json.loads((out / "per_node_f1.json").read_text())["nodes"]
    assert len(nodes) == 28 and all(0 <= node["f1"] <= 1 for node in nodes.values())
    # a fresh repo has something to show after make smoke && make report
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{RESULTS_BEGIN}\nNo run yet\n{RESULTS_END}\n", encoding="utf-8")
    written = make_report(out, readme, tmp_path / "figures", tmp_path / "MODEL_CARD.md")
    assert len(written["figures"]) == 5 and "model_card" in written
    assert "5 of 5 targets met" in readme.read_text()
    assert (
        parse_results(readme)["micro_f1_over_bag_of_ngrams"]["value"]
        == report["targets"]["micro_f1_over_bag_of_ngrams"]["value"]
    )


def assert_central_targets_missed(report: dict[str, Any]) -> None:
    assert report["ok"] is False
    for name in ("micro_f1_over_bag_of_ngrams", "macro_f1_over_bag_of_ngrams"):
        assert report["targets"][name]["met"] is False, name


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        (["--kernel-sizes", "1"], "convolutions that see one token: a bag of words"),
        (["--lr", "0"], "a model that never learns"),
    ],
)
def test_the_smoke_fails_a_broken_textcnn(tmp_path, flags, why):
    code, report = run_main(["--quiet", "smoke", "--out", str(tmp_path), *flags])
    assert code == 1, why
    assert_central_targets_missed(report)


class ShuffledTextCNN(TextCNN):
    """A TextCNN that reads every document in a random order: word order is gone."""

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out = tokens.clone()
        for i, row in enumerate(tokens):
            n = int((row != 0).sum())
            out[i, :n] = row[:n][torch.randperm(n)]
        return super().forward(out)


class LabelPrior(nn.Module):
    """Learns how often each label occurs and ignores the text."""

    def __init__(self, num_labels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_labels))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(tokens.shape[0], -1)


def shuffled(vocab_size: int, num_labels: int, config: TrainConfig) -> nn.Module:
    return ShuffledTextCNN(
        vocab_size,
        num_labels,
        config.embed_dim,
        config.kernel_sizes,
        config.num_kernels,
        config.dropout,
    )


def label_prior(vocab_size: int, num_labels: int, config: TrainConfig) -> nn.Module:
    return LabelPrior(num_labels)


@pytest.mark.parametrize("factory", [shuffled, label_prior], ids=["shuffled-words", "text-blind"])
def test_the_smoke_fails_a_model_without_word_order_or_text(tmp_path, factory):
    assert_central_targets_missed(run_smoke(tmp_path, model_factory=factory))
