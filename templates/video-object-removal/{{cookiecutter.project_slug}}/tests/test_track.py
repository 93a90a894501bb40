"""Trackers on the synthetic clip, and the box selector on a build without a GUI."""

# points: 1

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.metrics import mean_iou
from {{ cookiecutter.package_name }}.track import (
    TRACKERS,
    GuiUnavailableError,
    create_tracker,
    fill_lost,
    has_gui,
    select_box,
    track,
)


def test_csrt_follows_the_object(clip):
    result = track(clip.frames, clip.boxes[0], "csrt")
    assert len(result.boxes) == len(clip.frames)
    assert result.boxes[0] == clip.boxes[0]
    assert mean_iou(result.boxes, clip.boxes) >= 0.8
    assert result.fps > 0


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_every_tracker_runs_and_overlaps_the_object(clip, name):
    result = track(clip.frames[:12], clip.boxes[0], name)
    assert len(result.boxes) == 12
    # Loose on purpose: MIL samples at random (not reproducibly), usually 0.7-0.9, rarely ~0.5.
    assert mean_iou(result.boxes, clip.boxes[:12]) > 0.35


def test_unknown_tracker_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown tracker 'siammask'"):
        create_tracker("siammask")


def test_fill_lost_reuses_the_last_known_box():
    a, b = (0, 0, 2, 2), (5, 5, 2, 2)
    assert fill_lost([None, a, None, b, None]) == [a, a, a, b, b]
    with pytest.raises(ValueError, match="every frame"):
        fill_lost([None, None])


@pytest.mark.skipif(has_gui(), reason="this OpenCV has a GUI; the error is for headless builds")
def test_select_box_without_gui_says_to_pass_bbox(clip):
    with pytest.raises(GuiUnavailableError, match="--bbox x,y,w,h"):
        select_box(clip.frames[0])


@pytest.mark.skipif(has_gui(), reason="this OpenCV has a GUI; the error is for headless builds")
def test_cli_select_without_gui_is_a_one_line_error(tmp_path, short_clip, capsys):
    from {{ cookiecutter.package_name }}.video import write_video

    video = write_video(tmp_path / "in.mp4", short_clip.frames)
    assert main(["remove", str(video), "--select", "-o", str(tmp_path / "out.mp4")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "--bbox" in err[-1]
    assert not (tmp_path / "out.mp4").exists()
