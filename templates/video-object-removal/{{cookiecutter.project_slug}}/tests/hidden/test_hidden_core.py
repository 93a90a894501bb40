"""Instructor's tests: exact values and edge cases of the four pieces students write
(box IoU, mask dilation, hole PSNR, the temporal-median fill).

Self-contained (no fixtures from tests/conftest.py), so they also run from the grader folder:
``python -m pytest <grader>/tests/hidden`` inside the student's repo.
"""

import math

import cv2
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import Box, box_to_mask, iou
from {{ cookiecutter.package_name }}.inpaint import inpaint_frame, temporal_median
from {{ cookiecutter.package_name }}.masks import dilate
from {{ cookiecutter.package_name }}.metrics import psnr_in


def random_box(rng: np.random.Generator) -> Box:
    """A box with its corner in [0, 30) and its sides in [1, 20)."""
    x, y = (int(v) for v in rng.integers(0, 30, 2))
    w, h = (int(v) for v in rng.integers(1, 20, 2))
    return x, y, w, h


def test_iou_exact_values_and_edge_cases():
    a = (0, 0, 10, 10)
    assert iou(a, (10, 0, 10, 10)) == 0.0  # touching edges share no pixel
    assert iou(a, (0, 10, 10, 10)) == 0.0
    assert iou(a, (2, 2, 5, 5)) == pytest.approx(25 / 100)  # one inside the other
    assert iou((3, 4, 1, 1), (3, 4, 1, 1)) == 1.0
    assert iou(None, None) == 0.0 and iou(a, None) == 0.0
    # Against a pixel count, both ways round, on random boxes.
    rng = np.random.default_rng(2024)
    for _ in range(200):
        p, q = random_box(rng), random_box(rng)
        mp, mq = box_to_mask(p, 64, 64) > 0, box_to_mask(q, 64, 64) > 0
        expected = (mp & mq).sum() / (mp | mq).sum()
        assert iou(p, q) == pytest.approx(expected) == iou(q, p)
        assert isinstance(iou(p, q), float)


def test_dilate_is_the_opencv_disc_and_binarises_any_input():
    for pixels in (1, 2, 5, 8):
        mask = np.zeros((41, 41), dtype=np.uint8)
        mask[20, 20] = 1  # any non-zero value is the hole
        grown = dilate(mask, pixels)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
        expected = np.zeros((41, 41), dtype=np.uint8)
        expected[20 - pixels : 21 + pixels, 20 - pixels : 21 + pixels] = disc * 255
        assert grown.dtype == np.uint8 and grown.shape == mask.shape
        assert np.array_equal(grown, expected), pixels
        if pixels >= 2:
            assert grown[20 - pixels, 20 - pixels] == 0  # round, not a square
        assert mask.sum() == 1  # the input is left alone
    soft = np.zeros((10, 12), dtype=np.float32)
    soft[0, 0] = 0.25
    out = dilate(soft, 0)
    assert out.dtype == np.uint8 and out[0, 0] == 255 and out.sum() == 255
    grown = dilate(soft > 0, 3)
    assert set(np.unique(grown)) == {0, 255}
    assert grown[0, 3] == 255 and grown[3, 0] == 255 and grown[0, 4] == 0
    assert not grown[-4:, :].any() and not grown[:, -4:].any()  # no wrap-around


def test_psnr_pools_the_error_over_every_hole_pixel():
    pred = np.zeros((2, 6, 6, 3), dtype=np.uint8)
    target = pred.copy()
    hole = np.zeros((2, 6, 6), dtype=np.uint8)
    hole[0, :2, :2] = 255  # 4 pixels, perfect
    hole[1, :3, :4] = 255  # 12 pixels, off by 20 in every channel
    target[1, :3, :4] = 20
    target[1, 5, 5] = 200  # outside the hole: ignored
    mse = 12 * 400 / 16  # pooled, not a mean of per-frame PSNRs (frame 0 alone is inf)
    assert psnr_in(pred, target, hole) == pytest.approx(10 * math.log10(255**2 / mse))
    assert psnr_in(pred, target, hole > 0) == psnr_in(pred, target, hole)
    # uint8 must not wrap around: 0 vs 255 is the largest error there is, PSNR 0 dB.
    white = np.full_like(pred, 255)
    assert psnr_in(pred, white, hole) == pytest.approx(0.0, abs=1e-12)
    assert psnr_in(white, pred, hole) == pytest.approx(0.0, abs=1e-12)
    # An error in one channel of three counts a third; one frame (H, W, 3) works too.
    one = pred[0].copy()
    one[..., 2] = 30
    assert psnr_in(one, pred[0], hole[0]) == pytest.approx(10 * math.log10(255**2 / 300))
    assert math.isinf(psnr_in(pred[0], pred[0], hole[0]))
    with pytest.raises(ValueError, match="empty"):
        psnr_in(pred, target, np.zeros((2, 6, 6), dtype=bool))


def test_temporal_median_uses_only_unmasked_observations_else_telea():
    values = [10, 60, 250, 200, 40]  # frame t is one flat grey level; 250 is the object
    frames = np.stack([np.full((8, 8, 3), v, dtype=np.uint8) for v in values])
    frames[:, :, :, 1] += 1  # channels are filled independently
    masks = np.zeros((5, 8, 8), dtype=np.uint8)
    masks[2, 2:5, 2:5] = 255  # the hole on frame 2
    masks[3, 2:5, 2:5] = 255  # hidden on frame 3 too: 200 must not be used
    before = frames.copy()
    out = temporal_median(frames, masks)
    assert np.array_equal(frames, before)  # the input is left alone
    assert out.dtype == np.uint8 and out.shape == frames.shape
    outside = masks == 0
    assert np.array_equal(out[outside], frames[outside])
    # Frame 2: the median of 10, 60, 40 (frames 0, 1, 4) is 40.
    assert np.array_equal(out[2, 2:5, 2:5], np.broadcast_to([40, 41, 40], (3, 3, 3)))
    # Frame 3: frames 0, 1, 4 again (frame 2 is masked there): 40.
    assert (out[3, 2:5, 2:5, 0] == 40).all()
    # A window of one frame either side: frame 2 may use frames 1 and 3, and 3 is masked.
    near = temporal_median(frames, masks, window=1)
    assert (near[2, 2:5, 2:5, 0] == 60).all()
    # Frame 3 with window 1: frames 2 and 4, 2 is masked: 40.
    assert (near[3, 2:5, 2:5, 0] == 40).all()
    # An even count gives the mean of the middle two: a pixel masked on frame 3 only has the
    # four references 10, 60, 250, 40 -> (40 + 60) / 2 = 50.
    masks2 = np.zeros((5, 8, 8), dtype=np.uint8)
    masks2[3, 0, 0] = 255
    assert temporal_median(frames, masks2)[3, 0, 0, 0] == 50

    # ... rounded to the nearest integer, not truncated: 10, 43, 60, 250 -> 51.5 -> 52.
    odd = frames.copy()
    odd[4] = 43
    assert temporal_median(odd, masks2)[3, 0, 0, 0] == 52

    # Pixels masked in every frame have nothing to borrow: they get Telea's fill of the frame.
    rng = np.random.default_rng(7)
    noisy = rng.integers(0, 256, size=(4, 24, 24, 3), dtype=np.uint8)
    always = np.zeros((4, 24, 24), dtype=np.uint8)
    always[:, 8:14, 9:15] = 255
    out = temporal_median(noisy, always, radius=3)
    for t in range(4):
        assert np.array_equal(out[t], inpaint_frame(noisy[t], always[t], "telea", radius=3))
