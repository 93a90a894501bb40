"""The real run's data path, offline, on a tiny folder laid out like MSD Task04_Hippocampus.

The real commands themselves (train, evaluate, compare) run end to end in test_rehearsal.py."""

import pytest
import torch

from {{ cookiecutter.package_name }}.data import hippocampus_dataset, hippocampus_split_items


def test_hippocampus_splits_are_disjoint_padded_cubes_with_three_labels(fake_msd_root):
    train, dev, test = hippocampus_split_items(
        fake_msd_root, seed=0, dev_frac=0.2, test_frac=0.2, download=False
    )
    assert (len(train), len(dev), len(test)) == (4, 1, 1)
    names = [item["image"] for item in train + dev + test]
    assert len(set(names)) == 6  # every volume in exactly one split
    item = hippocampus_dataset(test, 32, train=False)[0]
    assert item["image"].shape == (1, 32, 32, 32) and item["label"].shape == (1, 32, 32, 32)
    assert set(torch.unique(item["label"]).tolist()) == {0.0, 1.0, 2.0}
    assert abs(item["image"][item["label"] > 0].float().mean().item()) < 5  # z-scored


def test_a_missing_dataset_is_a_clear_error_without_download(tmp_path):
    from {{ cookiecutter.package_name }}.errors import DataError

    with pytest.raises(DataError, match="Download it"):
        hippocampus_split_items(tmp_path, download=False)
