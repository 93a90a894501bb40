"""Models: MONAI's 3D ResNets in the MedicalNet layout, and the MedicalNet-encoder U-Net."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from monai.networks import nets
from torch import nn

from .errors import WeightsError

#: Depths that MedicalNet published weights for.
MEDICALNET_DEPTHS = (10, 18, 34, 50, 101, 152, 200)
#: How much the encoder shrinks each side of its input: the U-Net needs sides divisible by it.
ENCODER_STRIDE = 32


def medicalnet_resnet_args(depth: int) -> dict[str, Any]:
    """The ResNet options that reproduce MedicalNet's layout at ``depth``.

    MedicalNet's ResNet-18 and -34 downsample their shortcuts by zero-padding (type "A"); the
    other depths use a bias-free 1x1x1 convolution (type "B"). The first convolution has stride 2.
    """
    if depth not in MEDICALNET_DEPTHS:
        raise ValueError(f"MedicalNet has no ResNet-{depth}; depths: {MEDICALNET_DEPTHS}")
    basic = depth in (18, 34)
    return {
        "spatial_dims": 3,
        "n_input_channels": 1,
        "conv1_t_stride": 2,
        "shortcut_type": "A" if basic else "B",
        "bias_downsample": basic,
    }


def backbone_depth(backbone: str) -> int:
    """The depth in a backbone name: ``"resnet10"`` -> 10; ``ValueError`` on anything else."""
    digits = backbone.removeprefix("resnet")
    if not backbone.startswith("resnet") or not digits.isdigit():
        raise ValueError(f"backbone must look like 'resnet10', got {backbone!r}")
    depth = int(digits)
    medicalnet_resnet_args(depth)  # raises for a depth MedicalNet never published
    return depth


def medicalnet_resnet(depth: int = 10, *, pretrained: bool = False, **kwargs: Any) -> nets.ResNet:
    """A 3D ResNet with MedicalNet's layout; ``pretrained=True`` downloads the Med3D weights.

    Without ``num_classes`` it is a feature extractor (no final layer): the form the MedicalNet
    weights fit, so ``pretrained=True`` takes no ``num_classes``. Other keyword arguments
    (``widen_factor``...) go to MONAI. Downloading needs ``huggingface_hub`` (the ``real``
    extra) and network access; any failure raises ``WeightsError`` saying what to do.
    """
    if pretrained and "num_classes" in kwargs:
        raise ValueError("pretrained MedicalNet weights fit the feature extractor: drop "
                         "num_classes and put your own head on top")
    options = medicalnet_resnet_args(depth)
    options["feed_forward"] = "num_classes" in kwargs
    options.update(kwargs)
    factory = getattr(nets, f"resnet{depth}")
    if not pretrained:
        return factory(pretrained=False, **options)
    require_hub()
    try:
        return factory(pretrained=True, **options)
    except Exception as err:  # the hub raises many kinds: offline, HTTP, missing file
        raise WeightsError(
            f"could not download the MedicalNet ResNet-{depth} weights through MONAI ({err}). "
            "Check the network and HF_HUB_OFFLINE, or load an original .pth file with --pth."
        ) from err


def require_hub() -> None:
    """Raise ``WeightsError`` unless ``huggingface_hub`` (the ``real`` extra) is installed."""
    if importlib.util.find_spec("huggingface_hub") is None:
        raise WeightsError(
            "downloading MedicalNet weights needs huggingface_hub: pip install -e '.[real]'"
        )


def lesion_classifier(widen_factor: float = 0.25, num_classes: int = 2) -> nets.ResNet:
    """The smoke run's model: a slim MedicalNet-layout ResNet-10 that labels a whole volume."""
    return medicalnet_resnet(10, widen_factor=widen_factor, num_classes=num_classes)


def segmentation_unet(backbone: str = "resnet10", num_classes: int = 3) -> nets.FlexibleUNet:
    """A U-Net whose encoder is a MedicalNet ResNet (``model.encoder``), initialised at random.

    Load MedicalNet weights into ``model.encoder`` with ``weights.load_state_dict_checked``.
    Inputs are (N, 1, D, H, W) with every side divisible by 32; outputs are (N, num_classes,
    D, H, W) logits.
    """
    backbone_depth(backbone)
    return nets.FlexibleUNet(
        in_channels=1,
        out_channels=num_classes,
        backbone=backbone,
        pretrained=False,
        spatial_dims=3,
        is_pad=False,
    )


def check_spatial_size(shape: Sequence[int], multiple: int = ENCODER_STRIDE) -> None:
    """Raise ``ValueError`` unless every spatial side in ``shape`` is a positive multiple of
    ``multiple``."""
    bad = [side for side in shape if side <= 0 or side % multiple]
    if bad:
        nearest = multiple * max(1, -(-max(shape) // multiple))
        raise ValueError(
            f"every side must be a multiple of {multiple} for the MedicalNet-encoder U-Net, "
            f"got {tuple(shape)}; pad or crop to e.g. {nearest}"
        )


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
