"""The MedicalNet weights loader: original format, prefixes, geometry, errors, reports."""

import logging

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.model import (
    MEDICALNET_ARCHITECTURE,
    medicalnet_resnet,
    segmentation_unet,
)
from {{ cookiecutter.package_name }}.weights import (
    check_architecture,
    load_medicalnet_weights,
    load_state_dict_checked,
    read_medicalnet_checkpoint,
    read_medicalnet_state_dict,
    save_medicalnet_checkpoint,
)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def original_file(tmp_path, depth=10, name="resnet_10_23dataset.pth"):
    """A file laid out as MedicalNet's own: prefixed state dict and a conv_seg head, no geometry."""
    state = {
        "module." + k: v for k, v in medicalnet_resnet(depth, dilated=True).state_dict().items()
    }
    state["module.conv_seg.0.weight"] = torch.zeros(2, 2, 1, 1, 1)
    torch.save({"state_dict": state}, tmp_path / name)
    return tmp_path / name


def test_saved_file_has_the_original_medicalnet_layout_and_its_geometry(tmp_path):
    encoder = medicalnet_resnet(10, dilated=True)
    head = torch.nn.Conv3d(4, 2, 1)
    path = save_medicalnet_checkpoint(encoder, tmp_path / "resnet_10.pth", head=head)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"state_dict", "architecture"}
    assert all(key.startswith("module.") for key in raw["state_dict"])
    assert {"module.conv_seg.weight", "module.conv_seg.bias"} <= set(raw["state_dict"])
    assert raw["architecture"] == MEDICALNET_ARCHITECTURE


def test_round_trip_restores_every_tensor_and_skips_the_head(tmp_path):
    torch.manual_seed(0)
    source = medicalnet_resnet(10, dilated=True)
    path = save_medicalnet_checkpoint(source, tmp_path / "w.pth", head=torch.nn.Conv3d(4, 2, 1))
    torch.manual_seed(1)
    target = medicalnet_resnet(10, dilated=True)
    report = load_medicalnet_weights(target, path)
    assert_same_weights(source, target)
    assert report.loaded == len(source.state_dict())
    assert report.missing == () and report.architecture_mismatch == ()
    assert report.unexpected == ("conv_seg.weight", "conv_seg.bias")


def test_an_original_file_fills_the_dilated_unet_encoder(tmp_path):
    path = original_file(tmp_path)
    state, recorded = read_medicalnet_checkpoint(path)
    assert recorded is None  # MedicalNet's own files record no geometry
    unet = segmentation_unet("resnet10")
    report = load_medicalnet_weights(unet.encoder, path)
    assert report.missing == () and report.unexpected == ("conv_seg.0.weight",)
    assert torch.equal(unet.encoder.conv1.weight, state["conv1.weight"])


def test_an_original_file_refuses_a_strided_encoder_that_shapes_cannot_tell_apart(tmp_path):
    path = original_file(tmp_path)
    strided = segmentation_unet("resnet10", dilated=False).encoder
    before = strided.conv1.weight.clone()
    with pytest.raises(WeightsError, match=r"layer3\.stride: weights 1 vs model 2") as err:
        load_medicalnet_weights(strided, path)
    assert "dilation" in str(err.value) and "receptive field" in str(err.value)
    assert torch.equal(strided.conv1.weight, before)  # nothing copied


def test_an_accepted_mismatch_loads_warns_and_stays_in_the_report(tmp_path, caplog):
    path = original_file(tmp_path)
    strided = segmentation_unet("resnet10", dilated=False).encoder
    with caplog.at_level(logging.WARNING):
        report = load_medicalnet_weights(strided, path, accept_architecture_mismatch=True)
    assert "ARCHITECTURE MISMATCH" in caplog.text
    assert report.loaded > 0
    assert set(report.architecture_mismatch) == {
        "layer3.stride: weights 1 vs model 2",
        "layer3.dilation: weights 2 vs model 1",
        "layer4.stride: weights 1 vs model 2",
        "layer4.dilation: weights 4 vs model 1",
    }
    assert report.as_dict()["architecture_mismatch"] == list(report.architecture_mismatch)


def test_a_recorded_geometry_is_checked_against_the_model():
    strided = medicalnet_resnet(10)
    recorded = {stage: dict(v) for stage, v in MEDICALNET_ARCHITECTURE.items()}
    recorded["layer3"] = {"stride": 2, "dilation": 1, "kernel": 3}
    recorded["layer4"] = {"stride": 2, "dilation": 1, "kernel": 3}
    assert check_architecture(strided, recorded) == ()
    recorded["layer1"]["kernel"] = 1  # weights from a network of 1x1x1 kernels
    with pytest.raises(WeightsError, match=r"layer1\.kernel: weights 1 vs model 3"):
        check_architecture(strided, recorded)


def test_missing_keys_are_an_error_that_names_them():
    state = medicalnet_resnet(10).state_dict()
    del state["layer4.0.conv2.weight"]
    with pytest.raises(WeightsError, match=r"layer4\.0\.conv2\.weight"):
        load_state_dict_checked(medicalnet_resnet(10), state)


def test_a_new_head_may_be_missing_when_allowed(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10, widen_factor=0.25), tmp_path / "w.pth")
    classifier = medicalnet_resnet(10, widen_factor=0.25, num_classes=2)
    with pytest.raises(WeightsError, match=r"fc\.weight"):
        load_medicalnet_weights(classifier, path)
    report = load_medicalnet_weights(classifier, path, allow_missing=["fc."])
    assert report.missing == ("fc.weight", "fc.bias")


def test_old_checkpoints_without_batch_counters_load():
    state = {
        k: v
        for k, v in medicalnet_resnet(10).state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    report = load_state_dict_checked(medicalnet_resnet(10), state)
    assert report.missing == ()


def test_another_depth_or_width_is_a_shape_or_key_error(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(18), tmp_path / "resnet_18.pth")
    with pytest.raises(WeightsError, match=r"missing|shape"):
        load_medicalnet_weights(medicalnet_resnet(10), path)
    slim = save_medicalnet_checkpoint(medicalnet_resnet(10, widen_factor=0.25), tmp_path / "s.pth")
    with pytest.raises(WeightsError, match="wrong shape"):
        load_medicalnet_weights(medicalnet_resnet(10), slim)


def test_unreadable_files_give_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="no weights file"):
        read_medicalnet_state_dict(tmp_path / "absent.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(WeightsError, match="not a readable PyTorch checkpoint"):
        read_medicalnet_state_dict(tmp_path / "text.pth")
    torch.save({"state_dict": {"epoch": 3}}, tmp_path / "empty.pth")
    with pytest.raises(WeightsError, match="no tensors"):
        read_medicalnet_state_dict(tmp_path / "empty.pth")
