"""Shared fixtures. The test suite is offline: no hub, no dataset host (see the markers)."""

import os

# Before anything imports huggingface_hub: never reach the hub unless the real tests are asked for.
if os.environ.get("RUN_REAL") != "1":
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `real` tests unless RUN_REAL=1, and `gpu` tests without a CUDA device."""
    skip_real = pytest.mark.skip(reason="downloads weights or data: make test-real (RUN_REAL=1)")
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "real" in item.keywords and os.environ.get("RUN_REAL") != "1":
            item.add_marker(skip_real)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def runs_elsewhere(tmp_path, monkeypatch):
    """Commands write their run folders under the test's tmp_path, never into this repo's runs/."""
    from {{ cookiecutter.package_name }} import __main__

    monkeypatch.setattr(__main__, "RUNS_DIR", tmp_path / "runs")


@pytest.fixture(scope="session")
def smoke_folder(tmp_path_factory):
    """Where the smoke run of ``smoke_run`` keeps its curves and MedicalNet checkpoint."""
    return tmp_path_factory.mktemp("smoke")


@pytest.fixture(scope="session")
def smoke_run(smoke_folder, tmp_path_factory):
    """The smoke run as `make smoke` leaves it: its report and its finished run folder (made
    once per test session: the training tests and the demo's read it)."""
    from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
    from {{ cookiecutter.package_name }}.runs import RunFolder
    from {{ cookiecutter.package_name }}.smoke import run_smoke

    with RunFolder("smoke", {"seed": DEFAULT_SEED}, root=tmp_path_factory.mktemp("runs")) as run:
        report = run_smoke(out_dir=smoke_folder, run=run)
        return report, run.finish(report)


@pytest.fixture(scope="session")
def small_scans():
    """Six 24^3 synthetic scans of the smoke run's task (a ``SyntheticScans``)."""
    from {{ cookiecutter.package_name }}.data import make_context_scans

    return make_context_scans(6, 24, seed=123)


def frozen(factory):
    """A model factory whose networks never learn: every parameter frozen at its start."""

    def build(num_classes):
        model = factory(num_classes)
        model.requires_grad_(False)
        return model

    return build


def single_voxel(factory):
    """A model factory whose networks see one voxel at a time: every convolution 1x1x1, every
    max pool 1x1x1 (same channels and strides), so no kernel sees a neighbour."""

    def build(num_classes):
        model = factory(num_classes)
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Conv3d) and max(child.kernel_size) > 1:
                    setattr(
                        module,
                        name,
                        torch.nn.Conv3d(
                            child.in_channels,
                            child.out_channels,
                            kernel_size=1,
                            stride=(child.stride[0], child.stride[1], child.stride[2]),
                            bias=child.bias is not None,
                        ),
                    )
                elif isinstance(child, torch.nn.MaxPool3d):
                    setattr(module, name, torch.nn.MaxPool3d(kernel_size=1, stride=child.stride))
        return model

    return build


@pytest.fixture(scope="session")
def breakages():
    """Broken versions of the smoke run's model, by what they break: a network that never
    learns, and one whose convolutions see a single voxel (no shape, no context)."""
    from {{ cookiecutter.package_name }}.model import smoke_unet

    return {"never learns": frozen(smoke_unet), "single voxel": single_voxel(smoke_unet)}


@pytest.fixture(scope="session")
def fake_msd_root(tmp_path_factory):
    """A data folder laid out like MSD Task04_Hippocampus, with six tiny labelled volumes.

    It lets the real-run code (dataset listing, transforms, training, evaluation) run offline.
    """
    import json

    import nibabel as nib
    import numpy as np

    root = tmp_path_factory.mktemp("data")
    task = root / "Task04_Hippocampus"
    (task / "imagesTr").mkdir(parents=True)
    (task / "labelsTr").mkdir()
    rng = np.random.default_rng(0)
    training = []
    for i in range(6):
        label = np.zeros((24, 30, 24), dtype=np.uint8)
        label[6:12, 8:20, 8:16] = 1
        label[12:18, 8:20, 8:16] = 2
        image = rng.normal(0.0, 0.2, label.shape).astype(np.float32) + label + 1.0
        name = f"hippocampus_{i:03d}.nii.gz"
        nib.save(nib.Nifti1Image(image, np.eye(4)), task / "imagesTr" / name)
        nib.save(nib.Nifti1Image(label, np.eye(4)), task / "labelsTr" / name)
        training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
    properties = {
        "name": "Hippocampus",
        "description": "fake, for tests",
        "reference": "",
        "licence": "",
        "tensorImageSize": "3D",
        "modality": {"0": "MRI"},
        "labels": {"0": "background", "1": "Anterior", "2": "Posterior"},
        "numTraining": len(training),
        "numTest": 0,
        "training": training,
        "test": [],
    }
    (task / "dataset.json").write_text(json.dumps(properties))
    return root
