"""The removal pipeline: one box in, the object tracked, masked and filled on every frame.

    frames + box --track--> boxes --dilate--> hole masks --inpaint--> frames without the object

Segmentation masks (a DAVIS annotation, a segmentation model) can replace the tracked boxes:
they hug the object, so the hole is smaller and the fill better.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .boxes import Box
from .inpaint import inpaint_video
from .masks import masks_from_boxes, masks_from_segmentation
from .track import fill_lost, track


@dataclass(frozen=True)
class Removal:
    """What ``remove_object`` produced: the filled ``frames`` ``(T, H, W, 3)``, the hole
    ``masks`` ``(T, H, W)`` uint8, the tracked ``boxes`` (``None`` where lost, empty list when
    masks were given), and the speeds of both stages in frames per second."""

    frames: np.ndarray
    masks: np.ndarray
    boxes: list[Box | None]
    track_fps: float
    fill_fps: float


def remove_object(
    frames: np.ndarray,
    box: Box | None = None,
    *,
    tracker: str = "csrt",
    method: str = "telea",
    dilate_px: int = 6,
    radius: int = 5,
    window: int | None = None,
    segmentation: np.ndarray | None = None,
) -> Removal:
    """Erase one object from ``frames`` (``(T, H, W, 3)`` uint8 BGR).

    Give either ``box`` (``x, y, w, h`` on the first frame; the object is then tracked with
    ``tracker`` and a lost frame reuses the last known box) or ``segmentation`` (``(T, H, W)``,
    non-zero = object). The hole is dilated by ``dilate_px`` and filled with ``method``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3); got {frames.shape}")
    if (box is None) == (segmentation is None):
        raise ValueError("give exactly one of box (to track) or segmentation (masks)")
    height, width = frames.shape[1:3]
    boxes: list[Box | None] = []
    track_fps = float("nan")
    if segmentation is not None:
        if segmentation.shape != frames.shape[:3]:
            raise ValueError(
                f"segmentation {segmentation.shape} does not match frames {frames.shape[:3]}"
            )
        masks = masks_from_segmentation(segmentation, dilate_px)
    else:
        assert box is not None  # checked above: exactly one of box and segmentation
        result = track(frames, box, tracker)
        boxes, track_fps = result.boxes, result.fps
        masks = masks_from_boxes(fill_lost(boxes), height, width, dilate_px)
    start = time.perf_counter()
    filled = inpaint_video(frames, masks, method=method, radius=radius, window=window)
    elapsed = time.perf_counter() - start
    fill_fps = len(frames) / elapsed if elapsed > 0 else float("inf")
    return Removal(frames=filled, masks=masks, boxes=boxes, track_fps=track_fps, fill_fps=fill_fps)
