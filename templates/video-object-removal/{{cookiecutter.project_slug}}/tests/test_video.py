"""Video I/O: mp4 round trip, frame folders, DAVIS annotations and layout."""

# points: 1

import cv2
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import box_from_mask
from {{ cookiecutter.package_name }}.metrics import psnr_in
from {{ cookiecutter.package_name }}.video import (
    davis_sequence,
    davis_sequences,
    object_mask,
    read_annotation,
    read_video,
    write_video,
)


def test_mp4_write_read_round_trip(tmp_path, short_clip):
    path = write_video(tmp_path / "sub" / "clip.mp4", short_clip.frames, fps=12.0)
    frames, fps = read_video(path)
    assert frames.shape == short_clip.frames.shape and frames.dtype == np.uint8
    assert fps == pytest.approx(12.0)
    everywhere = np.ones(frames.shape[:3], dtype=bool)
    assert psnr_in(frames, short_clip.frames, everywhere) > 25.0  # lossy, but close
    assert len(read_video(path, max_frames=5)[0]) == 5


def test_write_video_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), dtype=np.float32))


def test_read_video_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="no images"):
        read_video(tmp_path)


def test_frame_folder_is_read_in_name_order(tmp_path, short_clip):
    for t, frame in enumerate(short_clip.frames[:4]):
        cv2.imwrite(str(tmp_path / f"{t:05d}.png"), frame)
    frames, _ = read_video(tmp_path)
    assert np.array_equal(frames, short_clip.frames[:4])  # PNG is lossless


def test_davis_palette_annotation_gives_object_ids(tmp_path, palette_png):
    labels = np.zeros((20, 30), dtype=np.uint8)
    labels[2:6, 3:9] = 1
    labels[10:18, 20:28] = 2
    palette_png(tmp_path / "00000.png", labels)
    read = read_annotation(tmp_path / "00000.png")
    assert np.array_equal(read, labels)
    assert box_from_mask(object_mask(read, 2)) == (20, 10, 8, 8)
    assert object_mask(read).sum() == (labels > 0).sum()
    with pytest.raises(ValueError, match=r"present: \[1, 2\]"):
        object_mask(read, 3)


def test_binary_mask_png_is_an_annotation_too(tmp_path):
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[1:4, 2:7] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    assert box_from_mask(object_mask(read_annotation(tmp_path / "m.png"))) == (2, 1, 5, 3)


def test_davis_layout_is_loaded(davis_root, short_clip):
    assert davis_sequences(davis_root) == ["synth-a", "synth-b"]
    frames, labels = davis_sequence(davis_root, "synth-a")
    assert frames.shape == short_clip.frames.shape
    assert np.array_equal(labels > 0, short_clip.masks)
    with pytest.raises(FileNotFoundError, match="Real run"):
        davis_sequence(davis_root, "bear")
