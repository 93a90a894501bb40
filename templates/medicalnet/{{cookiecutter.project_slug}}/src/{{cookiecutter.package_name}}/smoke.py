"""The smoke run: the whole pipeline on synthetic scans, offline, on a CPU, in seconds.

1. make noisy 32^3 volumes, half of them with a bright spherical "lesion";
2. train a slim MedicalNet-layout ResNet-10 from scratch to tell them apart;
3. save it in the original MedicalNet checkpoint format, load it into a fresh model with the
   checked loader, and confirm that both give the same outputs.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from .config import DEFAULT_SEED
from .data import make_lesion_volumes
from .evaluate import epochs_to_reach, write_metrics_csv
from .model import count_parameters, lesion_classifier
from .train import seed_everything, train_classifier
from .weights import load_medicalnet_weights, save_medicalnet_checkpoint

log = logging.getLogger(__name__)

#: What the smoke run must reach: ``*_min`` are lower bounds, ``*_max`` upper bounds.
SMOKE_TARGETS = {"val_accuracy_min": 0.9, "reload_max_abs_diff_max": 1e-5}


def targets_met(metrics: dict[str, Any], targets: dict[str, float]) -> bool:
    """True when every ``<metric>_min`` / ``<metric>_max`` target holds for ``metrics``."""
    for name, bound in targets.items():
        metric, kind = name.rsplit("_", 1)
        value = metrics[metric]
        if (kind == "min" and not value >= bound) or (kind == "max" and not value <= bound):
            return False
    return True


def run_smoke(
    *,
    epochs: int = 8,
    seed: int = DEFAULT_SEED,
    n_train: int = 160,
    n_val: int = 64,
    size: int = 32,
    out_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the smoke pipeline; return ``{"ok", "seconds", "metrics", "targets"}``.

    ``metrics`` holds the final validation accuracy, the per-epoch curve, the loss drop and the
    largest output difference after the MedicalNet-format round trip. With ``out_dir`` the
    learning curve (``smoke_metrics.csv``) and the checkpoint (``smoke_medicalnet.pth``) are
    kept there; otherwise they go to a temporary folder.
    """
    start = time.perf_counter()
    seed_everything(seed)
    log.info("making %d training and %d validation volumes of %d^3", n_train, n_val, size)
    train = make_lesion_volumes(n_train, size, seed=seed)
    val = make_lesion_volumes(n_val, size, seed=seed + 1_000)

    model = lesion_classifier()
    log.info("training a ResNet-10 (%d parameters) for %d epochs", count_parameters(model), epochs)
    history = train_classifier(model, train, val, epochs=epochs, seed=seed)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        write_metrics_csv(history, folder / "smoke_metrics.csv")
        path = save_medicalnet_checkpoint(model, folder / "smoke_medicalnet.pth")
        reloaded = lesion_classifier()
        report = load_medicalnet_weights(reloaded, path)
    model.eval()
    reloaded.eval()
    with torch.no_grad():
        diff = (model(val.images) - reloaded(val.images)).abs().max().item()

    curve = [round(r["val_accuracy"], 4) for r in history]
    metrics = {
        "val_accuracy": curve[-1],
        "val_accuracy_by_epoch": curve,
        "epochs_to_0.9": epochs_to_reach(curve, 0.9),
        "train_loss_first": round(history[0]["train_loss"], 4),
        "train_loss_last": round(history[-1]["train_loss"], 4),
        "reload_max_abs_diff": diff,
        "reload_tensors": report.loaded,
        "parameters": count_parameters(model),
        "n_train": n_train,
        "n_val": n_val,
    }
    return {
        "ok": targets_met(metrics, SMOKE_TARGETS),
        "seconds": round(time.perf_counter() - start, 2),
        "metrics": metrics,
        "targets": dict(SMOKE_TARGETS),
    }
