"""The live demo (``make demo``): pick a held-out scan, scroll its slices, see each model's
segmentation over it and its Dice.

The model logic is plain functions over a smoke run's folder, testable without Gradio:
:func:`load_demo_run` segments the run's demo scans (``smoke.DEMO_SCANS``) again with both
fine-tuned networks (``smoke_<arm>_finetuned.pt``) and the threshold baseline, through the same
preprocessing the smoke run scored them with; :func:`overlay` draws one slice with prediction
and ground truth; :func:`dice_summary` says how good each prediction is. :func:`build_app` puts
them in a Gradio page (imported only there: ``make setup-demo``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import TARGET_CLASSES, SyntheticScans, as_items, synthetic_transforms
from .demo_server import DemoUnavailable, import_gradio
from .evaluate import ThresholdBaseline, dice_per_class
from .model import smoke_unet
from .runs import REPORT, RUNS, latest_run
from .smoke import DEMO_SCANS

#: The predictors the page shows, in its order: the run's threshold baseline and both arms.
ARMS = {
    "threshold": "Threshold baseline",
    "scratch": "U-Net from scratch",
    "medicalnet": "U-Net, pretrained",
}
NETWORKS = ("scratch", "medicalnet")
#: What the Space copies from the run: the scans, both networks and the report.
RUN_FILES = (
    REPORT,
    DEMO_SCANS,
    "smoke_scratch_finetuned.pt",
    "smoke_medicalnet_finetuned.pt",
)
#: Overlay colours (RGB): the target found, predicted where there is none, missed.
FOUND, WRONG, MISSED = (0, 200, 70), (230, 40, 40), (40, 110, 255)
#: Screen pixels per voxel of a slice.
ZOOM = 12


def checkpoint_name(arm: str) -> str:
    """The run file holding the fine-tuned network of ``arm``."""
    return f"smoke_{arm}_finetuned.pt"


@dataclass(frozen=True)
class DemoRun:
    """A smoke run's demo scans, segmented by every predictor of ``ARMS``.

    ``images`` are the scans as the networks saw them (preprocessed, (N, S, S, S)); ``labels``
    and each of ``preds[arm]`` are label maps of the same shape; ``dice[arm]`` is each scan's
    Dice of the target.
    """

    path: Path
    metrics: dict[str, Any]
    images: np.ndarray
    labels: np.ndarray
    preds: dict[str, np.ndarray]
    dice: dict[str, list[float]]

    @property
    def scans(self) -> list[str]:
        """The scans' names, as the page lists them."""
        return [f"test scan {i + 1}" for i in range(len(self.images))]

    def summary(self) -> str:
        """One line: the model, the run it came from, its key metrics."""
        m = self.metrics
        line = (
            f"A 3D U-Net with a MedicalNet ResNet-10 encoder from run `{self.path.name}`, "
            "fine-tuned twice: from the encoder pretrained on a related task, and from scratch."
        )
        if {"medicalnet_test_dice", "scratch_test_dice", "threshold_test_dice"} <= set(m):
            line += (
                f" Test Dice over the run's {m.get('settings', {}).get('n_test', '')} test scans: "
                f"pretrained **{m['medicalnet_test_dice']:.2f}**, "
                f"scratch **{m['scratch_test_dice']:.2f}**, "
                f"intensity-threshold baseline **{m['threshold_test_dice']:.2f}**."
            )
        return line


def load_demo_run(run: Path) -> DemoRun:
    """Read a smoke run's demo files and segment its scans with every predictor.

    Raises ``DemoUnavailable`` (saying to run ``make smoke``) when a file is missing.
    """
    run = Path(run)
    missing = [name for name in RUN_FILES if not (run / name).is_file()]
    if missing:
        raise DemoUnavailable(
            f"{run} has no {', '.join(missing)}: the demo shows a smoke run, run make smoke "
            "first (or pass --run runs/smoke)"
        )
    metrics = json.loads((run / REPORT).read_text(encoding="utf-8")).get("metrics", {})
    with np.load(run / DEMO_SCANS) as stored:
        raw_images, raw_labels = stored["image"], stored["label"]
        windows = tuple((float(lo), float(hi)) for lo, hi in stored["threshold_windows"])
    images, labels = preprocess(raw_images, raw_labels)
    predictors: dict[str, Any] = {"threshold": ThresholdBaseline(windows)}
    for arm in NETWORKS:
        predictors[arm] = load_network(run / checkpoint_name(arm))
    preds = {arm: segment(predict, images) for arm, predict in predictors.items()}
    dice = {
        arm: [volume_dice(p, t) for p, t in zip(pred, labels, strict=True)]
        for arm, pred in preds.items()
    }
    return DemoRun(run, metrics, images, labels, preds, dice)


def load_network(path: Path) -> torch.nn.Module:
    """The smoke run's U-Net with the weights in ``path``, in eval mode."""
    model = smoke_unet(len(TARGET_CLASSES))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def preprocess(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scans (N, 1, S, S, S) through the smoke run's test-time MONAI steps (z-score, crop):
    images (N, S, S, S) float32 and label maps (N, S, S, S) int64. The smoke run keeps its scans
    already z-scored; this makes raw scans of the same task fit as well."""
    size = images.shape[-1]
    steps = synthetic_transforms(size, train=False)
    items = [
        steps(item)
        for item in as_items(SyntheticScans(torch.from_numpy(images), torch.from_numpy(labels)))
    ]
    return (
        np.stack([np.asarray(item["image"][0], dtype=np.float32) for item in items]),
        np.stack([np.asarray(item["label"][0]).astype(np.int64) for item in items]),
    )


@torch.no_grad()
def segment(predict: Any, images: np.ndarray) -> np.ndarray:
    """Label maps (N, S, S, S) of ``predict`` (a network: argmax of its logits; or a function
    from images to label maps) for preprocessed ``images`` (N, S, S, S)."""
    batch = torch.from_numpy(images)[:, None]
    out = predict(batch)
    pred = out.argmax(dim=1) if isinstance(predict, torch.nn.Module) else out
    return np.asarray(pred.cpu().numpy(), dtype=np.int64)


def volume_dice(pred: np.ndarray, label: np.ndarray) -> float:
    """Dice of the target between two label maps of any shape; NaN where neither has it."""
    scores = dice_per_class(
        torch.from_numpy(pred)[None], torch.from_numpy(label)[None], len(TARGET_CLASSES)
    )
    return float(scores.mean())


def best_slice(label: np.ndarray) -> int:
    """The axial slice of ``label`` (S, S, S) with the most target voxels: where to start."""
    return int((label > 0).sum(axis=(1, 2)).argmax())


def overlay(image: np.ndarray, label: np.ndarray, pred: np.ndarray, zoom: int = ZOOM) -> np.ndarray:
    """One slice as an RGB picture (H*zoom, W*zoom, 3): the scan in grey, and where prediction
    and ground truth meet ``FOUND``, where only the prediction is ``WRONG``, where only the truth
    is ``MISSED`` (half transparent). All-zero ``label`` and ``pred`` give the scan alone."""
    grey = np.repeat(window(image)[..., None], 3, axis=2)
    picture = grey.astype(np.float32)
    truth, guess = label > 0, pred > 0
    for mask, colour in ((truth & guess, FOUND), (guess & ~truth, WRONG), (truth & ~guess, MISSED)):
        picture[mask] = 0.45 * picture[mask] + 0.55 * np.asarray(colour, dtype=np.float32)
    rgb = picture.round().clip(0, 255).astype(np.uint8)
    return np.kron(rgb, np.ones((zoom, zoom, 1), dtype=np.uint8))


def window(image: np.ndarray, low: float = -2.0, high: float = 4.0) -> np.ndarray:
    """A z-scored slice as grey levels 0-255 (``low`` black, ``high`` white)."""
    scaled = (np.asarray(image, dtype=np.float32) - low) / (high - low)
    return (scaled.clip(0.0, 1.0) * 255).round().astype(np.uint8)


def fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def dice_summary(demo: DemoRun, scan: int, depth: int) -> str:
    """What the page says about scan ``scan`` at slice ``depth``: each predictor's Dice on the
    whole 3D scan and on this slice (n/a where neither prediction nor truth has the target)."""
    size = demo.labels.shape[1]
    truth = demo.labels[scan, depth]
    lines = [
        f"{demo.scans[scan]}, axial slice {depth} of 0-{size - 1} "
        f"({int((truth > 0).sum())} target voxels on this slice)"
    ]
    for arm in reversed(ARMS):
        on_slice = volume_dice(demo.preds[arm][scan, depth], truth)
        lines.append(
            f"{ARMS[arm]}: Dice {fmt(demo.dice[arm][scan])} on the whole scan, "
            f"{fmt(on_slice)} on this slice"
        )
    return "\n".join(lines)


def scan_index(name: str | int | None, demo: DemoRun) -> int:
    """The index of a scan from its name on the page (or an index); the first scan by default."""
    if isinstance(name, int):
        return name
    return demo.scans.index(name) if name in demo.scans else 0


def view(demo: DemoRun, scan: int, depth: int) -> tuple[Any, ...]:
    """The page's outputs for one scan and slice: the scan, each predictor's overlay, the Dice."""
    image, label = demo.images[scan, depth], demo.labels[scan, depth]
    blank = np.zeros_like(label)
    pictures = [overlay(image, blank, blank)]
    pictures += [overlay(image, label, demo.preds[arm][scan, depth]) for arm in ARMS]
    return (*pictures, dice_summary(demo, scan, depth))


def find_run(run: Path | None = None, root: Path = RUNS) -> Path:
    """``run``, else the latest finished run under ``root``; ``DemoUnavailable`` when there is
    none."""
    if run is not None:
        return Path(run)
    try:
        return latest_run(root)
    except FileNotFoundError as err:
        raise DemoUnavailable(f"{err} (the demo shows a smoke run)") from None


def build_app(run: Path | None = None) -> Any:
    """The Gradio page over ``run`` (default: the latest run): pick a scan, scroll its slices."""
    gr = import_gradio()
    demo = load_demo_run(find_run(run))
    size = demo.labels.shape[1]
    ranked = sorted(range(len(demo.scans)), key=lambda i: demo.dice["medicalnet"][i])
    examples = [[demo.scans[ranked[-1]]], [demo.scans[ranked[0]]]]
    first = ranked[-1]

    with gr.Blocks(title="MedicalNet U-Net: 3D segmentation demo") as app:
        gr.Markdown(
            "# Segment a synthetic 3D scan\n"
            f"{demo.summary()}\n\n"
            "Each scan holds a bright rod, a sphere touching it (**the target**) and a distractor "
            "sphere of the same brightness: only where a sphere lies tells them apart. Pick a "
            "held-out test scan and scroll its slices: the intensity threshold labels every "
            "bright voxel, the networks should find the target alone."
        )
        with gr.Row():
            scan = gr.Dropdown(
                demo.scans,
                value=demo.scans[first],
                label="Test scan",
                elem_id="scan",
                scale=1,
            )
            depth = gr.Slider(
                0,
                size - 1,
                value=best_slice(demo.labels[first]),
                step=1,
                label=f"Axial slice (0-{size - 1}; starts where the target is largest)",
                elem_id="slice",
                scale=2,
            )
        with gr.Row():
            pictures = [
                gr.Image(label=title, interactive=False, buttons=["fullscreen"], elem_id=key)
                for key, title in [("scan-image", "Scan slice")]
                + [(f"overlay-{arm}", title) for arm, title in ARMS.items()]
            ]
        gr.Markdown(
            "**How to read it.** Left, the scan as the networks see it. Then each model's "
            "answer over it: **green** target found, **red** predicted where there is no "
            "target, **blue** target missed. *U-Net, pretrained* started from an encoder "
            "pretrained on a related task (segmenting rod and spheres) and loaded through the "
            "MedicalNet loader; *from scratch* from random weights. Dice = 2 x overlap / "
            "(predicted + true voxels): 1 is perfect, 0 no overlap."
        )
        dice = gr.Textbox(
            label="Dice against the ground truth", lines=4, interactive=False, elem_id="dice"
        )
        gr.Examples(
            examples,
            inputs=[scan],
            label="Examples: the scan the pretrained network gets best, and its hardest one",
        )

        def show_scan(name: str) -> tuple[Any, ...]:
            index = scan_index(name, demo)
            start = best_slice(demo.labels[index])
            return (start, *view(demo, index, start))

        def show_slice(name: str, at: float) -> tuple[Any, ...]:
            return view(demo, scan_index(name, demo), int(at))

        outputs = [*pictures, dice]
        scan.change(show_scan, inputs=scan, outputs=[depth, *outputs])
        depth.input(show_slice, inputs=[scan, depth], outputs=outputs)
        app.load(show_slice, inputs=[scan, depth], outputs=outputs)
    return app
