"""``python -m {{ cookiecutter.package_name }} report [RUN]`` (``make report``): what a run did,
drawn from its run folder for a reviewer.

For a smoke run (its history holds one row per frame of every scene):

* ``figures/over_time.png``: along scene 0, the tracker's box IoU against the still first box,
  and the hole PSNR of the pipeline against Telea's and the unfilled frame (the video
  equivalent of a learning curve);
* ``figures/targets.png``: every target, the run's value and the threshold (``showcase``);
* ``figures/before_after.png``: first, middle and last frames of scene 0: the input with the
  tracked box, Telea's fill, and the pipeline's result;
* ``figures/removal.webp``: scene 0 playing, input beside result (animated WebP, < 400 kB).

For any other run (``bench-track``, ``bench-inpaint``) the targets chart. Then the README's
Results section is rewritten between its markers (twice = once). No model card: nothing here
is trained (OpenCV trackers and fills; SAM 2 is used as published).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import showcase
from .runs import read_run
from .video import read_video

log = logging.getLogger(__name__)

HEADLINE = (
    "iou_median",
    "iou_static_median",
    "psnr_median",
    "psnr_telea_median",
    "psnr_unfilled_median",
    "flicker_median",
    "flicker_telea_median",
    "mp4_psnr_scene0",
)
ANIMATION_MAX_BYTES = 400_000


def make_report(
    folder: Path, readme: Path = Path("README.md"), figures: Path = showcase.FIGURES
) -> dict[str, Any]:
    """Draw the run's figures into ``figures`` and write the README's Results section."""
    run = read_run(folder)
    drawn: list[tuple[Path, str]] = []
    history = run["history"]
    scene0 = [row for row in history if row.get("scene") == 0 and "frame" in row]
    if scene0:
        drawn.append((over_time(scene0, figures / "over_time.png"), "Per-frame IoU and hole PSNR"))
    drawn.append(
        (
            showcase.targets_chart(run["report"], figures / "targets.png"),
            "Targets: value and threshold",
        )
    )
    videos = [folder / f"scene0_{name}.mp4" for name in ("input", "telea", "removed")]
    if all(v.is_file() for v in videos):
        clips = [read_video(v)[0] for v in videos]
        boxes = [row.get("box") for row in scene0]
        sheet = contact_sheet(clips[0], clips[1], clips[2], boxes, figures / "before_after.png")
        drawn.append((sheet, "Before and after: first, middle and last frames"))
        drawn.append(
            (animation(clips[0], clips[2], figures / "removal.webp"), "Input and result, playing")
        )
    section = showcase.results_section(run, drawn, readme.parent, headline=HEADLINE)
    changed = showcase.write_results(readme, section)
    return {
        "run": str(folder),
        "figures": [str(path) for path, _ in drawn],
        "readme": str(readme),
        "readme_changed": changed,
        "model_card": None,
    }


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(r["frame"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
    return [p[0] for p in points], [float(p[1]) for p in points]


def over_time(rows: list[dict[str, Any]], path: Path) -> Path:
    """Two panels along the clip: box IoU (tracker vs still box) and hole PSNR (dB)."""
    fig, (top, bottom) = showcase.new_figure(6.4, 5.2, nrows=2, sharex=True)
    for ax, lines, ylabel in (
        (
            top,
            (
                ("CSRT tracker", "iou", showcase.BLUE, "-"),
                ("first box held still (baseline)", "iou_static", showcase.ORANGE, "--"),
            ),
            "box IoU with the true box",
        ),
        (
            bottom,
            (
                ("this pipeline (temporal median)", "psnr", showcase.BLUE, "-"),
                ("Telea per frame (baseline)", "psnr_telea", showcase.ORANGE, "--"),
                ("unfilled: object still there", "psnr_unfilled", showcase.GREY, ":"),
            ),
            "hole PSNR (dB)",
        ),
    ):
        for label, key, color, style in lines:
            xs, ys = _series(rows, key)
            ax.plot(xs, ys, label=label, color=color, linestyle=style, linewidth=1.8)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8, loc="best")
    top.set_ylim(0, 1.05)
    top.set_title("Scene 0, frame by frame: tracking (top) and filling (bottom)")
    bottom.set_xlabel("frame")
    return showcase.save_figure(fig, path)


def _rgb(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[..., ::-1])


def contact_sheet(
    frames: np.ndarray,
    telea: np.ndarray,
    removed: np.ndarray,
    boxes: list[Any],
    path: Path,
) -> Path:
    """Rows: input with the tracked box, Telea's fill, the pipeline's; columns: first, middle
    and last frame."""
    try:
        return _contact_sheet(frames, telea, removed, boxes, path, (5.6, 4.4))
    except ValueError:  # too large to commit (busy textures): draw it smaller
        return _contact_sheet(frames, telea, removed, boxes, path, (4.4, 3.5))


def _contact_sheet(
    frames: np.ndarray,
    telea: np.ndarray,
    removed: np.ndarray,
    boxes: list[Any],
    path: Path,
    size: tuple[float, float],
) -> Path:
    n = len(frames)
    picks = sorted({0, n // 2, n - 1})
    fig, axes = showcase.new_figure(*size, nrows=3, ncols=len(picks), squeeze=False)
    rows = (
        ("input, tracked box", frames),
        ("Telea (baseline)", telea),
        ("result", removed),
    )
    for r, (label, clip) in enumerate(rows):
        for c, t in enumerate(picks):
            image = clip[t].copy()
            if r == 0 and t < len(boxes) and boxes[t]:
                x, y, w, h = (int(v) for v in boxes[t])
                cv2.rectangle(image, (x, y), (x + w, y + h), (0, 159, 230), 2)  # BGR orange
            ax = axes[r, c]
            ax.imshow(_rgb(image))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(f"frame {t}")
            if c == 0:
                ax.set_ylabel(label)
    fig.suptitle("Before and after: scene 0 of the smoke run")
    return showcase.save_figure(fig, path)


def animation(frames: np.ndarray, removed: np.ndarray, path: Path, fps: float = 12.0) -> Path:
    """An animated WebP of input | result side by side, at the clip's own size (lossy WebP: the
    synthetic scenes' noise makes a GIF several times larger); frames are skipped until it
    weighs under ``ANIMATION_MAX_BYTES``."""
    from PIL import Image

    height = frames.shape[1]
    gap = np.full((height, 4, 3), 255, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    for step in (1, 2, 3, 4, 6, 8):
        pictures = [
            Image.fromarray(_rgb(np.hstack([frames[t], gap, removed[t]])))
            for t in range(0, len(frames), step)
        ]
        pictures[0].save(
            path,
            format="WEBP",
            save_all=True,
            append_images=pictures[1:],
            duration=round(1000 * step / fps),
            loop=0,
            quality=80,
            method=4,
        )
        if path.stat().st_size <= ANIMATION_MAX_BYTES:
            return path
        log.info("%s is %d bytes with every frame: skipping some", path, path.stat().st_size)
    raise ValueError(f"{path} is over {ANIMATION_MAX_BYTES // 1000} kB even at every 8th frame")
