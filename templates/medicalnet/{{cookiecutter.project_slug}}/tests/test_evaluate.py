"""Evaluation: Dice, the threshold baseline, the run and study reports, metrics files."""

import json
import math

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import Med3DError
from {{ cookiecutter.package_name }}.evaluate import (
    MED3D_MIN_GAIN,
    RUN_MARGIN,
    ThresholdBaseline,
    compare_runs,
    dice_per_class,
    epochs_to_reach,
    evaluate_segmentation,
    fit_threshold_baseline,
    plot_learning_curves,
    read_metrics_csv,
    read_run_report,
    run_targets,
    study_targets,
    summarize_study,
    write_metrics_csv,
)
from {{ cookiecutter.package_name }}.targets import build_report


def test_dice_is_one_for_a_perfect_prediction_and_zero_for_a_disjoint_one():
    target = torch.tensor([[0, 1, 1, 2, 2, 2]])
    assert dice_per_class(target, target, 3).tolist() == [1.0, 1.0]
    swapped = torch.tensor([[0, 2, 2, 1, 1, 1]])
    assert dice_per_class(swapped, target, 3).tolist() == [0.0, 0.0]


def test_dice_matches_a_hand_computed_value():
    target = torch.tensor([[1, 1, 1, 1, 0, 0]])
    pred = torch.tensor([[1, 1, 0, 0, 1, 0]])
    assert dice_per_class(pred, target, 2).item() == pytest.approx(4 / 7)  # 2 * 2 / (4 + 3)


def test_a_class_absent_everywhere_is_nan_and_absent_volumes_are_left_out():
    target = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]])
    dice = dice_per_class(target.clone(), target, 3)
    assert dice[0].item() == 1.0  # the empty second volume does not count as 0
    assert math.isnan(dice[1].item())


def test_dice_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="differ"):
        dice_per_class(torch.zeros(1, 4), torch.zeros(1, 5), 2)


def batches(images, labels):
    return [{"image": images, "label": labels}]


def test_evaluation_gives_the_exact_dice_of_a_network_and_of_a_rule():
    labels = torch.zeros(2, 1, 4, 4, 4, dtype=torch.long)
    labels[0, 0, :2] = 1  # volume 0: 32 voxels of class 1
    labels[1, 0, :, :2] = 2  # volume 1: 32 voxels of class 2
    images = labels.float()

    class Oracle(torch.nn.Module):  # logits that put every voxel in its true class
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, 0].long(), 3).permute(0, 4, 1, 2, 3).float()

    scores = evaluate_segmentation(Oracle(), batches(images, labels), 3)
    assert scores == {"dice_mean": 1.0, "dice_anterior": 1.0, "dice_posterior": 1.0}
    rule = evaluate_segmentation(lambda x: (x[:, 0] > 0).long(), batches(images, labels), 3)
    # class 1: perfect in volume 0, a false alarm in volume 1 (Dice 0); class 2: missed
    assert rule == {"dice_mean": 0.25, "dice_anterior": 0.5, "dice_posterior": 0.0}


def test_the_threshold_baseline_finds_the_intensity_window_of_each_class():
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (4, 1, 8, 8, 8))
    images = labels.float() * 2 + 0.1 * torch.randn(labels.shape)  # classes at 0, 2, 4
    baseline = fit_threshold_baseline(batches(images, labels), 3)
    (low1, high1), (low2, high2) = baseline.windows
    assert -0.5 < low1 < 2 < high1 < 3.5 and 0.5 < low2 < 4 and high2 > 4
    scores = evaluate_segmentation(baseline, batches(images, labels), 3)
    assert scores["dice_mean"] > 0.99


def test_the_threshold_baseline_cannot_tell_two_structures_of_one_intensity_apart():
    labels = torch.zeros(1, 1, 4, 4, 8, dtype=torch.long)
    labels[..., :2] = 1  # the target
    images = torch.zeros(labels.shape)
    images[..., :2] = 1.0
    images[..., 4:6] = 1.0  # a distractor of the same intensity and size
    baseline = fit_threshold_baseline(batches(images, labels), 2)
    score = evaluate_segmentation(baseline, batches(images, labels), 2)["dice_mean"]
    assert score == pytest.approx(2 / 3)  # both, or nothing: never the target alone
    assert ThresholdBaseline(((0.5, 2.0),))(images).sum().item() == 64


def test_epochs_to_reach_counts_from_one():
    assert epochs_to_reach([0.2, 0.69, 0.7, 0.9], 0.7) == 3
    assert epochs_to_reach([0.2, 0.3], 0.7) is None


def curve(values):
    return [{"epoch": float(i), "dice_mean": v} for i, v in enumerate(values, start=1)]


def test_comparison_measures_the_speedup_of_pretraining():
    summary = compare_runs(
        {"medicalnet": curve([0.5, 0.75, 0.82, 0.81]), "scratch": curve([0.1, 0.3, 0.5, 0.72])},
        threshold=0.7,
    )
    assert summary["runs"]["medicalnet"]["best_dice"] == 0.82
    assert summary["runs"]["medicalnet"]["best_epoch"] == 3
    assert summary["runs"]["scratch"]["epochs_to_threshold"] == 4
    assert summary["speedup"] == 2.0


def run(init, seed, dice, values):
    return {"init": init, "seed": seed, "test_dice_mean": dice, "rows": curve(values)}


def study(pre=(0.84, 0.86, 0.85), scratch=(0.80, 0.82, 0.81)):
    runs = [run("medicalnet", s, d, [0.5, 0.75, 0.8]) for s, d in enumerate(pre)]
    runs += [run("scratch", s, d, [0.2, 0.5, 0.71]) for s, d in enumerate(scratch)]
    return runs


def test_the_study_averages_seeds_per_arm_and_measures_gain_and_speedup():
    metrics = summarize_study(study(), threshold=0.7)
    assert metrics["medicalnet_test_dice_mean"] == pytest.approx(0.85)
    assert (metrics["scratch_test_dice_min"], metrics["scratch_test_dice_max"]) == (0.80, 0.82)
    assert metrics["gain"] == pytest.approx(0.04)
    assert metrics["speedup"] == pytest.approx(3 / 2)
    assert metrics["medicalnet_seeds"] == [0, 1, 2]


def test_the_study_target_is_med3ds_smallest_gain_and_can_be_missed():
    met = study_targets(summarize_study(study()))["pretrained_gain_over_scratch"]
    assert (met.met, met.threshold, met.op) == (True, MED3D_MIN_GAIN, ">=")
    assert "arXiv:1904.00625" in met.source
    missed = study_targets(summarize_study(study(pre=(0.82, 0.83, 0.82))))
    assert missed["pretrained_gain_over_scratch"].met is False
    report = build_report({"gain": 0.01}, missed, 0.0)
    assert report["ok"] is False


def test_the_study_needs_three_seeds_per_arm():
    with pytest.raises(Med3DError, match="at least 3"):
        summarize_study(study(pre=(0.9, 0.9)))


def test_a_run_must_beat_its_own_threshold_baseline_by_the_margin():
    ok = run_targets({"test_dice_mean": 0.8, "threshold_test_dice_mean": 0.3})
    target = ok["test_dice_over_threshold"]
    assert target.met and target.threshold == pytest.approx(0.3 + RUN_MARGIN)
    assert target.source == f"baseline:threshold_test_dice_mean + {RUN_MARGIN:g}"
    missed = run_targets({"test_dice_mean": 0.5, "threshold_test_dice_mean": 0.3})
    assert missed["test_dice_over_threshold"].met is False


def test_metrics_csv_round_trip(tmp_path):
    rows = [
        {"epoch": 1, "train_loss": 0.9, "dice_mean": 0.4},
        {"epoch": 2, "train_loss": 0.5, "dice_mean": 0.6},
    ]
    path = write_metrics_csv(rows, tmp_path / "metrics.csv")
    assert read_metrics_csv(path) == [{k: float(v) for k, v in r.items()} for r in rows]


def test_missing_or_broken_run_files_say_what_to_do(tmp_path):
    with pytest.raises(Med3DError, match="train a run first"):
        read_metrics_csv(tmp_path / "metrics.csv")
    with pytest.raises(Med3DError, match="train a run first"):
        read_run_report(tmp_path / "report.json")
    (tmp_path / "report.json").write_text(json.dumps({"ok": True}))
    with pytest.raises(Med3DError, match="not a run report"):
        read_run_report(tmp_path / "report.json")


def test_learning_curves_are_plotted_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib comes with the dev tools (make setup)")
    path = plot_learning_curves({"scratch": curve([0.2, 0.5])}, tmp_path / "curves.png")
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
