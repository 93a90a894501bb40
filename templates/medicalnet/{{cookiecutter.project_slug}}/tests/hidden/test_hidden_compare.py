"""Instructor tests: the pretrained-vs-scratch summary, with exact values."""

import pytest

from {{ cookiecutter.package_name }}.evaluate import compare_runs


def curve(values):
    return [
        {"epoch": float(i), "train_loss": 1.0 / i, "dice_mean": v}
        for i, v in enumerate(values, start=1)
    ]


def test_every_field_of_each_run_is_exact():
    summary = compare_runs(
        {
            "medicalnet": curve([0.4, 0.7, 0.86, 0.83, 0.84]),
            "scratch": curve([0.1, 0.2, 0.5, 0.69, 0.7, 0.75]),
        },
        threshold=0.7,
    )
    assert summary["threshold"] == 0.7
    assert (
        summary["runs"]["medicalnet"].items()
        >= {
            "epochs": 5,
            "best_dice": 0.86,
            "best_epoch": 3,
            "final_dice": 0.84,
            "epochs_to_threshold": 2,  # 0.7 counts as reached (>=)
        }.items()
    )
    assert (
        summary["runs"]["scratch"].items()
        >= {
            "epochs": 6,
            "best_dice": 0.75,
            "best_epoch": 6,
            "final_dice": 0.75,
            "epochs_to_threshold": 5,
        }.items()
    )
    assert summary["speedup"] == pytest.approx(2.5)  # 5 epochs / 2 epochs


def test_speedup_can_be_below_one_and_is_none_when_pretraining_never_gets_there():
    slower = compare_runs(
        {"medicalnet": curve([0.5, 0.6, 0.8]), "scratch": curve([0.9])}, threshold=0.7
    )
    assert slower["speedup"] == pytest.approx(1 / 3)
    never = compare_runs({"medicalnet": curve([0.5, 0.6]), "scratch": curve([0.9])}, threshold=0.7)
    assert never["runs"]["medicalnet"]["epochs_to_threshold"] is None
    assert never["speedup"] is None


def test_other_run_names_are_summarised_without_a_speedup():
    summary = compare_runs({"seed1": curve([0.2, 0.9]), "seed2": curve([0.95])}, threshold=0.8)
    assert set(summary["runs"]) == {"seed1", "seed2"}
    assert summary["runs"]["seed1"]["best_epoch"] == 2
    assert summary["runs"]["seed2"]["epochs_to_threshold"] == 1
    assert summary.get("speedup") is None


def test_the_threshold_argument_decides_the_epochs_and_the_speedup():
    runs = {"medicalnet": curve([0.4, 0.7, 0.86]), "scratch": curve([0.1, 0.55, 0.6, 0.9])}
    low = compare_runs(runs, threshold=0.5)
    high = compare_runs(runs, threshold=0.85)
    assert low["threshold"] == 0.5 and high["threshold"] == 0.85
    assert low["runs"]["medicalnet"]["epochs_to_threshold"] == 2
    assert low["runs"]["scratch"]["epochs_to_threshold"] == 2
    assert low["speedup"] == pytest.approx(1.0)
    assert high["runs"]["medicalnet"]["epochs_to_threshold"] == 3
    assert high["runs"]["scratch"]["epochs_to_threshold"] == 4
    assert high["speedup"] == pytest.approx(4 / 3)
