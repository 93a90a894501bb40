"""Training loops: the smoke run's lesion classifier and the real run's Hippocampus U-Net."""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .config import CLASS_NAMES, RealRunConfig
from .data import LesionVolumes, random_flips
from .evaluate import accuracy, evaluate_segmentation, write_metrics_csv
from .model import backbone_depth, count_parameters, segmentation_unet
from .weights import (
    download_medicalnet_state_dict,
    load_state_dict_checked,
    read_medicalnet_state_dict,
)

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"`` is the GPU when there is one, else the CPU; other names go to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train_classifier(
    model: nn.Module,
    train: LesionVolumes,
    val: LesionVolumes,
    *,
    epochs: int = 8,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    augment: bool = True,
) -> list[dict[str, float]]:
    """Train ``model`` to tell lesion from no lesion; return one record per epoch.

    Adam with a cosine learning-rate decay to zero, so the last epoch settles (and the
    batch-norm running statistics catch up with the weights).

    Each record holds ``epoch`` (from 1), ``train_loss`` (mean cross-entropy of the epoch),
    ``val_accuracy`` (after the epoch, in eval mode) and ``seconds`` since the start.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be at least 1")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(train.labels)
    steps = epochs * -(-n // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            images = train.images[idx]
            if augment:
                images = random_flips(images, generator)
            loss = F.cross_entropy(model(images), train.labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        record = {
            "epoch": epoch,
            "train_loss": total / n,
            "val_accuracy": accuracy(model, val.images, val.labels),
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        log.info("epoch %d/%d  loss %.4f  val accuracy %.3f", epoch, epochs,
                 record["train_loss"], record["val_accuracy"])
    return history


def build_segmentation_model(config: RealRunConfig) -> tuple[nn.Module, dict[str, Any] | None]:
    """The U-Net of a real run, its encoder initialised as ``config.init`` says.

    Returns the model and, for ``init="medicalnet"``, the load report of the weights (from
    ``config.weights`` when given, else downloaded through MONAI).
    """
    model = segmentation_unet(config.backbone, num_classes=len(CLASS_NAMES))
    if config.init == "scratch":
        return model, None
    if config.weights is not None:
        state = read_medicalnet_state_dict(config.weights)
        source = str(config.weights)
    else:
        depth = backbone_depth(config.backbone)
        state = download_medicalnet_state_dict(depth)
        source = f"MedicalNet ResNet-{depth} (Hugging Face hub)"
    report = load_state_dict_checked(model.encoder, state, source=source)
    return model, report.as_dict()


def train_segmentation(config: RealRunConfig) -> Path:
    """One real run: train the U-Net on MSD Hippocampus, validate every epoch, keep the best.

    Writes into ``config.out_dir``: ``config.json``, ``metrics.csv`` (one row per epoch: train
    loss, mean and per-class validation Dice), ``best.pt`` and ``last.pt``; returns that folder.
    """
    from monai.losses import DiceCELoss
    from torch.utils.data import DataLoader

    from .data import hippocampus_datasets

    seed_everything(config.seed)
    device = resolve_device(config.device)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_ds, val_ds = hippocampus_datasets(
        config.data_dir, roi_size=config.roi_size, val_frac=config.val_frac,
        seed=config.seed, limit=config.limit,
    )
    generator = torch.Generator().manual_seed(config.seed)
    # drop a last batch of one: batch norm cannot train on a single 2^3 or 1^3 bottleneck
    train_loader = DataLoader(train_ds, batch_size=config.batch_size, shuffle=True,
                              num_workers=config.num_workers, generator=generator,
                              drop_last=len(train_ds) > config.batch_size)
    val_loader = DataLoader(val_ds, batch_size=config.batch_size, num_workers=config.num_workers)

    model, report = build_segmentation_model(config)
    model.to(device)
    encoder_lr = config.lr * (config.encoder_lr_scale if config.init == "medicalnet" else 1.0)
    encoder_ids = {id(p) for p in model.encoder.parameters()}
    optimizer = torch.optim.Adam([
        {"params": list(model.encoder.parameters()), "lr": encoder_lr},
        {"params": [p for p in model.parameters() if id(p) not in encoder_ids], "lr": config.lr},
    ])
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    meta = {"config": config.as_dict(), "device": str(device), "weights": report,
            "parameters": count_parameters(model)}
    (out / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
    log.info("%s run on %s: %d parameters, encoder lr %.2g", config.init, device,
             meta["parameters"], encoder_lr)

    rows: list[dict[str, float]] = []
    best = -1.0
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            images, labels = batch["image"].to(device), batch["label"].to(device)
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(images)
            count += len(images)
        scores = evaluate_segmentation(model, val_loader, len(CLASS_NAMES), device)
        row = {"epoch": epoch, "train_loss": total / max(count, 1), **scores,
               "seconds": time.perf_counter() - start}
        rows.append(row)
        write_metrics_csv(rows, out / "metrics.csv")
        checkpoint = {"state_dict": model.state_dict(), "backbone": config.backbone,
                      "roi_size": config.roi_size, "init": config.init, "epoch": epoch,
                      "seed": config.seed, "val_frac": config.val_frac}
        torch.save(checkpoint, out / "last.pt")
        if scores["dice_mean"] > best:
            best = scores["dice_mean"]
            torch.save(checkpoint, out / "best.pt")
        log.info("epoch %d/%d  loss %.4f  val Dice %.3f (best %.3f)  %.0f s", epoch, config.epochs,
                 row["train_loss"], scores["dice_mean"], best, row["seconds"])
    return out
