"""Real weights and data (network): run with RUN_REAL=1 after `make setup-real`."""

import pytest
import torch

from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.model import (
    medicalnet_resnet,
    segmentation_unet,
)
from {{ cookiecutter.package_name }}.weights import (
    download_medicalnet_state_dict,
    load_encoder_state,
)

pytestmark = pytest.mark.real


def test_monai_loads_the_medicalnet_resnet10_weights():
    model = medicalnet_resnet(10, pretrained=True).eval()
    with torch.no_grad():
        features = model(torch.randn(1, 1, 32, 32, 32))
    assert features.shape == (1, 512)


def test_downloaded_weights_fill_the_dilated_unet_encoder_and_refuse_a_strided_one():
    state = download_medicalnet_state_dict(10)
    report = load_encoder_state(segmentation_unet("resnet10").encoder, state, None, source="hub")
    assert report.missing == () and report.architecture_mismatch == ()
    assert report.loaded >= 60
    with pytest.raises(WeightsError, match="geometry"):
        load_encoder_state(
            segmentation_unet("resnet10", dilated=False).encoder, state, None, source="hub"
        )


def test_hippocampus_downloads_and_has_the_expected_labels(tmp_path):
    from {{ cookiecutter.package_name }}.data import hippocampus_dataset, hippocampus_split_items

    train, dev, test = hippocampus_split_items(tmp_path / "data")
    assert len(train) + len(dev) + len(test) == 260
    item = hippocampus_dataset(test[:1], 64, train=False)[0]
    assert item["image"].shape == (1, 64, 64, 64)
    assert set(torch.unique(item["label"]).tolist()) <= {0.0, 1.0, 2.0}
