"""Evaluation: accuracy, Dice per class, learning curves and the pretrained-vs-scratch summary."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import CLASS_NAMES, DICE_THRESHOLD
from .errors import Med3DError

log = logging.getLogger(__name__)


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 64) -> float:
    """The fraction of ``images`` whose predicted class is ``labels`` (model in eval mode)."""
    model.eval()
    correct = 0
    for start in range(0, len(labels), batch_size):
        logits = model(images[start:start + batch_size])
        correct += (logits.argmax(dim=1) == labels[start:start + batch_size]).sum().item()
    return correct / len(labels)


def dice_per_class(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Dice of each foreground class (1 .. num_classes-1), averaged over the volumes.

    ``pred`` and ``target`` are integer label maps of the same shape (N, ...). A volume where a
    class is absent from both is left out of that class's mean; a class absent everywhere is NaN.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    # >>> assignment: Dice 2|P&T|/(|P|+|T|) per class, mean over volumes
    pred = pred.reshape(len(pred), -1)
    target = target.reshape(len(target), -1)
    scores = []
    for cls in range(1, num_classes):
        p, t = pred == cls, target == cls
        overlap = (p & t).sum(dim=1).float()
        size = p.sum(dim=1).float() + t.sum(dim=1).float()
        present = size > 0
        dice = 2 * overlap[present] / size[present]
        scores.append(dice.mean() if present.any() else torch.tensor(float("nan")))
    return torch.stack(scores)
    # <<< assignment


@torch.no_grad()
def evaluate_segmentation(model: nn.Module, loader: Iterable[Mapping[str, torch.Tensor]],
                          num_classes: int, device: torch.device | str = "cpu") -> dict[str, float]:
    """Mean Dice over the volumes of ``loader`` for each foreground class, and their mean.

    Keys: ``dice_mean`` and ``dice_<class name>`` (``CLASS_NAMES`` when it has ``num_classes``
    names, else ``dice_<index>``).
    """
    model.eval()
    sums = torch.zeros(num_classes - 1)
    counts = torch.zeros(num_classes - 1)
    for batch in loader:
        logits = model(batch["image"].to(device))
        pred = logits.argmax(dim=1).cpu()
        target = batch["label"].cpu().long().squeeze(1)
        for volume_pred, volume_target in zip(pred, target, strict=True):
            dice = dice_per_class(volume_pred[None], volume_target[None], num_classes)
            seen = ~torch.isnan(dice)
            sums[seen] += dice[seen]
            counts[seen] += 1
    per_class = (sums / counts.clamp(min=1)).tolist()
    names = CLASS_NAMES[1:] if len(CLASS_NAMES) == num_classes else range(1, num_classes)
    scores = {f"dice_{name}": value for name, value in zip(names, per_class, strict=True)}
    return {"dice_mean": sum(per_class) / len(per_class), **scores}


def write_metrics_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write one row per epoch (the keys of the first row are the header)."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_metrics_csv(path: str | Path) -> list[dict[str, float]]:
    """Read a ``metrics.csv`` written by a run; ``Med3DError`` when it is missing or empty."""
    path = Path(path)
    if not path.is_file():
        raise Med3DError(f"no metrics file at {path}: train a run first (see README, 'Real run')")
    with path.open(newline="") as handle:
        rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    if not rows:
        raise Med3DError(f"{path} holds no epochs")
    return rows


def epochs_to_reach(values: Sequence[float], threshold: float) -> int | None:
    """The first epoch (counting from 1) whose value is at least ``threshold``; None if never."""
    for epoch, value in enumerate(values, start=1):
        if value >= threshold:
            return epoch
    return None


def compare_runs(runs: Mapping[str, Sequence[Mapping[str, float]]],
                 threshold: float = DICE_THRESHOLD) -> dict[str, Any]:
    """Summarise runs by name: best mean Dice, its epoch, epochs to reach ``threshold``.

    When both a ``medicalnet`` and a ``scratch`` run are given, ``speedup`` is how many times
    fewer epochs the pretrained run needed to reach the threshold (None if either never did).
    """
    # >>> assignment: best/final Dice, epochs to threshold, speedup
    summary: dict[str, Any] = {"threshold": threshold, "runs": {}}
    for name, rows in runs.items():
        dice = [row["dice_mean"] for row in rows]
        best = max(range(len(dice)), key=dice.__getitem__)
        summary["runs"][name] = {
            "epochs": len(dice),
            "best_dice": dice[best],
            "best_epoch": best + 1,
            "final_dice": dice[-1],
            "epochs_to_threshold": epochs_to_reach(dice, threshold),
        }
    found = summary["runs"]
    if "medicalnet" in found and "scratch" in found:
        pre, scratch = (found[k]["epochs_to_threshold"] for k in ("medicalnet", "scratch"))
        summary["speedup"] = scratch / pre if pre and scratch else None
    return summary
    # <<< assignment


def plot_learning_curves(runs: Mapping[str, Sequence[Mapping[str, float]]], path: str | Path,
                         threshold: float = DICE_THRESHOLD) -> Path | None:
    """Plot validation Dice per epoch of each run to ``path`` (PNG); None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (pip install -e '.[real]'): no plot written")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in runs.items():
        ax.plot([r["epoch"] for r in rows], [r["dice_mean"] for r in rows], marker=".", label=name)
    ax.axhline(threshold, color="grey", linestyle="--", linewidth=1, label=f"Dice {threshold}")
    ax.set(xlabel="epoch", ylabel="validation Dice (mean of classes)", ylim=(0, 1))
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def load_segmentation_checkpoint(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the U-Net saved by a real run (``best.pt`` or ``last.pt``) and its settings."""
    from .model import segmentation_unet

    path = Path(path)
    if not path.is_file():
        raise Med3DError(f"no checkpoint at {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = segmentation_unet(checkpoint["backbone"], num_classes=len(CLASS_NAMES))
    model.load_state_dict(checkpoint["state_dict"])
    return model, {k: v for k, v in checkpoint.items() if k != "state_dict"}

