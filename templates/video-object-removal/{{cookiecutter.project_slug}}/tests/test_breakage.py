"""The smoke run can fail: break one stage of the pipeline on purpose and its targets are missed.

Each case is the full smoke run (``run_smoke`` on the project's seed, its scenes and its
targets) with one stage of ``Pipeline`` swapped for a broken one. The control case, the
unbroken pipeline on the same scenes, must pass: so a miss is the breakage's doing. CSRT is
deterministic, so its boxes for a scene are computed once and reused by every case that keeps
(or wraps) the tracker: the runs stay the smoke's, only faster.
"""

# points: 3

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import Box
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
from {{ cookiecutter.package_name }}.smoke import (
    Pipeline,
    box_masks,
    csrt_tracker,
    run_smoke,
    telea_fill,
)
from {{ cookiecutter.package_name }}.synthetic import make_clip

_CSRT: dict[tuple[str, Box], list[Box | None]] = {}


def csrt(frames: np.ndarray, box: Box) -> list[Box | None]:
    """The project's tracker, remembered per clip and first box."""
    key = (hashlib.sha1(frames.tobytes()).hexdigest(), box)
    if key not in _CSRT:
        _CSRT[key] = csrt_tracker(frames, box)
    return list(_CSRT[key])


def project(**broken: Callable[..., Any]) -> Pipeline:
    """The project's pipeline (with the remembered tracker), one stage swapped if given."""
    return dataclasses.replace(Pipeline(tracker=csrt), **broken)


# --- broken trackers ---------------------------------------------------------------------------


def first_box_forever(frames: np.ndarray, box: Box) -> list[Box | None]:
    """A tracker that never moves: it reports the first box on every frame."""
    return [box] * len(frames)


def drifting(frames: np.ndarray, box: Box) -> list[Box | None]:
    """CSRT whose box slides off by 0.9 pixel a frame (a tracker that drifts)."""
    return [
        None if b is None else (b[0] + round(0.8 * t), b[1] + round(0.4 * t), b[2], b[3])
        for t, b in enumerate(csrt(frames, box))
    ]


def lagging(frames: np.ndarray, box: Box) -> list[Box | None]:
    """CSRT reporting the box of six frames earlier (a tracker that falls behind)."""
    boxes = csrt(frames, box)
    return [boxes[max(0, t - 6)] for t in range(len(boxes))]


# --- broken maskers ----------------------------------------------------------------------------


def mask_beside(boxes: Sequence[Box | None], height: int, width: int) -> np.ndarray:
    """Masks one box-width to the side of the tracked box: they miss the object."""
    moved = [
        None if b is None else (min(width - b[2], b[0] + b[2]), b[1], b[2], b[3]) for b in boxes
    ]
    return box_masks(moved, height, width)


def empty_masks(boxes: Sequence[Box | None], height: int, width: int) -> np.ndarray:
    """No hole at all: nothing is erased."""
    return np.zeros((len(boxes), height, width), dtype=np.uint8)


# --- broken fillers ----------------------------------------------------------------------------


def returns_input(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Inpainting that returns its input."""
    return frames.copy()


def median_with_masked(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """A temporal median that also uses the masked pixels (the object itself) of every frame."""
    median = np.clip(np.median(frames, axis=0) + 0.5, 0, 255).astype(np.uint8)
    out = frames.copy()
    for t, mask in enumerate(masks > 0):
        out[t][mask] = median[mask]
    return out


def telea_only(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The temporal mechanism removed: per-frame Telea, the baseline itself."""
    return telea_fill(frames, masks)


CASES: dict[str, tuple[Pipeline, set[str]]] = {
    # name: (pipeline, targets that must be missed)
    "first box forever": (
        project(tracker=first_box_forever),
        {"tracked_share", "iou_over_static", "psnr_over_unfilled"},
    ),
    "drifting tracker": (project(tracker=drifting), {"iou_over_static", "psnr_over_unfilled"}),
    "lagging tracker": (project(tracker=lagging), {"psnr_over_unfilled"}),
    "mask beside the object": (project(masker=mask_beside), {"psnr_over_unfilled"}),
    "empty mask": (project(masker=empty_masks), {"psnr_over_unfilled", "psnr_over_telea"}),
    "inpainting returns its input": (
        project(filler=returns_input),
        {"psnr_over_unfilled", "psnr_over_telea", "flicker_vs_telea", "mp4_over_telea"},
    ),
    "median over masked pixels too": (project(filler=median_with_masked), {"psnr_over_telea"}),
    "per-frame fill only": (project(filler=telea_only), {"psnr_over_telea", "flicker_vs_telea"}),
}


def test_csrt_is_deterministic_so_remembering_its_boxes_changes_nothing(clip):
    assert csrt_tracker(clip.frames[:10], clip.boxes[0]) == csrt_tracker(
        clip.frames[:10], clip.boxes[0]
    )


def missed(report: dict[str, Any]) -> set[str]:
    return {name for name, target in report["targets"].items() if not target["met"]}


def test_the_same_run_passes_with_the_project_pipeline(tmp_path):
    report = run_smoke(out_dir=tmp_path, pipeline=project())
    assert report["ok"], missed(report)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_stage_misses_the_smoke_targets(tmp_path, case):
    pipeline, must_miss = CASES[case]
    report = run_smoke(out_dir=tmp_path, pipeline=pipeline)
    assert report["ok"] is False
    assert must_miss <= missed(report), (must_miss - missed(report), report["metrics"])


def test_a_stage_that_breaks_the_contract_is_an_error(tmp_path):
    def too_few(frames: np.ndarray, box: Box) -> list[Box | None]:
        return [box]

    def wrong_type(frames: np.ndarray, masks: np.ndarray) -> np.ndarray:
        return frames.astype(np.float32)

    broken: list[tuple[Pipeline, str]] = [
        (Pipeline(tracker=too_few), "boxes for"),
        (project(filler=wrong_type), "not the frames'"),
    ]
    for pipeline, message in broken:
        with pytest.raises(ValueError, match=message):
            run_smoke(out_dir=tmp_path, n_scenes=1, pipeline=pipeline)


def test_the_stages_see_the_input_and_the_first_box_only(tmp_path):
    seen: dict[str, tuple[Any, ...]] = {}

    def spy(name: str, stage: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args):
            seen[name] = args
            return stage(*args)

        return wrapped

    pipeline = Pipeline(
        tracker=spy("tracker", csrt),
        masker=spy("masker", box_masks),
        filler=spy("filler", telea_fill),
    )
    run_smoke(out_dir=tmp_path, n_scenes=1, pipeline=pipeline)
    clip = make_clip(DEFAULT_SEED, 0)
    frames, box = seen["tracker"]
    assert np.array_equal(frames, clip.frames) and box == clip.boxes[0]
    assert np.array_equal(seen["filler"][0], clip.frames)
    height, width = clip.frames.shape[1:3]
    assert seen["masker"][1:] == (height, width)
    for args in seen.values():  # no stage is handed the clean plates or the true masks
        for arg in args:
            if isinstance(arg, np.ndarray):
                assert not np.array_equal(arg, clip.clean)
                assert arg.shape != clip.masks.shape or arg.dtype != bool
