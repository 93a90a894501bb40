"""Filling the hole left by the object.

Three methods, one interface (``inpaint_video``):

* ``telea`` and ``ns``: per-frame ``cv2.inpaint`` (Telea's fast marching, Navier-Stokes). They
  work with any camera motion but only diffuse the hole's border inwards: texture is lost and
  the fill changes from frame to frame (flicker).
* ``temporal-median``: for a static camera, each hole pixel takes the median of the same pixel
  over the other frames where it is not masked. It recovers real background wherever the
  object moved away; pixels that are masked in every frame fall back to Telea.

Every method leaves the pixels outside the mask untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

METHODS = ("telea", "ns", "temporal-median")


def inpaint_frame(
    frame: np.ndarray, mask: np.ndarray, method: str = "telea", radius: int = 5
) -> np.ndarray:
    """Fill ``mask`` (uint8, non-zero = hole) in one uint8 BGR ``frame`` with Telea or NS."""
    flags = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
    if method not in flags:
        raise ValueError(f"per-frame method must be telea or ns; got {method!r}")
    if not mask.any():
        return frame.copy()
    return cv2.inpaint(frame, (mask > 0).astype(np.uint8) * 255, radius, flags[method])


def _median_of_valid(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over axis 0 of ``values`` (K, N, C) using only entries where ``valid`` (K, N).

    Returns ``(median (N, C) float32, count (N,))``; where ``count == 0`` the median is 0.
    """
    filled = np.where(valid[..., None], values.astype(np.float32), np.inf)
    filled.sort(axis=0)
    count = valid.sum(axis=0)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    take = np.arange(values.shape[1])
    median = 0.5 * (filled[lo, take] + filled[hi, take])
    median[count == 0] = 0.0
    return median, count


def temporal_median(
    frames: np.ndarray,
    masks: np.ndarray,
    window: int | None = None,
    max_refs: int = 64,
    radius: int = 5,
) -> np.ndarray:
    """Static-camera fill: hole pixels take the median of unmasked observations over time.

    ``frames`` is ``(T, H, W, 3)`` uint8, ``masks`` ``(T, H, W)`` (non-zero = hole). ``window``
    limits the reference frames to ``t - window .. t + window`` (``None``: the whole clip);
    at most ``max_refs`` evenly spaced reference frames are used. The median of an even number
    of values is the mean of the middle two, rounded to the nearest integer. Pixels never seen
    unmasked are filled with Telea. Returns a new ``(T, H, W, 3)`` uint8 array.
    """
    frames = np.asarray(frames)
    holes = np.asarray(masks) > 0
    if frames.ndim != 4 or holes.shape != frames.shape[:3]:
        raise ValueError(
            f"frames (T,H,W,3) and masks (T,H,W) disagree: {frames.shape} vs {holes.shape}"
        )
    # >>> assignment: hole pixel = median of its unmasked values in other frames
    n = len(frames)
    out = frames.copy()
    for t in range(n):
        ys, xs = np.nonzero(holes[t])
        if ys.size == 0:
            continue
        lo, hi = (0, n) if window is None else (max(0, t - window), min(n, t + window + 1))
        refs = np.arange(lo, hi)
        refs = refs[refs != t]
        if refs.size == 0:  # a single frame: nothing to borrow from
            out[t] = inpaint_frame(frames[t], holes[t].astype(np.uint8), "telea", radius)
            continue
        if refs.size > max_refs:
            refs = refs[np.linspace(0, refs.size - 1, max_refs).round().astype(int)]
        # Gather only the hole pixels of the reference frames (no copy of whole frames).
        values = frames[refs[:, None], ys, xs]  # (K, N, 3)
        valid = ~holes[refs[:, None], ys, xs]  # (K, N)
        median, count = _median_of_valid(values, valid)
        out[t, ys, xs] = np.clip(median + 0.5, 0, 255).astype(np.uint8)
        unseen = count == 0
        if unseen.any():
            rest = np.zeros(holes.shape[1:], dtype=np.uint8)
            rest[ys[unseen], xs[unseen]] = 255
            out[t] = inpaint_frame(out[t], rest, "telea", radius)
    return out
    # <<< assignment


def inpaint_video(
    frames: Sequence[np.ndarray] | np.ndarray,
    masks: Sequence[np.ndarray] | np.ndarray,
    method: str = "telea",
    radius: int = 5,
    window: int | None = None,
) -> np.ndarray:
    """Fill the hole of every frame with ``method`` (one of ``METHODS``).

    Returns ``(T, H, W, 3)`` uint8; raises ``ValueError`` for an unknown method or when the
    numbers of frames and masks differ.
    """
    if method not in METHODS:
        raise ValueError(
            f"unknown inpainting method {method!r}; choose one of {', '.join(METHODS)}"
        )
    frames = np.asarray(frames)
    masks = np.asarray(masks)
    if len(frames) != len(masks):
        raise ValueError(f"{len(frames)} frames but {len(masks)} masks")
    if method == "temporal-median":
        return temporal_median(frames, masks, window=window, radius=radius)
    return np.stack(
        [inpaint_frame(f, m, method, radius) for f, m in zip(frames, masks, strict=True)]
    )
