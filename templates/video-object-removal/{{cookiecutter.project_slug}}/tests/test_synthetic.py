"""The synthetic scenes: drawn from the seed, deterministic, physically reasonable, and with
ground truth that agrees with the pixels."""

# points: 1

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.boxes import box_from_mask
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
from {{ cookiecutter.package_name }}.synthetic import (
    MAX_SPEED,
    MIN_FRAMES,
    SCALE_END,
    draw_scene,
    make_clip,
    render,
)

# Enough draws to meet the corners of every range, few enough to stay fast (no rendering).
DRAWS = [(seed, k) for seed in range(40) for k in range(5)]


def test_shapes_and_types(clip):
    t, h, w = 40, 144, 192
    assert clip.frames.shape == clip.clean.shape == (t, h, w, 3)
    assert clip.frames.dtype == clip.clean.dtype == np.uint8
    assert clip.masks.shape == (t, h, w) and clip.masks.dtype == bool
    assert len(clip.boxes) == t


def test_same_seed_same_bytes():
    a, b = make_clip(7, 2, n_frames=24), make_clip(7, 2, n_frames=24)
    assert np.array_equal(a.frames, b.frames) and a.boxes == b.boxes


def test_the_seed_draws_the_whole_scene_not_only_the_noise():
    base = draw_scene(DEFAULT_SEED, 0)
    for other in (draw_scene(DEFAULT_SEED + 1, 0), draw_scene(DEFAULT_SEED, 1)):
        assert other.object_size != base.object_size  # the object
        assert other.centers != base.centers  # the path
        assert other.scales[-1] != base.scales[-1]  # the change of scale
        assert other.texture != base.texture  # background, object pattern, noise
    a, b = render(base), render(draw_scene(DEFAULT_SEED + 1, 0))
    assert np.abs(a.clean[0].astype(float) - b.clean[0].astype(float)).mean() > 20


def test_the_default_clip_is_the_first_scene_of_the_project_seed(clip):
    assert clip.boxes == render(draw_scene(DEFAULT_SEED, 0)).boxes


@pytest.mark.parametrize(("seed", "index"), DRAWS[::7])
def test_ground_truth_matches_the_pixels(seed, index):
    clip = make_clip(seed, index, n_frames=24)
    for t in (0, 12, 23):
        assert box_from_mask(clip.masks[t]) == clip.boxes[t]
        # The object is the only difference between the frame and its clean plate.
        differs = np.any(clip.frames[t] != clip.clean[t], axis=-1)
        assert not differs[~clip.masks[t]].any()
        assert differs[clip.masks[t]].mean() > 0.8


def test_every_scene_is_physically_reasonable():
    for seed, index in DRAWS:
        scene = draw_scene(seed, index)
        boxes = [scene.box(t) for t in range(scene.n_frames)]
        # Inside the frame on every frame.
        for x, y, w, h in boxes:
            assert x >= 0 and y >= 0 and x + w <= scene.width and y + h <= scene.height
        # No jumps: the centre moves at most the fastest speed allowed in one frame.
        centers = np.array(scene.centers)
        steps = np.hypot(*np.diff(centers, axis=0).T)
        assert steps.max() <= MAX_SPEED[1] * scene.width + 1e-6, (seed, index)
        # Size changes smoothly, within the range, from 1 on the first frame.
        assert scene.scales[0] == 1.0
        assert SCALE_END[0] <= scene.scales[-1] <= SCALE_END[1]


def test_every_object_pauses_and_no_pixel_stays_covered_on_every_frame():
    for seed, index in DRAWS:
        scene = draw_scene(seed, index)
        centers = np.array(scene.centers)
        steps = np.hypot(*np.diff(centers, axis=0).T)
        # A pause: at least a fifth of the steps stand still.
        assert (steps < 1e-6).mean() >= 0.2, (seed, index)
        # Every pixel the object covers is visible on some frame, so it can be recovered.
        covered = np.ones((scene.height, scene.width), dtype=bool)
        for t in range(scene.n_frames):
            x, y, w, h = scene.box(t)
            inside = np.zeros_like(covered)
            inside[y : y + h, x : x + w] = True
            covered &= inside
        assert not covered.any(), (seed, index)


def test_the_draws_cover_their_ranges():
    scenes = [draw_scene(seed, index) for seed, index in DRAWS]
    widths = [s.object_size[0] / s.width for s in scenes]
    ends = [s.scales[-1] for s in scenes]
    assert max(widths) - min(widths) > 0.05
    assert min(ends) < 0.9 and max(ends) > 1.25  # objects that leave and that approach


def test_background_is_static_up_to_sensor_noise(clip):
    diff = clip.clean[1].astype(float) - clip.clean[0].astype(float)
    assert 0.5 < diff.std() < 5.0


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match=f"n_frames must be >= {MIN_FRAMES}"):
        draw_scene(0, 0, n_frames=MIN_FRAMES - 1)
    with pytest.raises(ValueError, match="at least 64x48"):
        draw_scene(0, 0, height=30, width=40)
