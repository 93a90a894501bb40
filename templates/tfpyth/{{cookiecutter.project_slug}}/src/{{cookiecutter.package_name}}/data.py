"""Datasets: scikit-learn's bundled digits (offline) and MNIST (downloaded, real mode).

Every split has three parts: ``train`` to fit, ``dev`` to choose (the epoch to keep, a
baseline's regularisation), ``test`` to report. Nothing is chosen on the test split.

MNIST lives where Keras keeps it, ``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras/datasets``
without ``KERAS_HOME``), in Keras's own format: one ``.npz`` with ``x_train`` (60000, 28, 28)
uint8, ``y_train`` (60000,), ``x_test`` (10000, 28, 28) and ``y_test`` (10000,). A file already
there is used as it is (copy one there on a machine without network); otherwise it is downloaded
from Keras's origin (``MNIST_URL`` names a mirror), checked, and renamed into place only when
complete, so a failed download leaves nothing behind and the next try starts clean.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .runs import atomic_file

DATASETS = ("digits", "mnist")
# The project's seed (a template answer: instructors give each student their own). It picks the
# digits' train/dev/test split, the initial weights and the batch order unless a seed is passed.
DEFAULT_SEED = {{ cookiecutter.seed|int }}
# MNIST's dev split: the last twelfth of its training images, 5,000 of the official 60,000 (its
# test split is official).
MNIST_DEV_PART = 12
# Where keras.datasets.mnist.load_data downloads from, and that file's SHA-256 (Keras's own).
MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
DOWNLOAD_ATTEMPTS = 2

log = logging.getLogger(__name__)


class DownloadError(OSError):
    """A dataset could not be downloaded; the message holds every attempt's error."""


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


def keras_home() -> Path:
    """Keras's folder: ``$KERAS_HOME`` when set, else ``~/.keras`` (as Keras itself decides)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def mnist_path() -> Path:
    """Where the MNIST file is kept: ``<keras_home()>/datasets/mnist.npz``."""
    return keras_home() / "datasets" / "mnist.npz"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_mnist(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of an MNIST ``.npz``; ``ValueError`` naming what is wrong otherwise."""
    try:
        with Path(path).open("rb") as file, np.load(file, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in MNIST_ARRAYS if name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # truncated, pickled
        raise ValueError(f"{path} is not an MNIST .npz: {error}") from error
    missing = [name for name in MNIST_ARRAYS if name not in arrays]
    if missing:
        raise ValueError(f"{path} is not an MNIST .npz: no {', '.join(missing)}")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"{path}: x_{part} must be uint8 (n, 28, 28), got {x.dtype} {x.shape}")
        if y.shape != (len(x),) or y.dtype.kind not in "iu" or len(y) == 0:
            raise ValueError(f"{path}: y_{part} must be {len(x)} integer labels, got {y.shape}")
        if y.min() < 0 or y.max() > 9:
            raise ValueError(f"{path}: y_{part} holds labels outside 0..9")
    return arrays


def download(url: str, target: Path, expected_sha256: str | None = None) -> Path:
    """Download ``url`` to ``target`` through a partial file beside it, renamed when complete.

    The file must read as MNIST (and match ``expected_sha256`` when given). Tries
    ``DOWNLOAD_ATTEMPTS`` times; a failed attempt leaves nothing at ``target`` or beside it.
    Raises :class:`DownloadError` with every attempt's error when all of them fail.
    """
    target = Path(target)
    errors = []
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            with atomic_file(target) as partial:
                with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
                    shutil.copyfileobj(response, out)
                got = sha256(partial)
                if expected_sha256 is not None and got != expected_sha256:
                    raise ValueError(f"sha256 {got} is not the expected {expected_sha256}")
                read_mnist(partial)
            return target
        except (OSError, ValueError) as error:
            errors.append(f"attempt {attempt}: {type(error).__name__}: {error}")
            log.warning("downloading %s failed (%s)", url, errors[-1])
    raise DownloadError(
        f"could not download {url} to {target}:\n  "
        + "\n  ".join(errors)
        + f"\nNothing was left behind: try again, or copy an mnist.npz to {target} by hand."
    )


def fetch_mnist() -> Path:
    """The MNIST file: the one in Keras's cache, else downloaded there (see the module docs).

    ``MNIST_URL`` in the environment replaces Keras's origin (a mirror: then only the format is
    checked, not Keras's SHA-256).
    """
    target = mnist_path()
    if target.is_file():
        return target
    url = os.environ.get("MNIST_URL") or MNIST_ORIGIN
    log.info("downloading MNIST (11 MB) from %s to %s", url, target)
    return download(url, target, MNIST_SHA256 if url == MNIST_ORIGIN else None)


def mnist_is_official(path: Path | None = None) -> bool:
    """Whether the MNIST file is Keras's (SHA-256), i.e. the numbers compare with published ones."""
    return sha256(path or mnist_path()) == MNIST_SHA256


def load_mnist_split() -> Split:
    """MNIST's official 60,000 / 10,000 split, 28x28 pixels flattened to 784 and scaled to [0, 1].

    The last twelfth of the training images (5,000) is the dev split. Real mode: the 11 MB
    file is downloaded once into Keras's cache (:func:`fetch_mnist`).
    """
    arrays = read_mnist(fetch_mnist())

    def flat(x: np.ndarray) -> np.ndarray:
        return (x.reshape(len(x), -1) / 255.0).astype(np.float32)

    x_all, y_all = flat(arrays["x_train"]), arrays["y_train"].astype(np.int64)
    n_dev = len(x_all) // MNIST_DEV_PART
    if n_dev == 0:
        raise ValueError(f"{mnist_path()}: too few training images ({len(x_all)}) for a dev split")
    return Split(
        "mnist",
        x_all[:-n_dev],
        y_all[:-n_dev],
        x_all[-n_dev:],
        y_all[-n_dev:],
        flat(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
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
