"""Models: forward shapes, MedicalNet layout per depth, the U-Net and its size rule."""

import pytest
import torch
from monai.networks.nets.resnet import get_medicalnet_pretrained_resnet_args

from {{ cookiecutter.package_name }}.model import (
    MEDICALNET_DEPTHS,
    backbone_depth,
    check_spatial_size,
    count_parameters,
    lesion_classifier,
    medicalnet_resnet,
    medicalnet_resnet_args,
    segmentation_unet,
)


def test_classifier_gives_two_logits_per_volume(small_volumes):
    model = lesion_classifier().eval()
    with torch.no_grad():
        logits = model(small_volumes.images[:4])
    assert logits.shape == (4, 2)
    assert torch.isfinite(logits).all()
    assert 100_000 < count_parameters(model) < 2_000_000  # slim: a quarter of the channels


@pytest.mark.parametrize("depth", MEDICALNET_DEPTHS)
def test_layout_per_depth_agrees_with_monai(depth):
    bias_downsample, shortcut_type = get_medicalnet_pretrained_resnet_args(depth)
    args = medicalnet_resnet_args(depth)
    assert (args["shortcut_type"], args["bias_downsample"]) == (shortcut_type, bias_downsample)
    assert args["conv1_t_stride"] == 2


def test_resnet18_uses_parameter_free_shortcuts_and_resnet10_convolutions():
    keys18 = medicalnet_resnet(18).state_dict().keys()
    keys10 = medicalnet_resnet(10).state_dict().keys()
    assert not any("downsample" in key for key in keys18)
    assert "layer2.0.downsample.0.weight" in keys10
    assert "layer2.0.downsample.0.bias" not in keys10  # MedicalNet's type B has no bias


def test_feature_extractor_returns_one_vector_per_volume(small_volumes):
    model = medicalnet_resnet(10).eval()
    with torch.no_grad():
        features = model(small_volumes.images[:2])
    assert features.shape == (2, 512)
    assert model.fc is None


def test_unknown_depth_and_pretrained_head_are_refused():
    with pytest.raises(ValueError, match="no ResNet-11"):
        medicalnet_resnet_args(11)
    with pytest.raises(ValueError, match="num_classes"):
        medicalnet_resnet(10, pretrained=True, num_classes=2)


@pytest.mark.parametrize(("name", "depth"), [("resnet10", 10), ("resnet50", 50)])
def test_backbone_names_give_their_depth(name, depth):
    assert backbone_depth(name) == depth


@pytest.mark.parametrize("name", ["resnet", "vgg16", "resnet11", "resnet-10"])
def test_bad_backbone_names_are_refused(name):
    with pytest.raises(ValueError):
        backbone_depth(name)


def test_unet_keeps_the_input_size_and_gives_one_channel_per_class():
    model = segmentation_unet("resnet10", num_classes=3).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 1, 32, 32, 32))
    assert logits.shape == (1, 3, 32, 32, 32)


def test_unet_encoder_has_exactly_the_medicalnet_keys():
    encoder = segmentation_unet("resnet10").encoder.state_dict()
    reference = medicalnet_resnet(10).state_dict()
    assert encoder.keys() == reference.keys()
    assert all(encoder[k].shape == reference[k].shape for k in reference)


def test_sizes_must_be_multiples_of_32():
    check_spatial_size((32, 64, 96))
    with pytest.raises(ValueError, match="multiple of 32"):
        check_spatial_size((30, 32, 32))
