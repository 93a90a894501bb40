"""Data: synthetic lesion volumes for the smoke run, MSD Task04_Hippocampus for the real run."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from .config import MSD_TASK
from .errors import DataError

log = logging.getLogger(__name__)


class LesionVolumes(NamedTuple):
    """A batch of synthetic 3D scans: which ones hold a lesion, and where it is."""

    images: torch.Tensor  # float32, (N, 1, S, S, S)
    labels: torch.Tensor  # int64, (N,): 1 when the volume holds a lesion
    masks: torch.Tensor  # uint8, (N, 1, S, S, S): the lesion voxels (empty when label is 0)


def make_lesion_volumes(
    n: int,
    size: int = 32,
    *,
    seed: int = 0,
    contrast: float = 2.5,
    noise: float = 1.0,
    bias_field: float = 0.5,
    radius: tuple[float, float] = (4.0, 7.0),
) -> LesionVolumes:
    """Make ``n`` noisy cubes of side ``size``; half of them (``n // 2``) hold a bright sphere.

    Each volume is Gaussian noise (std ``noise``) on a linear intensity ramp of random
    direction and slope up to ``bias_field`` across the cube, like the bias field of an MRI
    scan; a lesion is a sphere of radius in ``radius`` voxels that is ``contrast`` brighter,
    with a one-voxel soft edge. Same arguments, same tensors.
    """
    r_min, r_max = radius
    if n < 2:
        raise ValueError(f"n must be at least 2 (one scan of each class), got {n}")
    if not 0 < r_min <= r_max:
        raise ValueError(f"radius must be (min, max) with 0 < min <= max, got {radius}")
    if size < 2 * r_max + 4:
        raise ValueError(f"size {size} is too small for lesions of radius up to {r_max}")
    if contrast <= 0 or noise < 0 or bias_field < 0:
        raise ValueError("contrast must be positive, noise and bias_field non-negative")

    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=np.int64)
    labels[: n // 2] = 1
    rng.shuffle(labels)

    grid = np.stack(np.meshgrid(*(np.arange(size, dtype=np.float32),) * 3, indexing="ij"))
    centred = grid / (size - 1) - 0.5  # in [-0.5, 0.5]
    images = rng.normal(0.0, noise, size=(n, 1, size, size, size)).astype(np.float32)
    masks = np.zeros((n, 1, size, size, size), dtype=np.uint8)
    for i in range(n):
        ramp = rng.uniform(-bias_field, bias_field, size=3).astype(np.float32)
        images[i, 0] += np.tensordot(ramp, centred, axes=1)
        if labels[i]:
            r = rng.uniform(r_min, r_max)
            centre = rng.uniform(r + 1, size - r - 1, size=3).astype(np.float32)
            dist = np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(axis=0))
            images[i, 0] += contrast * np.clip(r + 0.5 - dist, 0.0, 1.0)
            masks[i, 0] = dist <= r
    return LesionVolumes(*(torch.from_numpy(a) for a in (images, labels, masks)))


def random_flips(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a batch (N, C, D, H, W) along each spatial axis with probability 1/2 (one draw
    per axis, shared by the batch)."""
    for axis in (2, 3, 4):
        if torch.rand(1, generator=generator).item() < 0.5:
            images = images.flip(axis)
    return images


def hippocampus_transforms(roi_size: int, *, train: bool) -> Any:
    """MONAI transforms for MSD Hippocampus: load, RAS, z-score the head, pad to a cube.

    The cube side ``roi_size`` must be a multiple of 32 for the MedicalNet-encoder U-Net; the
    hippocampus crops (about 35 x 50 x 35 voxels) fit in 64. Training adds flips and small
    intensity changes.
    """
    from monai import transforms as mt

    keys = ["image", "label"]
    steps: list[Any] = [
        mt.LoadImaged(keys=keys),
        mt.EnsureChannelFirstd(keys=keys),
        mt.Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S"))),
        mt.NormalizeIntensityd(keys="image", nonzero=True),
        mt.ResizeWithPadOrCropd(keys=keys, spatial_size=(roi_size,) * 3),
    ]
    if train:
        steps += [
            mt.RandFlipd(keys=keys, prob=0.5, spatial_axis=0),
            mt.RandScaleIntensityd(keys="image", factors=0.1, prob=0.5),
            mt.RandShiftIntensityd(keys="image", offsets=0.1, prob=0.5),
        ]
    steps.append(mt.EnsureTyped(keys=keys, track_meta=False))
    return mt.Compose(steps)


def hippocampus_datasets(
    data_dir: Path,
    *,
    roi_size: int = 64,
    val_frac: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
    download: bool = True,
) -> tuple[Any, Any]:
    """The training and validation splits of MSD Task04_Hippocampus as cached MONAI datasets.

    Downloads the task (27 MB) into ``data_dir`` on first use. ``limit`` keeps only the first
    ``limit`` volumes of each split (for a quick try). Raises ``DataError`` when the data is
    missing and cannot be downloaded.
    """
    from monai.apps import DecathlonDataset

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    need_download = download and not (data_dir / MSD_TASK / "dataset.json").exists()
    splits = []
    for section, train in (("training", True), ("validation", False)):
        try:
            ds = DecathlonDataset(
                root_dir=data_dir,
                task=MSD_TASK,
                section=section,
                transform=hippocampus_transforms(roi_size, train=train),
                download=need_download and section == "training",
                seed=seed,
                val_frac=val_frac,
                cache_rate=1.0,
                cache_num=limit if limit is not None else sys.maxsize,
                num_workers=2,
                progress=False,
            )
        except Exception as err:  # MONAI's download raises bare Exceptions too
            raise DataError(
                f"could not load {MSD_TASK} from {data_dir}: {err}. Download it (see README, "
                "'Real run') or pass --data-dir to where it is."
            ) from err
        if limit is not None:
            from torch.utils.data import Subset

            ds = Subset(ds, range(min(limit, len(ds))))
        splits.append(ds)
    log.info("%s: %d training and %d validation volumes", MSD_TASK, len(splits[0]), len(splits[1]))
    return splits[0], splits[1]
