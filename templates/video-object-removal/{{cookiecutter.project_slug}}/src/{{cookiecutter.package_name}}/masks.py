"""Hole masks: what gets erased on every frame.

A mask is a ``(H, W)`` uint8 array, 255 where the frame is to be filled and 0 elsewhere.
Masks are dilated a few pixels beyond the object so that its soft edges, shadows and
tracker jitter are erased too.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .boxes import Box, box_to_mask


def dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow ``mask`` by ``pixels`` in every direction; returns uint8 0/255.

    The kernel is a disc ``2 * pixels + 1`` pixels wide (OpenCV's elliptic structuring element),
    so corners grow round, not square.

    ``pixels == 0`` returns the binarised mask unchanged in extent. Raises ``ValueError`` for a
    negative size or a mask that is not 2-D.
    """
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W); got shape {mask.shape}")
    if pixels < 0:
        raise ValueError(f"dilation must be >= 0 pixels; got {pixels}")
    # >>> assignment: 0/255 uint8, cv2.dilate with a (2p+1)-wide ellipse kernel
    binary = np.where(mask > 0, 255, 0).astype(np.uint8)
    if pixels == 0:
        return binary
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(binary, kernel)
    # <<< assignment


def masks_from_boxes(
    boxes: Sequence[Box | None], height: int, width: int, pixels: int = 6
) -> np.ndarray:
    """One dilated box mask per frame: ``(T, height, width)`` uint8; a ``None`` box gives an
    empty mask (nothing erased on that frame)."""
    return np.stack([dilate(box_to_mask(b, height, width), pixels) for b in boxes])


def masks_from_segmentation(segmentation: np.ndarray, pixels: int = 4) -> np.ndarray:
    """Dilate per-frame object masks (``(T, H, W)``, any dtype, non-zero = object)."""
    if segmentation.ndim != 3:
        raise ValueError(f"segmentation must be (T, H, W); got shape {segmentation.shape}")
    return np.stack([dilate(m, pixels) for m in segmentation])
