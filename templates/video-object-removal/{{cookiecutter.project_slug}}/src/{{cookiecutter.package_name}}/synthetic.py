"""A synthetic clip whose clean background is known, so that removal quality can be measured.

The camera is static: a textured background (smooth colour fields, stripes, shapes, fine grain)
plus a little sensor noise per frame, and one rigid textured object moving along a smooth
Lissajous path. Because the clean frames are kept, every metric (tracking IoU, hole PSNR/SSIM,
flicker) is computed against ground truth instead of being judged by eye.

Two seeds: ``scene`` draws the background and the object, ``seed`` the sensor noise of every
frame. The seed is the project's (``DEFAULT_SEED``, one per student); the scene stays the same
for everyone, because on a few percent of random scenes CSRT's scale estimate shrinks onto part
of the object (its box centre stays right) and the smoke's tracking target would fail for
reasons that have nothing to do with the code.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .boxes import Box
from .config import DEFAULT_SEED


@dataclass(frozen=True)
class SyntheticClip:
    """A clip and its ground truth.

    ``frames`` and ``clean`` are ``(T, H, W, 3)`` uint8 BGR arrays (with and without the object);
    ``boxes`` holds the true object box of every frame; ``masks`` is ``(T, H, W)`` bool, the
    object's pixels; ``fps`` is the nominal frame rate.
    """

    frames: np.ndarray
    clean: np.ndarray
    boxes: list[Box]
    masks: np.ndarray
    fps: float


def make_background(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A textured static background, ``(height, width, 3)`` float32 in [0, 255]."""
    # Smooth colour fields: coarse random noise, upsampled.
    coarse = rng.uniform(40, 215, size=(max(2, height // 40), max(2, width // 40), 3))
    bg = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    # Oblique stripes of two frequencies: structure that diffusion-based inpainting cannot guess.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bg += 22.0 * np.sin((xx * 0.9 + yy * 0.4) / 4.0)[..., None]
    bg += 12.0 * np.sin((xx * 0.2 - yy * 1.0) / 2.5)[..., None] * np.array([1.0, 0.3, -0.6])
    # A few hard-edged shapes.
    canvas = np.zeros((height, width, 3), dtype=np.float32)
    for _ in range(14):
        color = tuple(float(c) for c in rng.uniform(-70, 70, size=3))
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(8, max(9, min(height, width) // 5)))
        if rng.random() < 0.5:
            cv2.circle(canvas, (cx, cy), size // 2, color, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(canvas, (cx, cy), (cx + size, cy + size // 2), color, -1)
    bg += canvas
    # Fine static grain.
    grain = cv2.GaussianBlur(
        rng.normal(0, 14, size=(height, width, 3)).astype(np.float32), (0, 0), 0.8
    )
    bg += grain
    return np.clip(bg, 0, 255)


def make_object(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A distinctive rigid object, ``(height, width, 3)`` uint8: saturated random blocks
    (not periodic, so correlation trackers have one clear peak) inside a dark border."""
    cells = rng.integers(0, 4, size=(height // 8 + 1, width // 8 + 1))
    palette = np.array(
        [(30, 40, 230), (240, 220, 30), (40, 200, 60), (250, 250, 250)], dtype=np.uint8
    )
    obj = palette[np.kron(cells, np.ones((8, 8), dtype=int))[:height, :width]]
    obj[:3, :] = obj[-3:, :] = obj[:, :3] = obj[:, -3:] = (20, 20, 20)
    return obj


def make_clip(
    n_frames: int = 48,
    height: int = 240,
    width: int = 320,
    object_size: tuple[int, int] = (56, 44),
    growth: float = 0.3,
    speed: float = 5.0,
    noise: float = 2.0,
    seed: int = DEFAULT_SEED,
    fps: float = 24.0,
    scene: int = 0,
) -> SyntheticClip:
    """Make a deterministic clip: same arguments, same bytes.

    ``object_size`` is the object's ``(w, h)`` on the first frame; it grows linearly to
    ``(1 + growth)`` times that on the last frame (it approaches the camera), so trackers that
    cannot follow a change of scale fall behind. The object's centre travels a Lissajous path
    inside the frame at a peak speed of ``speed`` pixels a frame; ``noise`` is the standard
    deviation of the per-frame sensor noise, drawn from ``seed``; ``scene`` draws the
    background and the object's texture.
    """
    if n_frames < 2:
        raise ValueError(f"n_frames must be >= 2; got {n_frames}")
    ow, oh = object_size
    big_w, big_h = int(round(ow * (1 + growth))), int(round(oh * (1 + growth)))
    if not (0 < ow and 0 < oh and big_w < width // 2 and big_h < height // 2):
        raise ValueError(
            f"object_size {object_size} (x{1 + growth:.2f}) must fit in half the frame"
        )
    scenery = np.random.default_rng(scene)
    background = make_background(height, width, scenery)
    texture = make_object(big_h, big_w, scenery)
    rng = np.random.default_rng(seed)  # the sensor noise

    cx0, cy0 = width / 2, height / 2
    ax, ay = width / 2 - big_w / 2 - 4, height / 2 - big_h / 2 - 4
    omega = speed / float(np.hypot(ax, 2 * ay))  # peak speed of the path is ``speed``
    frames, clean, boxes, masks = [], [], [], []
    for t in range(n_frames):
        scale = 1 + growth * t / (n_frames - 1)
        w, h = int(round(ow * scale)), int(round(oh * scale))
        cx = cx0 + ax * np.sin(omega * t)
        cy = cy0 + ay * np.sin(2 * omega * t + 0.5)
        x, y = int(round(cx - w / 2)), int(round(cy - h / 2))
        sensor = rng.normal(0, noise, size=background.shape).astype(np.float32)
        plate = np.clip(background + sensor, 0, 255).astype(np.uint8)
        frame = plate.copy()
        frame[y : y + h, x : x + w] = cv2.resize(texture, (w, h), interpolation=cv2.INTER_AREA)
        mask = np.zeros((height, width), dtype=bool)
        mask[y : y + h, x : x + w] = True
        frames.append(frame)
        clean.append(plate)
        boxes.append((x, y, w, h))
        masks.append(mask)
    return SyntheticClip(
        frames=np.stack(frames), clean=np.stack(clean), boxes=boxes, masks=np.stack(masks), fps=fps
    )
