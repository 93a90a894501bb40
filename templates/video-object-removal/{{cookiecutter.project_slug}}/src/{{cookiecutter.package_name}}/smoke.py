"""The offline end-to-end check: a synthetic clip with a known background, every tracker,
every fill method, an mp4 written and read back, and the quality measured against the truth.

Every target is a minimum the metric must reach. Nothing is hard-coded: the numbers come from
running the pipeline.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from .config import DEFAULT_DILATE_PX, DEFAULT_RADIUS, DEFAULT_SEED
from .inpaint import METHODS, inpaint_video
from .masks import masks_from_boxes
from .metrics import flicker, mean_iou, psnr_in, ssim_in
from .synthetic import make_clip
from .track import TRACKERS, fill_lost, track
from .video import read_video, write_video

log = logging.getLogger(__name__)

# Minimums. The README explains each one.
TARGETS: dict[str, float] = {
    "iou_csrt": 0.80,  # the pipeline's tracker follows the object
    "psnr_gain_telea": 5.0,  # dB over the unfilled frame: per-frame inpainting removes the object
    "psnr_gain_temporal_over_telea": 3.0,  # dB: the temporal fill beats per-frame Telea
    "flicker_reduction": 0.30,  # the temporal fill flickers at least 30 % less than Telea
    "mp4_frames_match": 1.0,  # every frame written to the mp4 is read back
    "mp4_psnr": 25.0,  # dB: mp4v keeps the video watchable
}


def _key(method: str) -> str:
    return method.replace("-", "_")


def _finite(value: float, cap: float = 99.0) -> float:
    """JSON has no infinity: cap a perfect PSNR."""
    return cap if math.isinf(value) else value


def run_smoke(
    out_dir: str | Path = "runs/smoke", seed: int = DEFAULT_SEED, n_frames: int = 48
) -> dict:
    """Run the whole pipeline on a synthetic clip; return the smoke report.

    The report is ``{"ok", "seconds", "metrics", "targets"}``; ``ok`` is true when every metric
    named in ``targets`` reaches its minimum. The input clip and the temporal-median result are
    left in ``out_dir`` as mp4 files to look at.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    clip = make_clip(n_frames=n_frames, seed=seed)
    n, height, width = clip.frames.shape[:3]
    log.info(
        "synthetic clip: %d frames of %dx%d, object box %s on frame 0",
        n,
        width,
        height,
        clip.boxes[0],
    )
    metrics: dict[str, float] = {}

    tracked = {}
    for name in TRACKERS:
        tracked[name] = track(clip.frames, clip.boxes[0], name)
        metrics[f"iou_{name}"] = mean_iou(tracked[name].boxes, clip.boxes)
        metrics[f"track_fps_{name}"] = tracked[name].fps
        log.info(
            "tracker %-4s mean IoU %.3f  %.0f fps  lost %d",
            name,
            metrics[f"iou_{name}"],
            tracked[name].fps,
            tracked[name].lost_frames,
        )

    masks = masks_from_boxes(fill_lost(tracked["csrt"].boxes), height, width, DEFAULT_DILATE_PX)
    # Measure where the object was and wherever the pipeline filled.
    hole = (masks > 0) | clip.masks
    metrics["psnr_hole_unfilled"] = psnr_in(clip.frames, clip.clean, hole)
    metrics["ssim_hole_unfilled"] = ssim_in(clip.frames, clip.clean, hole)
    log.info(
        "unfilled: hole PSNR %.2f dB  SSIM %.3f",
        metrics["psnr_hole_unfilled"],
        metrics["ssim_hole_unfilled"],
    )
    outputs = {}
    for method in METHODS:
        t0 = time.perf_counter()
        outputs[method] = inpaint_video(clip.frames, masks, method=method, radius=DEFAULT_RADIUS)
        elapsed = time.perf_counter() - t0
        k = _key(method)
        metrics[f"psnr_hole_{k}"] = _finite(psnr_in(outputs[method], clip.clean, hole))
        metrics[f"ssim_hole_{k}"] = ssim_in(outputs[method], clip.clean, hole)
        metrics[f"flicker_{k}"] = flicker(outputs[method], hole, clip.clean)
        metrics[f"fill_fps_{k}"] = n / elapsed if elapsed > 0 else 0.0
        log.info(
            "fill %-15s hole PSNR %.2f dB  SSIM %.3f  flicker %.2f  %.0f fps",
            method,
            metrics[f"psnr_hole_{k}"],
            metrics[f"ssim_hole_{k}"],
            metrics[f"flicker_{k}"],
            metrics[f"fill_fps_{k}"],
        )
    metrics["psnr_gain_telea"] = metrics["psnr_hole_telea"] - metrics["psnr_hole_unfilled"]
    metrics["psnr_gain_temporal_over_telea"] = (
        metrics["psnr_hole_temporal_median"] - metrics["psnr_hole_telea"]
    )
    metrics["flicker_reduction"] = (
        1.0 - metrics["flicker_temporal_median"] / metrics["flicker_telea"]
    )

    write_video(out_dir / "input.mp4", clip.frames, clip.fps)
    written = write_video(
        out_dir / "removed_temporal_median.mp4", outputs["temporal-median"], clip.fps
    )
    decoded, _ = read_video(written)
    metrics["mp4_frames_match"] = float(decoded.shape == outputs["temporal-median"].shape)
    if decoded.shape == outputs["temporal-median"].shape:
        metrics["mp4_psnr"] = _finite(
            psnr_in(decoded, outputs["temporal-median"], np.ones(decoded.shape[:3], dtype=bool))
        )
    else:
        metrics["mp4_psnr"] = 0.0
    log.info("wrote %s and %s (%d frames read back)", out_dir / "input.mp4", written, len(decoded))

    ok = all(metrics[name] >= minimum for name, minimum in TARGETS.items())
    return {
        "ok": ok,
        "seconds": round(time.perf_counter() - start, 2),
        "metrics": {k: round(float(v), 4) for k, v in metrics.items()},
        "targets": dict(TARGETS),
    }
