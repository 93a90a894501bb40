"""Synthetic scans: only context tells the target apart; splits and transforms."""

import inspect

import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.__main__ import build_parser
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED, RealRunConfig
from {{ cookiecutter.package_name }}.data import (
    make_context_scans,
    preprocess_transforms,
    split_items,
    synthetic_transforms,
)


def test_scans_have_the_documented_shapes_and_types(small_scans):
    images, labels = small_scans
    assert images.shape == (6, 1, 24, 24, 24) and images.dtype == torch.float32
    assert labels.shape == images.shape and labels.dtype == torch.uint8
    assert set(torch.unique(labels).tolist()) == {0, 1}


def test_target_and_distractor_share_one_intensity_so_no_threshold_separates_them():
    clean = make_context_scans(8, 24, seed=5, noise=0.0, bias_field=0.0)
    task = make_context_scans(8, 24, seed=5, noise=0.0, bias_field=0.0, task="pretrain")
    target = clean.labels.bool()
    rod = task.labels == 1
    distractor = (task.labels == 2) & ~target
    assert distractor.sum() > 0.5 * target.sum()  # a distractor as large as the target
    for mask in (target, distractor, rod):  # one intensity for all three, soft edges aside
        values = clean.images[mask]
        assert torch.quantile(values, 0.9).item() == pytest.approx(2.0, abs=1e-5)
        assert torch.quantile(values, 0.1).item() >= 1.0


def test_the_target_touches_the_rod_and_distractors_keep_away():
    scans = make_context_scans(8, 24, seed=9, task="pretrain")
    target = make_context_scans(8, 24, seed=9).labels.bool()
    for i in range(8):
        rod = np.argwhere(scans.labels[i, 0].numpy() == 1)
        blobs = scans.labels[i, 0].numpy() == 2
        ours = np.argwhere(target[i, 0].numpy())
        others = np.argwhere(blobs & ~target[i, 0].numpy())
        gap = np.min(np.linalg.norm(ours[:, None] - rod[None], axis=2))
        assert gap <= 2.0  # touching, up to the voxel grid
        if len(others):
            assert np.min(np.linalg.norm(others[:, None] - rod[None], axis=2)) >= 4.0


def test_same_seed_gives_the_same_scans_and_another_seed_does_not():
    a, b, c = (make_context_scans(3, 24, seed=s) for s in (7, 7, 8))
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_the_repo_seed_is_every_default_and_picks_the_smoke_scans():
    from {{ cookiecutter.package_name }}.smoke import run_smoke

    # DEFAULT_SEED (config.py) is the answer given when this repo was generated
    assert inspect.signature(run_smoke).parameters["seed"].default == DEFAULT_SEED
    assert RealRunConfig().seed == DEFAULT_SEED
    for command in (["smoke"], ["train"]):
        assert build_parser().parse_args(command).seed == DEFAULT_SEED
    ours, again = (make_context_scans(4, 24, seed=DEFAULT_SEED) for _ in range(2))
    other = make_context_scans(4, 24, seed=DEFAULT_SEED + 1)
    assert torch.equal(ours.images, again.images) and torch.equal(ours.labels, again.labels)
    assert not torch.equal(ours.images, other.images)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "at least 1"),
        ({"n": 4, "size": 12}, "too small"),
        ({"n": 4, "radius": (5.0, 3.0)}, "radius"),
        ({"n": 4, "contrast": 0.0}, "contrast"),
        ({"n": 4, "task": "classify"}, "task"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_context_scans(**kwargs)


def test_splits_are_disjoint_cover_everything_and_follow_the_seed():
    items = list(range(20))
    train, dev, test = split_items(items, seed=1, dev_frac=0.15, test_frac=0.25)
    assert (len(train), len(dev), len(test)) == (12, 3, 5)
    assert sorted(train + dev + test) == items
    assert split_items(items, seed=1, dev_frac=0.15, test_frac=0.25)[2] == test
    assert split_items(items, seed=2, dev_frac=0.15, test_frac=0.25)[2] != test
    with pytest.raises(ValueError, match="sum"):
        split_items(items, seed=1, dev_frac=0.5, test_frac=0.5)


def test_preprocessing_z_scores_and_pads_and_only_training_augments(small_scans):
    item = {"image": small_scans.images[0].numpy() * 3 + 5, "label": small_scans.labels[0].numpy()}
    plain = synthetic_transforms(32, train=False)(item)
    assert plain["image"].shape == (1, 32, 32, 32) and plain["label"].shape == (1, 32, 32, 32)
    inner = plain["image"][:, 4:28, 4:28, 4:28]
    assert inner.mean().item() == pytest.approx(0.0, abs=1e-4)
    assert inner.std().item() == pytest.approx(1.0, abs=1e-2)
    names = [type(step).__name__ for step in preprocess_transforms(32, train=True)]
    assert names[:2] == ["NormalizeIntensityd", "ResizeWithPadOrCropd"]
    assert "RandFlipd" in names
    assert "RandFlipd" not in [type(s).__name__ for s in preprocess_transforms(32, train=False)]
