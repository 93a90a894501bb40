"""The DAVIS benchmarks: J and F on masks with known answers, the protocol's frame and object
bookkeeping, and the reports the real runs end with (built here from given numbers: no
download, no dataset)."""

# points: 2

import math
import time
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import Box, box_to_mask
from {{ cookiecutter.package_name }}.evaluate import (
    E2FGVI_DAVIS_PSNR,
    JF_MARGIN,
    SAM2_DAVIS17_JF,
    boxes_to_labels,
    e2fgvi_sequence,
    inpaint_report,
    object_ids,
    sequence_jf,
    track_report,
)
from {{ cookiecutter.package_name }}.metrics import boundary_f, contour, frame_psnr, region_j


def square(y: int, x: int, size: int, shape=(100, 100)) -> np.ndarray:
    return box_to_mask((x, y, size, size), *shape) > 0


def test_region_j_is_the_iou_and_one_when_both_are_empty():
    a, b = square(10, 10, 20), square(10, 20, 20)
    assert region_j(a, b) == pytest.approx(200 / 600)
    assert region_j(a, a) == 1.0
    empty = np.zeros((100, 100), dtype=bool)
    assert region_j(empty, empty) == 1.0 and region_j(a, empty) == 0.0


def test_contour_is_the_inner_outline_and_ignores_the_image_border():
    mask = square(10, 10, 20)
    assert contour(mask).sum() == 4 * 20 - 4  # the ring of a 20x20 square
    corner = square(0, 0, 20)  # cut by the top and left edges of the image
    assert contour(corner).sum() == 2 * 20 - 1  # only the bottom and right sides


def test_boundary_f_tolerates_shifts_within_the_davis_tolerance_only():
    # 100x100 image: tolerance ceil(0.008 * 141.4) = 2 pixels.
    a = square(30, 30, 40)
    assert boundary_f(a, a) == 1.0
    assert boundary_f(a, square(31, 32, 40)) == 1.0  # within two pixels
    far = boundary_f(a, square(30, 36, 40))  # vertical sides six pixels off
    assert 0.3 < far < 0.8
    assert boundary_f(a, square(0, 0, 10)) == 0.0
    empty = np.zeros((100, 100), dtype=bool)
    assert boundary_f(empty, empty) == 1.0 and boundary_f(a, empty) == 0.0


def test_frame_psnr_pools_the_whole_frame():
    a = np.zeros((4, 4, 3), dtype=np.uint8)
    b = a.copy()
    b[0, 0] = 10  # 3 of 48 values off by 10
    assert frame_psnr(a, b) == pytest.approx(10 * math.log10(255**2 / (300 / 48)))
    assert math.isinf(frame_psnr(a, a))


def test_objects_are_numbered_from_the_first_frame_without_void():
    first = np.zeros((5, 5), dtype=np.int32)
    first[0, 0], first[1, 1], first[4, 4] = 1, 3, 255
    assert object_ids(first) == [1, 2, 3]  # DAVIS counts 1 .. max id
    with pytest.raises(ValueError, match="no annotated object"):
        object_ids(np.where(first == 255, 255, 0))


def test_sequence_jf_leaves_out_the_first_and_last_frames():
    truth = np.zeros((5, 40, 40), dtype=np.int32)
    truth[:, 10:20, 10:20] = 1
    predicted = truth.copy()
    predicted[0] = 0  # wrong on the first and the last frame only
    predicted[-1] = 0
    assert sequence_jf(predicted, truth, [1]) == {1: (1.0, 1.0)}
    predicted[2] = 0  # and on one scored frame of three
    j, f = sequence_jf(predicted, truth, [1])[1]
    assert j == pytest.approx(2 / 3) and f == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=">= 3 frames"):
        sequence_jf(truth[:2], truth[:2], [1])


def test_void_pixels_count_as_background():
    truth = np.zeros((3, 20, 20), dtype=np.int32)
    truth[:, 5:10, 5:10] = 1
    truth[:, 0:3, 0:3] = 255
    predicted = np.where(truth == 255, 0, truth)
    assert sequence_jf(predicted, truth, [1]) == {1: (1.0, 1.0)}


def test_overlapping_boxes_keep_the_small_object_on_top():
    boxes: dict[int, list[Box | None]] = {1: [(0, 0, 30, 30)], 2: [(5, 5, 5, 5)], 3: [None]}
    labels = boxes_to_labels(boxes, 1, 40, 40)
    assert (labels[0] == 2).sum() == 25 and (labels[0] == 1).sum() == 900 - 25
    assert not (labels == 3).any()  # a lost object paints nothing


def track_result(jf_tracker: float, jf_static: float) -> dict[str, Any]:
    def scores(jf: float) -> dict[str, float]:
        return {"J": jf, "F": jf, "JF": jf, "objects": 3}

    return {
        "mean": {
            "static_box": scores(jf_static),
            "static_mask": scores(50.0),
            "csrt": scores(jf_tracker),
        },
        "fps": {"csrt": 30.0},
    }


def test_track_report_checks_the_baseline_margin_and_the_published_number():
    started = time.perf_counter()
    report = track_report(track_result(60.0, 40.0), "csrt", started)
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    over, sam2 = report["targets"]["jf_csrt_over_static_box"], report["targets"]["jf_csrt_vs_sam2"]
    assert over["met"] and over["threshold"] == 40.0 + JF_MARGIN
    assert over["source"].startswith("baseline:JF_static_box")
    assert not sam2["met"] and sam2["threshold"] == SAM2_DAVIS17_JF
    assert "2408.00714" in sam2["source"]
    assert report["ok"] is False  # a box tracker does not reach a mask method's J&F
    assert report["metrics"]["JF_static_mask"] == 50.0
    best = track_report(track_result(92.0, 40.0), "csrt", started)
    assert best["ok"] is True
    close = track_report(track_result(44.0, 40.0), "csrt", started)
    assert close["targets"]["jf_csrt_over_static_box"]["met"] is False
    with pytest.raises(ValueError, match="was not benchmarked"):
        track_report(track_result(60.0, 40.0), "kcf", started)


def inpaint_result(protocol: str, psnr: float, flicker: float) -> dict[str, Any]:
    """Means as ``bench_inpainting`` returns them: ``psnr`` (whole frame) only under e2fgvi;
    ``psnr`` here is the candidate's headline (hole PSNR under borrowed), Telea's is 28."""
    if protocol == "e2fgvi":
        telea = {"psnr": 28.0, "hole_psnr": 20.0, "flicker": 10.0, "fps": 30.0}
        candidate = {"psnr": psnr, "hole_psnr": 25.0, "flicker": flicker, "fps": 50.0}
    else:
        telea = {"hole_psnr": 28.0, "ssim": 0.5, "flicker": 10.0, "fps": 30.0}
        candidate = {"hole_psnr": psnr, "ssim": 0.6, "flicker": flicker, "fps": 50.0}
    return {"protocol": protocol, "mean": {"telea": telea, "temporal-median": candidate}}


def test_inpaint_report_borrowed_has_baseline_targets_only():
    report = inpaint_report(inpaint_result("borrowed", 31.5, 6.0), "temporal-median", 0.0)
    assert set(report["targets"]) == {
        "hole_psnr_temporal_median_over_telea",
        "flicker_temporal_median_vs_telea",
    }
    assert report["ok"] is True
    assert report["metrics"]["protocol"] == "borrowed"
    # Hole PSNR is not the published whole-frame PSNR: never under the same name.
    assert not any(k.startswith("psnr_") for k in report["metrics"])
    worse = inpaint_report(inpaint_result("borrowed", 30.0, 8.0), "temporal-median", 0.0)
    assert worse["ok"] is False
    assert {k for k, v in worse["targets"].items() if not v["met"]} == set(report["targets"])


def test_inpaint_report_e2fgvi_is_checked_against_the_published_psnr():
    report = inpaint_report(inpaint_result("e2fgvi", 32.0, 6.0), "temporal-median", 0.0)
    published = report["targets"]["psnr_temporal_median_vs_e2fgvi"]
    assert published["threshold"] == E2FGVI_DAVIS_PSNR and not published["met"]
    assert "E2FGVI" in published["source"]
    assert report["ok"] is False
    best = inpaint_report(inpaint_result("e2fgvi", 34.0, 6.0), "temporal-median", 0.0)
    assert best["ok"] is True


def test_e2fgvi_sequence_resizes_to_432x240_and_dilates_the_masks(tmp_path, davis_root):
    import cv2

    mask_dir = tmp_path / "test_masks" / "synth-a"
    mask_dir.mkdir(parents=True)
    for t in range(24):
        mask = np.zeros((120, 160), dtype=np.uint8)
        mask[50:60, 70:80] = 255
        cv2.imwrite(str(mask_dir / f"{t:05d}.png"), mask)
    frames, holes = e2fgvi_sequence(davis_root, tmp_path / "test_masks", "synth-a")
    assert frames.shape == (24, 240, 432, 3) and holes.shape == (24, 240, 432)
    # 10x10 at 160x120 is 27x20 at 432x240, then four cross steps grow it by 4 on each side.
    ys, xs = np.nonzero(holes[0])
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (27 + 8, 20 + 8)
