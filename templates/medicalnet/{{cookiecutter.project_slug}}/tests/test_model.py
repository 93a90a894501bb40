"""Models: MedicalNet layout and geometry per depth, the U-Net and its size rule."""

import pytest
import torch
from monai.networks.nets.resnet import get_medicalnet_pretrained_resnet_args

from {{ cookiecutter.package_name }}.model import (
    MEDICALNET_ARCHITECTURE,
    MEDICALNET_DEPTHS,
    backbone_depth,
    check_spatial_size,
    count_parameters,
    encoder_architecture,
    encoder_stride,
    medicalnet_resnet,
    medicalnet_resnet_args,
    segmentation_unet,
    smoke_unet,
)


@pytest.mark.parametrize("depth", MEDICALNET_DEPTHS)
def test_layout_per_depth_agrees_with_monai(depth):
    bias_downsample, shortcut_type = get_medicalnet_pretrained_resnet_args(depth)
    args = medicalnet_resnet_args(depth)
    assert (args["shortcut_type"], args["bias_downsample"]) == (shortcut_type, bias_downsample)
    assert args["conv1_t_stride"] == 2


@pytest.mark.parametrize("depth", [10, 18, 50])
def test_dilated_encoders_have_medicalnets_geometry_and_strided_ones_do_not(depth):
    dilated = medicalnet_resnet(depth, dilated=True)
    strided = medicalnet_resnet(depth)
    assert encoder_architecture(dilated) == MEDICALNET_ARCHITECTURE
    assert encoder_architecture(strided)["layer3"] == {"stride": 2, "dilation": 1, "kernel": 3}
    assert (encoder_stride(dilated), encoder_stride(strided)) == (8, 32)
    # the trap: same tensors, so keys and shapes cannot tell the two apart
    a, b = dilated.state_dict(), strided.state_dict()
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)


@pytest.mark.parametrize("depth", [10, 18])
def test_a_dilated_encoder_keeps_layers_3_and_4_at_an_eighth_of_the_input(depth):
    encoder = medicalnet_resnet(depth, dilated=True).eval()
    x = torch.randn(1, 1, 32, 32, 32)
    with torch.no_grad():
        x = encoder.maxpool(encoder.act(encoder.bn1(encoder.conv1(x))))
        sides = [
            tuple((x := layer(x)).shape[2:])
            for layer in (encoder.layer1, encoder.layer2, encoder.layer3, encoder.layer4)
        ]
    assert sides == [(8, 8, 8), (4, 4, 4), (4, 4, 4), (4, 4, 4)]


def test_resnet18_uses_parameter_free_shortcuts_and_resnet10_convolutions():
    keys18 = medicalnet_resnet(18).state_dict().keys()
    keys10 = medicalnet_resnet(10).state_dict().keys()
    assert not any("downsample" in key for key in keys18)
    assert "layer2.0.downsample.0.weight" in keys10
    assert "layer2.0.downsample.0.bias" not in keys10  # MedicalNet's type B has no bias


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


@pytest.mark.parametrize(("dilated", "side"), [(True, 24), (False, 32)])
def test_unet_keeps_the_input_size_and_gives_one_channel_per_class(dilated, side):
    model = segmentation_unet("resnet10", num_classes=3, dilated=dilated).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 1, side, side, side))
    assert logits.shape == (1, 3, side, side, side)


def test_unet_encoder_has_exactly_the_medicalnet_keys_and_geometry():
    encoder = segmentation_unet("resnet10").encoder
    reference = medicalnet_resnet(10).state_dict()
    assert encoder.state_dict().keys() == reference.keys()
    assert all(encoder.state_dict()[k].shape == reference[k].shape for k in reference)
    assert encoder_architecture(encoder) == MEDICALNET_ARCHITECTURE


def test_the_smoke_unet_is_the_same_model_only_slimmer():
    slim, full = smoke_unet(2), segmentation_unet("resnet10", num_classes=2)
    assert type(slim) is type(full)
    assert encoder_architecture(slim.encoder) == MEDICALNET_ARCHITECTURE
    assert slim.encoder.state_dict().keys() == full.encoder.state_dict().keys()
    assert count_parameters(slim) < count_parameters(full) / 20


def test_sizes_must_be_multiples_of_the_encoder_stride():
    check_spatial_size((24, 32, 64))
    with pytest.raises(ValueError, match="multiple of 8"):
        check_spatial_size((30, 32, 32))
    with pytest.raises(ValueError, match="multiple of 32"):
        check_spatial_size((48, 32, 32), multiple=32)
