"""``make report``: figures, the README's Results section and MODEL_CARD.md from a run folder.

A smoke run (``runs/smoke``) gives the training-loss curves, pretrained-vs-scratch dev Dice per
epoch, the targets chart, each test case's Dice per arm and slice overlays of prediction vs
ground truth. A real ``train`` run gives its learning curve, targets, per-case Dice and
overlays; a ``compare`` run the study's curves, pretrained vs scratch, over seeds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import showcase
from .runs import read_run

#: How each arm of a run is named in the figures.
ARM_LABELS = {
    "medicalnet": "U-Net, MedicalNet encoder",
    "scratch": "U-Net, encoder from scratch",
    "threshold": "intensity-threshold baseline",
}
ARM_COLORS = {
    "medicalnet": showcase.BLUE,
    "scratch": showcase.ORANGE,
    "threshold": showcase.GREY,
}
#: Overlay colours of the foreground classes (1, 2, ...).
CLASS_COLORS = (showcase.VERMILION, showcase.GREEN, showcase.PURPLE)

NOT_A_DEVICE = (
    "**This is not a medical device.** It is a study of transfer learning for teaching and "
    "research, trained on small public or synthetic data, never validated clinically; do not use "
    "it for diagnosis, treatment or any decision about a patient."
)


def run_kind(run: Mapping[str, Any]) -> str:
    """``smoke``, ``train``, ``compare`` or ``other`` (evaluate, weights): what the run is."""
    metrics = run["report"].get("metrics", {})
    if any(row.get("stage") == "finetune" for row in run["history"]):
        return "smoke"
    if "gain" in metrics:
        return "compare"
    if any("dice_mean" in row and "train_loss" in row for row in run["history"]):
        return "train"
    return "other"


def make_report(
    run_dir: Path,
    readme: Path = Path("README.md"),
    figures: Path = showcase.FIGURES,
    model_card: Path | None = Path("MODEL_CARD.md"),
) -> dict[str, Any]:
    """Draw the run's figures into ``figures``, write the README's Results section and (for a
    run that trained a model) the model card; return what was written."""
    run = read_run(run_dir)
    kind = run_kind(run)
    report = run["report"]
    drawn: list[tuple[Path, str]] = []
    if kind == "smoke":
        drawn.append(
            (
                showcase.learning_curve(
                    run["history"],
                    "epoch",
                    {
                        # the shared palette's order: blue, orange, green (arms as elsewhere)
                        ARM_LABELS["medicalnet"]: "medicalnet_train_loss",
                        ARM_LABELS["scratch"]: "scratch_train_loss",
                        "pretraining (rod and spheres)": "pretrain_loss",
                    },
                    figures / "learning_curve.png",
                    "Smoke run: training loss per epoch",
                    "training loss (DiceCE)",
                ),
                "Training loss per epoch of pretraining and both fine-tuned arms",
            )
        )
        curves = {
            arm: [
                (row["epoch"], row[f"{arm}_dev_dice"])
                for row in run["history"]
                if showcase._is_number(row.get(f"{arm}_dev_dice"))
            ]
            for arm in ("medicalnet", "scratch")
        }
        baseline = report["metrics"].get("threshold_test_dice")
        drawn.append(
            (
                arms_chart(curves, baseline, figures / "pretrained_vs_scratch.png"),
                "Dev Dice per epoch, MedicalNet encoder vs scratch",
            )
        )
    elif kind == "train":
        drawn.append(
            (
                showcase.learning_curve(
                    run["history"],
                    "epoch",
                    {"training loss (DiceCE)": "train_loss", "dev Dice, mean": "dice_mean"},
                    figures / "learning_curve.png",
                    f"{report['metrics'].get('init', 'train')} run: loss and dev Dice per epoch",
                    "loss / Dice",
                ),
                "Training loss and dev Dice per epoch",
            )
        )
    elif kind == "compare":
        curves = {
            f"{row['arm']}:{row['run']}": []
            for row in run["history"]
            if "run" in row and "arm" in row
        }
        for row in run["history"]:
            if "run" in row and "arm" in row:
                curves[f"{row['arm']}:{row['run']}"].append((row["epoch"], row["dice_mean"]))
        drawn.append(
            (
                arms_chart(curves, None, figures / "pretrained_vs_scratch.png"),
                "Dev Dice per epoch of every run, MedicalNet encoder vs scratch",
            )
        )
    drawn.append(
        (
            showcase.targets_chart(report, figures / "targets.png"),
            "This run's targets: value, threshold and same-run baseline",
        )
    )
    cases_json = Path(run_dir) / "cases.json"
    if cases_json.is_file():
        dice = json.loads(cases_json.read_text(encoding="utf-8"))["dice"]
        drawn.append(
            (
                case_dice_chart(dice, figures / "per_case_dice.png"),
                "Test Dice of each case, per model",
            )
        )
        drawn.append(
            (
                overlay_chart(Path(run_dir) / "cases.npz", dice, figures / "slice_overlays.png"),
                "Slices of test cases: ground truth and each model's prediction",
            )
        )
    headline = [
        key
        for key in (
            "medicalnet_test_dice",
            "scratch_test_dice",
            "threshold_test_dice",
            "test_dice_mean",
            "threshold_test_dice_mean",
            "medicalnet_test_dice_mean",
            "scratch_test_dice_mean",
            "gain",
            "speedup",
            "best_epoch",
        )
        if key in report.get("metrics", {})
    ]
    section = showcase.results_section(run, drawn, Path(readme).parent, headline)
    changed = showcase.write_results(readme, section)
    card = None
    if model_card is not None and kind in ("smoke", "train"):
        card = write_card(model_card, run, kind)
    return {
        "run": str(run_dir),
        "kind": kind,
        "figures": [str(path) for path, _ in drawn],
        "readme_changed": changed,
        "model_card": str(card) if card else None,
    }


def arms_chart(
    curves: Mapping[str, Sequence[tuple[float, float]]], baseline: float | None, path: Path
) -> Path:
    """Dev Dice per epoch, one line per run, coloured by arm (name ``arm`` or ``arm:run``)."""
    fig, ax = showcase.new_figure()
    labelled: set[str] = set()
    for name, points in curves.items():
        if not points:
            continue
        arm = name.split(":")[0]
        xs, ys = zip(*points, strict=True)
        label = ARM_LABELS.get(arm, arm)
        ax.plot(
            xs,
            ys,
            color=ARM_COLORS.get(arm, showcase.PURPLE),
            marker="o" if len(xs) < 30 else None,
            linewidth=1.8,
            alpha=0.9,
            label=None if label in labelled else label,
        )
        labelled.add(label)
    if baseline is not None and showcase._is_number(baseline):
        ax.axhline(
            baseline,
            color=ARM_COLORS["threshold"],
            linestyle="--",
            linewidth=1.2,
            label=f"{ARM_LABELS['threshold']} (test) {baseline:.3f}",
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, 1)
    ax.set_xlabel("fine-tuning epoch")
    ax.set_ylabel("dev Dice (mean of classes)")
    ax.set_title("Pretrained vs scratch: dev Dice per epoch")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return showcase.save_figure(fig, path)


def case_dice_chart(dice: Mapping[str, Sequence[float | None]], path: Path) -> Path:
    """Each test case's Dice per model: a box (quartiles, median) with every case as a dot."""
    import numpy as np

    arms = [arm for arm in ("medicalnet", "scratch", "threshold") if arm in dice]
    arms += [arm for arm in dice if arm not in arms]
    values = [[float(v) for v in dice[arm] if v is not None and math.isfinite(v)] for arm in arms]
    fig, ax = showcase.new_figure(6.4, 3.8)
    ax.boxplot(
        values,
        positions=range(len(arms)),
        widths=0.5,
        showfliers=False,
        medianprops={"color": "#111111", "linewidth": 1.6},
    )
    jitter = np.random.default_rng(0)
    for index, (arm, points) in enumerate(zip(arms, values, strict=True)):
        xs = index + jitter.uniform(-0.15, 0.15, len(points))
        color = ARM_COLORS.get(arm, showcase.PURPLE)
        ax.scatter(xs, points, s=14, color=color, alpha=0.75, zorder=3)
    ticks = [ARM_LABELS.get(arm, arm).replace(", ", ",\n") for arm in arms]
    ax.set_xticks(range(len(arms)), ticks)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("test Dice per case (mean of classes)")
    ax.set_title(f"Test Dice of each case ({len(values[0]) if values else 0} cases)")
    ax.grid(axis="x", visible=False)
    return showcase.save_figure(fig, path)


def overlay_chart(npz: Path, dice: Mapping[str, Sequence[float | None]], path: Path) -> Path:
    """One row per test case: the slice, its ground truth, each model's prediction on it."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    with np.load(npz) as saved:
        data = {key: saved[key] for key in saved.files}
    found = [key.removeprefix("pred_") for key in data if key.startswith("pred_")]
    arms = [arm for arm in ARM_LABELS if arm in found] + [a for a in found if a not in ARM_LABELS]
    columns = [("ground truth", data["label"]), *((arm, data[f"pred_{arm}"]) for arm in arms)]
    rows = len(data["image"])
    n_classes = int(max(int(v.max()) for _, v in columns))
    colors = ListedColormap(list(CLASS_COLORS[: max(n_classes, 1)]))
    fig, axes = showcase.new_figure(
        1.9 * len(columns), 1.9 * rows + 0.7, nrows=rows, ncols=len(columns), squeeze=False
    )
    for row in range(rows):
        for col, (name, labels) in enumerate(columns):
            ax = axes[row, col]
            ax.imshow(data["image"][row], cmap="gray", interpolation="nearest")
            mask = np.ma.masked_equal(labels[row].astype(int), 0)
            ax.imshow(mask, cmap=colors, vmin=1, vmax=max(n_classes, 1), alpha=0.55,
                      interpolation="nearest")  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if row == 0:
                ax.set_title(
                    "ground truth" if name == "ground truth" else ARM_LABELS.get(name, name),
                    fontsize=8,
                )
            if name in dice and row < len(dice[name]):
                score = dice[name][row]
                text = "Dice n/a" if score is None else f"Dice {score:.2f}"
                ax.text(0.03, 0.04, text, transform=ax.transAxes, fontsize=7, color="white",
                        bbox={"facecolor": "#111111", "alpha": 0.6, "pad": 1.5,
                              "edgecolor": "none"})  # fmt: skip
        axes[row, 0].set_ylabel(f"test case {row + 1}", fontsize=8)
    names = (
        ["structure to segment (the sphere touching the rod)"]
        if n_classes <= 1
        else ["anterior hippocampus", "posterior hippocampus", "class 3"][:n_classes]
    )
    patches = [
        Patch(color=color, alpha=0.55, label=name)
        for color, name in zip(CLASS_COLORS, names, strict=False)
    ]
    fig.legend(handles=patches, loc="lower center", ncol=len(names), frameon=False, fontsize=8)
    fig.suptitle(
        "Prediction vs ground truth (largest slice; Dice of the whole volume)", fontsize=10
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return showcase.save_figure(fig, path)


def write_card(path: Path, run: Mapping[str, Any], kind: str) -> Path:
    """MODEL_CARD.md for the model(s) the run trained."""
    if kind == "smoke":
        title = "smoke-run U-Nets (MedicalNet-style encoder vs scratch, synthetic scans)"
        summary = (
            "Two small 3D U-Nets with a MedicalNet ResNet encoder, fine-tuned on synthetic scans "
            "by `make smoke`: one with its encoder pretrained on a related synthetic task and "
            "loaded through the MedicalNet checkpoint loader, one from scratch. They show the "
            "pipeline works end to end; they are not models of any anatomy.\n\n" + NOT_A_DEVICE
        )
        training = (
            "Synthetic 3D scans made from the run's seed: a rod and two spheres of one "
            "intensity; the structure to segment is the sphere that touches the rod. "
            "Pretraining segments rod and spheres on separate scans."
        )
        evaluation = "A separate synthetic test split of the same seed, scored once."
        metrics = ["medicalnet_test_dice", "scratch_test_dice", "threshold_test_dice"]
    else:
        init = run["report"]["metrics"].get("init", "?")
        title = f"3D U-Net for MSD Hippocampus ({init} encoder)"
        summary = (
            "A 3D U-Net with a MedicalNet ResNet encoder ("
            + ("pretrained MedicalNet weights" if init == "medicalnet" else "trained from scratch")
            + "), segmenting the anterior and posterior hippocampus in MRI crops.\n\n"
            + NOT_A_DEVICE
        )
        training = (
            "The training split of the Medical Segmentation Decathlon Task04_Hippocampus "
            "(MRI, CC-BY-SA 4.0), split by the run's seed; the epoch is chosen on its dev split."
        )
        evaluation = "The test split of the same seed, scored once with the chosen checkpoint."
        metrics = [
            "test_dice_mean",
            "test_dice_anterior",
            "test_dice_posterior",
            "threshold_test_dice_mean",
            "best_epoch",
        ]
    return showcase.write_model_card(
        path,
        run,
        title=title,
        summary=summary,
        intended_use=(
            "Learning and research: measuring whether MedicalNet (Med3D) pretraining helps 3D "
            "segmentation, next to a same-run intensity-threshold baseline. Out of scope: any "
            "clinical use; this is not a medical device."
        ),
        training_data=training,
        evaluation_data=evaluation,
        limitations=(
            "Small data and few epochs; Dice on one split of one dataset says little about "
            "other scanners, populations or structures. Not validated clinically, no "
            "regulatory clearance: not a medical device."
        ),
        metrics=metrics,
    )
