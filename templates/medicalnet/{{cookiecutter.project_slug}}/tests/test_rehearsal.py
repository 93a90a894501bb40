"""The real run rehearsed, offline: the README's real commands end to end on tiny local data in
the real formats, through the loading code the real run uses.

- data: a tar laid out like MSD's ``Task04_Hippocampus.tar`` (``dataset.json``, NIfTI images and
  labels, an unlabelled ``imagesTs``), downloaded by ``train`` from the ``file://`` address that
  ``MSD_HIPPOCAMPUS_URL`` names (README, 'Real run'), MD5-checked, extracted into ``data/``;
- weights: a ``.pth`` in MedicalNet's released layout (``{"state_dict": ...}``, every key with
  ``nn.DataParallel``'s ``module.`` prefix, the pretraining head as ``conv_seg.*``, no recorded
  geometry, so the loader takes MedicalNet's dilated layers 3 and 4), passed with ``--weights``.

Then ``weights``, ``train`` (pretrained and scratch), ``evaluate`` and ``compare`` each end with
the report line, whose targets are the ones the README publishes. Downloads and checkpoints are
atomic: a failed try leaves nothing behind, and the next one works without cleaning up.
"""

import csv
import hashlib
import io
import json
import re
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }} import data as data_module
from {{ cookiecutter.package_name }} import weights as weights_module
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.config import MSD_TASK
from {{ cookiecutter.package_name }}.errors import DataError, WeightsError
from {{ cookiecutter.package_name }}.evaluate import MED3D_MIN_GAIN, RUN_MARGIN
from {{ cookiecutter.package_name }}.model import medicalnet_resnet
from {{ cookiecutter.package_name }}.weights import save_medicalnet_checkpoint

pytestmark = pytest.mark.rehearsal

README = Path(__file__).resolve().parents[1] / "README.md"
REPORT_KEYS = {"ok", "seconds", "metrics", "targets"}


def last_json_line(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def write_msd_tar(folder: Path, volumes: int = 6) -> Path:
    """``Task04_Hippocampus.tar`` as MSD ships it: one top folder with dataset.json, imagesTr,
    labelsTr (NIfTI, labels 0/1/2, about a third of the real crops' size) and imagesTs."""
    task = folder / "src" / MSD_TASK
    for sub in ("imagesTr", "labelsTr", "imagesTs"):
        (task / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    training = []
    for i in range(volumes):
        label = np.zeros((12, 16, 12), dtype=np.uint8)
        label[3:6, 4:12, 4:8] = 1  # anterior
        label[6:9, 4:12, 4:8] = 2  # posterior
        image = (rng.normal(0.0, 20.0, label.shape) + 60.0 * label + 100.0).astype(np.float32)
        name = f"hippocampus_{i:03d}.nii.gz"
        nib.save(nib.Nifti1Image(image, affine), task / "imagesTr" / name)
        nib.save(nib.Nifti1Image(label, affine), task / "labelsTr" / name)
        training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
    unlabelled = np.full((12, 16, 12), 100.0, dtype=np.float32)
    nib.save(nib.Nifti1Image(unlabelled, affine), task / "imagesTs" / "hippocampus_900.nii.gz")
    listing = {
        "name": "Hippocampus",
        "description": "Left and right hippocampus segmentation (tiny rehearsal copy)",
        "reference": "Vanderbilt University Medical Center",
        "licence": "CC-BY-SA 4.0",
        "release": "1.0 04/05/2018",
        "tensorImageSize": "3D",
        "modality": {"0": "MRI"},
        "labels": {"0": "background", "1": "Anterior", "2": "Posterior"},
        "numTraining": len(training),
        "numTest": 1,
        "training": training,
        "test": ["./imagesTs/hippocampus_900.nii.gz"],
    }
    (task / "dataset.json").write_text(json.dumps(listing, indent=4))
    tar = folder / f"{MSD_TASK}.tar"
    with tarfile.open(tar, "w") as archive:
        archive.add(task, arcname=MSD_TASK)
    return tar


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def write_released_medicalnet_pth(path: Path, depth: int = 10) -> Path:
    """A checkpoint laid out like MedicalNet's released ``resnet_10_23dataset.pth``: the
    DataParallel ``module.`` prefix on every key, the segmentation head ``conv_seg`` beside the
    encoder, nothing but ``state_dict`` (no geometry recorded)."""
    encoder = medicalnet_resnet(depth, dilated=True)
    state = {f"module.{key}": value for key, value in encoder.state_dict().items()}
    state["module.conv_seg.0.weight"] = torch.randn(512, 32, 2, 2, 2)
    state["module.conv_seg.0.bias"] = torch.zeros(32)
    state["module.conv_seg.6.weight"] = torch.randn(2, 32, 1, 1, 1)
    torch.save({"state_dict": state}, path)
    return path


@pytest.fixture(scope="module")
def msd_tar(tmp_path_factory):
    return write_msd_tar(tmp_path_factory.mktemp("msd"))


def readme_publishes(report: dict[str, Any]) -> None:
    """Every target of ``report`` is one the README states, with its number and source."""
    text = README.read_text(encoding="utf-8")
    for name, target in report["targets"].items():
        if name == "test_dice_over_threshold":
            assert f"**{RUN_MARGIN:g}**" in text and "intensity-threshold baseline" in text
            assert target["source"].endswith(f"+ {RUN_MARGIN:g}")
        elif name == "pretrained_gain_over_scratch":
            assert f"target >= {MED3D_MIN_GAIN:g}" in text and "1904.00625" in text
            assert target["threshold"] == MED3D_MIN_GAIN and "1904.00625" in target["source"]
        elif name == "architecture_mismatches":
            assert "models/resnet.py" in text and "models/resnet.py" in target["source"]
            assert target["threshold"] == 0
        else:
            pytest.fail(f"target {name} is not in the README's success criteria")


def check_report(code: int, out: str) -> dict[str, Any]:
    report = last_json_line(out)
    assert set(report) == REPORT_KEYS and report["targets"]
    assert report["ok"] is all(t["met"] for t in report["targets"].values())
    assert code == (0 if report["ok"] else 1)
    readme_publishes(report)
    return report


def no_partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*partial*"))


def test_the_readme_documents_the_local_paths_the_rehearsal_uses():
    text = README.read_text(encoding="utf-8")
    for documented in ("MSD_HIPPOCAMPUS_URL", "MSD_HIPPOCAMPUS_MD5", "--weights", "--data-dir"):
        assert documented in text


def test_the_real_commands_run_end_to_end_on_msd_and_medicalnet_formats(
    msd_tar, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # runs/ and data/ where a user's would be
    pth = write_released_medicalnet_pth(tmp_path / "resnet_10_23dataset.pth")
    quick = ["--backbone", "resnet10", "--epochs", "1", "--roi", "16", "--batch-size", "2"]
    quick += ["--dev-frac", "0.2", "--test-frac", "0.2", "--workers", "0", "--device", "cpu"]

    # a download that fails twice: exit 3 with both errors, and nothing left to clean up
    monkeypatch.setenv("MSD_HIPPOCAMPUS_URL", (tmp_path / "gone" / "Task04.tar").as_uri())
    assert main(["train", "--init", "scratch", *quick]) == 3
    err = capsys.readouterr().err
    assert "try 1: URLError" in err and "try 2: URLError" in err
    assert list(Path("data").iterdir()) == [] and not Path("runs").exists()
    # the retry, as a user would run it: the address fixed, nothing removed by hand
    monkeypatch.setenv("MSD_HIPPOCAMPUS_URL", msd_tar.as_uri())
    monkeypatch.setenv("MSD_HIPPOCAMPUS_MD5", md5_of(msd_tar))

    # weights: the released file loads into the dilated encoder; its head is listed as unused
    code = main(["weights", "--depth", "10", "--pth", str(pth)])
    report = check_report(code, capsys.readouterr().out)
    assert report["ok"] is True and report["metrics"]["missing"] == []
    assert report["metrics"]["loaded"] > 60
    assert set(report["metrics"]["unexpected"]) == {
        "conv_seg.0.weight",
        "conv_seg.0.bias",
        "conv_seg.6.weight",
    }

    reports = {}
    for init in ("medicalnet", "scratch"):
        extra = ["--weights", str(pth)] if init == "medicalnet" else []
        code = main(["train", "--init", init, *extra, *quick, "--seed", "0"])
        reports[init] = check_report(code, capsys.readouterr().out)
        run = Path("runs") / f"{init}-seed0"
        assert json.loads((run / "report.json").read_text()) == reports[init]
        assert {
            "best.pt",
            "last.pt",
            "metrics.csv",
            "config.json",
            "history.jsonl",
            "environment.json",
            "cases.npz",
        } <= {p.name for p in run.iterdir()}
    # the download went through the real path: the tar in data/, the task extracted beside it
    listing = json.loads(Path("data", MSD_TASK, "dataset.json").read_text())
    assert listing["numTraining"] == 6 and Path("data", f"{MSD_TASK}.tar").is_file()
    assert no_partials(tmp_path) == []
    meta = json.loads(Path("runs/medicalnet-seed0/config.json").read_text())
    assert meta["splits"] == {"train": 4, "dev": 1, "test": 1}
    assert meta["weights"]["source"] == str(pth) and meta["weights"]["missing"] == []
    assert meta["weights"]["architecture_mismatch"] == []  # released file: dilated assumed
    trained = reports["medicalnet"]
    assert trained["metrics"]["init"] == "medicalnet" and trained["metrics"]["best_epoch"] == 1
    target = trained["targets"]["test_dice_over_threshold"]
    assert target["threshold"] == pytest.approx(
        trained["metrics"]["threshold_test_dice_mean"] + RUN_MARGIN, abs=1e-5
    )  # the baseline fit on this run's training split, scored on its test split
    rows = list(csv.DictReader(Path("runs/medicalnet-seed0/metrics.csv").read_text().splitlines()))
    assert [row["epoch"] for row in rows] == ["1"]
    assert {"train_loss", "dice_mean", "dice_anterior", "dice_posterior"} <= set(rows[0])
    assert torch.load("runs/medicalnet-seed0/best.pt", weights_only=True)["epoch"] == 1

    code = main(["evaluate", "runs/medicalnet-seed0/best.pt", "--data-dir", "data"])
    report = check_report(code, capsys.readouterr().out)
    assert report["metrics"]["test_dice_mean"] == pytest.approx(
        reports["medicalnet"]["metrics"]["test_dice_mean"], abs=1e-5
    )  # same checkpoint, same split

    assert main(["compare", "runs/medicalnet-seed0", "--min-seeds", "1"]) == 3
    assert "scratch" in capsys.readouterr().err  # one arm: nothing to compare
    runs = ["runs/medicalnet-seed0", "runs/scratch-seed0"]
    code = main(["compare", *runs, "--min-seeds", "1", "--plot", "runs/curves.png"])
    report = check_report(code, capsys.readouterr().out)
    gain = (
        reports["medicalnet"]["metrics"]["test_dice_mean"]
        - reports["scratch"]["metrics"]["test_dice_mean"]
    )
    assert report["targets"]["pretrained_gain_over_scratch"]["value"] == pytest.approx(
        gain, abs=1e-4
    )


class CutConnection(io.BytesIO):
    """A response that delivers a few bytes, then drops the connection."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= 64:
            raise ConnectionResetError("connection reset by peer")
        return super().read(64)


def test_a_failed_download_leaves_nothing_and_the_retry_works_without_cleanup(
    msd_tar, tmp_path, monkeypatch
):
    data_dir = tmp_path / "data"
    real_urlopen = urllib.request.urlopen
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: CutConnection(b"x" * 999))
    with pytest.raises(DataError) as failure:
        data_module.download_hippocampus(data_dir, url=msd_tar.as_uri(), md5=md5_of(msd_tar))
    message = str(failure.value)
    assert "try 1: ConnectionResetError" in message and "try 2: ConnectionResetError" in message
    assert list(data_dir.iterdir()) == []  # no partial tar, no half-extracted task

    monkeypatch.setattr(urllib.request, "urlopen", real_urlopen)
    task = data_module.download_hippocampus(data_dir, url=msd_tar.as_uri(), md5=md5_of(msd_tar))
    assert (task / "dataset.json").is_file() and len(list((task / "imagesTr").iterdir())) == 6
    assert no_partials(data_dir) == []


def test_a_download_cut_once_is_retried_within_the_same_run(msd_tar, tmp_path, monkeypatch):
    real_urlopen = urllib.request.urlopen
    calls = []

    def flaky(url, timeout):
        calls.append(url)
        return CutConnection(b"x" * 999) if len(calls) == 1 else real_urlopen(url, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", flaky)
    task = data_module.download_hippocampus(tmp_path, url=msd_tar.as_uri(), md5=md5_of(msd_tar))
    assert len(calls) == 2 and (task / "dataset.json").is_file()


def test_a_corrupt_download_is_refused_and_not_kept(msd_tar, tmp_path):
    broken = tmp_path / "broken.tar"
    broken.write_bytes(msd_tar.read_bytes()[:5000])  # cut short
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match="MD5") as failure:
        data_module.download_hippocampus(data_dir, url=broken.as_uri(), md5=md5_of(msd_tar))
    assert "try 1" in str(failure.value) and "try 2" in str(failure.value)
    assert list(data_dir.iterdir()) == []
    with pytest.raises(DataError, match="try 2"):  # without an MD5: the tar fails to extract
        data_module.download_hippocampus(data_dir, url=broken.as_uri(), md5=None)
    assert list(data_dir.iterdir()) == []


def test_a_half_extracted_task_left_by_another_tool_names_the_folder_to_remove(tmp_path):
    (tmp_path / MSD_TASK / "imagesTr").mkdir(parents=True)
    with pytest.raises(DataError, match=re.escape(f"remove {tmp_path / MSD_TASK}")):
        data_module.download_hippocampus(tmp_path, url="file:///nowhere.tar")


def test_weights_download_retries_once_and_shows_both_errors(monkeypatch):
    from monai.networks.nets import resnet as monai_resnet

    monkeypatch.setattr(weights_module, "require_hub", lambda: None)
    outcomes: list[Any] = [TimeoutError("read timed out"), OSError("502 Bad Gateway")]

    def hub(depth, device, datasets23):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(monai_resnet, "get_pretrained_resnet_medicalnet", hub)
    with pytest.raises(WeightsError) as failure:
        weights_module.download_medicalnet_state_dict(10)
    assert "try 1: TimeoutError: read timed out" in str(failure.value)
    assert "try 2: OSError: 502 Bad Gateway" in str(failure.value)

    outcomes[:] = [TimeoutError("read timed out"), {"module.conv1.weight": torch.zeros(1)}]
    assert set(weights_module.download_medicalnet_state_dict(10)) == {"conv1.weight"}


def test_an_interrupted_checkpoint_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10, dilated=True), tmp_path / "r10.pth")
    before = path.read_bytes()
    real_save = torch.save

    def interrupted(obj, target):
        real_save({"half": torch.zeros(3)}, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_medicalnet_checkpoint(medicalnet_resnet(10, dilated=True), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["r10.pth"]
