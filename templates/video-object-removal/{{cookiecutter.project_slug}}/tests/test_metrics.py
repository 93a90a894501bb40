"""Metrics: hole PSNR/SSIM, flicker and IoU on cases with known answers."""

# points: 2

import math

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.metrics import flicker, mean_iou, psnr_in, ssim_in


def test_psnr_in_the_hole_only():
    a = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    b = a.copy()
    hole = np.zeros((2, 8, 8), dtype=bool)
    hole[:, :2, :2] = True
    b[~hole] = 255  # errors outside the hole do not count
    assert math.isinf(psnr_in(a, b, hole))
    b[hole] = 10
    assert psnr_in(a, b, hole) == pytest.approx(10 * math.log10(255**2 / 100))
    with pytest.raises(ValueError, match="empty"):
        psnr_in(a, b, np.zeros((2, 8, 8)))


def test_ssim_is_one_for_identical_frames_and_lower_for_noise(clip):
    hole = clip.masks[:2]
    assert ssim_in(clip.clean[:2], clip.clean[:2], hole) == pytest.approx(1.0)
    assert ssim_in(clip.frames[:2], clip.clean[:2], hole) < 0.6


def test_flicker_measures_change_beyond_the_reference():
    hole = np.ones((3, 4, 4), dtype=bool)
    steady = np.full((3, 4, 4, 3), 100, dtype=np.uint8)
    blinking = steady.copy()
    blinking[1] = 110
    assert flicker(steady, hole) == 0.0
    assert flicker(blinking, hole) == pytest.approx(10.0)
    assert flicker(blinking, hole, reference=blinking) == 0.0


def test_mean_iou_skips_frames_without_the_object():
    truth = [(0, 0, 10, 10), None, (0, 0, 10, 10)]
    assert mean_iou([(0, 0, 10, 10), None, None], truth) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="predicted"):
        mean_iou([(0, 0, 1, 1)], truth)
