"""`report`: figures, the README's Results section and the model card from tiny fabricated run
folders (no training here: the smoke run's own report is checked in test_train.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.evaluate import CaseScores
from {{ cookiecutter.package_name }}.runs import RunFolder
from {{ cookiecutter.package_name }}.showcase import RESULTS_BEGIN, RESULTS_END, parse_results
from {{ cookiecutter.package_name }}.smoke import write_cases
from {{ cookiecutter.package_name }}.targets import beats_baseline, build_report, published

pytest.importorskip("matplotlib")


def cases(seed, n=6, keep=3, size=16, classes=2):
    """Per-case scores of a made-up model: Dice values and slices with a blob or two."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = []
    for _ in range(keep):
        label = np.zeros((size, size), dtype=np.uint8)
        for cls in range(1, classes + 1):
            cy, cx = rng.integers(4, size - 4, 2)
            label[(yy - cy) ** 2 + (xx - cx) ** 2 < 9] = cls
        labels.append(label)
    return CaseScores(
        dice=[float(v) for v in rng.uniform(0.3, 0.9, n)],
        images=[rng.normal(size=(size, size)).astype(np.float32) for _ in range(keep)],
        labels=labels,
        preds=[np.roll(label, 1, axis=0) for label in labels],
    )


def fake_smoke_run(root: Path) -> Path:
    with RunFolder("smoke", {"seed": 3}, root=root) as run:
        for epoch in (1, 2, 3):
            run.log(stage="pretrain", epoch=epoch, pretrain_loss=1.5 / epoch)
        for epoch in (1, 2, 3, 4):
            run.log(
                stage="finetune",
                epoch=epoch,
                medicalnet_train_loss=1.2 / epoch,
                medicalnet_dev_dice=0.9 - 0.4 / epoch,
                scratch_train_loss=1.3 / epoch,
                scratch_dev_dice=0.85 - 0.45 / epoch,
            )
        write_cases(
            run.staging,
            {arm: cases(i) for i, arm in enumerate(("threshold", "medicalnet", "scratch"))},
        )
        metrics = {
            "threshold_test_dice": 0.48,
            "medicalnet_test_dice": 0.72,
            "scratch_test_dice": 0.55,
        }
        targets = {
            f"{arm}_over_threshold": beats_baseline(
                metrics[f"{arm}_test_dice"], "threshold_test_dice", 0.48, 0.1
            )
            for arm in ("medicalnet", "scratch")
        }
        return run.finish(build_report(metrics, targets, 0.0))


def readme_in(folder: Path) -> Path:
    readme = folder / "README.md"
    readme.write_text(
        f"# P\n\n## Results\n\n{RESULTS_BEGIN}\nNo run yet\n{RESULTS_END}\n\n## Next\n"
    )
    return readme


def assert_real_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] >= 200 and image.shape[1] >= 300
    assert image[..., :3].std() > 0.05, f"{path.name} is blank"
    assert (image[..., 3] == 1).all() if image.shape[2] == 4 else True  # opaque
    assert 5_000 < path.stat().st_size < 400_000


def test_report_of_a_smoke_run_draws_every_figure_and_reads_back_twice_as_once(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    folder = fake_smoke_run(tmp_path / "runs")
    readme = readme_in(tmp_path)
    monkeypatch.setattr("{{ cookiecutter.package_name }}.__main__.RUNS_DIR", tmp_path / "runs")
    assert main(["report"]) == 0  # the latest run, README.md and figures/ of the working folder
    written = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    names = {Path(p).name for p in written["figures"]}
    assert names == {
        "learning_curve.png",
        "pretrained_vs_scratch.png",
        "targets.png",
        "per_case_dice.png",
        "slice_overlays.png",
    }
    for path in written["figures"]:
        assert_real_png(tmp_path / path)
    report = json.loads((folder / "report.json").read_text())
    assert parse_results(readme) == {
        name: {
            "value": pytest.approx(t["value"], abs=1e-4),
            "op": t["op"],
            "threshold": pytest.approx(t["threshold"], abs=1e-4),
            "met": t["met"],
        }
        for name, t in report["targets"].items()
    }
    text = readme.read_text()
    assert "](figures/slice_overlays.png)" in text and "No run yet" not in text
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "not a medical device" in card and "0.72" in card
    assert main(["report", str(folder)]) == 0
    assert readme.read_text() == text  # twice = once
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["readme_changed"] is False


def test_report_of_a_real_run_and_of_the_study(tmp_path):
    from {{ cookiecutter.package_name }}.report import make_report

    with RunFolder("scratch-seed0", {"seed": 0}, root=tmp_path / "runs") as run:
        for epoch in (1, 2, 3):
            run.log(epoch=epoch, train_loss=1.0 / epoch, dice_mean=0.3 * epoch, seconds=1.0)
        write_cases(run.staging, {"scratch": cases(1), "threshold": cases(2)})
        metrics = {"init": "scratch", "test_dice_mean": 0.8, "threshold_test_dice_mean": 0.4}
        targets = {
            "test_dice_over_threshold": beats_baseline(0.8, "threshold_test_dice_mean", 0.4, 0.25)
        }
        single = run.finish(build_report(metrics, targets, 0.0))
    written = make_report(single, readme_in(tmp_path), tmp_path / "figures", tmp_path / "card.md")
    assert written["kind"] == "train" and len(written["figures"]) == 4
    assert "trained from scratch" in (tmp_path / "card.md").read_text()

    with RunFolder("compare", {"seed": 0}, root=tmp_path / "runs") as run:
        for arm in ("medicalnet", "scratch"):
            for seed in (0, 1):
                for epoch in (1, 2, 3):
                    dice = 0.2 * epoch + (0.1 if arm == "medicalnet" else 0)
                    run.log(
                        run=f"{arm}-seed{seed}", arm=arm, seed=seed, epoch=epoch, dice_mean=dice
                    )
        metrics = {"gain": 0.05, "medicalnet_test_dice_mean": 0.8, "scratch_test_dice_mean": 0.75}
        study = run.finish(
            build_report(metrics, {"gain": published(0.05, ">=", 0.03, "Med3D")}, 0.0)
        )
    (tmp_path / "study").mkdir()
    readme = readme_in(tmp_path / "study")
    written = make_report(study, readme, tmp_path / "study" / "figures", tmp_path / "card2.md")
    assert written["kind"] == "compare" and written["model_card"] is None
    for path in written["figures"]:
        assert_real_png(Path(path))
    assert parse_results(readme)["gain"]["value"] == pytest.approx(0.05)


def test_report_without_a_run_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 3
    assert "make smoke" in capsys.readouterr().err
