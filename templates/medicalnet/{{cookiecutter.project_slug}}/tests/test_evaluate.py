"""Evaluation: Dice per class, metrics files, the pretrained-vs-scratch summary, the plot."""

import math

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import Med3DError
from {{ cookiecutter.package_name }}.evaluate import (
    compare_runs,
    dice_per_class,
    epochs_to_reach,
    evaluate_segmentation,
    plot_learning_curves,
    read_metrics_csv,
    write_metrics_csv,
)
from {{ cookiecutter.package_name }}.model import (
    segmentation_unet,
)


def test_dice_is_one_for_a_perfect_prediction_and_zero_for_a_disjoint_one():
    target = torch.tensor([[0, 1, 1, 2, 2, 2]])
    assert dice_per_class(target, target, 3).tolist() == [1.0, 1.0]
    swapped = torch.tensor([[0, 2, 2, 1, 1, 1]])
    assert dice_per_class(swapped, target, 3).tolist() == [0.0, 0.0]


def test_dice_matches_a_hand_computed_value():
    target = torch.tensor([[1, 1, 1, 1, 0, 0]])
    pred = torch.tensor([[1, 1, 0, 0, 1, 0]])
    # overlap 2, sizes 4 + 3: 2 * 2 / 7
    assert dice_per_class(pred, target, 2).item() == pytest.approx(4 / 7)


def test_a_class_absent_everywhere_is_nan_and_absent_volumes_are_left_out():
    target = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]])
    pred = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]])
    dice = dice_per_class(pred, target, 3)
    assert dice[0].item() == 1.0  # the empty second volume does not count as 0
    assert math.isnan(dice[1].item())


def test_dice_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="differ"):
        dice_per_class(torch.zeros(1, 4), torch.zeros(1, 5), 2)


def test_segmentation_evaluation_reports_each_class():
    torch.manual_seed(0)
    batch = {"image": torch.randn(2, 1, 32, 32, 32),
             "label": torch.randint(0, 3, (2, 1, 32, 32, 32))}
    scores = evaluate_segmentation(segmentation_unet(), [batch], num_classes=3)
    assert set(scores) == {"dice_mean", "dice_anterior", "dice_posterior"}
    assert all(0.0 <= value <= 1.0 for value in scores.values())


def test_epochs_to_reach_counts_from_one():
    assert epochs_to_reach([0.2, 0.69, 0.7, 0.9], 0.7) == 3
    assert epochs_to_reach([0.2, 0.3], 0.7) is None


def curve(values):
    return [{"epoch": float(i), "dice_mean": v} for i, v in enumerate(values, start=1)]


def test_comparison_measures_the_speedup_of_pretraining():
    summary = compare_runs({"medicalnet": curve([0.5, 0.75, 0.82, 0.81]),
                            "scratch": curve([0.1, 0.3, 0.5, 0.72])}, threshold=0.7)
    assert summary["runs"]["medicalnet"]["best_dice"] == 0.82
    assert summary["runs"]["medicalnet"]["best_epoch"] == 3
    assert summary["runs"]["scratch"]["epochs_to_threshold"] == 4
    assert summary["speedup"] == 2.0


def test_speedup_is_none_when_a_run_never_reaches_the_threshold():
    summary = compare_runs({"medicalnet": curve([0.75]), "scratch": curve([0.2])})
    assert summary["speedup"] is None


def test_metrics_csv_round_trip(tmp_path):
    rows = [{"epoch": 1, "train_loss": 0.9, "dice_mean": 0.4},
            {"epoch": 2, "train_loss": 0.5, "dice_mean": 0.6}]
    path = write_metrics_csv(rows, tmp_path / "metrics.csv")
    assert read_metrics_csv(path) == [{k: float(v) for k, v in r.items()} for r in rows]


def test_reading_a_missing_metrics_file_says_what_to_do(tmp_path):
    with pytest.raises(Med3DError, match="train a run first"):
        read_metrics_csv(tmp_path / "metrics.csv")


def test_learning_curves_are_plotted_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib comes with the real extra")
    path = plot_learning_curves({"scratch": curve([0.2, 0.5])}, tmp_path / "curves.png")
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
