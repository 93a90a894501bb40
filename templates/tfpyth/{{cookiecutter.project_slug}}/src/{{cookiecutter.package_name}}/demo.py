"""The live demo: draw a digit (or pick a test digit) and see what each bridge's model says.

A run folder (``make smoke``, or ``train``) holds the same network trained twice, once through
each bridge: ``dlpack/model.pt`` and ``tfpyth/model.pt``, and ``examples.npz``, a few digits of
its test split. The functions here are plain (no Gradio): find the run, load its models, turn a
drawing into the model's input the way the dataset's images were made, and compare the two
models' probabilities. :func:`build_app` puts a Gradio page over them; ``python -m
{{ cookiecutter.package_name }} demo`` serves it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .demo_server import DemoUnavailable
from .runs import REPORT, RUNS

if TYPE_CHECKING:
    from .data import Split
    from .model import HybridModel

# What each checkpoint is, in the order the page shows them.
BRIDGES = {
    "dlpack": "dlpack: trained through the DLPack bridge (TF2, zero-copy)",
    "tfpyth": "tfpyth: trained through tfpyth (TF1 graph, 2019)",
}
CHECKPOINT = "model.pt"
EXAMPLES = "examples.npz"
# A pixel with less ink than this (of 1) is background when the drawing is cropped to its digit.
INK_THRESHOLD = 0.05
# The margin around the digit, in model pixels: MNIST's digits fill a 20x20 box in the middle of
# 28x28; scikit-learn's fill their 8x8 box.
MARGIN = {8: 0, 28: 4}


def checkpoints(run: Path) -> dict[str, Path]:
    """Each bridge's checkpoint in ``run`` (only the bridges the run trained)."""
    found = {bridge: Path(run) / bridge / CHECKPOINT for bridge in BRIDGES}
    return {bridge: path for bridge, path in found.items() if path.is_file()}


def find_run(run: Path | None = None, root: Path = RUNS) -> Path:
    """``run`` if it holds a checkpoint, else (``None``) the newest finished run that does.

    Raises :class:`DemoUnavailable` saying what to run when there is none.
    """
    if run is not None:
        if not checkpoints(run):
            raise DemoUnavailable(
                f"{run} holds no {'/'.join(BRIDGES)}/{CHECKPOINT}: run make smoke first"
            )
        return Path(run)
    finished = [
        report.parent
        for report in Path(root).glob(f"*/{REPORT}")
        if not report.parent.name.endswith(".previous") and checkpoints(report.parent)
    ]
    if not finished:
        raise DemoUnavailable(f"no run with a trained model in {root}/: run make smoke first")
    return max(finished, key=lambda folder: (folder / REPORT).stat().st_mtime)


def load_models(run: Path) -> dict[str, HybridModel]:
    """The run's models, one per bridge that trained, ready to predict."""
    from .model import load_hybrid

    models = {bridge: load_hybrid(path) for bridge, path in checkpoints(run).items()}
    for model in models.values():
        model.eval()
    return models


def run_accuracies(run: Path) -> dict[str, float]:
    """Each bridge's test accuracy as the run measured it (empty without a report)."""
    path = Path(run) / REPORT
    if not path.is_file():
        return {}
    metrics = json.loads(path.read_text(encoding="utf-8")).get("metrics", {})
    found = {bridge: metrics.get(f"{bridge}_test_accuracy") for bridge in BRIDGES}
    return {bridge: float(value) for bridge, value in found.items() if value is not None}


def save_examples(split: Split, path: Path, per_class: int = 1) -> Path:
    """Keep ``per_class`` test images of every class in ``path`` (``x``, ``y``).

    Picked in order among the first 20 of each class that the canvas gives back unchanged
    (cropped and centred: an image whose ink sits off-centre would move), whatever the model
    makes of them; the first ones when too few are.
    """
    side = image_side(split.n_features)
    picked: list[int] = []
    for label in range(split.n_classes):
        indices = np.flatnonzero(split.y_test == label)[:20]
        kept = [
            int(i)
            for i in indices
            if np.abs(to_model_input(render(split.x_test[i]), side) - split.x_test[i]).max() < 0.02
        ]
        picked += (kept + [int(i) for i in indices if i not in kept])[:per_class]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=split.x_test[picked], y=split.y_test[picked])
    return path


def load_examples(run: Path) -> tuple[np.ndarray, np.ndarray]:
    """The run's example digits (``x`` as model inputs, ``y`` their labels); empty without."""
    path = Path(run) / EXAMPLES
    if not path.is_file():
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    with np.load(path, allow_pickle=False) as saved:
        return saved["x"], saved["y"]


def image_side(n_features: int) -> int:
    """The side of the square images a model reads (8 for the digits, 28 for MNIST)."""
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(f"{n_features} features are not a square image")
    return side


def ink(image: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds, 0 (paper) to 1 (black), for a drawing of dark strokes on
    a light or transparent canvas: gray (H, W), RGB or RGBA (H, W, 3 | 4), uint8."""
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    if pixels.ndim == 2:
        return 1.0 - pixels
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected a gray, RGB or RGBA image, got shape {pixels.shape}")
    lightness: np.ndarray = pixels[..., :3].mean(axis=2)
    if pixels.shape[2] == 4:  # a transparent pixel is paper, whatever its colour
        alpha = pixels[..., 3]
        lightness = alpha * lightness + (1.0 - alpha)
    return 1.0 - lightness


def area_weights(n_out: int, n_in: int) -> np.ndarray:
    """The (n_out, n_in) matrix that resizes a row of ``n_in`` pixels to ``n_out``: each output
    pixel is the mean of the input it covers (parts of a pixel count by their share)."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    starts = np.arange(n_in)
    overlap = np.minimum(edges[1:, None], starts + 1.0) - np.maximum(edges[:-1, None], starts)
    weights = np.clip(overlap, 0.0, None)
    result: np.ndarray = weights / weights.sum(axis=1, keepdims=True)
    return result


def to_model_input(image: np.ndarray, side: int) -> np.ndarray:
    """A drawing as the model's input: ``side * side`` float32 values in [0, 1].

    As the dataset's images were made: the digit is cropped to its ink, centred in a square,
    scaled to fill the image (less MNIST's margin), and each model pixel is the mean ink of the
    part of the drawing it covers. Raises ``ValueError`` when the drawing holds no ink.
    """
    amount = ink(image)
    rows = np.flatnonzero((amount > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((amount > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise ValueError("the canvas is empty: draw a digit first")
    digit = amount[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    length = max(digit.shape)
    square = np.zeros((length, length), np.float32)
    top, left = (length - digit.shape[0]) // 2, (length - digit.shape[1]) // 2
    square[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    margin = MARGIN.get(side, 0)
    resize = area_weights(side - 2 * margin, length)
    grid = np.zeros((side, side), np.float32)
    grid[margin : side - margin, margin : side - margin] = resize @ square @ resize.T
    return np.clip(grid, 0.0, 1.0).reshape(-1).astype(np.float32)


def render(pixels: np.ndarray, scale: int = 32) -> np.ndarray:
    """A model input as a picture: black ink on white, each pixel a ``scale``-wide square."""
    side = image_side(pixels.size)
    gray = 255 - np.round(255 * np.clip(pixels.reshape(side, side), 0, 1)).astype(np.uint8)
    return np.kron(gray, np.ones((scale, scale), np.uint8))


def probabilities(models: dict[str, HybridModel], x: np.ndarray) -> dict[str, np.ndarray]:
    """Each model's class probabilities (softmax of its logits) for one input ``x``."""
    import torch

    batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(1, -1))
    with torch.no_grad():
        return {
            bridge: torch.softmax(model(batch), dim=1)[0].numpy()
            for bridge, model in models.items()
        }


def verdict(probs: dict[str, np.ndarray]) -> str:
    """One line comparing the bridges' answers: the same digit, or which says what."""
    answers = {bridge: int(p.argmax()) for bridge, p in probs.items()}
    shares = ", ".join(f"{bridge} {p.max():.1%}" for bridge, p in probs.items())
    if len(set(answers.values())) == 1:
        digit = next(iter(answers.values()))
        return f"{'Both bridges say' if len(answers) > 1 else 'The model says'} {digit} ({shares})"
    said = ", ".join(f"{bridge} says {digit}" for bridge, digit in answers.items())
    return f"The bridges disagree: {said} ({shares})"


@dataclass
class Demo:
    """A run's models, examples and one-line summary: everything the page shows."""

    run: Path
    models: dict[str, HybridModel]
    examples: tuple[np.ndarray, np.ndarray]
    summary: str

    @property
    def side(self) -> int:
        return image_side(next(iter(self.models.values())).n_features)

    def answer(
        self, image: np.ndarray, scale: int = 32
    ) -> tuple[np.ndarray, dict[str, np.ndarray], str]:
        """What the models see (a picture, ``scale`` screen pixels a pixel), each bridge's
        probabilities, and the verdict."""
        x = to_model_input(image, self.side)
        probs = probabilities(self.models, x)
        return render(x, scale), probs, verdict(probs)


def load_demo(run: Path | None = None) -> Demo:
    """The demo of ``run`` (default: the newest run with a model); see :func:`find_run`."""
    folder = find_run(run)
    models = load_models(folder)
    accuracy = run_accuracies(folder)
    side = image_side(next(iter(models.values())).n_features)
    dataset = "scikit-learn's 8x8 digits" if side == 8 else f"MNIST ({side}x{side})"
    scores = ", ".join(
        f"{bridge} {accuracy[bridge]:.1%}" for bridge in models if bridge in accuracy
    )
    summary = (
        f"One network, a TensorFlow feature extractor feeding a PyTorch head, trained on "
        f"{dataset} through each bridge. Run `{folder}`"
        + (f": test accuracy {scores}." if scores else ".")
    )
    return Demo(folder, models, load_examples(folder), summary)


def build_app(run: Path | None = None) -> Any:
    """The Gradio page over ``run`` (default: the newest run with a model)."""
    from .demo_server import import_gradio

    gr = import_gradio()
    demo = load_demo(None if run is None else Path(run))
    canvas = 280

    def predict(drawing: dict[str, Any] | None) -> tuple[Any, ...]:
        image = None if drawing is None else drawing.get("composite")
        if image is None:
            raise gr.Error("Draw a digit on the canvas first (or pick an example).")
        try:
            seen, probs, line = demo.answer(image, scale=160 // demo.side)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        labels = [
            {str(k): float(p) for k, p in enumerate(probs[bridge])} if bridge in probs else None
            for bridge in BRIDGES
        ]
        framed = np.pad(seen, seen.shape[0] // demo.side, constant_values=255)  # off the label
        return (framed, *labels, line)

    x_examples, y_examples = demo.examples
    with gr.Blocks(title="Two bridges, one digit") as app:
        gr.Markdown("# Draw a digit: two bridges, one model")
        gr.Markdown(
            f"{demo.summary} Click the brush, draw a digit from 0 to 9 and press **Predict**, "
            "or click one of the test digits under the canvas: each side shows what one "
            "bridge's model says."
        )
        with gr.Row():
            with gr.Column():
                drawing = gr.Sketchpad(
                    label="Click the brush, then draw a digit (0-9), large",
                    type="numpy",
                    image_mode="RGBA",
                    format="png",
                    canvas_size=(canvas, canvas),
                    brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
                    layers=False,
                    transforms=(),
                    height=360,
                    elem_id="drawing",
                )
                button = gr.Button("Predict", variant="primary", elem_id="predict")
                examples_slot = gr.Column()
            with gr.Column():
                with gr.Row():
                    seen = gr.Image(
                        label=f"What the models see ({demo.side}x{demo.side})",
                        type="numpy",
                        interactive=False,
                        height=240,
                        elem_id="seen",
                    )
                line = gr.Textbox(
                    label="Do the bridges agree?", interactive=False, elem_id="verdict"
                )
                with gr.Row():
                    outputs = [
                        gr.Label(label=words, num_top_classes=3, elem_id=f"label-{bridge}")
                        for bridge, words in BRIDGES.items()
                    ]
        targets = [seen, *outputs, line]
        if len(y_examples):
            with examples_slot:
                gr.Examples(
                    examples=[[render(x, scale=canvas // demo.side)] for x in x_examples],
                    inputs=[drawing],
                    outputs=targets,
                    fn=predict,
                    run_on_click=True,
                    cache_examples=False,
                    examples_per_page=10,
                    elem_id="examples",
                    label="Or pick a test digit (the models never trained on these)",
                )
        button.click(predict, inputs=[drawing], outputs=targets)
    return app
