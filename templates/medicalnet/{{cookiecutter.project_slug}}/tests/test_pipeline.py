"""The real-run pipeline, offline, on a tiny folder laid out like MSD Task04_Hippocampus."""

import csv
import json
from typing import Any

import pytest
import torch

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.data import hippocampus_dataset, hippocampus_split_items
from {{ cookiecutter.package_name }}.evaluate import RUN_MARGIN
from {{ cookiecutter.package_name }}.model import medicalnet_resnet
from {{ cookiecutter.package_name }}.weights import save_medicalnet_checkpoint


def last_json_line(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def test_hippocampus_splits_are_disjoint_padded_cubes_with_three_labels(fake_msd_root):
    train, dev, test = hippocampus_split_items(
        fake_msd_root, seed=0, dev_frac=0.2, test_frac=0.2, download=False
    )
    assert (len(train), len(dev), len(test)) == (4, 1, 1)
    names = [item["image"] for item in train + dev + test]
    assert len(set(names)) == 6  # every volume in exactly one split
    item = hippocampus_dataset(test, 32, train=False)[0]
    assert item["image"].shape == (1, 32, 32, 32) and item["label"].shape == (1, 32, 32, 32)
    assert set(torch.unique(item["label"]).tolist()) == {0.0, 1.0, 2.0}
    assert abs(item["image"][item["label"] > 0].float().mean().item()) < 5  # z-scored


def test_a_missing_dataset_is_a_clear_error_without_download(tmp_path):
    from {{ cookiecutter.package_name }}.errors import DataError

    with pytest.raises(DataError, match="Download it"):
        hippocampus_split_items(tmp_path, download=False)


@pytest.fixture(scope="module")
def trained(fake_msd_root, tmp_path_factory):
    """One short real run on the fake data (pretrained from a local MedicalNet file)."""
    tmp = tmp_path_factory.mktemp("run")
    weights = save_medicalnet_checkpoint(medicalnet_resnet(10, dilated=True), tmp / "r10.pth")
    run = tmp / "runs" / "medicalnet-seed0"
    argv = [
        "train",
        "--init",
        "medicalnet",
        "--weights",
        str(weights),
        "--backbone",
        "resnet10",
        "--data-dir",
        str(fake_msd_root),
        "--out",
        str(run),
        "--epochs",
        "2",
        "--roi",
        "32",
        "--dev-frac",
        "0.2",
        "--test-frac",
        "0.2",
        "--batch-size",
        "2",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--seed",
        "0",
    ]
    return run, argv


def test_train_ends_with_the_report_and_exits_by_its_target(trained, capsys):
    run, argv = trained
    code = main(argv)
    report = last_json_line(capsys.readouterr().out)
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    target = report["targets"]["test_dice_over_threshold"]
    assert target["threshold"] == pytest.approx(
        report["metrics"]["threshold_test_dice_mean"] + RUN_MARGIN, abs=1e-5
    )
    assert target["met"] is (target["value"] >= target["threshold"])
    assert code == (0 if report["ok"] else 1)
    assert json.loads((run / "report.json").read_text()) == report
    rows = list(csv.DictReader((run / "metrics.csv").read_text().splitlines()))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"train_loss", "dice_mean", "dice_anterior", "dice_posterior"} <= set(rows[0])
    best = max(range(2), key=lambda i: float(rows[i]["dice_mean"])) + 1
    assert report["metrics"]["best_epoch"] == best  # chosen on dev, scored on test
    meta = json.loads((run / "config.json").read_text())
    assert meta["splits"] == {"train": 4, "dev": 1, "test": 1}
    assert meta["weights"]["missing"] == [] and meta["weights"]["architecture_mismatch"] == []
    assert torch.load(run / "best.pt", weights_only=True)["epoch"] == best


def test_evaluate_and_compare_end_with_the_report_too(trained, fake_msd_root, capsys):
    run, argv = trained
    if not (run / "best.pt").exists():
        main(argv)
    capsys.readouterr()
    code = main(["evaluate", str(run / "best.pt"), "--data-dir", str(fake_msd_root)])
    report = last_json_line(capsys.readouterr().out)
    assert code == (0 if report["ok"] else 1)
    assert report["metrics"]["init"] == "medicalnet" and report["metrics"]["test_frac"] == 0.2
    assert "test_dice_over_threshold" in report["targets"]
    trained_report = json.loads((run / "report.json").read_text())
    assert report["metrics"]["test_dice_mean"] == pytest.approx(
        trained_report["metrics"]["test_dice_mean"], abs=1e-5
    )  # same checkpoint, same split

    assert (
        main(["compare", str(run), "--min-seeds", "1", "--plot", str(run.parent / "curves.png")])
        == 3
    )  # no scratch arm: nothing to compare
    assert "scratch" in capsys.readouterr().err
