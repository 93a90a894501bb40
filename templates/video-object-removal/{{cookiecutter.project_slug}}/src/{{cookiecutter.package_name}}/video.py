"""Reading and writing videos, frame folders and DAVIS annotations.

Frames are uint8 BGR arrays (OpenCV's order) of shape ``(H, W, 3)``; a clip is a
``(T, H, W, 3)`` array. A video is either a file OpenCV can decode (mp4, avi, ...) or a folder
of numbered images (DAVIS ships its sequences as ``JPEGImages/480p/<name>/00000.jpg, ...``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
DEFAULT_FPS = 24.0


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Read a video file or a folder of images; returns ``(frames (T, H, W, 3) uint8, fps)``.

    A folder's images are read in file-name order and must share one size; a folder has no frame
    rate, so it gets ``DEFAULT_FPS``. Raises ``FileNotFoundError`` for a missing path and
    ``ValueError`` when nothing could be decoded.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such video or frame folder: {path}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if max_frames is not None:
            files = files[:max_frames]
        if not files:
            raise ValueError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        frames: list[np.ndarray] = []
        for f in files:
            img = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot decode image {f}")
            if frames and img.shape != frames[0].shape:
                raise ValueError(f"{f} is {img.shape[1]}x{img.shape[0]}, unlike the first frame")
            frames.append(img)
        return np.stack(frames), DEFAULT_FPS
    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
        frames = []
        while max_frames is None or len(frames) < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"OpenCV decoded no frame from {path}")
    return np.stack(frames), float(fps)


def write_video(
    path: str | Path, frames: np.ndarray, fps: float = DEFAULT_FPS, codec: str = "mp4v"
) -> Path:
    """Write ``frames`` (``(T, H, W, 3)`` uint8 BGR) as an MPEG-4 Part 2 (``mp4v``) file, or
    with another OpenCV ``codec`` (``"VP80"`` for a ``.webm`` file: VP8, which browsers play).

    Creates the parent folder. Raises ``ValueError`` for an empty or wrongly shaped clip and
    ``RuntimeError`` when OpenCV cannot open a writer for the path.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0 or frames.dtype != np.uint8:
        raise ValueError(f"want (T, H, W, 3) uint8 frames; got {frames.shape} {frames.dtype}")
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), float(fps), (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an {codec} video to {path}")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
    finally:
        writer.release()
    return path


def _voc_colormap(n: int = 256) -> np.ndarray:
    """The VOC/DAVIS palette: ``(n, 3)`` uint8 RGB; entry ``i`` is object ``i``'s colour."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def read_annotation(path: str | Path) -> np.ndarray:
    """Read a segmentation annotation as an ``(H, W)`` int32 label map (0 = background).

    Accepts DAVIS palette PNGs (OpenCV expands them to colour; colours are mapped back to object
    ids through the VOC palette), single-channel label maps and 0/255 binary masks (any
    non-zero value is an object id). Raises ``FileNotFoundError`` / ``ValueError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such annotation: {path}")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"cannot decode annotation {path}")
    if img.ndim == 2:
        return img.astype(np.int32)
    bgr = img[..., :3]
    if np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 1], bgr[..., 2]):
        return bgr[..., 0].astype(np.int32)
    rgb = bgr[..., ::-1].reshape(-1, 3)
    colors, inverse = np.unique(rgb, axis=0, return_inverse=True)
    lookup = {tuple(int(v) for v in c): i for i, c in enumerate(_voc_colormap())}
    next_id = 256
    ids = np.empty(len(colors), dtype=np.int32)
    for k, color in enumerate(colors):
        key = tuple(int(v) for v in color)
        if key not in lookup:  # not a palette colour: give it an id of its own
            lookup[key] = next_id
            next_id += 1
        ids[k] = lookup[key]
    return ids[inverse.ravel()].reshape(bgr.shape[:2])


def object_mask(labels: np.ndarray, object_id: int | None = None) -> np.ndarray:
    """The bool mask of one object in a label map; ``object_id=None`` takes every object.

    Raises ``ValueError`` when the requested id is not in the annotation (the message lists the
    ids that are).
    """
    if object_id is None:
        return labels > 0
    mask: np.ndarray = labels == object_id
    if not mask.any():
        present = sorted(int(v) for v in np.unique(labels) if v > 0)
        raise ValueError(f"object id {object_id} is not in the annotation; present: {present}")
    return mask


def _davis_dirs(root: str | Path, name: str, resolution: str) -> tuple[Path, Path]:
    root = Path(root)
    image_dir = root / "JPEGImages" / resolution / name
    if not image_dir.is_dir():
        raise FileNotFoundError(
            f"no DAVIS sequence {name!r} under {root} (expected {image_dir}); see README: Real run"
        )
    return image_dir, root / "Annotations" / resolution / name


def davis_annotations(
    root: str | Path, name: str, resolution: str = "480p", max_frames: int | None = None
) -> np.ndarray:
    """The label maps of one DAVIS sequence, ``(T, H, W)`` int32, one per image of the sequence;
    an image without an annotation file gets an all-background map."""
    image_dir, ann_dir = _davis_dirs(root, name, resolution)
    images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[
        :max_frames
    ]
    if not images:
        raise ValueError(f"{image_dir} holds no images")
    labels: list[np.ndarray] = []
    for image in images:
        ann = ann_dir / (image.stem + ".png")
        if ann.is_file():
            labels.append(read_annotation(ann))
        else:  # no annotation: an all-background map of the image's size
            if labels:
                h, w = labels[0].shape
            else:
                img = cv2.imread(str(image))
                if img is None:
                    raise ValueError(f"cannot decode image {image}")
                h, w = img.shape[:2]
            labels.append(np.zeros((h, w), dtype=np.int32))
    return np.stack(labels)


def davis_sequence(
    root: str | Path, name: str, resolution: str = "480p", max_frames: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load one DAVIS-2017 sequence: ``(frames (T, H, W, 3) uint8, labels (T, H, W) int32)``.

    ``root`` is the unpacked ``DAVIS`` folder (with ``JPEGImages/`` and ``Annotations/``).
    """
    image_dir, _ = _davis_dirs(root, name, resolution)
    frames, _ = read_video(image_dir, max_frames=max_frames)
    labels = davis_annotations(root, name, resolution, max_frames)
    if labels.shape != frames.shape[:3]:
        raise ValueError(
            f"{name}: annotations {labels.shape} do not match frames {frames.shape[:3]}"
        )
    return frames, labels


def davis_sequences(root: str | Path, split: str = "val", resolution: str = "480p") -> list[str]:
    """The sequence names of a DAVIS split (``ImageSets/2017/<split>.txt``), or, when that list
    is missing, every sequence folder under ``JPEGImages/<resolution>``."""
    root = Path(root)
    listing = root / "ImageSets" / "2017" / f"{split}.txt"
    if listing.is_file():
        return [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    image_root = root / "JPEGImages" / resolution
    if not image_root.is_dir():
        raise FileNotFoundError(f"{root} is not a DAVIS folder (no {image_root})")
    return sorted(p.name for p in image_root.iterdir() if p.is_dir())
