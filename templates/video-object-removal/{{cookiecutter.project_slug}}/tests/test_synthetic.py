"""The synthetic clip: shapes, determinism, and ground truth that agrees with the pixels."""

# points: 1

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import box_from_mask
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
from {{ cookiecutter.package_name }}.synthetic import make_clip


def test_shapes_and_types(clip):
    t, h, w = 48, 240, 320
    assert clip.frames.shape == clip.clean.shape == (t, h, w, 3)
    assert clip.frames.dtype == clip.clean.dtype == np.uint8
    assert clip.masks.shape == (t, h, w) and clip.masks.dtype == bool
    assert len(clip.boxes) == t


def test_same_seed_same_bytes_other_seed_other_clip():
    a, b = make_clip(n_frames=4, seed=7), make_clip(n_frames=4, seed=7)
    assert np.array_equal(a.frames, b.frames) and a.boxes == b.boxes
    assert not np.array_equal(a.frames, make_clip(n_frames=4, seed=8).frames)


def test_the_default_clip_is_drawn_from_the_project_seed(clip):
    assert np.array_equal(clip.frames, make_clip(n_frames=48, seed=DEFAULT_SEED).frames)
    other = make_clip(n_frames=48, seed=DEFAULT_SEED + 1)
    assert not np.array_equal(clip.clean[0], other.clean[0])  # other noise on every frame
    assert other.boxes == clip.boxes  # the same scene and path


def test_the_scene_is_its_own_seed():
    a, b = make_clip(n_frames=2, scene=0), make_clip(n_frames=2, scene=1)
    assert not np.array_equal(a.clean[0], b.clean[0])
    quiet = [make_clip(n_frames=2, noise=0.0, seed=s).frames for s in (1, 2)]
    assert np.array_equal(*quiet)  # without noise, the seed changes nothing else


def test_ground_truth_matches_the_pixels(clip):
    for t in (0, 20, 47):
        assert box_from_mask(clip.masks[t]) == clip.boxes[t]
        # The object is the only difference between the frame and its clean plate.
        differs = np.any(clip.frames[t] != clip.clean[t], axis=-1)
        assert not differs[~clip.masks[t]].any()
        assert differs[clip.masks[t]].mean() > 0.9


def test_object_moves_and_grows(clip):
    (x0, y0, w0, h0), (x1, y1, w1, h1) = clip.boxes[0], clip.boxes[-1]
    assert np.hypot(x1 - x0, y1 - y0) > 50
    assert w1 > 1.2 * w0 and h1 > 1.2 * h0


def test_background_is_static_up_to_sensor_noise(clip):
    diff = clip.clean[1].astype(float) - clip.clean[0].astype(float)
    assert 1.0 < diff.std() < 5.0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="n_frames"):
        make_clip(n_frames=1)
    with pytest.raises(ValueError, match="object_size"):
        make_clip(object_size=(200, 40))
