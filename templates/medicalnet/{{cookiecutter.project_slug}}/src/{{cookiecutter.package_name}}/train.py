"""Training: one loop for the smoke run and the real run (DiceCE, best epoch on dev)."""

from __future__ import annotations

import copy
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import CLASS_NAMES, DICE_THRESHOLD, RealRunConfig
from .evaluate import (
    epochs_to_reach,
    evaluate_segmentation,
    fit_threshold_baseline,
    run_targets,
    score_cases,
    write_metrics_csv,
)
from .model import MedicalNetUNet, backbone_depth, count_parameters, segmentation_unet
from .runs import RunFolder, atomic_file, write_json
from .targets import build_report
from .weights import (
    download_medicalnet_state_dict,
    load_encoder_state,
    read_medicalnet_checkpoint,
)

log = logging.getLogger(__name__)

Batches = Iterable[Mapping[str, torch.Tensor]]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, PyTorch and MONAI, and ask PyTorch for deterministic kernels."""
    from monai.utils.misc import set_determinism

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_determinism(seed=seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"`` is the GPU when there is one, else the CPU; other names go to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class FitResult:
    """What a training run leaves: the per-epoch history and the epoch chosen on dev."""

    history: list[dict[str, float]]
    best_epoch: int
    best_dev_dice: float


def fit_segmentation(
    model: nn.Module,
    train: Batches,
    dev: Batches | None,
    *,
    num_classes: int,
    epochs: int,
    lr: float = 1e-3,
    encoder_lr: float | None = None,
    device: torch.device | str = "cpu",
    class_names: Sequence[str] = CLASS_NAMES,
    on_epoch: Callable[[dict[str, float], nn.Module, bool], None] | None = None,
) -> FitResult:
    """Train ``model`` with DiceCE (MONAI's ``DiceCELoss``, softmax) and Adam, with a cosine
    learning-rate decay; score the dev split after every epoch and restore the best epoch.

    ``encoder_lr`` (default ``lr``) is the rate of ``model.encoder``: slower for a pretrained
    encoder. Parameters with ``requires_grad=False`` stay as they are. Each history record holds
    ``epoch`` (from 1), ``train_loss``, the dev Dice keys of ``evaluate_segmentation`` and
    ``seconds``. Without ``dev`` the last epoch counts. ``on_epoch(record, model, is_best)``
    runs after each epoch (to write files).
    """
    from monai.losses.dice import DiceCELoss

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    encoder = getattr(model, "encoder", None)
    encoder_ids = {id(p) for p in encoder.parameters()} if encoder is not None else set()
    groups = [
        {
            "params": [p for p in model.parameters() if p.requires_grad and id(p) in encoder_ids],
            "lr": lr if encoder_lr is None else encoder_lr,
        },
        {
            "params": [
                p for p in model.parameters() if p.requires_grad and id(p) not in encoder_ids
            ],
            "lr": lr,
        },
    ]
    groups = [group for group in groups if group["params"]]
    optimizer = torch.optim.Adam(groups) if groups else None
    if optimizer is None:
        log.warning("no trainable parameters: the model will not learn")
    steps = epochs * max(1, len(train)) if isinstance(train, Sized) else epochs
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        if optimizer is not None
        else None
    )
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    history: list[dict[str, float]] = []
    best_epoch, best_dice, best_state = 0, -1.0, None
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for batch in train:
            images, labels = batch["image"].to(device), batch["label"].to(device)
            loss = loss_fn(model(images), labels)
            if optimizer is not None and schedule is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
            total += loss.item() * len(images)
            count += len(images)
        record: dict[str, float] = {"epoch": epoch, "train_loss": total / max(count, 1)}
        if dev is not None:
            record.update(evaluate_segmentation(model, dev, num_classes, device, class_names))
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        score = record.get("dice_mean", float(epoch))  # no dev split: the last epoch wins
        is_best = score > best_dice
        if is_best:
            best_epoch, best_dice = epoch, score
            best_state = copy.deepcopy(model.state_dict())
        if on_epoch is not None:
            on_epoch(record, model, is_best)
        log.info(
            "epoch %d/%d  loss %.4f  dev Dice %s (best epoch %d)",
            epoch,
            epochs,
            record["train_loss"],
            f"{record['dice_mean']:.3f}" if dev is not None else "-",
            best_epoch,
        )
    if best_state is not None:
        model.load_state_dict(best_state)
    return FitResult(history, best_epoch, best_dice if dev is not None else float("nan"))


def build_segmentation_model(
    config: RealRunConfig,
) -> tuple[MedicalNetUNet, dict[str, Any] | None]:
    """The U-Net of a real run, its encoder initialised as ``config.init`` says.

    Returns the model and, for ``init="medicalnet"``, the load report of the weights (from
    ``config.weights`` when given, else downloaded through MONAI). The geometry is checked
    first: MedicalNet's weights refuse a strided encoder unless
    ``config.accept_architecture_mismatch``.
    """
    model = segmentation_unet(config.backbone, num_classes=len(CLASS_NAMES), dilated=config.dilated)
    if config.init == "scratch":
        return model, None
    if config.weights is not None:
        state, recorded = read_medicalnet_checkpoint(config.weights)
        source = str(config.weights)
    else:
        depth = backbone_depth(config.backbone)
        state, recorded = download_medicalnet_state_dict(depth), None  # original: dilated
        source = f"MedicalNet ResNet-{depth} (Hugging Face hub)"
    report = load_encoder_state(
        model.encoder,
        state,
        recorded,
        source=source,
        accept_architecture_mismatch=config.accept_architecture_mismatch,
    )
    return model, report.as_dict()


def train_segmentation(config: RealRunConfig) -> dict[str, Any]:
    """One real run: train the U-Net on MSD Hippocampus's train split, choose the epoch on dev,
    score it once on test, next to the intensity-threshold baseline fit on train.

    Writes the run folder ``config.out_dir`` (``runs.RunFolder``: staged beside it, moved into
    place when the run finishes): ``config.json`` (with the seed), ``environment.json``,
    ``history.jsonl`` and ``metrics.csv`` (one row per epoch: train loss, dev Dice mean and per
    class), ``best.pt``, ``last.pt``, ``cases.json`` and ``cases.npz`` (per-case test Dice and
    slices, for ``make report``) and ``report.json``; returns the report
    (``targets.build_report``, targets from ``evaluate.run_targets``).
    """
    from .data import hippocampus_split_items

    started = time.perf_counter()
    seed_everything(config.seed)
    device = resolve_device(config.device)
    items = hippocampus_split_items(
        config.data_dir, seed=config.seed, dev_frac=config.dev_frac, test_frac=config.test_frac
    )
    target = Path(config.out_dir)  # made once the data is there: a failed download leaves no run
    settings = {"seed": config.seed, **config.as_dict()}
    with RunFolder(target.name, settings, root=target.parent) as run:
        final = _train_in(run, config, items, device, started)
        run.finish(final)
    return final


def _train_in(
    run: RunFolder,
    config: RealRunConfig,
    items: tuple[list[Any], list[Any], list[Any]],
    device: torch.device,
    started: float,
) -> dict[str, Any]:
    from torch.utils.data import DataLoader

    from .data import hippocampus_dataset

    out = run.staging
    train_ds, train_plain, dev_ds, test_ds = (
        hippocampus_dataset(part, config.roi_size, train=augment, limit=config.limit)
        for part, augment in (
            (items[0], True),
            (items[0], False),
            (items[1], False),
            (items[2], False),
        )
    )
    generator = torch.Generator().manual_seed(config.seed)
    # drop a last batch of one: batch norm cannot train on a single volume's bottleneck
    train_loader = DataLoader(
        train_ds,
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=config.num_workers,
        generator=generator,
        drop_last=len(train_ds) > config.batch_size,
    )
    plain, dev_loader, test_loader = (
        DataLoader(ds, batch_size=config.batch_size) for ds in (train_plain, dev_ds, test_ds)
    )

    model, report = build_segmentation_model(config)
    model.to(device)
    encoder_lr = config.lr * (config.encoder_lr_scale if config.init == "medicalnet" else 1.0)
    meta = {
        "seed": config.seed,
        "config": config.as_dict(),
        "device": str(device),
        "weights": report,
        "parameters": count_parameters(model),
        "splits": {"train": len(train_ds), "dev": len(dev_ds), "test": len(test_ds)},
    }
    write_json(out / "config.json", meta)
    log.info(
        "%s run on %s: %d parameters, encoder lr %.2g",
        config.init,
        device,
        meta["parameters"],
        encoder_lr,
    )
    checkpoint = {
        "backbone": config.backbone,
        "roi_size": config.roi_size,
        "init": config.init,
        "seed": config.seed,
        "dev_frac": config.dev_frac,
        "test_frac": config.test_frac,
        "dilated": config.dilated,
    }
    rows: list[dict[str, float]] = []

    def keep(record: dict[str, float], net: nn.Module, is_best: bool) -> None:
        rows.append(record)
        run.log(**record)
        write_metrics_csv(rows, out / "metrics.csv")
        state = {"state_dict": net.state_dict(), "epoch": int(record["epoch"]), **checkpoint}
        for name in ("last.pt", "best.pt") if is_best else ("last.pt",):
            with atomic_file(out / name) as partial:  # a crash mid-save keeps the last good one
                torch.save(state, partial)

    fit = fit_segmentation(
        model,
        train_loader,
        dev_loader,
        num_classes=len(CLASS_NAMES),
        epochs=config.epochs,
        lr=config.lr,
        encoder_lr=encoder_lr,
        device=device,
        on_epoch=keep,
    )
    result = score_on_test(model, plain, test_loader, device)
    from .smoke import write_cases

    baseline = fit_threshold_baseline(plain, len(CLASS_NAMES))
    write_cases(
        out,
        {
            config.init: score_cases(model, test_loader, len(CLASS_NAMES), device),
            "threshold": score_cases(baseline, test_loader, len(CLASS_NAMES)),
        },
    )
    metrics = {
        "init": config.init,
        "seed": config.seed,
        "best_epoch": fit.best_epoch,
        "dev_dice_best": fit.best_dev_dice,
        "epochs_to_threshold": epochs_to_reach([r["dice_mean"] for r in rows], DICE_THRESHOLD),
        **result,
    }
    return build_report(metrics, run_targets(metrics), started)


def score_on_test(
    model: nn.Module, train_plain: Batches, test: Batches, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """Test Dice of ``model`` and of the intensity-threshold baseline fit on ``train_plain``
    (the training split without augmentation), as ``test_*`` and ``threshold_test_*`` keys."""
    baseline = fit_threshold_baseline(train_plain, len(CLASS_NAMES))
    ours = evaluate_segmentation(model, test, len(CLASS_NAMES), device)
    theirs = evaluate_segmentation(baseline, test, len(CLASS_NAMES), "cpu")
    return {
        **{f"test_{k}": v for k, v in ours.items()},
        **{f"threshold_test_{k}": v for k, v in theirs.items()},
    }
