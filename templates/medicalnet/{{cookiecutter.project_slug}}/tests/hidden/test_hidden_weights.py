"""Instructor tests: the checked state-dict load (prefixes, buffers, reports, no partial loads)."""

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.model import medicalnet_resnet
from {{ cookiecutter.package_name }}.weights import LoadReport, load_state_dict_checked


def lesion_classifier():
    """A slim MedicalNet-layout ResNet-10 with a two-class head."""
    return medicalnet_resnet(10, widen_factor=0.25, num_classes=2)


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_prefixed_keys_load_every_tensor_buffers_included_and_report_exactly():
    torch.manual_seed(0)
    source = lesion_classifier()
    with torch.no_grad():
        source.bn1.running_mean.uniform_(1.0, 2.0)  # buffers must be copied too
    state = {"module." + k: v for k, v in source.state_dict().items()}
    state["module.conv_seg.0.weight"] = torch.zeros(2)
    state["module.conv_seg.0.bias"] = torch.zeros(2)
    torch.manual_seed(1)
    target = lesion_classifier()
    report = load_state_dict_checked(target, state, source="ckpt.pth")
    assert isinstance(report, LoadReport)
    assert report.source == "ckpt.pth"
    assert report.loaded == len(source.state_dict())
    assert report.missing == ()
    assert report.unexpected == ("conv_seg.0.weight", "conv_seg.0.bias")
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


def test_allowed_missing_keys_are_reported_in_model_order_and_keep_their_values():
    torch.manual_seed(0)
    state = {
        k: v
        for k, v in lesion_classifier().state_dict().items()
        if not k.startswith("fc.") and not k.endswith("num_batches_tracked")
    }
    target = lesion_classifier()
    head = target.fc.weight.detach().clone()
    report = load_state_dict_checked(target, state, allow_missing=("fc.",))
    assert report.missing == ("fc.weight", "fc.bias")  # batch counters are never reported
    assert report.loaded == len(state)
    assert torch.equal(target.fc.weight, head)


@pytest.mark.parametrize("problem", ["shape", "missing"])
def test_a_bad_state_is_refused_before_anything_is_copied(problem):
    torch.manual_seed(0)
    state = medicalnet_resnet(10, widen_factor=0.25).state_dict()
    if problem == "shape":
        state["layer3.0.conv1.weight"] = torch.zeros(1, 1, 3, 3, 3)
        match = r"layer3\.0\.conv1\.weight"
    else:
        del state["layer2.0.bn1.running_var"]
        match = r"layer2\.0\.bn1\.running_var"
    target = lesion_classifier()
    before = snapshot(target)
    with pytest.raises(WeightsError, match=match):
        load_state_dict_checked(target, state, allow_missing=("fc.",))
    after = target.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
