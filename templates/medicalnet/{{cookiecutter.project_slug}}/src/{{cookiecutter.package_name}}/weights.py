"""MedicalNet weights: read an original ``.pth`` file, write one, or download one through MONAI.

The original MedicalNet checkpoints are ``torch.save({"state_dict": ...})`` of a model wrapped in
``nn.DataParallel``, so every key starts with ``module.``. Loading checks every key and shape
and reports what it skipped, instead of failing deep inside ``load_state_dict`` (or, worse,
silently leaving layers at random).

Keys and shapes cannot tell how the weights were applied: MedicalNet's layers 3 and 4 are
dilated (stride 1, dilation 2 and 4) where MONAI's are strided, with identical tensors. So the
geometry is checked too (``check_architecture``): files written here carry it beside the state
dict (``{"state_dict": ..., "architecture": ...}``, which MedicalNet's own code still reads,
since it only looks at ``"state_dict"``); an original file carries none and is taken to have
MedicalNet's geometry (``model.MEDICALNET_ARCHITECTURE``). A mismatch is an error unless the
caller accepts it explicitly, and then it is logged as a warning and kept in the load report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import WeightsError
from .model import (
    MEDICALNET_ARCHITECTURE,
    encoder_architecture,
    medicalnet_resnet_args,
    require_hub,
)
from .runs import atomic_file

log = logging.getLogger(__name__)

#: Prefix that ``nn.DataParallel`` adds to every key.
DATA_PARALLEL_PREFIX = "module."
#: Tries per weights download before giving up (every error is shown).
DOWNLOAD_ATTEMPTS = 2
#: Buffers that old checkpoints lack and PyTorch fills in itself: never reported as missing.
IGNORED_MISSING_SUFFIXES = ("num_batches_tracked",)


@dataclass(frozen=True)
class LoadReport:
    """What a weights load did: how many tensors it copied, what it left out and why."""

    source: str
    loaded: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    #: Where the file's geometry differs from the model's, when the caller accepted it.
    architecture_mismatch: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "source": self.source,
            "loaded": self.loaded,
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "architecture_mismatch": list(self.architecture_mismatch),
        }

    def summary(self) -> str:
        """One line for the log."""
        return (
            f"{self.source}: loaded {self.loaded} tensors, {len(self.missing)} left as "
            f"initialised, {len(self.unexpected)} in the file unused"
        )


def strip_prefix(
    state: Mapping[str, torch.Tensor], prefix: str = DATA_PARALLEL_PREFIX
) -> dict[str, torch.Tensor]:
    """The same tensors with a leading ``prefix`` removed from every key that has it."""
    return {key.removeprefix(prefix): value for key, value in state.items()}


def read_medicalnet_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read an original MedicalNet ``.pth`` file into a state dict with plain key names.

    Accepts ``{"state_dict": {...}}`` (the original format, with or without ``module.``
    prefixes) and a bare state dict. Raises ``WeightsError`` for a missing file, a file that is
    not a PyTorch checkpoint, or one that holds no tensors.
    """
    return read_medicalnet_checkpoint(path)[0]


def read_medicalnet_checkpoint(
    path: str | Path,
) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, int]] | None]:
    """Read a MedicalNet ``.pth`` file: its state dict (plain key names) and the encoder
    geometry recorded beside it (None for an original MedicalNet file, which records none).

    Raises ``WeightsError`` like ``read_medicalnet_state_dict``.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"no weights file at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and unpickling errors all mean "not a checkpoint"
        raise WeightsError(f"{path} is not a readable PyTorch checkpoint: {err}") from err
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        raise WeightsError(f"{path} holds no state dict (expected a 'state_dict' entry)")
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise WeightsError(f"{path} holds no tensors; top-level keys: {sorted(state)[:10]}")
    recorded = checkpoint.get("architecture") if "state_dict" in checkpoint else None
    return strip_prefix(tensors), recorded


def check_architecture(
    model: nn.Module,
    recorded: Mapping[str, Mapping[str, int]] | None,
    *,
    source: str = "weights",
    accept_mismatch: bool = False,
) -> tuple[str, ...]:
    """Compare the geometry the weights were trained with to the one ``model`` applies.

    ``recorded`` is what the file says (``read_medicalnet_checkpoint``); None means an original
    MedicalNet file, so MedicalNet's geometry (layers 3 and 4 dilated). Returns the differences
    (empty when they agree). A difference raises ``WeightsError`` unless ``accept_mismatch``,
    which logs a warning instead: the weights then run at another receptive field than the one
    they learned.
    """
    expected = recorded if recorded is not None else MEDICALNET_ARCHITECTURE
    actual = encoder_architecture(model)
    differences = tuple(
        f"{stage}.{field}: weights {expected[stage][field]} vs model {actual[stage][field]}"
        for stage in expected
        for field in expected[stage]
        if stage in actual and actual[stage].get(field) != expected[stage][field]
    )
    if differences and not accept_mismatch:
        raise WeightsError(
            f"{source}: the weights were trained with another encoder geometry than the model "
            f"applies ({'; '.join(differences)}). Same tensor shapes, different receptive "
            "field: build the encoder with dilated=True (MedicalNet's layout), or accept the "
            "mismatch explicitly (--accept-architecture-mismatch)."
        )
    if differences:
        log.warning(
            "%s: ARCHITECTURE MISMATCH accepted, the weights run at another receptive "
            "field than they were trained with: %s",
            source,
            "; ".join(differences),
        )
    return differences


def load_state_dict_checked(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str = "state dict",
    allow_missing: Iterable[str] = (),
) -> LoadReport:
    """Copy ``state`` into ``model`` after checking that it fits; return what was done.

    Keys of the model that the state lacks are an error unless they start with a prefix in
    ``allow_missing`` (say ``"fc."`` for a new classification head). Keys in the state that the
    model lacks (say MedicalNet's ``conv_seg.`` head) are skipped and reported. A shape
    mismatch is always an error: it means another depth, width or shortcut type.
    """
    # >>> assignment: check keys and shapes, load, return a LoadReport
    state = strip_prefix(state)
    own = model.state_dict()
    allowed = tuple(allow_missing)
    mismatched = [
        f"{key}: file {tuple(state[key].shape)} vs model {tuple(value.shape)}"
        for key, value in own.items()
        if key in state and state[key].shape != value.shape
    ]
    if mismatched:
        raise WeightsError(
            f"{source}: {len(mismatched)} tensors have the wrong shape, e.g. "
            f"{'; '.join(mismatched[:3])}. Is it the same depth and width?"
        )
    missing = tuple(
        key for key in own if key not in state and not key.endswith(IGNORED_MISSING_SUFFIXES)
    )
    not_allowed = [key for key in missing if not key.startswith(allowed)]
    if not_allowed:
        raise WeightsError(
            f"{source}: {len(not_allowed)} tensors the model needs are missing, e.g. "
            f"{', '.join(not_allowed[:5])}. Check the depth, and the shortcut type: MedicalNet's "
            "ResNet-18/34 use type A, the others type B."
        )
    unexpected = tuple(key for key in state if key not in own)
    usable = {key: value for key, value in state.items() if key in own}
    model.load_state_dict(usable, strict=False)
    report = LoadReport(source, len(usable), missing, unexpected)
    log.info(report.summary())
    return report
    # <<< assignment


def load_medicalnet_weights(
    model: nn.Module,
    path: str | Path,
    *,
    allow_missing: Iterable[str] = (),
    accept_architecture_mismatch: bool = False,
) -> LoadReport:
    """Read a MedicalNet ``.pth`` file and load it into ``model`` (an encoder), checked: the
    geometry first (``check_architecture``), then every key and shape."""
    state, recorded = read_medicalnet_checkpoint(path)
    return load_encoder_state(
        model,
        state,
        recorded,
        source=str(path),
        allow_missing=allow_missing,
        accept_architecture_mismatch=accept_architecture_mismatch,
    )


def load_encoder_state(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    recorded: Mapping[str, Mapping[str, int]] | None,
    *,
    source: str,
    allow_missing: Iterable[str] = (),
    accept_architecture_mismatch: bool = False,
) -> LoadReport:
    """Check the geometry, then load ``state`` with ``load_state_dict_checked``."""
    mismatch = check_architecture(
        model, recorded, source=source, accept_mismatch=accept_architecture_mismatch
    )
    report = load_state_dict_checked(model, state, source=source, allow_missing=allow_missing)
    return replace(report, architecture_mismatch=mismatch)


def save_medicalnet_checkpoint(
    model: nn.Module, path: str | Path, *, head: nn.Module | None = None
) -> Path:
    """Write ``model``'s weights (an encoder) in the original MedicalNet format.

    ``{"state_dict": {"module.<key>": tensor}}`` as MedicalNet's ``nn.DataParallel`` saved them,
    with ``head`` (say the decoder of the pretraining task) under ``module.conv_seg.`` as
    MedicalNet's segmentation head was, plus ``"architecture"``: the encoder's geometry
    (``encoder_architecture``). The file loads back with ``load_medicalnet_weights``; MedicalNet's
    own code reads only ``"state_dict"``. Written beside ``path`` and renamed into place, so an
    interrupted save never leaves a half-written file there.
    """
    path = Path(path)
    state = {DATA_PARALLEL_PREFIX + key: value for key, value in model.state_dict().items()}
    if head is not None:
        state.update(
            {
                f"{DATA_PARALLEL_PREFIX}conv_seg.{key}": value
                for key, value in head.state_dict().items()
            }
        )
    with atomic_file(path) as partial:
        torch.save({"state_dict": state, "architecture": encoder_architecture(model)}, partial)
    return path


def download_medicalnet_state_dict(depth: int) -> dict[str, torch.Tensor]:
    """The Med3D weights of ResNet-``depth`` (23-dataset version where there is one) from the
    Hugging Face hub, through MONAI, with plain key names.

    Raises ``WeightsError`` when ``huggingface_hub`` is missing or the download fails.
    """
    medicalnet_resnet_args(depth)
    require_hub()
    from monai.networks.nets import resnet as monai_resnet

    errors: list[str] = []
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            # the hub client downloads beside its cache entry and renames it into place
            state = monai_resnet.get_pretrained_resnet_medicalnet(
                depth, device="cpu", datasets23=True
            )
            break
        except Exception as err:  # the hub raises many kinds: offline, HTTP, missing file
            errors.append(f"try {attempt}: {type(err).__name__}: {err}")
            log.warning("MedicalNet ResNet-%d download failed: %s", depth, errors[-1])
    else:
        raise WeightsError(
            f"could not download the MedicalNet ResNet-{depth} weights ({'; '.join(errors)}). "
            "Check the network and HF_HUB_OFFLINE, or pass an original .pth file with --pth "
            "(weights) or --weights (train)."
        )
    if not state:
        raise WeightsError(f"the MedicalNet ResNet-{depth} download holds no state dict")
    return strip_prefix(state)
