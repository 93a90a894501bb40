"""Data: synthetic scans for the smoke run, MSD Task04_Hippocampus for the real run.

Both go through the same MONAI preprocessing (``preprocess_transforms``): the smoke run is the
real study in miniature, not a different pipeline.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from .config import MSD_TASK
from .errors import DataError
from .runs import atomic_directory, atomic_file

log = logging.getLogger(__name__)

#: Where `train` downloads MSD Task04_Hippocampus (MONAI's mirror of the MSD data), and its MD5.
MSD_URL = "https://msd-for-monai.s3-us-west-2.amazonaws.com/Task04_Hippocampus.tar"
MSD_MD5 = "9d24dba78a72977dbd1d2e110310f31b"
#: Environment variables that point the download at another copy of the same tar: a mirror, or
#: a local file (``file:///path/Task04_Hippocampus.tar``); the MD5 is checked when given.
URL_ENV, MD5_ENV = "MSD_HIPPOCAMPUS_URL", "MSD_HIPPOCAMPUS_MD5"
#: Tries per download before giving up (every error is shown).
DOWNLOAD_ATTEMPTS = 2

#: Label names of the smoke run's task: the structure that touches the landmark rod.
TARGET_CLASSES = ("background", "target")
#: Label names of the smoke run's pretraining task: every bright structure, by kind.
PRETRAIN_CLASSES = ("background", "rod", "blob")


class SyntheticScans(NamedTuple):
    """A batch of synthetic 3D scans and their label maps."""

    images: torch.Tensor  # float32, (N, 1, S, S, S)
    labels: torch.Tensor  # uint8, (N, 1, S, S, S): class index per voxel


def make_context_scans(
    n: int,
    size: int = 24,
    *,
    seed: int = 0,
    task: str = "target",
    contrast: float = 2.0,
    noise: float = 0.5,
    bias_field: float = 0.5,
    radius: tuple[float, float] = (3.5, 5.0),
    rod_radius: tuple[float, float] = (1.5, 2.0),
    distractors: int = 1,
) -> SyntheticScans:
    """Make ``n`` noisy cubes of side ``size`` where only context tells the target apart.

    Every scan holds a bright rod (the landmark) along a random axis, one sphere that touches
    the rod (the target) and ``distractors`` spheres at least 4 voxels away from it. Rod and
    spheres share one intensity (``contrast`` above the background, one-voxel soft edge), and
    target and distractors share one size distribution (``radius``): no intensity rule can
    separate them, only where a sphere lies relative to the rod. Gaussian noise (std ``noise``)
    on a linear ramp of random direction (slope up to ``bias_field``, like an MRI bias field).

    ``task="target"`` labels the target sphere 1 (``TARGET_CLASSES``); ``task="pretrain"``
    labels the rod 1 and every sphere 2 (``PRETRAIN_CLASSES``): a related task to pretrain on.
    Same arguments, same tensors.
    """
    if task not in ("target", "pretrain"):
        raise ValueError(f"task must be 'target' or 'pretrain', got {task!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    r_min, r_max = radius
    if not 0 < r_min <= r_max or not 0 < rod_radius[0] <= rod_radius[1]:
        raise ValueError(f"radius {radius} and rod_radius {rod_radius} must be (min, max) > 0")
    if size < 4 * r_max + 2:
        raise ValueError(f"size {size} is too small for spheres of radius up to {r_max}")
    if contrast <= 0 or noise < 0 or bias_field < 0 or distractors < 0:
        raise ValueError("contrast must be positive; noise, bias_field, distractors non-negative")

    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*(np.arange(size, dtype=np.float32),) * 3, indexing="ij"))
    centred = grid / (size - 1) - 0.5
    images = rng.normal(0.0, noise, size=(n, 1, size, size, size)).astype(np.float32)
    labels = np.zeros((n, 1, size, size, size), dtype=np.uint8)
    for i in range(n):
        ramp = rng.uniform(-bias_field, bias_field, size=3).astype(np.float32)
        images[i, 0] += np.tensordot(ramp, centred, axes=1)
        axis = int(rng.integers(3))
        across = [a for a in range(3) if a != axis]
        rod_r = rng.uniform(*rod_radius)
        rod_at = rng.uniform(0.3 * size, 0.7 * size, size=2)
        to_rod = np.hypot(grid[across[0]] - rod_at[0], grid[across[1]] - rod_at[1])
        spheres = [_touching_sphere(rng, size, axis, across, rod_at, rod_r, radius)]
        for _ in range(1000):  # rejection sampling: far from the rod and from each other
            if len(spheres) == 1 + distractors:
                break
            r = rng.uniform(*radius)
            centre = rng.uniform(r + 1, size - r - 2, size=3)
            off_rod = np.hypot(centre[across[0]] - rod_at[0], centre[across[1]] - rod_at[1])
            apart = all(np.linalg.norm(centre - c) >= r + rc + 2 for c, rc in spheres)
            if off_rod >= rod_r + r + 4 and apart:
                spheres.append((centre, r))
        images[i, 0] += contrast * np.clip(rod_r + 0.5 - to_rod, 0.0, 1.0)
        if task == "pretrain":
            labels[i, 0][to_rod <= rod_r] = 1
        for k, (centre, r) in enumerate(spheres):
            dist = np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(axis=0))
            images[i, 0] += contrast * np.clip(r + 0.5 - dist, 0.0, 1.0)
            if task == "pretrain":
                labels[i, 0][dist <= r] = 2
            elif k == 0:
                labels[i, 0][dist <= r] = 1
    return SyntheticScans(torch.from_numpy(images), torch.from_numpy(labels))


def _touching_sphere(
    rng: np.random.Generator,
    size: int,
    axis: int,
    across: list[int],
    rod_at: np.ndarray,
    rod_r: float,
    radius: tuple[float, float],
) -> tuple[np.ndarray, float]:
    """A sphere whose surface touches the rod, fully inside the cube (the target)."""
    for _ in range(1000):
        r = rng.uniform(*radius)
        angle = rng.uniform(0.0, 2 * np.pi)
        centre = np.empty(3)
        centre[axis] = rng.uniform(r + 1, size - r - 2)
        centre[across[0]] = rod_at[0] + (rod_r + r + 0.5) * np.cos(angle)
        centre[across[1]] = rod_at[1] + (rod_r + r + 0.5) * np.sin(angle)
        if np.all(centre >= r + 1) and np.all(centre <= size - r - 2):
            return centre, r
    raise ValueError("no room for a target sphere: make size larger or radius smaller")


def as_items(scans: SyntheticScans) -> list[dict[str, np.ndarray]]:
    """The scans as MONAI dictionaries ``{"image": (1, S, S, S), "label": (1, S, S, S)}``."""
    return [
        {"image": image.numpy(), "label": label.numpy()}
        for image, label in zip(scans.images, scans.labels, strict=True)
    ]


def preprocess_transforms(roi_size: int, *, train: bool) -> list[Any]:
    """The MONAI steps every scan goes through once loaded, in the smoke run and the real run.

    Z-score the non-zero voxels (as MedicalNet did), pad or crop to a cube of side
    ``roi_size``; training adds flips and small intensity changes.
    """
    # from the modules that define them: monai.transforms re-exports them implicitly, which
    # mypy --strict does not accept
    from monai.transforms.croppad.dictionary import ResizeWithPadOrCropd
    from monai.transforms.intensity.dictionary import (
        NormalizeIntensityd,
        RandScaleIntensityd,
        RandShiftIntensityd,
    )
    from monai.transforms.spatial.dictionary import RandFlipd
    from monai.transforms.utility.dictionary import EnsureTyped

    keys = ["image", "label"]
    steps: list[Any] = [
        NormalizeIntensityd(keys="image", nonzero=True),
        ResizeWithPadOrCropd(keys=keys, spatial_size=(roi_size,) * 3),
    ]
    if train:
        steps += [
            RandFlipd(keys=keys, prob=0.5, spatial_axis=0),
            RandScaleIntensityd(keys="image", factors=0.1, prob=0.5),
            RandShiftIntensityd(keys="image", offsets=0.1, prob=0.5),
        ]
    steps.append(EnsureTyped(keys=keys, track_meta=False))
    return steps


def synthetic_transforms(roi_size: int, *, train: bool, seed: int = 0) -> Any:
    """``preprocess_transforms`` for in-memory scans, seeded (the smoke run's data path)."""
    from monai.transforms.compose import Compose

    compose = Compose(preprocess_transforms(roi_size, train=train))
    compose.set_random_state(seed=seed)
    return compose


def hippocampus_transforms(roi_size: int, *, train: bool) -> Any:
    """MONAI transforms for MSD Hippocampus: load, RAS, then ``preprocess_transforms``.

    The hippocampus crops (about 35 x 50 x 35 voxels) fit in a cube of 64.
    """
    from monai.transforms.compose import Compose
    from monai.transforms.io.dictionary import LoadImaged
    from monai.transforms.spatial.dictionary import Orientationd
    from monai.transforms.utility.dictionary import EnsureChannelFirstd

    keys = ["image", "label"]
    steps: list[Any] = [
        LoadImaged(keys=keys),
        EnsureChannelFirstd(keys=keys),
        Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S"))),
    ]
    return Compose(steps + preprocess_transforms(roi_size, train=train))


def split_items(
    items: list[Any], *, seed: int, dev_frac: float, test_frac: float
) -> tuple[list[Any], list[Any], list[Any]]:
    """Split ``items`` into disjoint train, dev and test lists by a seeded permutation.

    Dev picks the best epoch; test is scored once, at the end. Each held-out split gets at
    least one item.
    """
    if not (0 < dev_frac < 1 and 0 < test_frac < 1 and dev_frac + test_frac < 1):
        raise ValueError(
            f"dev_frac {dev_frac} and test_frac {test_frac} must be in (0, 1) "
            "and sum to less than 1"
        )
    if len(items) < 3:
        raise ValueError(f"need at least 3 items for train, dev and test, got {len(items)}")
    order = np.random.default_rng(seed).permutation(len(items))
    n_test = max(1, round(test_frac * len(items)))
    n_dev = max(1, round(dev_frac * len(items)))
    test = [items[i] for i in order[:n_test]]
    dev = [items[i] for i in order[n_test : n_test + n_dev]]
    train = [items[i] for i in order[n_test + n_dev :]]
    return train, dev, test


def hippocampus_split_items(
    data_dir: Path,
    *,
    seed: int = 0,
    dev_frac: float = 0.15,
    test_frac: float = 0.15,
    download: bool = True,
) -> tuple[list[Any], list[Any], list[Any]]:
    """Train, dev and test lists (``{"image": path, "label": path}``) of MSD Task04_Hippocampus.

    The MSD test labels are not public, so its 260 labelled volumes are split here (seeded,
    ``split_items``): choices are made on dev, the reported number comes from test. Downloads
    the task (27 MB) into ``data_dir`` on first use (``download_hippocampus``). Raises
    ``DataError`` when the data is missing and cannot be downloaded.
    """
    from monai.data.decathlon_datalist import load_decathlon_datalist

    data_dir = Path(data_dir)
    listing = data_dir / MSD_TASK / "dataset.json"
    if not listing.exists():
        if not download:
            raise DataError(
                f"{listing} is missing. Download it (see README, 'Real run') or pass --data-dir "
                "to where it is."
            )
        download_hippocampus(data_dir)
    try:
        items = load_decathlon_datalist(
            listing, data_list_key="training", base_dir=data_dir / MSD_TASK
        )
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"could not read {listing}: {err}") from err
    train, dev, test = split_items(items, seed=seed, dev_frac=dev_frac, test_frac=test_frac)
    log.info("%s: %d train, %d dev, %d test volumes", MSD_TASK, len(train), len(dev), len(test))
    return train, dev, test


def msd_source() -> tuple[str, str | None]:
    """The address of the Task04_Hippocampus tar and its MD5: MONAI's mirror, or the copy
    ``MSD_HIPPOCAMPUS_URL`` names (checked against ``MSD_HIPPOCAMPUS_MD5`` when set)."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url, os.environ.get(MD5_ENV, "").strip() or None
    return MSD_URL, MSD_MD5


def download_hippocampus(
    data_dir: Path,
    *,
    url: str | None = None,
    md5: str | None = None,
    attempts: int = DOWNLOAD_ATTEMPTS,
) -> Path:
    """Download and extract MSD Task04_Hippocampus into ``data_dir``; return the task folder.

    The tar (``url``, default ``msd_source()``) is written beside ``data_dir/<task>.tar`` and
    renamed into place once complete and its MD5 checked; the task is extracted beside
    ``data_dir/Task04_Hippocampus`` and renamed into place once whole. A failed try leaves
    neither half-written, so the next try (``attempts`` here, or the next run) starts clean.
    When every try fails, ``DataError`` shows every error.
    """
    data_dir = Path(data_dir)
    task_dir = data_dir / MSD_TASK
    if (task_dir / "dataset.json").is_file():
        return task_dir
    if task_dir.exists():
        raise DataError(
            f"{task_dir} exists but holds no dataset.json (an extraction by another tool that "
            f"stopped half-way?): remove {task_dir}, then run again"
        )
    if url is None:
        url, md5 = msd_source()
    tar = data_dir / f"{MSD_TASK}.tar"
    errors: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            if not tar.is_file():
                log.info("downloading %s to %s (try %d of %d)", url, tar, attempt, attempts)
                fetch_file(url, tar, md5)
            extract_task(tar, task_dir)
            return task_dir
        except (OSError, ValueError, tarfile.TarError, DataError) as err:
            errors.append(f"try {attempt}: {type(err).__name__}: {err}")
            log.warning("%s failed: %s", MSD_TASK, errors[-1])
            try:
                tar.unlink(missing_ok=True)  # a tar that does not extract is fetched again
            except OSError as unlink_error:
                errors.append(f"could not remove {tar} ({unlink_error}): delete it by hand")
                break
    raise DataError(
        f"could not download {MSD_TASK} from {url} into {data_dir} ({'; '.join(errors)}). "
        "Nothing half-written was left behind: run again, or download the tar yourself (see "
        f"README, 'Real run'; {URL_ENV} can point at a local copy)"
    )


def fetch_file(url: str, target: Path, md5: str | None = None) -> Path:
    """Copy ``url`` (http, https or file) to ``target`` atomically, checking its MD5 if given."""
    with atomic_file(target) as partial:
        digest = hashlib.md5(usedforsecurity=False)
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise DataError(
                f"{url} has MD5 {digest.hexdigest()}, expected {md5}: a cut or changed download"
            )
    return target


def extract_task(tar: Path, task_dir: Path) -> Path:
    """Extract the MSD tar (one top folder named like ``task_dir``) into ``task_dir``, whole or
    not at all."""
    with atomic_directory(task_dir) as staging:
        with tarfile.open(tar) as archive:
            if hasattr(tarfile, "data_filter"):  # Python 3.12+ and recent 3.11 releases
                archive.extractall(staging, filter="data")
            else:  # older 3.11: the same check by hand (plain files and folders, inside)
                members = archive.getmembers()
                inside = staging.resolve()
                for member in members:
                    where = (staging / member.name).resolve()
                    if not (member.isfile() or member.isdir()) or not where.is_relative_to(inside):
                        raise DataError(f"{tar}: refusing the unsafe member {member.name!r}")
                archive.extractall(staging, members=members)  # noqa: S202
        inner = staging / task_dir.name
        if not (inner / "dataset.json").is_file():
            raise DataError(f"{tar} holds no {task_dir.name}/dataset.json: not an MSD task tar")
        listing = json.loads((inner / "dataset.json").read_text(encoding="utf-8"))
        listed = [
            str(path)
            for entry in listing.get("training", [])
            for path in (entry.values() if isinstance(entry, dict) else [entry])
        ]
        absent = [path for path in listed if not (inner / path).is_file()]
        if absent or not listed:
            raise DataError(
                f"{tar} lacks {len(absent)} of the {len(listed)} files its dataset.json lists "
                f"(e.g. {absent[:2]}): a cut download"
            )
        for child in inner.iterdir():
            shutil.move(child, staging / child.name)
        inner.rmdir()
    return task_dir


def hippocampus_dataset(
    items: list[Any], roi_size: int, *, train: bool, limit: int | None = None
) -> Any:
    """A cached MONAI dataset of ``items`` (the first ``limit`` only, for a quick try) with
    ``hippocampus_transforms``; ``train`` adds the random augmentations."""
    from monai.data.dataset import CacheDataset

    part = items[:limit] if limit is not None else items
    return CacheDataset(
        part, hippocampus_transforms(roi_size, train=train), num_workers=0, progress=False
    )
