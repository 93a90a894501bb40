"""Datasets: scikit-learn's bundled digits (offline) and MNIST (downloaded, real mode).

Every split has three parts: ``train`` to fit, ``dev`` to choose (the epoch to keep, a
baseline's regularisation), ``test`` to report. Nothing is chosen on the test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DATASETS = ("digits", "mnist")
# The project's seed (a template answer: instructors give each student their own). It picks the
# digits' train/dev/test split, the initial weights and the batch order unless a seed is passed.
DEFAULT_SEED = {{ cookiecutter.seed|int }}
# MNIST's dev split: the last 5,000 of its 60,000 training images (its test split is official).
MNIST_DEV = 5000


@dataclass(frozen=True)
class Split:
    """Train, dev and test parts of flattened images scaled to [0, 1].

    ``x_*`` are float32 arrays of shape (n, n_features); ``y_*`` are int64 labels in
    [0, n_classes).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_dev.max(), self.y_test.max()) + 1)


def load_digits_split(
    test_size: float = 0.2, dev_size: float = 0.2, seed: int = DEFAULT_SEED
) -> Split:
    """The 1,797 8x8 digits that ship inside scikit-learn: train / dev / test, stratified by label.

    ``test_size`` and ``dev_size`` are fractions of all images (default 60 / 20 / 20). Pixels
    (0..16) are scaled to [0, 1]. The same ``seed`` always gives the same split. Raises
    ``ValueError`` unless both fractions are positive and leave some images to train on.
    """
    if not (0.0 < test_size < 1.0 and 0.0 < dev_size < 1.0 and test_size + dev_size < 1.0):
        raise ValueError(
            f"test_size and dev_size must be positive with a sum below 1, got {test_size}, "
            f"{dev_size}"
        )
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    x_train, x_dev, y_train, y_dev = train_test_split(
        x_rest,
        y_rest,
        test_size=math.ceil(dev_size * len(y)),  # rounded up, as scikit-learn rounds test_size
        random_state=seed,
        stratify=y_rest,
    )
    return Split("digits", x_train, y_train, x_dev, y_dev, x_test, y_test)


def load_mnist_split() -> Split:
    """MNIST's official 60,000 / 10,000 split, 28x28 pixels flattened to 784 and scaled to [0, 1].

    The last ``MNIST_DEV`` training images are the dev split. Real mode: Keras downloads the
    11 MB archive once into ``~/.keras/datasets``.
    """
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()

    def flat(x: np.ndarray) -> np.ndarray:
        return (x.reshape(len(x), -1) / 255.0).astype(np.float32)

    x_all, y_all = flat(x_train), y_train.astype(np.int64)
    return Split(
        "mnist",
        x_all[:-MNIST_DEV],
        y_all[:-MNIST_DEV],
        x_all[-MNIST_DEV:],
        y_all[-MNIST_DEV:],
        flat(x_test),
        y_test.astype(np.int64),
    )


def load_split(name: str = "digits", seed: int = DEFAULT_SEED) -> Split:
    """Load a dataset by name (one of ``DATASETS``); raises ``ValueError`` for other names.

    ``seed`` splits the digits; MNIST has its official split.
    """
    if name == "digits":
        return load_digits_split(seed=seed)
    if name == "mnist":
        return load_mnist_split()
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
