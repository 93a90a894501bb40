"""Models: MONAI's 3D ResNets in the MedicalNet layout, and the MedicalNet-encoder U-Net.

MedicalNet's ResNets do not shrink the image in layers 3 and 4: those layers run with stride 1
and dilated convolutions (dilation 2 and 4), so the features stay at 1/8 of the input and
each 3x3x3 kernel spans 5 or 9 voxels. MONAI's ResNet strides there instead (1/32). The
tensors have the same names and shapes either way, so a loader that checks only keys and
shapes accepts Med3D weights into a strided encoder, which then runs them at another
receptive field. This repo builds the encoder as MedicalNet did (``dilate_like_medicalnet``)
and records the geometry next to the weights (``encoder_architecture``), see ``weights.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
from monai.networks.nets import resnet as monai_resnet
from monai.networks.nets.resnet import ResNet
from torch import nn
from torch.nn import functional as F

from .errors import WeightsError

#: Depths that MedicalNet published weights for.
MEDICALNET_DEPTHS = (10, 18, 34, 50, 101, 152, 200)
#: Dilation of MedicalNet's layers 3 and 4 (stride 1 there; MONAI strides by 2 instead).
MEDICALNET_DILATION = {"layer3": 2, "layer4": 4}
#: The geometry of every original MedicalNet encoder: (stride, dilation, kernel) per stage.
MEDICALNET_ARCHITECTURE: dict[str, dict[str, int]] = {
    "conv1": {"stride": 2, "dilation": 1, "kernel": 7},
    "layer1": {"stride": 1, "dilation": 1, "kernel": 3},
    "layer2": {"stride": 2, "dilation": 1, "kernel": 3},
    "layer3": {"stride": 1, "dilation": 2, "kernel": 3},
    "layer4": {"stride": 1, "dilation": 4, "kernel": 3},
}
STAGES = tuple(MEDICALNET_ARCHITECTURE)
#: Decoder widths (deepest first) of the real run's U-Net and of the smoke run's slim one.
DECODER_CHANNELS = (128, 64, 64, 32, 16)
SMOKE_DECODER_CHANNELS = (16, 16, 8, 8, 8)
#: Channel multiplier of the smoke run's encoder (MedicalNet's widths x 1/8).
SMOKE_WIDEN_FACTOR = 0.125


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


def medicalnet_resnet(
    depth: int = 10, *, pretrained: bool = False, dilated: bool = False, **kwargs: Any
) -> ResNet:
    """A 3D ResNet with MedicalNet's layout; ``pretrained=True`` downloads the Med3D weights.

    ``dilated=True`` also gives it MedicalNet's geometry (layers 3 and 4 dilated, not strided).
    Without ``num_classes`` it is a feature extractor (no final layer): the form the MedicalNet
    weights fit, so ``pretrained=True`` takes no ``num_classes``. Other keyword arguments
    (``widen_factor``...) go to MONAI. Downloading needs ``huggingface_hub`` (the ``real``
    group: ``make setup WITH=real``) and network access; any failure raises ``WeightsError``
    saying what to do.
    """
    if pretrained and "num_classes" in kwargs:
        raise ValueError(
            "pretrained MedicalNet weights fit the feature extractor: drop "
            "num_classes and put your own head on top"
        )
    options = medicalnet_resnet_args(depth)
    options["feed_forward"] = "num_classes" in kwargs
    options.update(kwargs)
    factory = getattr(monai_resnet, f"resnet{depth}")
    if not pretrained:
        model = factory(pretrained=False, **options)
    else:
        require_hub()
        try:
            model = factory(pretrained=True, **options)
        except Exception as err:  # the hub raises many kinds: offline, HTTP, missing file
            raise WeightsError(
                f"could not download the MedicalNet ResNet-{depth} weights through MONAI "
                f"({err}). Check the network and HF_HUB_OFFLINE, or load an original .pth "
                "file with --pth."
            ) from err
    return dilate_like_medicalnet(model) if dilated else model


def require_hub() -> None:
    """Raise ``WeightsError`` unless ``huggingface_hub`` (the ``real`` group) is installed."""
    if importlib.util.find_spec("huggingface_hub") is None:
        raise WeightsError(
            "downloading MedicalNet weights needs huggingface_hub: make setup WITH=real"
        )


def dilate_like_medicalnet(resnet: ResNet) -> ResNet:
    """Give a MONAI ResNet MedicalNet's geometry in place: layers 3 and 4 stride 1, dilated.

    No tensor changes shape, so weights load the same; only how they are applied changes.
    """
    for name, dilation in MEDICALNET_DILATION.items():
        for block in getattr(resnet, name):
            for conv in block.modules():
                if isinstance(conv, nn.Conv3d) and conv.kernel_size[0] > 1:
                    conv.stride = (1, 1, 1)
                    conv.dilation = (dilation,) * 3
                    conv.padding = (dilation * (conv.kernel_size[0] // 2),) * 3
                elif isinstance(conv, nn.Conv3d):  # a type-B shortcut: keep the resolution
                    conv.stride = (1, 1, 1)
            if isinstance(block.downsample, partial):  # a type-A shortcut: same, by keyword
                keywords = {**block.downsample.keywords, "stride": 1}
                block.downsample = partial(block.downsample.func, **keywords)
    return resnet


def encoder_architecture(resnet: nn.Module) -> dict[str, dict[str, int]]:
    """The geometry a ResNet encoder applies its weights with: stride, dilation and kernel
    size of the first spatial convolution of each stage (``STAGES``).

    Two encoders with the same tensors but another geometry (MedicalNet's dilated layers vs
    MONAI's strided ones) give different answers here; their ``state_dict`` shapes do not.
    """
    found: dict[str, dict[str, int]] = {}
    for stage in STAGES:
        module = getattr(resnet, stage)
        convs = [m for m in module.modules() if isinstance(m, nn.Conv3d)]
        spatial = [c for c in convs if max(c.kernel_size) > 1] or convs
        stride = max(c.stride[0] for c in convs)  # the shortcut may carry the stride
        first = spatial[0]
        found[stage] = {
            "stride": int(stride),
            "dilation": int(first.dilation[0]),
            "kernel": int(first.kernel_size[0]),
        }
    return found


def encoder_stride(resnet: nn.Module) -> int:
    """How much the encoder shrinks each side: 8 with MedicalNet's geometry, 32 strided."""
    geometry = encoder_architecture(resnet)
    pooled = 2 if not getattr(resnet, "no_max_pool", False) else 1
    total = pooled
    for stage in STAGES:
        total *= geometry[stage]["stride"]
    return total


class MedicalNetUNet(nn.Module):
    """A U-Net whose encoder is a MedicalNet ResNet (``self.encoder``, MedicalNet key names).

    The decoder walks back up from layer 4 through layers 3, 2, 1, the first convolution and
    the input itself: at each step it resizes to the skip's size (a no-op where a dilated layer
    kept the resolution), concatenates, and applies a 3x3x3 convolution, batch norm and ReLU.
    Inputs (N, 1, D, H, W) with sides divisible by ``encoder_stride``; outputs (N, classes,
    D, H, W) logits.
    """

    def __init__(
        self,
        encoder: ResNet,
        num_classes: int,
        decoder_channels: Sequence[int] = DECODER_CHANNELS,
    ) -> None:
        super().__init__()
        if len(decoder_channels) != 5:
            raise ValueError(f"decoder_channels needs 5 widths, got {tuple(decoder_channels)}")
        self.encoder = encoder
        widths = [_out_channels(getattr(encoder, stage)) for stage in STAGES]
        skips = [widths[3], widths[2], widths[1], widths[0], 1]  # layer3 .. conv1, the input
        blocks = []
        channels = widths[4]
        for skip, out in zip(skips, decoder_channels, strict=True):
            blocks.append(
                nn.Sequential(
                    nn.Conv3d(channels + skip, out, kernel_size=3, padding=1, bias=False),
                    nn.BatchNorm3d(out),
                    nn.ReLU(inplace=True),
                )
            )
            channels = out
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv3d(channels, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits per class and voxel."""
        enc = self.encoder
        stem = enc.act(enc.bn1(enc.conv1(x)))
        pooled = stem if getattr(enc, "no_max_pool", False) else enc.maxpool(stem)
        f1 = enc.layer1(pooled)
        f2 = enc.layer2(f1)
        f3 = enc.layer3(f2)
        y = enc.layer4(f3)
        for block, skip in zip(self.decoder, (f3, f2, f1, stem, x), strict=True):
            if y.shape[2:] != skip.shape[2:]:
                y = F.interpolate(y, size=skip.shape[2:], mode="trilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        out: torch.Tensor = self.head(y)
        return out


def _out_channels(stage: nn.Module) -> int:
    """The number of channels a stage (the first convolution, or a layer of blocks) puts out:
    the width of the last block's last batch norm on its main path."""
    if isinstance(stage, nn.Conv3d):
        return stage.out_channels
    last_block = list(stage.children())[-1]
    norms = [m for m in last_block.children() if isinstance(m, nn.BatchNorm3d)]
    return norms[-1].num_features


def segmentation_unet(
    backbone: str = "resnet10",
    num_classes: int = 3,
    *,
    widen_factor: float = 1.0,
    decoder_channels: Sequence[int] = DECODER_CHANNELS,
    dilated: bool = True,
) -> MedicalNetUNet:
    """The U-Net with a MedicalNet ResNet encoder, initialised at random.

    ``dilated=True`` (the default) runs layers 3 and 4 as MedicalNet trained them; load
    MedicalNet weights into ``model.encoder`` with ``weights.load_medicalnet_weights``.
    """
    depth = backbone_depth(backbone)
    encoder = medicalnet_resnet(depth, dilated=dilated, widen_factor=widen_factor)
    return MedicalNetUNet(encoder, num_classes, decoder_channels)


def smoke_unet(num_classes: int) -> MedicalNetUNet:
    """The smoke run's model: the real run's U-Net (ResNet-10, dilated), 1/8 as wide."""
    return segmentation_unet(
        "resnet10",
        num_classes,
        widen_factor=SMOKE_WIDEN_FACTOR,
        decoder_channels=SMOKE_DECODER_CHANNELS,
    )


def check_spatial_size(shape: Sequence[int], multiple: int = 8) -> None:
    """Raise ``ValueError`` unless every spatial side in ``shape`` is a positive multiple of
    ``multiple`` (``encoder_stride`` of the model: 8 for MedicalNet's geometry)."""
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
