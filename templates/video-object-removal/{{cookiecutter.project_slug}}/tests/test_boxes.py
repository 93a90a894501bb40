"""Box parsing (with clear errors), overlap, clipping and mask conversion."""

# points: 2

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import box_from_mask, box_to_mask, clip_box, iou, parse_bbox


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10,20,30,40", (10, 20, 30, 40)), (" 1, 2 ,3,4 ", (1, 2, 3, 4)), ("0 0 5 6", (0, 0, 5, 6))],
)
def test_parse_bbox_accepts_four_integers(text, expected):
    assert parse_bbox(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10,20,30", "four integers"),
        ("10,20,30,40,50", "four integers"),
        ("", "four integers"),
        ("a,b,c,d", "four integers"),
        ("1.5,2,3,4", "four integers"),
        ("-1,2,3,4", "inside the frame"),
        ("1,2,0,4", "positive"),
        ("1,2,3,-4", "positive"),
    ],
)
def test_parse_bbox_rejects_bad_input_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_bbox(text)


def test_iou_of_known_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou(None, (0, 0, 1, 1)) == 0.0


def test_clip_box_keeps_the_part_inside_the_frame():
    assert clip_box((-5, -5, 20, 20), 100, 50) == (0, 0, 15, 15)
    assert clip_box((90, 40, 20, 20), 100, 50) == (90, 40, 10, 10)
    with pytest.raises(ValueError, match="outside"):
        clip_box((200, 0, 10, 10), 100, 50)


def test_box_and_mask_round_trip():
    mask = box_to_mask((3, 4, 5, 6), 20, 30)
    assert mask.shape == (20, 30) and mask.dtype == np.uint8
    assert int((mask > 0).sum()) == 5 * 6
    assert box_from_mask(mask) == (3, 4, 5, 6)
    assert box_from_mask(np.zeros((4, 4))) is None
    with pytest.raises(ValueError, match="2-D"):
        box_from_mask(np.zeros((2, 4, 4)))
