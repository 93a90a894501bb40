"""The real-run pipeline, offline, on a tiny folder laid out like MSD Task04_Hippocampus."""

import csv
import json

import torch

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.data import (
    hippocampus_datasets,
)
from {{ cookiecutter.package_name }}.model import (
    medicalnet_resnet,
)
from {{ cookiecutter.package_name }}.weights import (
    save_medicalnet_checkpoint,
)


def test_hippocampus_datasets_give_padded_cubes_and_three_labels(fake_msd_root):
    train, val = hippocampus_datasets(fake_msd_root, roi_size=32, val_frac=0.34, download=False)
    assert (len(train), len(val)) == (4, 2)
    item = val[0]
    assert item["image"].shape == (1, 32, 32, 32) and item["label"].shape == (1, 32, 32, 32)
    assert set(torch.unique(item["label"]).tolist()) == {0.0, 1.0, 2.0}
    inside = item["image"][item["label"] > 0]
    assert abs(inside.float().mean().item()) < 5  # z-scored


def test_train_evaluate_compare_from_the_command_line(fake_msd_root, tmp_path, capsys):
    weights = save_medicalnet_checkpoint(medicalnet_resnet(10), tmp_path / "resnet_10.pth")
    run = tmp_path / "runs" / "medicalnet"
    argv = ["train", "--init", "medicalnet", "--weights", str(weights), "--backbone", "resnet10",
            "--data-dir", str(fake_msd_root), "--out", str(run), "--epochs", "2", "--roi", "32",
            "--limit", "2",
            "--batch-size", "2", "--workers", "0", "--device", "cpu"]
    assert main(argv) == 0
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"train_loss", "dice_mean", "dice_anterior", "dice_posterior"} <= set(rows[0])
    assert all(0.0 <= float(row["dice_mean"]) <= 1.0 for row in rows)
    meta = json.loads((run / "config.json").read_text())
    assert meta["weights"]["missing"] == [] and meta["weights"]["loaded"] > 0
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()
    capsys.readouterr()

    assert main(["evaluate", str(run / "best.pt"), "--data-dir", str(fake_msd_root)]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["init"] == "medicalnet" and 0.0 <= scores["dice_mean"] <= 1.0
    assert scores["epoch"] in (1, 2) and scores["val_frac"] == 0.2

    assert main(["compare", str(run), "--plot", str(tmp_path / "curves.png")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["runs"]["medicalnet"]["epochs"] == 2
