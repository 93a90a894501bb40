"""Benchmarks on DAVIS 2017, each named for the protocol it follows, and their reports.

* ``bench_trackers``: semi-supervised video object segmentation on DAVIS 2017 (Pont-Tuset et
  al. 2017), scored with the region (J) and contour (F) measures of Perazzi et al. 2016. Every
  object annotated on the first frame is followed from its first-frame box; the tracker's boxes,
  painted as filled rectangles into one label map per frame, are the predicted masks. J and F are
  computed per object on every frame but the first and the last, averaged per object, then over
  every object of every sequence; J&F is the mean of the two. These are the steps of the official
  ``davis2017-evaluation`` package, written afresh (our contour extraction and disc differ from
  its ``seg2bmap`` in detail: use the official package for a number to put beside a paper's).
  Same-run baselines: the first-frame box held still and the first-frame mask held still.
* ``bench_inpainting`` with ``protocol="e2fgvi"``: the DAVIS video-completion protocol of E2FGVI
  (Li et al., CVPR 2022), also used by ProPainter (Zhou et al., ICCV 2023): the authors' released
  test masks for 50 DAVIS sequences, frames resized to 432x240, masks dilated by four 3x3-cross
  steps, whole-frame PSNR per frame averaged over every frame of every sequence.
* ``bench_inpainting`` with ``protocol="borrowed"``: this starter's own check, which needs no
  mask download and follows no published protocol: a hole shaped like another sequence's
  objects (resized, dilated) is punched into a real video and the fill is scored against the
  real pixels inside the hole (hole PSNR, SSIM, flicker). It has no whole-frame ``psnr``: a
  score measured differently from the published protocol gets its own name (``hole_psnr``), so
  it is never read as E2FGVI's number.

``track_report`` and ``inpaint_report`` turn a benchmark's result into the report every command
ends with (``targets.py``), checked against the README's targets.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .boxes import Box, box_from_mask, box_to_mask
from .inpaint import inpaint_video
from .masks import masks_from_segmentation
from .metrics import boundary_f, flicker, frame_psnr, psnr_in, region_j, ssim_in
from .targets import Target, beats_baseline, beats_baseline_by_factor, build_report, published
from .track import track
from .video import IMAGE_SUFFIXES, davis_annotations, davis_sequence, read_video

log = logging.getLogger(__name__)

VOID = 255  # DAVIS marks uncertain pixels with this label; the evaluation counts them as background
E2FGVI_SIZE = (432, 240)  # (width, height) of the E2FGVI / ProPainter evaluation

# Published numbers the real runs are checked against (README: Success criteria, References).
SAM2_DAVIS17_JF = 90.9
SAM2_SOURCE = (
    "Ravi et al. 2024, SAM 2 (arXiv 2408.00714), semi-supervised VOS table: "
    "SAM 2 (Hiera-B+) 90.9 J&F on DAVIS 2017 val"
)
E2FGVI_DAVIS_PSNR = 33.01
E2FGVI_SOURCE = (
    "Li et al. 2022, E2FGVI (CVPR), README of MCG-NKU/E2FGVI: 33.01 dB PSNR on DAVIS, "
    "432x240, released test masks"
)
# Margins over the same-run baselines (README: Success criteria).
JF_MARGIN = 5.0  # J&F points a tracker must gain over the first box held still
PSNR_MARGIN = 3.0  # dB a fill method must gain over per-frame Telea
FLICKER_FACTOR = 0.7  # a fill method must flicker at least 30 % less than per-frame Telea


# --- tracking: DAVIS 2017 semi-supervised, J and F --------------------------------------------


def object_ids(first_labels: np.ndarray) -> list[int]:
    """The objects to follow: ids ``1 .. max id`` of the first frame (void excluded), as the
    DAVIS evaluation numbers them. Raises ``ValueError`` when the first frame has none."""
    labels = np.where(first_labels == VOID, 0, first_labels)
    top = int(labels.max())
    if top == 0:
        raise ValueError("the first frame has no annotated object")
    return list(range(1, top + 1))


def boxes_to_labels(
    boxes: Mapping[int, Sequence[Box | None]], n_frames: int, height: int, width: int
) -> np.ndarray:
    """Paint every object's box of every frame into one label map per frame, ``(T, H, W)``.

    A submission to DAVIS is one label map per frame, so overlapping boxes must be resolved:
    larger boxes are painted first, so that a small object inside a large box keeps its pixels.
    A lost object (``None``) paints nothing on that frame.
    """
    labels = np.zeros((n_frames, height, width), dtype=np.int32)
    for t in range(n_frames):
        present: list[tuple[int, Box]] = []
        for obj, per_frame in boxes.items():
            box = per_frame[t]
            if box is not None:
                present.append((obj, box))
        present.sort(key=lambda item: -(item[1][2] * item[1][3]))
        for obj, box in present:
            labels[t][box_to_mask(box, height, width) > 0] = obj
    return labels


def sequence_jf(
    predicted: np.ndarray, truth: np.ndarray, ids: Sequence[int]
) -> dict[int, tuple[float, float]]:
    """``{object id: (mean J, mean F)}`` for one sequence, over frames ``1 .. T-2``.

    ``predicted`` and ``truth`` are ``(T, H, W)`` label maps; the first frame (given to the
    method) and the last are left out, as in the DAVIS 2017 semi-supervised evaluation.
    Raises ``ValueError`` for fewer than 3 frames or mismatched shapes.
    """
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted {predicted.shape} and truth {truth.shape} differ")
    if len(truth) < 3:
        raise ValueError("J and F leave out the first and last frames: need >= 3 frames")
    truth = np.where(truth == VOID, 0, truth)
    scores = {}
    for obj in ids:
        js, fs = [], []
        for t in range(1, len(truth) - 1):
            p, g = predicted[t] == obj, truth[t] == obj
            js.append(region_j(p, g))
            fs.append(boundary_f(p, g))
        scores[obj] = (float(np.mean(js)), float(np.mean(fs)))
    return scores


def _summary(per_object: Sequence[tuple[float, float]]) -> dict[str, float]:
    """J, F and J&F in percent, averaged over objects (every object weighs the same)."""
    j = 100.0 * float(np.mean([s[0] for s in per_object]))
    f = 100.0 * float(np.mean([s[1] for s in per_object]))
    return {"J": j, "F": f, "JF": (j + f) / 2}


def bench_trackers(
    root: str | Path,
    sequences: Sequence[str],
    trackers: Sequence[str],
    max_frames: int | None = None,
    resolution: str = "480p",
) -> dict[str, Any]:
    """Score every tracker, and the two still baselines, on every sequence with J and F.

    Returns ``{"sequences": {seq: {method: {"J", "F", "JF"}}}, "mean": {method: {"J", "F",
    "JF", "objects"}}, "fps": {tracker: frames per second}}`` where ``method`` is each tracker,
    ``static_box`` (each object's first box held still) and ``static_mask`` (its first-frame
    mask held still). Means are over objects, in percent, as DAVIS reports them.
    """
    if not sequences:
        raise ValueError("no sequences to evaluate")
    methods = ["static_box", "static_mask", *trackers]
    per_object: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    per_seq: dict[str, dict[str, dict[str, float]]] = {}
    frames_done: dict[str, int] = dict.fromkeys(trackers, 0)
    seconds: dict[str, float] = dict.fromkeys(trackers, 0.0)
    for name in sequences:
        frames, labels = davis_sequence(root, name, resolution, max_frames)
        n, height, width = labels.shape
        ids = object_ids(labels[0])
        first = {obj: box_from_mask(labels[0] == obj) for obj in ids}
        ids = [obj for obj in ids if first[obj] is not None]
        predictions: dict[str, np.ndarray] = {
            "static_box": boxes_to_labels({obj: [first[obj]] * n for obj in ids}, n, height, width),
            "static_mask": np.repeat(np.where(labels[:1] == VOID, 0, labels[:1]), n, axis=0),
        }
        for tracker in trackers:
            boxes: dict[int, list[Box | None]] = {}
            for obj in ids:
                start = time.perf_counter()
                result = track(frames, first[obj], tracker)  # type: ignore[arg-type]
                seconds[tracker] += time.perf_counter() - start
                frames_done[tracker] += n - 1
                boxes[obj] = result.boxes
            predictions[tracker] = boxes_to_labels(boxes, n, height, width)
        per_seq[name] = {}
        for method in methods:
            scores = sequence_jf(predictions[method], labels, ids)
            per_object[method].extend(scores.values())
            per_seq[name][method] = _summary(list(scores.values()))
        log.info(
            "%-20s %s",
            name,
            "  ".join(f"{m} J&F {per_seq[name][m]['JF']:.1f}" for m in methods),
        )
    mean = {m: {**_summary(per_object[m]), "objects": len(per_object[m])} for m in methods}
    fps = {t: frames_done[t] / seconds[t] if seconds[t] > 0 else 0.0 for t in trackers}
    return {"sequences": per_seq, "mean": mean, "fps": fps}


def track_report(result: Mapping[str, Any], primary: str, started: float) -> dict[str, Any]:
    """The report of ``bench-track``: ``primary`` (the tracker the project ships) must beat the
    first box held still by ``JF_MARGIN`` points, and is checked against SAM 2's published J&F
    on DAVIS 2017 val (a mask method: boxes are not expected to reach it, see README)."""
    mean = result["mean"]
    if primary not in mean:
        raise ValueError(f"{primary!r} was not benchmarked; have {sorted(mean)}")
    metrics: dict[str, Any] = {}
    for method, scores in mean.items():
        for key in ("J", "F", "JF"):
            metrics[f"{key}_{method}"] = scores[key]
    metrics["objects"] = mean[primary]["objects"]
    for tracker, fps in result.get("fps", {}).items():
        metrics[f"fps_{tracker}"] = fps
    jf = mean[primary]["JF"]
    targets: dict[str, Target] = {
        f"jf_{primary}_over_static_box": beats_baseline(
            jf, "JF_static_box", mean["static_box"]["JF"], JF_MARGIN
        ),
        f"jf_{primary}_vs_sam2": published(jf, ">=", SAM2_DAVIS17_JF, SAM2_SOURCE),
    }
    return build_report(metrics, targets, started)


# --- inpainting: E2FGVI/ProPainter protocol, and borrowed holes -------------------------------


def borrowed_holes(
    labels: np.ndarray, n_frames: int, height: int, width: int, dilate_px: int
) -> np.ndarray:
    """Hole masks for a video of ``n_frames`` x ``height`` x ``width`` made from another
    sequence's label maps (all objects), resized (nearest), cycled in time, and dilated."""
    holes = np.zeros((n_frames, height, width), dtype=np.uint8)
    for t in range(n_frames):
        src = ((labels[t % len(labels)] > 0) & (labels[t % len(labels)] != VOID)).astype(np.uint8)
        holes[t] = cv2.resize(src, (width, height), interpolation=cv2.INTER_NEAREST)
    return masks_from_segmentation(holes, dilate_px)


def e2fgvi_sequence(
    root: str | Path, masks_root: str | Path, name: str, resolution: str = "480p"
) -> tuple[np.ndarray, np.ndarray]:
    """One sequence as the E2FGVI / ProPainter evaluation prepares it: ``(frames, holes)``.

    Frames come from ``root/JPEGImages/<resolution>/<name>`` and are resized to 432x240
    (bilinear); ``masks_root/<name>/00000.png, ...`` are resized (nearest), binarised (non-zero
    is hole) and dilated by four steps of a 3x3 cross, as the authors' test loader does.
    """
    frames, _ = read_video(Path(root) / "JPEGImages" / resolution / name)
    mask_dir = Path(masks_root) / name
    files = sorted(p for p in mask_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) < len(frames):
        raise ValueError(f"{name}: {len(files)} test masks for {len(frames)} frames")
    size = E2FGVI_SIZE
    resized = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames])
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    holes = []
    for path in files[: len(frames)]:
        mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise ValueError(f"cannot decode test mask {path}")
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        holes.append(cv2.dilate((mask > 0).astype(np.uint8), cross, iterations=4) * 255)
    return resized, np.stack(holes)


def bench_inpainting(
    root: str | Path,
    sequences: Sequence[str],
    methods: Sequence[str],
    protocol: str = "borrowed",
    masks_root: str | Path | None = None,
    max_frames: int | None = None,
    dilate_px: int = 6,
    resolution: str = "480p",
) -> dict[str, Any]:
    """Score every fill method on every sequence under ``protocol`` (see the module docstring).

    Returns ``{"protocol", "sequences": {seq: {method: scores}}, "mean": {method: scores}}``.
    Scores: ``hole_psnr`` (PSNR inside the hole, the headline of ``borrowed``), ``flicker``
    (inside the hole, against the real frames) and ``fps``; ``e2fgvi`` adds ``psnr`` (its
    headline: whole-frame PSNR averaged over every frame), ``borrowed`` adds ``ssim``.
    """
    if protocol not in ("borrowed", "e2fgvi"):
        raise ValueError(f"unknown protocol {protocol!r}: borrowed or e2fgvi")
    if protocol == "e2fgvi" and masks_root is None:
        raise ValueError("the e2fgvi protocol needs --masks-root (the authors' test masks)")
    if not sequences:
        raise ValueError("no sequences to evaluate")
    per_seq: dict[str, dict[str, dict[str, float]]] = {}
    frame_scores: dict[str, list[float]] = {m: [] for m in methods}
    for i, name in enumerate(sequences):
        if protocol == "e2fgvi":
            frames, holes = e2fgvi_sequence(root, masks_root, name, resolution)  # type: ignore[arg-type]
        else:
            frames, _ = davis_sequence(root, name, resolution, max_frames)
            donor = sequences[(i + 1) % len(sequences)]
            labels = davis_annotations(root, donor, resolution, max_frames)
            if donor == name:  # a single sequence borrows its own objects, mirrored
                labels = labels[:, :, ::-1]
            t, h, w = frames.shape[:3]
            holes = borrowed_holes(labels, t, h, w, dilate_px)
        if not holes.any():
            log.warning("%s: the holes are empty, skipped", name)
            continue
        per_seq[name] = {}
        for method in methods:
            start = time.perf_counter()
            out = inpaint_video(frames, holes, method=method)
            elapsed = time.perf_counter() - start
            scores = {
                "hole_psnr": psnr_in(out, frames, holes),
                "flicker": flicker(out, holes, frames),
                "fps": len(frames) / elapsed if elapsed > 0 else math.inf,
            }
            if protocol == "e2fgvi":
                per_frame = [frame_psnr(o, f) for o, f in zip(out, frames, strict=True)]
                frame_scores[method].extend(per_frame)
                scores["psnr"] = float(np.mean(per_frame))
            else:
                scores["ssim"] = ssim_in(out, frames, holes)
            per_seq[name][method] = scores
            log.info(
                "%-20s %-16s %s",
                name,
                method,
                "  ".join(f"{k} {v:.3g}" for k, v in scores.items()),
            )
    if not per_seq:
        raise ValueError("every sequence was skipped: no hole to fill")
    mean: dict[str, dict[str, float]] = {}
    for method in methods:
        keys = per_seq[next(iter(per_seq))][method]
        mean[method] = {k: float(np.mean([per_seq[s][method][k] for s in per_seq])) for k in keys}
        if protocol == "e2fgvi":  # the published number averages frames, not sequences
            mean[method]["psnr"] = float(np.mean(frame_scores[method]))
    return {"protocol": protocol, "sequences": per_seq, "mean": mean}


def inpaint_report(result: Mapping[str, Any], candidate: str, started: float) -> dict[str, Any]:
    """The report of ``bench-inpaint``: ``candidate`` must beat per-frame Telea by
    ``PSNR_MARGIN`` dB (whole-frame ``psnr`` under ``e2fgvi``, ``hole_psnr`` under ``borrowed``)
    and flicker ``1 - FLICKER_FACTOR`` less; under the ``e2fgvi`` protocol it is also checked
    against E2FGVI's published PSNR (a trained network: see README). Borrowed holes are never
    compared with a published number."""
    mean = result["mean"]
    for needed in (candidate, "telea"):
        if needed not in mean:
            raise ValueError(f"{needed!r} was not benchmarked; have {sorted(mean)}")
    metrics: dict[str, Any] = {"protocol": result["protocol"]}
    for method, scores in mean.items():
        for key, value in scores.items():
            metrics[f"{key}_{method.replace('-', '_')}"] = value
    key = candidate.replace("-", "_")
    headline = "psnr" if result["protocol"] == "e2fgvi" else "hole_psnr"
    targets: dict[str, Target] = {
        f"{headline}_{key}_over_telea": beats_baseline(
            mean[candidate][headline], f"{headline}_telea", mean["telea"][headline], PSNR_MARGIN
        ),
        f"flicker_{key}_vs_telea": beats_baseline_by_factor(
            mean[candidate]["flicker"],
            "flicker_telea",
            mean["telea"]["flicker"],
            FLICKER_FACTOR,
            higher_is_better=False,
        ),
    }
    if result["protocol"] == "e2fgvi":
        targets[f"psnr_{key}_vs_e2fgvi"] = published(
            mean[candidate]["psnr"], ">=", E2FGVI_DAVIS_PSNR, E2FGVI_SOURCE
        )
    return build_report(metrics, targets, started)
