"""The smoke run: the real study in miniature, offline, on a CPU, in well under a minute.

1. make synthetic scans where the structure to segment is defined by context (the sphere that
   touches a rod) while a distractor sphere and the rod share its intensity (``data``);
2. fit the intensity-threshold baseline on the training scans;
3. pretrain the U-Net on a related task (segment rod and spheres) and save its encoder as a
   MedicalNet ``.pth`` file (``{"state_dict": {"module.*"}}``, geometry recorded beside it);
4. fine-tune twice with the real run's loop (MONAI transforms, DiceCE, best epoch on dev):
   encoder from that file through the MedicalNet loader, and from scratch;
5. score both, and the baseline, once on a separate test split; print the report.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import DEFAULT_SEED
from .data import (
    PRETRAIN_CLASSES,
    TARGET_CLASSES,
    SyntheticScans,
    as_items,
    make_context_scans,
    synthetic_transforms,
)
from .evaluate import (
    CaseScores,
    evaluate_segmentation,
    fit_threshold_baseline,
    score_cases,
    write_metrics_csv,
)
from .model import MedicalNetUNet, count_parameters, smoke_unet
from .runs import RunFolder, write_json
from .targets import Target, beats_baseline, build_report
from .train import fit_segmentation, seed_everything
from .weights import load_medicalnet_weights, save_medicalnet_checkpoint

log = logging.getLogger(__name__)

#: How far each fine-tuned network's test Dice must beat the threshold baseline's.
MARGIN = 0.1
#: The run file the live demo (``demo.py``) shows: the first test scans, their labels and the
#: threshold baseline's windows; and how many scans it keeps.
DEMO_SCANS = "demo_scans.npz"
DEMO_SCAN_COUNT = 8

ModelFactory = Callable[[int], MedicalNetUNet]


@dataclass(frozen=True)
class SmokeSettings:
    """The size of the smoke run: the defaults take about 30 s of one CPU core (one thread)."""

    size: int = 24
    n_pretrain: int = 48
    n_train: int = 96
    n_dev: int = 16
    n_test: int = 32
    pretrain_epochs: int = 4
    epochs: int = 6
    batch_size: int = 4
    lr: float = 3e-3


def run_smoke(
    *,
    seed: int = DEFAULT_SEED,
    settings: SmokeSettings = SmokeSettings(),
    model_factory: ModelFactory | None = None,
    out_dir: str | Path | None = None,
    run: RunFolder | None = None,
) -> dict[str, Any]:
    """Run the smoke study; return the report (``targets.build_report``).

    ``model_factory(num_classes)`` builds every network of the run (pretraining and both
    fine-tunes), ``smoke_unet`` by default (looked up at call time): tests pass broken ones to
    prove the targets can be missed. With ``out_dir`` the
    learning curves and the MedicalNet checkpoint are kept there; otherwise a temporary folder.
    With ``run`` (a ``runs.RunFolder``; the caller finishes it) the run also keeps its per-epoch
    history, both arms' checkpoints and per-case test scores (``cases.json``, ``cases.npz``: the
    figures of ``make report``), and the checkpoint folder defaults to the run folder.
    """
    started = time.perf_counter()
    s = settings
    build = model_factory if model_factory is not None else smoke_unet
    # one thread: these small 3D convolutions gain little from a second one, and on a shared
    # machine the threads' busy-waiting multiplies the CPU time
    torch.set_num_threads(1)
    seed_everything(seed)
    # one independent stream per split: no scan is in two splits
    pre_seed, train_seed, dev_seed, test_seed = (
        int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(4)
    )
    log.info(
        "making %d pretraining, %d train, %d dev, %d test scans of %d^3",
        s.n_pretrain,
        s.n_train,
        s.n_dev,
        s.n_test,
        s.size,
    )
    pre = make_context_scans(s.n_pretrain, s.size, seed=pre_seed, task="pretrain")
    train = make_context_scans(s.n_train, s.size, seed=train_seed)
    dev = make_context_scans(s.n_dev, s.size, seed=dev_seed)
    test = make_context_scans(s.n_test, s.size, seed=test_seed)

    def loader(scans: SyntheticScans, train_mode: bool) -> torch.utils.data.DataLoader[Any]:
        from monai.data.dataset import Dataset

        data = Dataset(as_items(scans), synthetic_transforms(s.size, train=train_mode, seed=seed))
        return torch.utils.data.DataLoader(
            data,
            batch_size=s.batch_size,
            shuffle=train_mode,
            generator=torch.Generator().manual_seed(seed),
            drop_last=train_mode,
        )

    n_classes = len(TARGET_CLASSES)
    baseline = fit_threshold_baseline(loader(train, False), n_classes)
    test_loader = loader(test, False)
    baseline_test = evaluate_segmentation(baseline, test_loader, n_classes, "cpu", TARGET_CLASSES)
    log.info("threshold baseline %s: test Dice %.3f", baseline.windows, baseline_test["dice_mean"])
    cases = {"threshold": score_cases(baseline, test_loader, n_classes)}
    histories: dict[str, list[dict[str, float]]] = {}

    metrics: dict[str, Any] = {"threshold_test_dice": baseline_test["dice_mean"]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir is not None else run.staging if run else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(seed)
        pretrained = build(len(PRETRAIN_CLASSES))
        log.info(
            "pretraining a U-Net (%d parameters) on rod and spheres for %d epochs",
            count_parameters(pretrained),
            s.pretrain_epochs,
        )
        fit = fit_segmentation(
            pretrained,
            loader(pre, True),
            None,
            num_classes=len(PRETRAIN_CLASSES),
            epochs=s.pretrain_epochs,
            lr=s.lr,
            class_names=PRETRAIN_CLASSES,
        )
        write_metrics_csv(fit.history, folder / "smoke_pretrain.csv")
        histories["pretrain"] = fit.history
        path = save_medicalnet_checkpoint(
            pretrained.encoder, folder / "smoke_medicalnet.pth", head=pretrained.decoder
        )
        for init in ("medicalnet", "scratch"):
            torch.manual_seed(seed + 1)  # both arms start from the same decoder
            model = build(n_classes)
            if init == "medicalnet":
                report = load_medicalnet_weights(model.encoder, path)
                metrics["medicalnet_tensors_loaded"] = report.loaded
                metrics["medicalnet_tensors_skipped"] = len(report.unexpected)
            log.info("fine-tuning (%s encoder) for %d epochs", init, s.epochs)
            fit = fit_segmentation(
                model,
                loader(train, True),
                loader(dev, False),
                num_classes=n_classes,
                epochs=s.epochs,
                lr=s.lr,
                class_names=TARGET_CLASSES,
            )
            write_metrics_csv(fit.history, folder / f"smoke_{init}.csv")
            histories[init] = fit.history
            cases[init] = score_cases(model, test_loader, n_classes)
            if run is not None:
                torch.save(model.state_dict(), run.path(f"smoke_{init}_finetuned.pt"))
            scores = evaluate_segmentation(model, test_loader, n_classes, "cpu", TARGET_CLASSES)
            metrics[f"{init}_test_dice"] = scores["dice_mean"]
            metrics[f"{init}_best_epoch"] = fit.best_epoch
            metrics[f"{init}_dev_dice_by_epoch"] = [r["dice_mean"] for r in fit.history]
    metrics["parameters"] = count_parameters(model)
    metrics["settings"] = asdict(s)
    if run is not None:
        record_smoke(run, histories, cases)
        write_demo_scans(run.staging / DEMO_SCANS, test, baseline.windows)
    return build_report(metrics, smoke_targets(metrics), started)


def smoke_targets(metrics: dict[str, Any]) -> dict[str, Target]:
    """Both fine-tuned networks beat the same-run threshold baseline on test by ``MARGIN``."""
    baseline = metrics["threshold_test_dice"]
    return {
        f"{init}_over_threshold": beats_baseline(
            metrics[f"{init}_test_dice"], "threshold_test_dice", baseline, MARGIN
        )
        for init in ("medicalnet", "scratch")
    }


def record_smoke(
    run: RunFolder, histories: dict[str, list[dict[str, float]]], cases: dict[str, CaseScores]
) -> None:
    """Keep the smoke run's history and per-case scores in its run folder.

    History rows: ``stage`` pretrain or finetune and ``epoch``; pretraining's ``pretrain_loss``;
    then each fine-tuned arm's ``<arm>_train_loss`` and ``<arm>_dev_dice`` (both arms trained
    the same number of epochs, so one row per epoch holds both).
    """
    for row in histories.get("pretrain", []):
        run.log(stage="pretrain", epoch=row["epoch"], pretrain_loss=row["train_loss"])
    arms = [arm for arm in ("medicalnet", "scratch") if arm in histories]
    for rows in zip(*(histories[arm] for arm in arms), strict=True):
        record: dict[str, Any] = {"stage": "finetune", "epoch": rows[0]["epoch"]}
        for arm, row in zip(arms, rows, strict=True):
            record[f"{arm}_train_loss"] = row["train_loss"]
            record[f"{arm}_dev_dice"] = row.get("dice_mean")
        run.log(**record)
    write_cases(run.staging, cases)


def write_cases(folder: Path, cases: dict[str, CaseScores]) -> None:
    """``cases.json`` (each arm's per-case test Dice) and ``cases.npz`` (image, ground truth and
    each arm's prediction on one slice of the first test volumes)."""
    write_json(folder / "cases.json", {"dice": {arm: c.dice for arm, c in cases.items()}})
    first = next(iter(cases.values()))
    arrays: dict[str, Any] = {
        "image": np.stack(first.images).astype(np.float32),
        "label": np.stack(first.labels).astype(np.uint8),
    }
    arrays.update({f"pred_{arm}": np.stack(c.preds).astype(np.uint8) for arm, c in cases.items()})
    np.savez_compressed(folder / "cases.npz", **arrays)


def write_demo_scans(
    path: Path,
    scans: SyntheticScans,
    windows: tuple[tuple[float, float], ...],
    count: int = DEMO_SCAN_COUNT,
) -> Path:
    """Keep the first ``count`` test scans, their labels and the threshold baseline's intensity
    windows in ``path``: what ``make demo`` segments again and shows. The scans are as the run
    scored them (its MONAI steps z-score the in-memory scans in place)."""
    np.savez_compressed(
        path,
        image=scans.images[:count].numpy(),
        label=scans.labels[:count].numpy(),
        threshold_windows=np.asarray(windows, dtype=np.float64),
    )
    return path
