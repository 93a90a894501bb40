# points: 5

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data import DEFAULT_SEED, load_digits_split, load_split


def test_digits_split_shapes_and_ranges(digits):
    assert digits.x_train.shape == (1077, 64)
    assert digits.x_dev.shape == digits.x_test.shape == (360, 64)
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert 0.0 <= digits.x_train.min() and digits.x_train.max() <= 1.0
    assert digits.n_features == 64 and digits.n_classes == 10


def test_digits_split_is_stratified(digits):
    for labels in (digits.y_dev, digits.y_test):
        counts = np.bincount(labels, minlength=10)
        assert counts.min() >= 35 and counts.max() <= 37  # 20 % of the ~180 images of each class


def test_no_image_is_in_two_parts_of_the_split(digits):
    parts = [digits.x_train, digits.x_dev, digits.x_test]
    rows = [{row.tobytes() for row in part} for part in parts]
    assert sum(len(r) for r in rows) == len(set().union(*rows)) == 1797


def test_the_project_seed_picks_the_split(digits):
    # the fixture split with the default seed: the project's seed (a template answer)
    again = load_digits_split(seed=DEFAULT_SEED)  # the same seed: the same data
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    other = load_digits_split(seed=DEFAULT_SEED + 1)  # another seed: another split
    assert not np.array_equal(other.y_test, digits.y_test)
    assert not np.array_equal(other.x_train, digits.x_train)


@pytest.mark.parametrize(
    ("test_size", "dev_size"), [(0.0, 0.2), (1.0, 0.2), (-0.5, 0.2), (0.5, 0.5)]
)
def test_bad_split_sizes_are_rejected(test_size, dev_size):
    with pytest.raises(ValueError, match="test_size and dev_size"):
        load_digits_split(test_size=test_size, dev_size=dev_size)


def test_unknown_dataset_is_rejected():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_split("imagenet")


@pytest.mark.real
def test_mnist_downloads_and_splits():
    split = load_split("mnist")
    assert split.x_train.shape == (55000, 784) and split.x_dev.shape == (5000, 784)
    assert split.x_test.shape == (10000, 784)
    assert split.n_classes == 10 and split.x_train.max() <= 1.0
