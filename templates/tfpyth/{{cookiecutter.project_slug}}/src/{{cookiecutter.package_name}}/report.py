"""`python -m {{ cookiecutter.package_name }} report [RUN]` (make report): figures from a run folder,
the README's Results section and MODEL_CARD.md.

Figures (figures/, PNG): the targets chart of every run; from `smoke` and `train`, both bridges'
loss at every training step on one chart, with the gap between them below (the frozen-extractor
baseline beside them in the smoke); from `smoke` and `bench`, the interop cost, numpy copy vs
DLPack, by tensor size in each direction, with whether each route shares memory (measured). The
model card describes the hybrid model the run trained (`smoke`, `train`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import showcase
from .runs import latest_run, read_run

TARGETS, LOSSES, BENCH = "targets.png", "bridges_loss.png", "bench.png"
HEADLINE = (
    "dlpack_test_accuracy", "tfpyth_test_accuracy", "frozen_extractor_test_accuracy",
    "logreg_test_accuracy", "dlpack_test_error", "tfpyth_test_error", "test_accuracy",
    "step_loss_max_abs_diff", "prediction_agreement", "dlpack_gradient_digits",
    "tfpyth_gradient_digits", "dlpack_train_seconds", "tfpyth_train_seconds",
    "bench_torch_to_tf_speedup", "bench_tf_to_torch_speedup", "torch_to_tf_speedup",
    "tf_to_torch_speedup",
)  # fmt: skip
SERIES = {  # history key -> label, colour, line style; drawn in this order (tfpyth on top)
    "frozen_extractor_loss": ("frozen extractor (baseline: TF half never trained)",
                              showcase.GREY, "-"),
    "dlpack_loss": ("DLPack bridge (TF2 eager, zero copy)", showcase.BLUE, "-"),
    "tfpyth_loss": ("tfpyth (TF1 graph, numpy copies)", showcase.ORANGE, "--"),
}  # fmt: skip
MODEL_RUNS = ("smoke", "train")


def make_report(
    run_dir: Path | None = None,
    readme: Path = Path("README.md"),
    figures: Path = Path("figures"),
    card: Path | None = None,
) -> list[Path]:
    """Draw the run's figures, write the README's Results (and the model card when the run
    trained a model); returns the figures."""
    run = read_run(Path(run_dir) if run_dir is not None else latest_run())
    for stale in (TARGETS, LOSSES, BENCH):  # a figure of an earlier run
        (figures / stale).unlink(missing_ok=True)
    made = [
        (
            showcase.targets_chart(
                run["report"], figures / TARGETS, title=f"Targets of run {run['name']}"
            ),
            "Each target of the run: its value, the threshold and the same-run baseline",
        )
    ]
    if any("dlpack_loss" in row or "tfpyth_loss" in row for row in run["history"]):
        made.append(
            (
                bridges_loss(run["history"], figures / LOSSES, run["name"]),
                "Training loss at every step through both bridges, and the gap between them",
            )
        )
    bench_csv = Path(run["path"]) / "bench.csv"
    if bench_csv.is_file():
        made.append(
            (
                bench_figure(read_bench(bench_csv), figures / BENCH),
                "Time to hand a tensor between TensorFlow and PyTorch: numpy copy vs DLPack",
            )
        )
    readme_dir = Path(readme).resolve().parent
    section = showcase.results_section(run, made, readme_dir, headline=HEADLINE)
    showcase.write_results(readme, section)
    if run["config"].get("command") in MODEL_RUNS:
        model_card(run, card or readme_dir / "MODEL_CARD.md")
    return [path for path, _ in made]


def bridges_loss(history: Sequence[Mapping[str, Any]], path: Path, name: str) -> Path:
    """Loss at every step of each model (top) and |DLPack - tfpyth| against the tolerance."""
    from .experiment import STEP_LOSS_TOLERANCE

    both = [
        (row["step"], abs(row["dlpack_loss"] - row["tfpyth_loss"]))
        for row in history
        if "dlpack_loss" in row and "tfpyth_loss" in row
    ]
    rows = 2 if both else 1
    fig, axes = showcase.new_figure(
        7.0, 5.2 if both else 3.6, nrows=rows, sharex=True, squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.3][:rows]},
    )  # fmt: skip
    top = axes[0, 0]
    for key, (label, color, style) in SERIES.items():
        points = [(row["step"], row[key]) for row in history if key in row]
        if points:
            steps, losses = zip(*points, strict=True)
            top.plot(steps, losses, style, color=color, linewidth=1.4, label=label)
    top.set_yscale("log")
    top.set_ylabel("cross-entropy loss (log)")
    top.set_title(f"Run {name}: the same model trained through both bridges")
    top.legend(frameon=False, fontsize=8)
    if both:
        bottom = axes[1, 0]
        steps, gaps = zip(*both, strict=True)
        bottom.plot(steps, gaps, color=showcase.PURPLE, linewidth=1.4,
                    label=f"|DLPack - tfpyth|, largest {max(gaps):.3g}")  # fmt: skip
        bottom.axhline(STEP_LOSS_TOLERANCE, color="#111111", linewidth=1.6,
                       label=f"tolerance {STEP_LOSS_TOLERANCE:g}")  # fmt: skip
        bottom.set_ylim(-STEP_LOSS_TOLERANCE * 0.1, STEP_LOSS_TOLERANCE * 1.5)
        bottom.set_ylabel("loss gap")
        bottom.legend(frameon=False, fontsize=8, loc="center right")
    axes[-1, 0].set_xlabel("training step (one batch of 64 images)")
    return showcase.save_figure(fig, path)


def read_bench(path: Path) -> list[dict[str, Any]]:
    """bench.csv's rows with their types back."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [
            {
                "size_bytes": int(row["size_bytes"]),
                "direction": row["direction"],
                "method": row["method"],
                "median_seconds": float(row["median_seconds"]),
                "shares_memory": row["shares_memory"] == "True",
            }
            for row in csv.DictReader(handle)
        ]


def bench_figure(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Median time per transfer against tensor size, one panel per direction (log-log)."""
    from .bench import human_size

    fig, axes = showcase.new_figure(8.0, 3.8, ncols=2, sharey=True, squeeze=False)
    sizes = sorted({int(r["size_bytes"]) for r in rows})
    ticks = sizes[:: max(1, len(sizes) // 5)]
    for ax, direction in zip(axes[0], ("torch->tf", "tf->torch"), strict=True):
        for method, color, marker, what in (
            ("numpy", showcase.VERMILION, "o", "numpy copy"),
            ("dlpack", showcase.BLUE, "s", "DLPack"),
        ):
            line = [r for r in rows if r["direction"] == direction and r["method"] == method]
            if not line:
                continue
            shares = "shares memory" if all(r["shares_memory"] for r in line) else "copies"
            ax.plot(
                [r["size_bytes"] for r in line],
                [r["median_seconds"] * 1e6 for r in line],
                marker=marker, color=color, linewidth=1.6, markersize=4,
                label=f"{what} ({shares}, measured)",
            )  # fmt: skip
        at = {r["method"]: r for r in rows if r["direction"] == direction
              and r["size_bytes"] == sizes[-1]}  # fmt: skip
        if {"numpy", "dlpack"} <= set(at) and at["dlpack"]["median_seconds"] > 0:
            ratio = at["numpy"]["median_seconds"] / at["dlpack"]["median_seconds"]
            ax.annotate(f"DLPack {ratio:,.0f}x faster\nat {human_size(sizes[-1])}",
                        (sizes[-1], at["dlpack"]["median_seconds"] * 1e6), xytext=(-4, 14),
                        textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ticks, [human_size(s) for s in ticks])
        ax.minorticks_off()
        ax.set_xlabel("tensor size (float32)")
        ax.set_title(direction.replace("->", " → ").replace("tf", "TensorFlow")
                     .replace("torch", "PyTorch"))  # fmt: skip
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    axes[0, 0].set_ylabel("median time per transfer (µs)")
    fig.suptitle("Interop cost: numpy copy vs DLPack", fontsize=11)
    return showcase.save_figure(fig, path)


def model_card(run: Mapping[str, Any], path: Path) -> Path:
    """MODEL_CARD.md for the hybrid model the run trained."""
    config = run["config"]
    model = config.get("model", {})
    widths = "-".join(str(w) for w in model.get("hidden", []))
    dataset = config.get("dataset", "digits")
    data = (
        "MNIST (Keras's `mnist.npz`): 55,000 training images, the last 5,000 of the official "
        "training set as the dev split"
        if dataset == "mnist"
        else "scikit-learn's handwritten digits (8x8, 1,797 images; UCI Optical Recognition of "
        "Handwritten Digits), split by the run's seed into train, dev (360) and test (360)."
    )
    return showcase.write_model_card(
        path,
        run,
        title=f"TF feature extractor {widths} + torch head ({run['name']})",
        summary=(
            f"A hybrid classifier: a TensorFlow feature extractor (widths {widths}, ReLU) feeds a "
            f"PyTorch head ({model.get('head_hidden', '?')} hidden units, 10 classes), trained "
            "end to end with one Adam optimizer through the DLPack bridge and, the same model "
            "from the same initial weights, through tfpyth. The epoch kept is the one with the "
            "best dev accuracy."
        ),
        intended_use=(
            "A teaching and portfolio model: it shows that gradients cross between TensorFlow "
            "and PyTorch correctly (a gradient check, a frozen-extractor baseline, two bridges "
            "that agree step by step). Not meant for any real digit-recognition use."
        ),
        training_data=data,
        evaluation_data=(
            "The test split of the same data, scored once with the weights of the epoch chosen "
            "on dev" + (" (the official 10,000 MNIST test images)." if dataset == "mnist" else ".")
        ),
        limitations=(
            "Small fully connected networks on centred grey-scale digits: nothing about other "
            "images, handwriting styles or adversarial inputs. The smoke run keeps no weights; "
            "`train` keeps `model.pt` per bridge in its run folder. The tfpyth path runs "
            "TensorFlow 1 graph mode on the CPU and copies every tensor through numpy."
        ),
        metrics=HEADLINE,
    )
