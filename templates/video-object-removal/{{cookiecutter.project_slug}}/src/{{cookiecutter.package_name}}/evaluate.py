"""Benchmarks on DAVIS-2017: a tracker shoot-out and an inpainting comparison.

* Trackers: each is started from the true box of the first frame (the tight box around the
  annotated object) and scored by mean IoU against the true boxes of the later frames, plus
  the share of frames with IoU >= 0.5 and the speed.
* Inpainting: DAVIS has no clean plate behind its objects, so the standard protocol is used:
  punch a hole shaped like a *borrowed* object (the annotation of the next sequence in the list,
  resized) into a real video and score the fill against the real pixels (hole PSNR, SSIM,
  flicker) and its speed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .boxes import Box, box_from_mask, iou
from .inpaint import inpaint_video
from .masks import masks_from_segmentation
from .metrics import flicker, mean_iou, psnr_in, ssim_in
from .track import track
from .video import davis_annotations, davis_sequence

log = logging.getLogger(__name__)


def first_object_id(labels: np.ndarray) -> int:
    """The smallest object id annotated on the first frame; raises ``ValueError`` if none."""
    ids = [int(v) for v in np.unique(labels[0]) if v > 0]
    if not ids:
        raise ValueError("the first frame has no annotated object")
    return ids[0]


def bench_trackers(
    root: str | Path,
    sequences: Sequence[str],
    trackers: Sequence[str],
    max_frames: int | None = None,
    resolution: str = "480p",
) -> dict:
    """Run every tracker on every sequence (first annotated object).

    Returns ``{"sequences": {seq: {name: scores}}, "mean": {name: scores}}`` where ``name`` is
    each tracker (scores ``iou``, ``success50``, ``fps``) and ``static``, the baseline that
    holds the first box still (``iou``, ``success50``). IoU is averaged over the frames where
    the object is visible.
    """
    if not sequences:
        raise ValueError("no sequences to evaluate")
    per_seq: dict[str, dict[str, dict[str, float]]] = {}
    for name in sequences:
        frames, labels = davis_sequence(root, name, resolution, max_frames)
        obj = first_object_id(labels)
        truth = [box_from_mask(lab == obj) for lab in labels]
        per_seq[name] = {"static": _scores([truth[0]] * len(truth), truth)}
        for tracker in trackers:
            result = track(frames, truth[0], tracker)
            per_seq[name][tracker] = {**_scores(result.boxes, truth), "fps": result.fps}
            log.info(
                "%-20s %-5s IoU %.3f (static box %.3f)  %.1f fps",
                name,
                tracker,
                per_seq[name][tracker]["iou"],
                per_seq[name]["static"]["iou"],
                result.fps,
            )
    mean = {
        key: {
            score: float(np.mean([per_seq[s][key][score] for s in per_seq]))
            for score in per_seq[sequences[0]][key]
        }
        for key in ("static", *trackers)
    }
    return {"sequences": per_seq, "mean": mean}


def _scores(boxes: Sequence[Box | None], truth: Sequence[Box | None]) -> dict[str, float]:
    """Mean IoU and the share of visible frames with IoU >= 0.5."""
    visible = [(p, t) for p, t in zip(boxes, truth, strict=True) if t is not None]
    return {
        "iou": mean_iou(boxes, truth),
        "success50": float(np.mean([iou(p, t) >= 0.5 for p, t in visible])),
    }


def borrowed_holes(
    labels: np.ndarray, n_frames: int, height: int, width: int, dilate_px: int
) -> np.ndarray:
    """Hole masks for a video of ``n_frames`` x ``height`` x ``width`` made from another
    sequence's label maps (all objects), resized (nearest), cycled in time, and dilated."""
    holes = np.zeros((n_frames, height, width), dtype=np.uint8)
    for t in range(n_frames):
        src = (labels[t % len(labels)] > 0).astype(np.uint8)
        holes[t] = cv2.resize(src, (width, height), interpolation=cv2.INTER_NEAREST)
    return masks_from_segmentation(holes, dilate_px)


def bench_inpainting(
    root: str | Path,
    sequences: Sequence[str],
    methods: Sequence[str],
    max_frames: int | None = None,
    dilate_px: int = 6,
    resolution: str = "480p",
) -> dict:
    """Score every fill method on every sequence with borrowed-object holes.

    Sequence ``i`` borrows the annotations of sequence ``i + 1`` (cyclically; a single
    sequence borrows its own, mirrored left-right). Returns ``{"sequences": {seq: {method:
    {"psnr", "ssim", "flicker", "fps"}}}, "mean": {method: {...}}}``; frames whose hole is
    empty are skipped by the metrics.
    """
    if not sequences:
        raise ValueError("no sequences to evaluate")
    per_seq: dict[str, dict[str, dict[str, float]]] = {}
    for i, name in enumerate(sequences):
        frames, _ = davis_sequence(root, name, resolution, max_frames)
        donor = sequences[(i + 1) % len(sequences)]
        labels = davis_annotations(root, donor, resolution, max_frames)
        if donor == name:
            labels = labels[:, :, ::-1]
        t, h, w = frames.shape[:3]
        holes = borrowed_holes(labels, t, h, w, dilate_px)
        if not holes.any():
            log.warning("%s: the borrowed holes are empty, skipped", name)
            continue
        per_seq[name] = {}
        for method in methods:
            start = time.perf_counter()
            out = inpaint_video(frames, holes, method=method)
            elapsed = time.perf_counter() - start
            per_seq[name][method] = {
                "psnr": psnr_in(out, frames, holes),
                "ssim": ssim_in(out, frames, holes),
                "flicker": flicker(out, holes, frames),
                "fps": t / elapsed if elapsed > 0 else float("inf"),
            }
            log.info(
                "%-20s %-16s PSNR %.2f dB  SSIM %.3f  flicker %.2f  %.1f fps",
                name,
                method,
                *(per_seq[name][method][k] for k in ("psnr", "ssim", "flicker", "fps")),
            )
    mean = {
        method: {
            key: float(np.mean([per_seq[s][method][key] for s in per_seq]))
            for key in ("psnr", "ssim", "flicker", "fps")
        }
        for method in methods
    }
    return {"sequences": per_seq, "mean": mean}
