"""The live demo (`make demo`): upload a clip or take a synthetic one, give the object's box,
get the clip back with the object removed.

The app runs this project's pipeline (track -> mask -> fill, `pipeline.remove_object`) with the
settings of one of your runs: the smoke run's tracker, box dilation and fill method. Its
examples are synthetic clips drawn from the run's seed, scenes the smoke run did not score; on
them the clean background is known, so the app also scores the fill (hole PSNR, as the smoke
run does) against per-frame Telea on the same holes and against the untouched clip.

Everything but `build_app` is plain functions, tested without Gradio (tests/test_demo.py).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .boxes import Box, clip_box, parse_bbox
from .config import (
    DEFAULT_DILATE_PX,
    DEFAULT_INPAINTER,
    DEFAULT_RADIUS,
    DEFAULT_SEED,
    DEFAULT_TRACKER,
)
from .demo_server import DemoUnavailable
from .inpaint import METHODS, inpaint_video
from .metrics import mean_iou, psnr_in
from .pipeline import Removal, remove_object
from .runs import CONFIG, REPORT, latest_run
from .synthetic import MIN_FRAMES, SyntheticClip, make_clip
from .track import TRACKERS, fill_lost
from .video import read_video, write_video

# What the demo needs of a run (and what `make space` bundles): its settings and its numbers.
RUN_FILES = (REPORT, CONFIG)
MAX_FRAMES = 240  # about 10 s of video: the app answers within seconds on a laptop CPU
MAX_WIDTH = 640  # wider clips are scaled down, their box with them, before tracking
N_EXAMPLES = 3
HEIGHT = 300  # pixels: the app's clips and images, so that it fits one screen
EXAMPLE_NAME = re.compile(r"synthetic-seed(\d+)-scene(\d+)-(\d+)f\.webm$")
PREVIEW_WIDTH = 384  # the first frame is shown at least this wide, enlarged by a whole factor
BOX_COLOR = (60, 220, 60)  # BGR green: the box drawn on previews
METHOD_NAMES = {
    "temporal-median": "temporal median",
    "telea": "Telea inpainting",
    "ns": "Navier-Stokes inpainting",
}


@dataclass(frozen=True)
class Settings:
    """What the demo takes from a run: how to remove an object, and the run's numbers."""

    run: str
    tracker: str
    method: str
    dilate_px: int
    radius: int
    seed: int
    frames: int
    scenes: int
    headline: str


@dataclass(frozen=True)
class DemoResult:
    """One removal: the result clip (VP8 WebM, plays in a browser), a before/after sheet (RGB),
    the summary a person reads, and the scores against the known background (synthetic clips
    only; ``None`` otherwise)."""

    video: Path
    sheet: np.ndarray
    summary: str
    frames: int
    lost_frames: int
    scores: dict[str, float] | None


def load_settings(run: Path | None = None) -> Settings:
    """The settings and headline numbers of ``run`` (the latest run when ``None``).

    Raises ``DemoUnavailable`` saying to run ``make smoke`` when there is no run, or the run
    lacks its report or config.
    """
    if run is None:
        try:
            run = latest_run()
        except FileNotFoundError:
            raise DemoUnavailable("no finished run in runs/: run make smoke first") from None
    run = Path(run)
    missing = [name for name in RUN_FILES if not (run / name).is_file()]
    if missing:
        raise DemoUnavailable(
            f"{run} lacks {', '.join(missing)}: run make smoke first (or pass --run a finished run)"
        )
    config = json.loads((run / CONFIG).read_text(encoding="utf-8"))
    report = json.loads((run / REPORT).read_text(encoding="utf-8"))
    # A smoke run names its tracker and method; a benchmark run names the ones it judged.
    tracker = config.get("tracker") or (config.get("trackers") or [DEFAULT_TRACKER])[0]
    method = config.get("method") or config.get("candidate") or DEFAULT_INPAINTER
    seed, frames = config.get("seed"), config.get("frames")
    return Settings(
        run=run.name,
        tracker=tracker if tracker in TRACKERS else DEFAULT_TRACKER,
        method=method if method in METHODS else DEFAULT_INPAINTER,
        dilate_px=int(config.get("dilate_px", DEFAULT_DILATE_PX)),
        radius=int(config.get("radius", DEFAULT_RADIUS)),
        seed=seed if isinstance(seed, int) else DEFAULT_SEED,
        frames=frames if isinstance(frames, int) and frames >= MIN_FRAMES else 40,
        scenes=int(config.get("scenes", 0)),
        headline=headline(report),
    )


def headline(report: dict[str, Any]) -> str:
    """The run's key numbers in one line."""
    metrics, targets = report.get("metrics", {}), report.get("targets", {})
    met = sum(bool(t.get("met")) for t in targets.values())
    parts = []
    if "iou_median" in metrics and "psnr_median" in metrics:
        parts.append(
            f"median tracking IoU {metrics['iou_median']:.2f} (first box held still: "
            f"{metrics['iou_static_median']:.2f}), hole PSNR {metrics['psnr_median']:.1f} dB "
            f"(per-frame Telea: {metrics['psnr_telea_median']:.1f} dB) on "
            f"{metrics.get('scenes', '?')} synthetic scenes"
        )
    parts.append(f"{met} of {len(targets)} targets met")
    return "; ".join(parts)


def example_name(seed: int, scene: int, frames: int) -> str:
    """The file name of a synthetic example: it says which scene it is, so the app can score it."""
    return f"synthetic-seed{seed}-scene{scene}-{frames}f.webm"


def write_examples(settings: Settings, folder: Path) -> list[tuple[str, str, str]]:
    """Write the synthetic examples into ``folder``: ``[(clip path, its first box "x,y,w,h",
    a label)]``.

    They are the scenes of the run's seed right after those its smoke run scored.
    """
    folder.mkdir(parents=True, exist_ok=True)
    examples = []
    for scene in range(settings.scenes, settings.scenes + N_EXAMPLES):
        clip = make_clip(settings.seed, scene, n_frames=settings.frames)
        path = folder / example_name(settings.seed, scene, settings.frames)
        if not path.is_file():
            write_webm(path, clip.frames, clip.fps)
        box = ",".join(str(v) for v in clip.boxes[0])
        examples.append((str(path), box, f"Scene {scene}: box {box}"))
    return examples


def known_scene(video: str | Path) -> SyntheticClip | None:
    """The synthetic clip a file is, by its name (see ``example_name``); ``None`` for any other
    file."""
    match = EXAMPLE_NAME.search(Path(video).name)
    if match is None:
        return None
    seed, scene, frames = (int(g) for g in match.groups())
    return make_clip(seed, scene, n_frames=frames)


def write_webm(path: Path, frames: np.ndarray, fps: float) -> Path:
    """Write ``frames`` as VP8 WebM, which every browser plays (the project's mp4 files are
    MPEG-4 Part 2, which browsers do not)."""
    return write_video(path, frames, fps, codec="VP80")


def read_box(text: str, width: int, height: int) -> Box:
    """The box typed into the app, ``x,y,w,h`` on a ``width`` x ``height`` first frame.

    Raises ``ValueError`` saying what is wrong: not four integers, or not inside the frame.
    """
    try:
        box = parse_bbox(text or "")
    except ValueError as exc:
        raise ValueError(str(exc).replace("--bbox", "the box")) from None
    try:
        inside = clip_box(box, width, height)
    except ValueError:
        raise ValueError(f"the box {text} lies outside the {width}x{height} frame") from None
    if inside != box:
        raise ValueError(
            f"the box {text} sticks out of the {width}x{height} frame: "
            f"x + w must be at most {width} and y + h at most {height}"
        )
    return box


def draw_box(frame: np.ndarray, box: Box | None) -> np.ndarray:
    """A copy of ``frame`` (BGR) with ``box`` outlined in green."""
    out = frame.copy()
    if box is not None:
        x, y, w, h = box
        thickness = max(1, min(frame.shape[:2]) // 100)
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), BOX_COLOR, thickness)
    return out


def preview_scale(width: int) -> int:
    """How many times the first frame is enlarged in the app (small clips are hard to click)."""
    return max(1, -(-PREVIEW_WIDTH // width) if width < PREVIEW_WIDTH else 1)


def first_frame(video: str | Path | None, box_text: str = "") -> tuple[np.ndarray | None, str]:
    """The clip's first frame (RGB, enlarged by ``preview_scale``) with the typed box drawn on
    it, and a line saying the frame's size and whether the box is usable."""
    if not video:
        return None, "Upload a clip or pick an example."
    frames, _ = read_video(video, max_frames=1)
    height, width = frames.shape[1:3]
    size = f"First frame: {width}x{height} pixels (x to the right, y down, from the top-left)."
    box: Box | None = None
    note = f"{size} Click two opposite corners of the object, or type its box."
    if box_text and box_text.strip():
        try:
            box = read_box(box_text, width, height)
            note = f"{size} Your box, in green: {box_text.strip()}."
        except ValueError as exc:
            note = f"{size} {str(exc)[0].upper()}{str(exc)[1:]}."
    scale = preview_scale(width)
    image = draw_box(frames[0], box)
    if scale > 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return rgb(image), note


def box_from_clicks(
    corner: tuple[int, int] | None, click: tuple[int, int]
) -> tuple[tuple[int, int] | None, str | None]:
    """Two clicks on the first frame (in its pixels) make a box: the first click is kept as a
    corner (returns ``(corner, None)``), the second gives the box ``"x,y,w,h"`` spanning both
    (``(None, box)``)."""
    if corner is None:
        return click, None
    (x0, y0), (x1, y1) = corner, click
    x, y = min(x0, x1), min(y0, y1)
    return None, f"{x},{y},{abs(x1 - x0) + 1},{abs(y1 - y0) + 1}"


def rgb(frame: np.ndarray) -> np.ndarray:
    """An OpenCV (BGR) frame as RGB, the order Gradio shows."""
    out: np.ndarray = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return out


def _scaled(frames: np.ndarray, box: Box) -> tuple[np.ndarray, Box, float]:
    """Frames wider than ``MAX_WIDTH`` scaled down, with the box; returns the scale used."""
    width = frames.shape[2]
    if width <= MAX_WIDTH:
        return frames, box, 1.0
    scale = MAX_WIDTH / width
    size = (MAX_WIDTH, max(1, round(frames.shape[1] * scale)))
    small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    x, y, w, h = box
    small_box = (
        round(x * scale),
        round(y * scale),
        max(1, round(w * scale)),
        max(1, round(h * scale)),
    )
    return small, clip_box(small_box, size[0], size[1]), scale


def before_after(frames: np.ndarray, removal: Removal) -> np.ndarray:
    """A sheet (RGB) of the start, middle and end of the clip: the input with the tracked box
    on top, the result below; small clips are doubled in size so they can be seen."""
    n = len(frames)
    times = sorted({0, n // 2, n - 1})
    boxes = fill_lost(removal.boxes) if removal.boxes else [None] * n
    top = np.concatenate([draw_box(frames[t], boxes[t]) for t in times], axis=1)
    bottom = np.concatenate([removal.frames[t] for t in times], axis=1)
    gap = np.full((4, top.shape[1], 3), 255, dtype=np.uint8)
    sheet = np.concatenate([top, gap, bottom], axis=0)
    if frames.shape[2] < 320:
        sheet = cv2.resize(sheet, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    return rgb(sheet)


def score_against_background(
    clip: SyntheticClip, frames: np.ndarray, removal: Removal, radius: int
) -> dict[str, float] | None:
    """Hole PSNR of the result, of per-frame Telea on the same holes and of the untouched clip,
    against the clip's clean background, where the object was or the pipeline filled (the smoke
    run's measure), and the tracker's IoU; ``None`` when ``frames`` are not that clip's."""
    n = len(frames)
    if frames.shape[1:3] != clip.frames.shape[1:3] or n > len(clip.frames):
        return None
    region = (removal.masks > 0) | clip.masks[:n]
    telea = inpaint_video(frames, removal.masks, method="telea", radius=radius)
    clean = clip.clean[:n]
    return {
        "psnr": psnr_in(removal.frames, clean, region),
        "psnr_telea": psnr_in(telea, clean, region),
        "psnr_unfilled": psnr_in(frames, clean, region),
        "iou": mean_iou(fill_lost(removal.boxes), clip.boxes[:n]),
    }


def remove_from_clip(
    video: str | Path,
    box_text: str,
    settings: Settings,
    out_dir: Path,
    *,
    tracker: str | None = None,
    method: str | None = None,
) -> DemoResult:
    """Erase the object inside ``box_text`` (on the first frame) from the clip ``video``, with
    the run's settings (``tracker`` and ``method`` override the run's); the result is written
    into ``out_dir``. Raises ``ValueError`` or ``FileNotFoundError`` with a message for a person.
    """
    tracker = tracker or settings.tracker
    method = method or settings.method
    frames, fps = read_video(video, max_frames=MAX_FRAMES + 1)
    cut = len(frames) > MAX_FRAMES
    frames = frames[:MAX_FRAMES]
    if len(frames) < 2:
        raise ValueError("the clip has a single frame: give a video")
    height, width = frames.shape[1:3]
    box = read_box(box_text, width, height)
    work, work_box, scale = _scaled(frames, box)
    removal = remove_object(
        work,
        work_box,
        tracker=tracker,
        method=method,
        dilate_px=settings.dilate_px,
        radius=settings.radius,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    output = write_webm(out_dir / f"{Path(video).stem}-removed.webm", removal.frames, fps)
    clip = known_scene(video) if scale == 1.0 else None
    scores = score_against_background(clip, work, removal, settings.radius) if clip else None
    lost = sum(b is None for b in removal.boxes)
    lines = [
        f"Removed the object from {len(work)} frames"
        + (f" (the first {MAX_FRAMES} of the clip)" if cut else "")
        + f" of {work.shape[2]}x{work.shape[1]}"
        + (f" (scaled down from {width}x{height})" if scale != 1.0 else "")
        + f": {tracker.upper()} tracking from your box, the box grown by {settings.dilate_px} px,"
        f" filled by {METHOD_NAMES.get(method, method)}.",
        f"The tracker lost the object on {lost} of {len(work)} frames"
        + (" (each lost frame reuses the last box)." if lost else ".")
        + f" Speed: tracking {removal.track_fps:.0f} frames/s, filling {removal.fill_fps:.0f}.",
    ]
    if scores is not None:
        lines.append(
            f"Known background (synthetic clip): hole PSNR {scores['psnr']:.1f} dB, against "
            f"{scores['psnr_telea']:.1f} dB for per-frame Telea on the same holes and "
            f"{scores['psnr_unfilled']:.1f} dB for the untouched clip (higher is better); "
            f"tracking IoU {scores['iou']:.2f}."
        )
    return DemoResult(
        video=output,
        sheet=before_after(work, removal),
        summary="\n".join(lines),
        frames=len(work),
        lost_frames=lost,
        scores=scores,
    )


def build_app(run: Path | None = None) -> Any:
    """The Gradio app over ``run`` (the latest run when ``None``)."""
    settings = load_settings(run)
    from .demo_server import import_gradio

    gr = import_gradio()
    workdir = Path(tempfile.mkdtemp(prefix="video-object-removal-demo-"))
    examples = write_examples(settings, workdir / "examples")

    def preview(video: str | None, box_text: str) -> tuple[Any, str]:
        try:
            image, note = first_frame(video, box_text)
        except (ValueError, FileNotFoundError) as exc:
            return None, f"Cannot read this clip: {exc}"
        return image, note

    def click(corner: Any, video: str | None, event: Any) -> tuple[Any, Any]:
        if not video:
            return None, gr.update()
        width = read_video(video, max_frames=1)[0].shape[2]
        scale = preview_scale(width)
        point = (int(event.index[0]) // scale, int(event.index[1]) // scale)
        corner, box = box_from_clicks(tuple(corner) if corner else None, point)
        return corner, box if box is not None else gr.update()

    click.__annotations__["event"] = gr.SelectData  # Gradio passes the click by this type

    def run_removal(
        video: str | None, box_text: str, tracker: str, method: str
    ) -> tuple[str, np.ndarray, str]:
        if not video:
            raise gr.Error("Upload a clip or pick an example first.")
        try:
            result = remove_from_clip(
                video, box_text, settings, workdir / "results", tracker=tracker, method=method
            )
        except (ValueError, FileNotFoundError, RuntimeError) as exc:
            raise gr.Error(str(exc)) from None
        return str(result.video), result.sheet, result.summary

    method_label = METHOD_NAMES.get(settings.method, settings.method)
    with gr.Blocks(title="Video object removal") as app:
        gr.Markdown(
            "# Video object removal\n"
            "Give a clip and a box around one object on its first frame: the object is tracked "
            f"({settings.tracker.upper()}), masked (its box grown by {settings.dilate_px} px) "
            f"and filled from the other frames ({method_label}), with no learned weights. "
            "The fill assumes a still camera.\n\n"
            f"Settings and numbers from run **{settings.run}**: {settings.headline}."
        )
        corner = gr.State(None)
        box_input = gr.Textbox(
            label="The object's box on the first frame: x,y,w,h in pixels",
            placeholder="left, top, width, height, e.g. 47,72,33,36",
            elem_id="box",
            render=False,  # shown beside the first frame, below
        )
        with gr.Row(equal_height=False):
            with gr.Column():
                video = gr.Video(
                    label=f"1. Your clip (the first {MAX_FRAMES} frames are used)",
                    sources=["upload"],
                    height=HEIGHT,
                    elem_id="clip",
                )
                gr.Examples(
                    examples=[[path, box] for path, box, _ in examples],
                    inputs=[video, box_input],
                    example_labels=[label for _, _, label in examples],
                    label=f"... or a synthetic clip of seed {settings.seed}: its clean "
                    "background is known, so the fill gets a score",
                    elem_id="examples",
                )
            with gr.Column():
                frame = gr.Image(
                    label="2. First frame: click two opposite corners of the object",
                    interactive=False,
                    height=HEIGHT,
                    elem_id="first-frame",
                )
                note = gr.Markdown("Upload a clip or pick an example.", elem_id="frame-note")
                box_input.render()
                with gr.Row():
                    tracker = gr.Dropdown(
                        list(TRACKERS), value=settings.tracker, label="Tracker", elem_id="tracker"
                    )
                    method = gr.Dropdown(
                        list(METHODS), value=settings.method, label="Fill", elem_id="method"
                    )
                button = gr.Button("3. Remove the object", variant="primary", elem_id="remove")
        with gr.Row(equal_height=False):
            result = gr.Video(label="The clip without the object", height=HEIGHT, elem_id="result")
            sheet = gr.Image(
                label="Start, middle, end: the clip and the tracked box (top), the result (bottom)",
                height=HEIGHT,
                elem_id="sheet",
            )
        summary = gr.Textbox(label="What happened", lines=3, elem_id="summary")

        for trigger in (video.change, box_input.change):
            trigger(preview, [video, box_input], [frame, note])
        frame.select(click, [corner, video], [corner, box_input])
        button.click(run_removal, [video, box_input, tracker, method], [result, sheet, summary])
    return app
