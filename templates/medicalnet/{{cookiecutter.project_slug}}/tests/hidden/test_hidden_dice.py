"""Instructor tests: Dice per class, strictly (3D volumes, per-volume means, absent classes)."""

import math

import pytest
import torch

from {{ cookiecutter.package_name }}.evaluate import dice_per_class


def test_dice_is_averaged_over_volumes_not_pooled_over_voxels():
    target = torch.zeros(2, 4, 4, 4, dtype=torch.long)
    pred = torch.zeros_like(target)
    target[0, 0, 0, :2] = 1  # volume 0: 2 voxels, found exactly -> Dice 1
    pred[0, 0, 0, :2] = 1
    target[1, 1:3] = 1  # volume 1: 32 voxels, predicted nowhere -> Dice 0
    dice = dice_per_class(pred, target, 2)
    assert dice.shape == (1,)
    assert dice.item() == pytest.approx(0.5)  # pooled voxels would give 4 / 36


def test_exact_values_for_three_foreground_classes_in_3d():
    target = torch.zeros(1, 2, 3, 4, dtype=torch.long)
    pred = torch.zeros_like(target)
    target[0, 0, 0, :4] = 1  # class 1: 4 voxels
    pred[0, 0, 0, 1:4] = 1  # 3 of them predicted
    pred[0, 1, 2, 3] = 1  # and 1 false positive: 2 * 3 / (4 + 4)
    target[0, 1, 0, :2] = 2  # class 2: 2 voxels, predicted as class 3
    pred[0, 1, 0, :2] = 3  # class 3 absent from the target: Dice 0, not NaN
    dice = dice_per_class(pred, target, 4)
    assert dice.shape == (3,)
    assert dice.dtype.is_floating_point
    assert dice.tolist() == pytest.approx([0.75, 0.0, 0.0])


def test_absent_classes_are_left_out_per_volume_and_nan_when_absent_everywhere():
    target = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    pred = torch.tensor([[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    dice = dice_per_class(pred, target, 3)
    # class 1: volumes 0 (2/3) and 2 (1); volume 1 has no class 1 anywhere and is left out
    assert dice[0].item() == pytest.approx((2 / 3 + 1.0) / 2)
    assert math.isnan(dice[1].item())
    assert pred.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]  # inputs untouched
