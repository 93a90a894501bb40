"""Evaluation: Dice per class, the intensity-threshold baseline, learning curves, and the
pretrained-vs-scratch summary over seeds."""

from __future__ import annotations

import csv
import json
import logging
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import CLASS_NAMES, DICE_THRESHOLD, INITS, MIN_SEEDS
from .errors import Med3DError
from .runs import atomic_file
from .targets import Target, beats_baseline, published

log = logging.getLogger(__name__)


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


Predictor = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def evaluate_segmentation(
    model: nn.Module | Predictor,
    loader: Iterable[Mapping[str, torch.Tensor]],
    num_classes: int,
    device: torch.device | str = "cpu",
    class_names: Sequence[str] = CLASS_NAMES,
) -> dict[str, float]:
    """Mean Dice over the volumes of ``loader`` for each foreground class, and their mean.

    ``model`` is a network (logits, argmax taken here, in eval mode) or any function from
    images to label maps (a baseline). Keys: ``dice_mean`` and ``dice_<class name>``
    (``class_names`` when it has ``num_classes`` names, else ``dice_<index>``).
    """
    if isinstance(model, nn.Module):
        model.eval()
    sums = torch.zeros(num_classes - 1)
    counts = torch.zeros(num_classes - 1)
    for batch in loader:
        out = model(batch["image"].to(device))
        pred = (out.argmax(dim=1) if isinstance(model, nn.Module) else out).cpu()
        target = batch["label"].cpu().long().squeeze(1)
        for volume_pred, volume_target in zip(pred, target, strict=True):
            dice = dice_per_class(volume_pred[None], volume_target[None], num_classes)
            seen = ~torch.isnan(dice)
            sums[seen] += dice[seen]
            counts[seen] += 1
    per_class = (sums / counts.clamp(min=1)).tolist()
    names = class_names[1:] if len(class_names) == num_classes else range(1, num_classes)
    scores = {f"dice_{name}": value for name, value in zip(names, per_class, strict=True)}
    return {"dice_mean": sum(per_class) / len(per_class), **scores}


@dataclass(frozen=True)
class CaseScores:
    """Per-volume results for the figures of ``make report``: each volume's mean foreground
    Dice, and one axial slice (where the ground truth is largest) of the first volumes."""

    dice: list[float]  # one per volume, NaN where no class is present in either map
    images: list[Any]  # numpy (H, W) slices of the first ``keep`` volumes
    labels: list[Any]
    preds: list[Any]


@torch.no_grad()
def score_cases(
    model: nn.Module | Predictor,
    loader: Iterable[Mapping[str, torch.Tensor]],
    num_classes: int,
    device: torch.device | str = "cpu",
    keep: int = 4,
) -> CaseScores:
    """Each volume's Dice (mean over the foreground classes present) and the slices of the first
    ``keep`` volumes, cut where the ground truth has the most foreground (the same slice for
    every model scored on the same loader)."""
    if isinstance(model, nn.Module):
        model.eval()
    scores = CaseScores([], [], [], [])
    for batch in loader:
        out = model(batch["image"].to(device))
        pred = (out.argmax(dim=1) if isinstance(model, nn.Module) else out).cpu()
        target = batch["label"].cpu().long().squeeze(1)
        image = batch["image"].cpu().float()[:, 0]
        for volume_pred, volume_target, volume in zip(pred, target, image, strict=True):
            dice = dice_per_class(volume_pred[None], volume_target[None], num_classes)
            seen = dice[~torch.isnan(dice)]
            scores.dice.append(float(seen.mean()) if len(seen) else float("nan"))
            if len(scores.images) < keep:
                depth = int((volume_target > 0).sum(dim=(1, 2)).argmax())
                scores.images.append(volume[depth].numpy())
                scores.labels.append(volume_target[depth].numpy())
                scores.preds.append(volume_pred[depth].numpy())
    return scores


@dataclass(frozen=True)
class ThresholdBaseline:
    """The intensity-threshold baseline: class ``c`` wherever ``low[c] <= voxel < high[c]``.

    One intensity window per foreground class, fit on training scans only
    (``fit_threshold_baseline``); where windows overlap, the later class wins. It sees one
    voxel at a time, so it cannot use shape or context: the network must beat it.
    """

    windows: tuple[tuple[float, float], ...]  # (low, high) of classes 1, 2, ...

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Label maps (N, D, H, W) for images (N, 1, D, H, W)."""
        values = images[:, 0]
        pred = torch.zeros(values.shape, dtype=torch.long, device=values.device)
        for cls, (low, high) in enumerate(self.windows, start=1):
            pred[(values >= low) & (values < high)] = cls
        return pred


def fit_threshold_baseline(
    loader: Iterable[Mapping[str, torch.Tensor]], num_classes: int, grid: int = 64
) -> ThresholdBaseline:
    """Choose each foreground class's intensity window to maximise its Dice on ``loader``
    (training scans only). Candidate bounds are ``grid`` quantiles of the intensities seen
    plus open ends; Dice is pooled over all voxels (one window for the whole set).
    """
    values_seen, labels_seen = [], []
    for batch in loader:
        values_seen.append(batch["image"][:, 0].reshape(-1).float().cpu())
        labels_seen.append(batch["label"][:, 0].reshape(-1).long().cpu())
    values, labels = torch.cat(values_seen), torch.cat(labels_seen)
    # quantiles of a fixed subsample: torch.quantile refuses very large inputs
    pick = torch.randperm(len(values), generator=torch.Generator().manual_seed(0))[:100_000]
    cuts = torch.unique(torch.quantile(values[pick], torch.linspace(0, 1, grid)))
    bins = torch.bucketize(values, cuts, right=True)  # bin b holds cuts[b-1] <= v < cuts[b]
    edges = [-math.inf, *cuts.tolist(), math.inf]
    total = torch.bincount(bins, minlength=len(edges) - 1).double()
    windows = []
    for cls in range(1, num_classes):
        target = labels == cls
        inside = torch.bincount(bins[target], minlength=len(edges) - 1).double()
        # a window [edges[i], edges[j]) covers bins i .. j-1: cumulative sums give every window
        cum_total = torch.cat([torch.zeros(1, dtype=torch.float64), total.cumsum(0)])
        cum_inside = torch.cat([torch.zeros(1, dtype=torch.float64), inside.cumsum(0)])
        hits = cum_inside[None, :] - cum_inside[:, None]
        picked = cum_total[None, :] - cum_total[:, None]
        dice = 2 * hits / (picked + target.sum()).clamp(min=1)
        dice = torch.triu(dice, diagonal=1)  # only windows with low < high
        best = int(dice.argmax())
        low, high = divmod(best, dice.shape[1])
        windows.append((edges[low], edges[high]))
    return ThresholdBaseline(tuple(windows))


def write_metrics_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write one row per epoch (the keys of the first row are the header)."""
    path = Path(path)
    with atomic_file(path) as partial, partial.open("w", newline="") as handle:
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


def read_run_report(path: str | Path) -> dict[str, Any]:
    """Read the ``report.json`` a real run wrote; ``Med3DError`` when it is missing or broken."""
    path = Path(path)
    if not path.is_file():
        raise Med3DError(f"no run report at {path}: train a run first (see README, 'Real run')")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        report["metrics"]["init"], report["metrics"]["test_dice_mean"]  # noqa: B018
    except (ValueError, KeyError, TypeError) as err:
        raise Med3DError(f"{path} is not a run report: {err}") from err
    return dict(report)


def epochs_to_reach(values: Sequence[float], threshold: float) -> int | None:
    """The first epoch (counting from 1) whose value is at least ``threshold``; None if never."""
    for epoch, value in enumerate(values, start=1):
        if value >= threshold:
            return epoch
    return None


def compare_runs(
    runs: Mapping[str, Sequence[Mapping[str, float]]], threshold: float = DICE_THRESHOLD
) -> dict[str, Any]:
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


#: How far a real run's test Dice must beat the same run's intensity-threshold baseline.
RUN_MARGIN = 0.25
#: Med3D's smallest reported gain from pretraining, in accuracy or Dice points.
MED3D_MIN_GAIN = 0.03
MED3D_GAIN_SOURCE = (
    "Chen, Ma, Zheng 2019, Med3D, arXiv:1904.00625, abstract: pretraining "
    "improves accuracy by 3% to 20%"
)


def run_targets(metrics: Mapping[str, Any]) -> dict[str, Target]:
    """The targets of one real run (``train``, ``evaluate``): its test Dice beats the
    intensity-threshold baseline, fit on the same run's training split, by ``RUN_MARGIN``."""
    return {
        "test_dice_over_threshold": beats_baseline(
            metrics["test_dice_mean"],
            "threshold_test_dice_mean",
            metrics["threshold_test_dice_mean"],
            RUN_MARGIN,
        )
    }


def summarize_study(
    runs: Sequence[Mapping[str, Any]], threshold: float = DICE_THRESHOLD, min_seeds: int = MIN_SEEDS
) -> dict[str, Any]:
    """Pretrained vs scratch over seeds: the metrics of the study's report.

    Each run is ``{"init", "seed", "test_dice_mean", "rows"}`` (``rows``: the per-epoch dev
    curve). Per arm: mean, min and max test Dice and mean epochs to ``threshold`` on dev (None
    when a seed never got there); then ``gain`` (pretrained mean minus scratch mean) and
    ``speedup`` (scratch epochs / pretrained epochs). Raises ``Med3DError`` when an arm has
    fewer than ``min_seeds`` seeds: one lucky seed proves nothing.
    """
    metrics: dict[str, Any] = {"threshold": threshold}
    epochs: dict[str, float | None] = {}
    for init in INITS:
        arm = [run for run in runs if run["init"] == init]
        seeds = sorted({int(run["seed"]) for run in arm})
        if len(seeds) < min_seeds:
            raise Med3DError(
                f"{init}: {len(seeds)} seed(s) {seeds}, the study needs at least "
                f"{min_seeds} per arm (train more with --seed N)"
            )
        dice = [float(run["test_dice_mean"]) for run in arm]
        reached = [
            epochs_to_reach([row["dice_mean"] for row in run["rows"]], threshold) for run in arm
        ]
        epochs[init] = (
            None
            if None in reached
            else statistics.mean([float(e) for e in reached if e is not None])
        )
        metrics.update(
            {
                f"{init}_seeds": seeds,
                f"{init}_test_dice_mean": statistics.mean(dice),
                f"{init}_test_dice_min": min(dice),
                f"{init}_test_dice_max": max(dice),
                f"{init}_epochs_to_threshold": epochs[init],
            }
        )
    metrics["gain"] = metrics["medicalnet_test_dice_mean"] - metrics["scratch_test_dice_mean"]
    pre, scratch = epochs["medicalnet"], epochs["scratch"]
    metrics["speedup"] = scratch / pre if pre and scratch else None
    return metrics


def study_targets(metrics: Mapping[str, Any]) -> dict[str, Target]:
    """The study's published target: pretraining gains at least Med3D's smallest reported
    improvement (3 points) in mean test Dice over scratch."""
    return {
        "pretrained_gain_over_scratch": published(
            metrics["gain"], ">=", MED3D_MIN_GAIN, MED3D_GAIN_SOURCE
        )
    }


def plot_learning_curves(
    runs: Mapping[str, Sequence[Mapping[str, float]]],
    path: str | Path,
    threshold: float = DICE_THRESHOLD,
) -> Path | None:
    """Plot validation Dice per epoch of each run to ``path`` (PNG); None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed (it comes with make setup): no plot written")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in runs.items():
        ax.plot([r["epoch"] for r in rows], [r["dice_mean"] for r in rows], marker=".", label=name)
    ax.axhline(threshold, color="grey", linestyle="--", linewidth=1, label=f"Dice {threshold}")
    ax.set(xlabel="epoch", ylabel="dev Dice (mean of classes)", ylim=(0, 1))
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
    model = segmentation_unet(
        checkpoint["backbone"],
        num_classes=len(CLASS_NAMES),
        dilated=bool(checkpoint.get("dilated", True)),
    )
    model.load_state_dict(checkpoint["state_dict"])
    return model, {k: v for k, v in checkpoint.items() if k != "state_dict"}
