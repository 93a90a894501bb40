"""The MedicalNet weights loader: original format round trip, prefixes, errors, reports."""

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.model import (
    lesion_classifier,
    medicalnet_resnet,
    segmentation_unet,
)
from {{ cookiecutter.package_name }}.weights import (
    load_medicalnet_weights,
    load_state_dict_checked,
    read_medicalnet_state_dict,
    save_medicalnet_checkpoint,
)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_saved_file_has_the_original_medicalnet_format(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10), tmp_path / "resnet_10.pth")
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"state_dict"}
    assert all(key.startswith("module.") for key in raw["state_dict"])


def test_round_trip_restores_every_tensor(tmp_path):
    torch.manual_seed(0)
    source = medicalnet_resnet(10)
    path = save_medicalnet_checkpoint(source, tmp_path / "resnet_10.pth")
    torch.manual_seed(1)
    target = medicalnet_resnet(10)
    report = load_medicalnet_weights(target, path)
    assert_same_weights(source, target)
    assert report.loaded == len(source.state_dict())
    assert report.missing == () and report.unexpected == ()


def test_bare_state_dict_without_prefixes_also_loads(tmp_path):
    source = lesion_classifier()
    torch.save(source.state_dict(), tmp_path / "bare.pth")
    state = read_medicalnet_state_dict(tmp_path / "bare.pth")
    assert not any(key.startswith("module.") for key in state)
    target = lesion_classifier()
    load_state_dict_checked(target, state)
    assert_same_weights(source, target)


def test_medicalnet_weights_fill_the_unet_encoder(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10), tmp_path / "resnet_10.pth")
    unet = segmentation_unet("resnet10")
    report = load_medicalnet_weights(unet.encoder, path)
    assert report.missing == ()
    assert torch.equal(unet.encoder.conv1.weight, read_medicalnet_state_dict(path)["conv1.weight"])


def test_extra_keys_such_as_a_segmentation_head_are_skipped_and_reported(tmp_path):
    state = medicalnet_resnet(10).state_dict()
    state["conv_seg.0.weight"] = torch.zeros(1)
    torch.save({"state_dict": {"module." + k: v for k, v in state.items()}}, tmp_path / "seg.pth")
    report = load_medicalnet_weights(medicalnet_resnet(10), tmp_path / "seg.pth")
    assert report.unexpected == ("conv_seg.0.weight",)


def test_missing_keys_are_an_error_that_names_them(tmp_path):
    state = medicalnet_resnet(10).state_dict()
    del state["layer4.0.conv2.weight"]
    with pytest.raises(WeightsError, match=r"layer4\.0\.conv2\.weight"):
        load_state_dict_checked(medicalnet_resnet(10), state)


def test_a_new_head_may_be_missing_when_allowed(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10, widen_factor=0.25), tmp_path / "w.pth")
    with pytest.raises(WeightsError, match=r"fc\.weight"):
        load_medicalnet_weights(lesion_classifier(), path)
    report = load_medicalnet_weights(lesion_classifier(), path, allow_missing=["fc."])
    assert report.missing == ("fc.weight", "fc.bias")


def test_old_checkpoints_without_batch_counters_load(tmp_path):
    state = {k: v for k, v in medicalnet_resnet(10).state_dict().items()
             if not k.endswith("num_batches_tracked")}
    report = load_state_dict_checked(medicalnet_resnet(10), state)
    assert report.missing == ()


def test_another_depth_is_a_shape_or_key_error(tmp_path):
    path = save_medicalnet_checkpoint(medicalnet_resnet(18), tmp_path / "resnet_18.pth")
    with pytest.raises(WeightsError, match=r"missing|shape"):
        load_medicalnet_weights(medicalnet_resnet(10), path)
    slim = save_medicalnet_checkpoint(lesion_classifier(), tmp_path / "slim.pth")
    with pytest.raises(WeightsError, match="wrong shape"):
        load_medicalnet_weights(medicalnet_resnet(10), slim, allow_missing=["fc."])


def test_unreadable_files_give_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="no weights file"):
        read_medicalnet_state_dict(tmp_path / "absent.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(WeightsError, match="not a readable PyTorch checkpoint"):
        read_medicalnet_state_dict(tmp_path / "text.pth")
    torch.save({"state_dict": {"epoch": 3}}, tmp_path / "empty.pth")
    with pytest.raises(WeightsError, match="no tensors"):
        read_medicalnet_state_dict(tmp_path / "empty.pth")
