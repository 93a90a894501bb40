"""Hole masks: dilation and per-frame masks from boxes or segmentations."""

# points: 2

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import box_from_mask, box_to_mask
from {{ cookiecutter.package_name }}.masks import dilate, masks_from_boxes, masks_from_segmentation


@pytest.mark.parametrize("pixels", [1, 3, 6])
def test_dilation_grows_the_mask_by_that_many_pixels(pixels):
    mask = box_to_mask((20, 20, 10, 8), 60, 60)
    grown = dilate(mask, pixels)
    assert grown.dtype == np.uint8 and set(np.unique(grown)) == {0, 255}
    assert box_from_mask(grown) == (20 - pixels, 20 - pixels, 10 + 2 * pixels, 8 + 2 * pixels)
    assert np.all(grown[mask > 0] == 255)  # never shrinks


def test_zero_dilation_only_binarises():
    mask = np.zeros((5, 5), dtype=bool)
    mask[2, 2] = True
    out = dilate(mask, 0)
    assert out[2, 2] == 255 and out.sum() == 255


def test_bad_dilation_input_is_rejected():
    with pytest.raises(ValueError, match=">= 0"):
        dilate(np.zeros((4, 4)), -1)
    with pytest.raises(ValueError, match="2-D"):
        dilate(np.zeros((2, 4, 4)), 1)


def test_masks_from_boxes_one_per_frame_and_empty_when_lost():
    masks = masks_from_boxes([(1, 1, 3, 3), None], 10, 12, pixels=1)
    assert masks.shape == (2, 10, 12)
    assert box_from_mask(masks[0]) == (0, 0, 5, 5)
    assert not masks[1].any()


def test_masks_from_segmentation_dilates_every_frame(clip):
    masks = masks_from_segmentation(clip.masks[:3], pixels=2)
    assert masks.shape == clip.masks[:3].shape
    assert ((masks > 0).sum(axis=(1, 2)) > clip.masks[:3].sum(axis=(1, 2))).all()
    with pytest.raises(ValueError, match="T, H, W"):
        masks_from_segmentation(clip.masks[0])
