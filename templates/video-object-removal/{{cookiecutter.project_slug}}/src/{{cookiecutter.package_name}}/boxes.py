"""Axis-aligned boxes: parsing, clipping, overlap, and conversion to and from masks.

A box is ``(x, y, w, h)`` in pixels, OpenCV's convention: ``x, y`` is the top-left corner,
``w, h`` the width and height, all integers, ``w, h >= 1``.
"""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]


def parse_bbox(text: str) -> Box:
    """Parse ``"x,y,w,h"`` (commas, optional spaces) into a box.

    Raises ``ValueError`` with a message naming the problem when the text does not hold
    exactly four integers, or when a coordinate is negative or a side is not positive.
    """
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if len(parts) != 4:
        raise ValueError(f"--bbox wants four integers x,y,w,h; got {text!r} ({len(parts)} values)")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--bbox wants four integers x,y,w,h; got {text!r}") from None
    if x < 0 or y < 0:
        raise ValueError(f"--bbox corner must be inside the frame (x, y >= 0); got {text!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"--bbox width and height must be positive; got {text!r}")
    return x, y, w, h


def clip_box(box: Box, width: int, height: int) -> Box:
    """Clip ``box`` to a ``width`` x ``height`` frame; the result keeps at least one pixel.

    Raises ``ValueError`` when the box lies entirely outside the frame.
    """
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {box} lies outside the {width}x{height} frame")
    return x0, y0, x1 - x0, y1 - y0


def iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two boxes, in [0, 1]; 0.0 when either is ``None`` (lost)."""
    # >>> assignment: 0.0 if either box is None, else overlap area / union area
    if a is None or b is None:
        return 0.0
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
    # <<< assignment


def box_from_mask(mask: np.ndarray) -> Box | None:
    """The tightest box around the non-zero pixels of a 2-D mask; ``None`` when it is empty."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W); got shape {mask.shape}")
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    x0, y0 = int(xs.min()), int(ys.min())
    return x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1


def box_to_mask(box: Box | None, height: int, width: int) -> np.ndarray:
    """A ``uint8`` mask of shape ``(height, width)``: 255 inside ``box``, 0 elsewhere."""
    mask = np.zeros((height, width), dtype=np.uint8)
    if box is not None:
        x, y, w, h = box
        mask[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)] = 255
    return mask
