"""Quality measures: of the fill inside the hole, and of segmentation masks (DAVIS J and F).

Whole-frame PSNR hides a bad fill (most pixels are untouched), so PSNR and SSIM here are taken
over the hole pixels only; ``frame_psnr`` is the whole-frame PSNR that the published video
inpainting benchmarks report. Flicker is the temporal-difference error inside the hole: how
much the fill changes from frame to frame beyond what the true background does.

``region_j`` and ``boundary_f`` are the two measures of the DAVIS benchmark (Perazzi et al.
2016, "A Benchmark Dataset and Evaluation Methodology for Video Object Segmentation", CVPR;
used for DAVIS 2017 by Pont-Tuset et al. 2017): J is the Jaccard index (IoU) of two masks, F
the F-measure of their contours matched within a tolerance of 0.008 of the image diagonal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .boxes import Box, iou


def mean_iou(predicted: Sequence[Box | None], truth: Sequence[Box | None]) -> float:
    """Mean box IoU over the frames where the object is visible (``truth`` not ``None``).

    A frame the tracker lost (``None``) counts 0. Raises ``ValueError`` on a length mismatch or
    when the object is visible in no frame.
    """
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predicted boxes but {len(truth)} true boxes")
    scores = [iou(p, t) for p, t in zip(predicted, truth, strict=True) if t is not None]
    if not scores:
        raise ValueError("no frame with a true box to compare")
    return float(np.mean(scores))


def _hole(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    hole = np.asarray(mask) > 0
    if hole.shape != shape:
        raise ValueError(f"mask shape {hole.shape} does not match frames {shape}")
    if not hole.any():
        raise ValueError("the hole mask is empty: nothing to measure")
    return hole


def psnr_in(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """PSNR in dB between uint8 frames over the pixels where ``mask`` is non-zero.

    ``pred`` and ``target`` are ``(..., H, W, 3)``, ``mask`` is ``(..., H, W)``; the squared
    error is pooled over all hole pixels (of all frames) before taking the log. Identical
    content gives ``inf``.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ")
    # >>> assignment: 10*log10(255**2 / MSE), MSE in float64 over all hole pixels
    hole = _hole(mask, pred.shape[:-1])
    diff = pred.astype(np.float64)[hole] - target.astype(np.float64)[hole]
    mse = float(np.mean(diff**2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)
    # <<< assignment


def _luma(img: np.ndarray) -> np.ndarray:
    """Grey levels as float64: BT.601 luma of a BGR image, or the image itself if single-channel."""
    img = np.asarray(img)
    if img.ndim == 3:
        img = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2GRAY)
    return img.astype(np.float64)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The SSIM index map (Wang et al. 2004, Gaussian window sigma 1.5) of two uint8 images,
    computed on luma; same height and width as the inputs."""
    x, y = _luma(a), _luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    ssim: np.ndarray = ((2 * mx * my + c1) * (2 * sxy + c2)) / (
        (mx * mx + my * my + c1) * (sxx + syy + c2)
    )
    return ssim


def ssim_in(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean SSIM over the hole pixels of a clip (``(T, H, W, 3)``) or a single frame."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.ndim == 3:
        pred, target, mask = pred[None], target[None], np.asarray(mask)[None]
    hole = _hole(mask, pred.shape[:-1])
    values = [ssim_map(p, t)[h] for p, t, h in zip(pred, target, hole, strict=True) if h.any()]
    return float(np.mean(np.concatenate(values)))


def flicker(output: np.ndarray, masks: np.ndarray, reference: np.ndarray | None = None) -> float:
    """Mean absolute temporal-difference error inside the hole (grey levels, lower is better).

    For each pair of consecutive frames, over the pixels in either frame's hole, it compares
    ``output[t] - output[t-1]`` with ``reference[t] - reference[t-1]`` (the true background);
    without a reference it is the raw frame-to-frame change of the output in the hole.
    """
    out = np.asarray(output, dtype=np.float32)
    holes = np.asarray(masks) > 0
    if out.shape[:3] != holes.shape or len(out) < 2:
        raise ValueError(f"need >= 2 frames with one mask each; got {out.shape} and {holes.shape}")
    ref = None if reference is None else np.asarray(reference, dtype=np.float32)
    errors = []
    for t in range(1, len(out)):
        region = holes[t] | holes[t - 1]
        if not region.any():
            continue
        d = out[t][region] - out[t - 1][region]
        if ref is not None:
            d = d - (ref[t][region] - ref[t - 1][region])
        errors.append(np.abs(d).ravel())
    if not errors:
        raise ValueError("every mask is empty: nothing to measure")
    return float(np.mean(np.concatenate(errors)))


def frame_psnr(pred: np.ndarray, target: np.ndarray) -> float:
    """Whole-frame PSNR in dB of one uint8 frame against another, all channels pooled.

    This is the per-frame PSNR the DAVIS video-inpainting tables report (averaged over every
    frame of every video); identical frames give ``inf``.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ")
    mse = float(np.mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def region_j(pred: np.ndarray, truth: np.ndarray) -> float:
    """DAVIS region similarity J: the IoU of two binary masks; 1.0 when both are empty."""
    pred, truth = np.asarray(pred) > 0, np.asarray(truth) > 0
    if pred.shape != truth.shape:
        raise ValueError(f"pred {pred.shape} and truth {truth.shape} differ")
    union = int(np.count_nonzero(pred | truth))
    return 1.0 if union == 0 else int(np.count_nonzero(pred & truth)) / union


def contour(mask: np.ndarray) -> np.ndarray:
    """The one-pixel inner contour of a binary mask: mask pixels with a 4-neighbour outside it.

    The image border does not count as outside (an object cut by the frame edge has no contour
    along that edge), as in the DAVIS evaluation.
    """
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    # cv2.erode pads with the maximum value, so pixels beyond the border count as inside.
    inner: np.ndarray = (binary > 0) & (cv2.erode(binary, cross) == 0)
    return inner


def boundary_f(pred: np.ndarray, truth: np.ndarray, bound_th: float = 0.008) -> float:
    """DAVIS contour accuracy F: the F-measure of contour precision and recall.

    A contour pixel of one mask is matched when a contour pixel of the other lies within
    ``ceil(bound_th * image diagonal)`` pixels (a disc). Both contours empty gives 1.0, one
    empty gives 0.0.
    """
    pred, truth = np.asarray(pred) > 0, np.asarray(truth) > 0
    if pred.shape != truth.shape:
        raise ValueError(f"pred {pred.shape} and truth {truth.shape} differ")
    pc, tc = contour(pred), contour(truth)
    n_pred, n_truth = int(pc.sum()), int(tc.sum())
    if n_pred == 0 and n_truth == 0:
        return 1.0
    if n_pred == 0 or n_truth == 0:
        return 0.0
    radius = int(math.ceil(bound_th * math.hypot(*pred.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near_truth = cv2.dilate(tc.astype(np.uint8), disc) > 0
    near_pred = cv2.dilate(pc.astype(np.uint8), disc) > 0
    precision = float((pc & near_truth).sum()) / n_pred
    recall = float((tc & near_pred).sum()) / n_truth
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)
