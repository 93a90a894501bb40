"""Synthetic lesion volumes: shapes, labels, masks, determinism, bad arguments."""

import inspect

import pytest
import torch

from {{ cookiecutter.package_name }}.__main__ import build_parser
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED, RealRunConfig
from {{ cookiecutter.package_name }}.data import (
    make_lesion_volumes,
    random_flips,
)


def test_volumes_have_the_documented_shapes_and_types(small_volumes):
    images, labels, masks = small_volumes
    assert images.shape == (12, 1, 32, 32, 32) and images.dtype == torch.float32
    assert labels.shape == (12,) and labels.dtype == torch.int64
    assert masks.shape == images.shape and masks.dtype == torch.uint8


def test_half_of_the_volumes_hold_a_lesion(small_volumes):
    assert small_volumes.labels.sum().item() == 6
    assert set(small_volumes.labels.tolist()) == {0, 1}


def test_masks_mark_a_lesion_exactly_when_the_label_says_so(small_volumes):
    voxels = small_volumes.masks.flatten(1).sum(dim=1)
    assert torch.all((voxels > 0) == (small_volumes.labels == 1))
    # a sphere of radius 4 to 7 voxels: between about 270 and 1440 voxels
    assert voxels[small_volumes.labels == 1].min() > 200
    assert voxels[small_volumes.labels == 1].max() < 1500


def test_lesions_are_brighter_than_the_background(small_volumes):
    images, labels, masks = small_volumes
    positive = labels == 1
    inside = images[positive][masks[positive].bool()].mean()
    outside = images[positive][~masks[positive].bool()].mean()
    assert inside - outside > 1.0


def test_same_seed_gives_the_same_volumes_and_another_seed_does_not():
    a = make_lesion_volumes(4, 24, seed=7)
    b = make_lesion_volumes(4, 24, seed=7)
    c = make_lesion_volumes(4, 24, seed=8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_the_repo_seed_is_every_default_and_picks_the_smoke_scans():
    from {{ cookiecutter.package_name }}.smoke import run_smoke

    # DEFAULT_SEED (config.py) is the answer given when this repo was generated
    assert inspect.signature(run_smoke).parameters["seed"].default == DEFAULT_SEED
    assert RealRunConfig().seed == DEFAULT_SEED
    for command in (["smoke"], ["train"]):
        assert build_parser().parse_args(command).seed == DEFAULT_SEED
    ours, again = (make_lesion_volumes(8, 24, seed=DEFAULT_SEED) for _ in range(2))
    other = make_lesion_volumes(8, 24, seed=DEFAULT_SEED + 1)
    assert torch.equal(ours.images, again.images) and torch.equal(ours.masks, again.masks)
    assert not torch.equal(ours.images, other.images)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "at least 2"),
        ({"n": 4, "size": 12}, "too small"),
        ({"n": 4, "radius": (5.0, 3.0)}, "radius"),
        ({"n": 4, "contrast": 0.0}, "contrast"),
        ({"n": 4, "bias_field": -1.0}, "bias_field"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_lesion_volumes(**kwargs)


def test_flips_move_voxels_but_keep_shape_and_values():
    images = torch.arange(2 * 4 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4, 4)
    generator = torch.Generator().manual_seed(0)
    draws = [random_flips(images, generator) for _ in range(8)]
    for flipped in draws:
        assert flipped.shape == images.shape
        assert torch.equal(torch.sort(flipped.flatten()).values, images.flatten())
    assert any(not torch.equal(flipped, images) for flipped in draws)
