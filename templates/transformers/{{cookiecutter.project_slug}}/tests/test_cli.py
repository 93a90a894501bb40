"""The command line and the real run's report, offline: grammar sentences stand in for SST-2
and a tiny local BERT for the pretrained encoder, so the code that builds the real report runs."""

import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import (
    finetune,
)
from {{ cookiecutter.package_name }}.__main__ import (
    main,
)
from {{ cookiecutter.package_name }}.settings import (
    CPU_GOAL_ACCURACY,
    CPU_GOAL_MINUTES,
    MAJORITY_MARGIN,
    PUBLISHED_ACCURACY,
    PUBLISHED_SOURCE,
)


def _last_json(capsys) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def _train(model_dir, out, *extra: str) -> list[str]:
    return [
        "train",
        "--model",
        str(model_dir),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--max-length",
        "48",
        "--batch-size",
        "16",
        *extra,
    ]


def test_the_majority_class_is_counted_from_the_labels():
    assert finetune.majority_class_accuracy([1, 0, 0, 0]) == 0.75
    assert finetune.majority_class_accuracy([1, 1, 0]) == pytest.approx(2 / 3)
    assert finetune.majority_class_accuracy([0, 1]) == 0.5
    with pytest.raises(ValueError, match="labels"):
        finetune.majority_class_accuracy([])


def test_a_full_run_is_held_to_the_published_number():
    metrics = {"accuracy": PUBLISHED_ACCURACY - 0.001, "majority_class_accuracy": 0.5}
    targets = finetune.real_targets(metrics, "full")
    assert set(targets) == {"accuracy_over_majority_class", "accuracy_vs_published"}
    published = targets["accuracy_vs_published"]
    assert (published.threshold, published.source) == (PUBLISHED_ACCURACY, PUBLISHED_SOURCE)
    assert not published.met
    assert finetune.real_targets({**metrics, "accuracy": PUBLISHED_ACCURACY}, "full")[
        "accuracy_vs_published"
    ].met


def test_a_cpu_subset_run_is_held_to_the_project_goal_in_accuracy_and_time():
    metrics = {
        "accuracy": CPU_GOAL_ACCURACY,
        "majority_class_accuracy": 0.5,
        "train_minutes": CPU_GOAL_MINUTES,
    }
    targets = finetune.real_targets(metrics, "subset")
    assert set(targets) == {
        "accuracy_over_majority_class",
        "accuracy_cpu_goal",
        "train_minutes_cpu_goal",
    }
    assert all(target.met for target in targets.values())
    assert "not a published result" in targets["accuracy_cpu_goal"].source
    assert PUBLISHED_SOURCE in targets["accuracy_cpu_goal"].source
    slow = finetune.real_targets({**metrics, "train_minutes": CPU_GOAL_MINUTES + 1}, "subset")
    assert not slow["train_minutes_cpu_goal"].met
    with pytest.raises(ValueError, match="protocol"):
        finetune.real_targets(metrics, "half")


@pytest.mark.parametrize(("above", "met"), [(0.01, True), (-0.01, False)])
def test_the_majority_baseline_needs_its_margin(above, met):
    metrics = {"accuracy": 0.5 + MAJORITY_MARGIN + above, "majority_class_accuracy": 0.5}
    target = finetune.real_targets(metrics, "full")["accuracy_over_majority_class"]
    assert target.source == f"baseline:majority_class_accuracy + {MAJORITY_MARGIN:g}"
    assert target.met is met


def test_train_that_reaches_its_targets_exits_0_and_evaluate_agrees(
    fake_sst2, untrained_model_dir, tmp_path, capsys
):
    out = tmp_path / "run"
    status = main(
        _train(untrained_model_dir, out, "--train-examples", "400", "--epochs", "4", "--lr", "3e-3")
    )
    report = _last_json(capsys)
    assert status == 0, report
    assert set(report) == {"ok", "seconds", "metrics", "targets"} and report["ok"] is True
    metrics = report["metrics"]
    assert metrics["protocol"] == "subset" and metrics["train_examples"] == 400
    assert metrics["majority_class_accuracy"] == pytest.approx(fake_sst2)  # its positive share
    assert metrics["dev_accuracy"] == metrics["dev_accuracy_by_epoch"][metrics["best_epoch"] - 1]
    assert set(report["targets"]) == {
        "accuracy_over_majority_class",
        "accuracy_cpu_goal",
        "train_minutes_cpu_goal",
    }
    assert json.loads((out / "metrics.json").read_text()) == report
    assert (out / "model" / "model.safetensors").is_file()

    evaluated = tmp_path / "evaluate"
    status = main(
        ["evaluate", "--model-dir", str(out / "model"), "--device", "cpu", "--max-length", "48"]
        + ["--out", str(evaluated)]
    )
    scores = _last_json(capsys)
    assert status == 0 and scores["metrics"]["protocol"] == "subset"
    # both commands leave a run folder: report, history (train), predictions, config
    assert len((out / "history.jsonl").read_text().splitlines()) > report["metrics"]["train_steps"]
    assert json.loads((evaluated / "report.json").read_text()) == scores
    assert len((evaluated / "predictions.jsonl").read_text().splitlines()) == 200
    assert scores["metrics"]["accuracy"] == metrics["accuracy"]
    assert scores["targets"]["accuracy_cpu_goal"]["met"]


def test_train_that_learns_nothing_exits_1(fake_sst2, untrained_model_dir, tmp_path, capsys):
    status = main(
        _train(untrained_model_dir, tmp_path / "run", "--train-examples", "all", "--lr", "1e-12")
    )
    report = _last_json(capsys)
    assert status == 1 and report["ok"] is False
    assert report["metrics"]["protocol"] == "full"
    assert not report["targets"]["accuracy_over_majority_class"]["met"]
    assert not report["targets"]["accuracy_vs_published"]["met"]


def test_evaluate_of_a_model_from_elsewhere_is_held_to_the_published_number(
    fake_sst2, untrained_model_dir, capsys
):
    status = main(
        [
            "evaluate",
            "--model-dir",
            str(untrained_model_dir),
            "--device",
            "cpu",
            "--max-length",
            "48",
            "--out",
            str(untrained_model_dir.parent / "evaluate"),
        ]
    )
    report = _last_json(capsys)
    assert status == 1 and report["metrics"]["protocol"] == "full"
    assert report["targets"]["accuracy_vs_published"]["source"] == PUBLISHED_SOURCE


def test_predict_prints_one_json_line_per_text(untrained_model_dir, capsys):
    status = main(
        [
            "predict",
            "--model-dir",
            str(untrained_model_dir),
            "--device",
            "cpu",
            "the cast was superb",
            "the plot was dull",
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [line["text"] for line in lines] == ["the cast was superb", "the plot was dull"]
    assert all(line["label"] in ("POSITIVE", "NEGATIVE") for line in lines)


def test_a_missing_model_folder_is_exit_2_with_a_hint(tmp_path, capsys):
    status = main(["evaluate", "--model-dir", str(tmp_path / "nothing"), "--device", "cpu"])
    assert status == 2
    assert "train" in capsys.readouterr().err


def test_download_refuses_to_run_offline(capsys):
    assert main(["download"]) == 2
    assert "unset HF_HUB_OFFLINE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--train-examples", "0"],
        ["train", "--epochs", "-1"],
        ["smoke", "--seed", "x"],
        ["fly"],
    ],
)
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
