"""Synthetic clips whose clean background is known, so that removal quality can be measured.

The camera is static: a textured background (smooth colour fields, stripes, shapes, fine grain)
plus a little sensor noise per frame, and one rigid textured object that moves along a smooth
path, pauses on the way (people and cars stop), and grows or shrinks (it approaches or leaves
the camera). Because the clean frames are kept, every metric (tracking IoU, hole PSNR/SSIM,
flicker) is computed against ground truth instead of being judged by eye.

Everything about a scene is drawn from a seed: the background, the object's texture, size and
aspect, its path, speed, pause and change of scale, and the sensor noise. ``draw_scene(seed, k)``
is the ``k``-th scene of a seed; the smoke run scores several, so that no single lucky (or
unlucky) scene decides the result.

The draws stay inside what a static camera filming one object can show; the ranges are the
constants below (an object never leaves the frame, moves at most ``MAX_SPEED`` of the frame
width in one frame, and changes size smoothly within ``SCALE_END``). One kind of draw is
redrawn: a path on which some pixel the object hides is hidden on every frame. No method that
fills from other frames could be judged there, and a tracker has nothing to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .boxes import Box
from .config import DEFAULT_SEED

# The ranges a scene is drawn from (fractions of the frame unless said otherwise).
OBJECT_WIDTH = (0.14, 0.22)  # object width on the first frame, of the frame width
ASPECT = (0.7, 1.4)  # object height / width
SCALE_END = (0.8, 1.35)  # size on the last frame / size on the first (leaves .. approaches)
MAX_SPEED = (0.02, 0.04)  # top speed, of the frame width per frame (0.04: across in a second)
PAUSE = (0.3, 0.5)  # share of the clip the object stands still
FREQUENCY = (0.4, 0.9)  # cycles of the path's sinusoids over the clip
MARGIN = 3  # pixels kept between the object and the frame border
MIN_FRAMES = 24  # a clip long enough to pause and still move off the place it started


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


@dataclass(frozen=True)
class Scene:
    """Everything that decides one clip; ``render`` turns it into pixels.

    Sizes are in pixels. ``centers`` is the object's centre ``(x, y)`` on every frame and
    ``scales`` its size relative to ``object_size`` (``(w, h)`` on the first frame); ``texture``
    seeds the background, the object's pattern and the sensor noise of ``noise`` grey levels.
    """

    height: int
    width: int
    object_size: tuple[int, int]
    centers: tuple[tuple[float, float], ...]
    scales: tuple[float, ...]
    noise: float
    texture: int
    fps: float = 24.0

    @property
    def n_frames(self) -> int:
        """The clip's length."""
        return len(self.centers)

    def box(self, t: int) -> Box:
        """The object's box on frame ``t``: its size at that frame around its centre."""
        ow, oh = self.object_size
        w = max(2, int(round(ow * self.scales[t])))
        h = max(2, int(round(oh * self.scales[t])))
        cx, cy = self.centers[t]
        return int(round(cx - w / 2)), int(round(cy - h / 2)), w, h


def _progress(n_frames: int, pause_start: float, pause_length: float) -> np.ndarray:
    """How far along its path the object is on each frame, 0 to 1, with one pause.

    The speed eases in and out of the pause (smoothed over a tenth of the clip), as a body with
    mass does, instead of stopping dead.
    """
    u = np.linspace(0.0, 1.0, n_frames)
    inside = (u >= pause_start) & (u <= pause_start + pause_length)
    speed = np.where(inside, 0.0, 1.0)
    edge = max(1, n_frames // 10)
    window = np.hanning(2 * edge + 3)[1:-1]
    speed = np.convolve(speed, window / window.sum(), "same")
    speed[inside] = 0.0
    travelled = np.concatenate([[0.0], np.cumsum(speed[1:])])
    progress: np.ndarray = travelled / travelled[-1]
    return progress


def _some_pixel_always_hidden(scene: Scene, gap: int = 4) -> bool:
    """Whether some pixel lies under the object (grown by ``gap``) on every frame: nothing
    that fills from other frames can recover it, so a temporal fill cannot be judged there."""
    boxes = [scene.box(t) for t in range(scene.n_frames)]
    x0 = max(x for x, _, _, _ in boxes) - gap
    y0 = max(y for _, y, _, _ in boxes) - gap
    x1 = min(x + w for x, _, w, _ in boxes) + gap
    y1 = min(y + h for _, y, _, h in boxes) + gap
    return x0 < x1 and y0 < y1


def _draw(rng: np.random.Generator, n_frames: int, height: int, width: int) -> Scene:
    """One candidate scene (``draw_scene`` keeps the first that passes its checks)."""
    ow = int(round(rng.uniform(*OBJECT_WIDTH) * width))
    oh = min(int(round(ow * rng.uniform(*ASPECT))), int(0.4 * height))
    scale_end = rng.uniform(*SCALE_END)
    big_w, big_h = ow * max(1.0, scale_end), oh * max(1.0, scale_end)
    # The centre may go wherever the largest box still fits inside the frame.
    half_x = (width - big_w) / 2 - MARGIN - 1
    half_y = (height - big_h) / 2 - MARGIN - 1
    # A smooth path: one sinusoid per axis (random frequency, phase and extent), with time
    # warped so that the object pauses once; then slowed down to the drawn top speed.
    fx, fy = rng.uniform(*FREQUENCY, size=2)
    px, py = rng.uniform(0, 2 * math.pi, size=2)
    ax, ay = rng.uniform(0.5, 1.0) * half_x, rng.uniform(0.5, 1.0) * half_y
    pause = rng.uniform(*PAUSE)
    s = _progress(n_frames, rng.uniform(0.15, 0.85 - pause), pause)
    xs = width / 2 + ax * np.sin(2 * math.pi * fx * s + px)
    ys = height / 2 + ay * np.sin(2 * math.pi * fy * s + py)
    step = float(np.max(np.hypot(np.diff(xs), np.diff(ys))))
    cap = rng.uniform(*MAX_SPEED) * width
    if step > cap:  # shrink the path around its middle: same shape, slower
        xm, ym = xs.mean(), ys.mean()
        xs, ys = xm + (xs - xm) * cap / step, ym + (ys - ym) * cap / step
    return Scene(
        height=height,
        width=width,
        object_size=(ow, oh),
        centers=tuple((float(x), float(y)) for x, y in zip(xs, ys, strict=True)),
        scales=tuple(float(v) for v in np.linspace(1.0, scale_end, n_frames)),
        noise=float(rng.uniform(1.0, 3.0)),
        texture=int(rng.integers(2**31)),
    )


def draw_scene(
    seed: int = DEFAULT_SEED,
    index: int = 0,
    *,
    n_frames: int = 40,
    height: int = 144,
    width: int = 192,
) -> Scene:
    """The ``index``-th scene of ``seed``: same arguments, same scene, on every machine.

    Candidates are drawn until one leaves every pixel it hides visible on some frame
    (``_some_pixel_always_hidden``); any other draw is kept as it is. Raises ``ValueError`` for a
    clip shorter than ``MIN_FRAMES`` (too short to pause and move off its first place at a
    plausible speed) or smaller than 64x48 pixels.
    """
    if n_frames < MIN_FRAMES:
        raise ValueError(f"n_frames must be >= {MIN_FRAMES}; got {n_frames}")
    if height < 48 or width < 64:
        raise ValueError(f"frames must be at least 64x48; got {width}x{height}")
    rng = np.random.default_rng([seed, index])
    for _ in range(100):
        scene = _draw(rng, n_frames, height, width)
        if not _some_pixel_always_hidden(scene):
            return scene
    raise ValueError(f"no scene of {n_frames} frames at {width}x{height} uncovers its holes")


def make_background(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A textured static background, ``(height, width, 3)`` float32 in [0, 255]."""
    # Smooth colour fields: coarse random noise, upsampled.
    cells = max(2, min(height, width) // 24)
    coarse = rng.uniform(40, 215, size=(cells, cells * width // height + 1, 3))
    bg: np.ndarray = np.asarray(
        cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC),
        dtype=np.float32,
    )
    # Oblique stripes of two random orientations and periods: structure that diffusion-based
    # inpainting cannot guess from the border of the hole.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for amplitude in (22.0, 12.0):
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(5.0, 14.0)
        phase = (xx * math.cos(angle) + yy * math.sin(angle)) * 2 * math.pi / period
        tint = rng.uniform(-1.0, 1.0, size=3).astype(np.float32)
        bg += amplitude * np.sin(phase)[..., None] * tint
    # A few hard-edged shapes.
    canvas = np.zeros((height, width, 3), dtype=np.float32)
    for _ in range(int(rng.integers(8, 16))):
        color = tuple(float(c) for c in rng.uniform(-70, 70, size=3))
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(6, max(7, min(height, width) // 5)))
        if rng.random() < 0.5:
            cv2.circle(canvas, (cx, cy), size // 2, color, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(canvas, (cx, cy), (cx + size, cy + size // 2), color, -1)
    bg += canvas
    # Fine static grain.
    grain = cv2.GaussianBlur(
        rng.normal(0, 12, size=(height, width, 3)).astype(np.float32), (0, 0), 0.8
    )
    bg += grain
    clipped: np.ndarray = np.clip(bg, 0, 255)
    return clipped


def make_object(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A distinctive rigid object, ``(height, width, 3)`` uint8: saturated random blocks
    (not periodic, so correlation trackers have one clear peak) inside a dark border."""
    block = int(rng.integers(5, 9))
    palette = rng.permutation(
        np.array(
            [(30, 40, 230), (240, 220, 30), (40, 200, 60), (250, 250, 250), (200, 40, 200)],
            dtype=np.uint8,
        )
    )[:4]
    cells = rng.integers(0, len(palette), size=(height // block + 1, width // block + 1))
    obj: np.ndarray = palette[np.kron(cells, np.ones((block, block), dtype=int))[:height, :width]]
    edge = max(2, min(height, width) // 16)
    obj[:edge, :] = obj[-edge:, :] = obj[:, :edge] = obj[:, -edge:] = (20, 20, 20)
    return obj


def render(scene: Scene) -> SyntheticClip:
    """Draw the frames of ``scene``: same scene, same bytes."""
    rng = np.random.default_rng(scene.texture)
    background = make_background(scene.height, scene.width, rng)
    ow, oh = scene.object_size
    big = max(scene.scales)
    texture = make_object(int(round(oh * big)) + 1, int(round(ow * big)) + 1, rng)
    frames, clean, boxes, masks = [], [], [], []
    for t in range(scene.n_frames):
        x, y, w, h = scene.box(t)
        if x < 0 or y < 0 or x + w > scene.width or y + h > scene.height:
            raise ValueError(f"the object leaves the frame on frame {t}: box {(x, y, w, h)}")
        sensor = rng.normal(0, scene.noise, size=background.shape).astype(np.float32)
        plate = np.clip(background + sensor, 0, 255).astype(np.uint8)
        frame = plate.copy()
        frame[y : y + h, x : x + w] = cv2.resize(texture, (w, h), interpolation=cv2.INTER_AREA)
        mask = np.zeros((scene.height, scene.width), dtype=bool)
        mask[y : y + h, x : x + w] = True
        frames.append(frame)
        clean.append(plate)
        boxes.append((x, y, w, h))
        masks.append(mask)
    return SyntheticClip(
        frames=np.stack(frames),
        clean=np.stack(clean),
        boxes=boxes,
        masks=np.stack(masks),
        fps=scene.fps,
    )


def make_clip(
    seed: int = DEFAULT_SEED,
    index: int = 0,
    *,
    n_frames: int = 40,
    height: int = 144,
    width: int = 192,
) -> SyntheticClip:
    """The clip of ``draw_scene(seed, index, ...)``."""
    return render(draw_scene(seed, index, n_frames=n_frames, height=height, width=width))
