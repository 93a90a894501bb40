"""Real weights and data (network): run with RUN_REAL=1 after `make setup-real`."""

import pytest
import torch

from {{ cookiecutter.package_name }}.model import (
    medicalnet_resnet,
    segmentation_unet,
)
from {{ cookiecutter.package_name }}.weights import (
    download_medicalnet_state_dict,
    load_state_dict_checked,
)

pytestmark = pytest.mark.real


def test_monai_loads_the_medicalnet_resnet10_weights():
    model = medicalnet_resnet(10, pretrained=True).eval()
    with torch.no_grad():
        features = model(torch.randn(1, 1, 32, 32, 32))
    assert features.shape == (1, 512)


def test_downloaded_weights_fill_the_unet_encoder_completely():
    state = download_medicalnet_state_dict(10)
    report = load_state_dict_checked(segmentation_unet("resnet10").encoder, state)
    assert report.missing == ()
    assert report.loaded >= 60


def test_hippocampus_downloads_and_has_the_expected_labels(tmp_path):
    from {{ cookiecutter.package_name }}.data import hippocampus_datasets

    train, val = hippocampus_datasets(tmp_path / "data", limit=2)
    item = train[0]
    assert item["image"].shape == (1, 64, 64, 64)
    assert set(torch.unique(item["label"]).tolist()) <= {0.0, 1.0, 2.0}
    assert len(val) == 2
