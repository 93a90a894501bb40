"""The real run rehearsed: `train --dataset mnist` and `evaluate` end to end, offline.

A tiny MNIST file in Keras's exact format (`mnist.npz`: x_train/x_test uint8 (n, 28, 28),
y_train/y_test labels) is written to `$KERAS_HOME/datasets/`, the folder the real run reads, and
the real commands run on it through the same loading code (`data.fetch_mnist`, `read_mnist`,
`load_mnist_split`) and both bridges, the tfpyth child included. The download is rehearsed with
`MNIST_URL` pointing at local `file://` URLs: a failed download leaves nothing behind, and the
retry works without cleaning anything up.
"""
# points: 5

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import data, experiment
from {{ cookiecutter.package_name }}.__main__ import main

pytestmark = pytest.mark.rehearsal

HAS_TFPYTH = importlib.util.find_spec("tfpyth") is not None


def tiny_mnist(path: Path, n_train: int = 720, n_test: int = 200) -> Path:
    """An MNIST file in Keras's format: ten stroke patterns (a bar per class) with pixel noise."""
    rng = np.random.default_rng(0)
    patterns = np.zeros((10, 28, 28), dtype=np.float64)
    for k in range(5):
        patterns[k, 3 + 5 * k : 6 + 5 * k, 4:24] = 1.0  # horizontal bars
        patterns[k + 5, 4:24, 3 + 5 * k : 6 + 5 * k] = 1.0  # vertical bars

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        x = 200 * patterns[y] + rng.uniform(0, 55, size=(n, 28, 28))
        return x.astype(np.uint8), y

    (x_train, y_train), (x_test, y_test) = part(n_train), part(n_test)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:  # np.savez, uncompressed, as Keras's file is
        np.savez(out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras folder (`KERAS_HOME`) and a download URL that fails at once."""
    home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("MNIST_URL", (tmp_path / "no-download-in-tests.npz").as_uri())
    monkeypatch.chdir(tmp_path)
    return home


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def leftovers(folder: Path) -> list[str]:
    """Partial files or folders a failed step could have left (none must be there)."""
    return sorted(p.name for p in folder.rglob("*") if ".partial-" in p.name or ".old-" in p.name)


def test_train_both_bridges_then_evaluate_on_mnist_in_keras_format(keras_home, capsys):
    cached = tiny_mnist(keras_home / "datasets" / "mnist.npz")
    bridge = "both" if HAS_TFPYTH else "dlpack"
    code = main(["train", "--bridge", bridge, "--dataset", "mnist", "--epochs", "2"])
    report = last_json(capsys)
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    metrics = report["metrics"]
    assert metrics["mnist_file"] == str(cached) and metrics["mnist_official"] is False
    bridges = ["dlpack", "tfpyth"] if HAS_TFPYTH else ["dlpack"]
    for name in bridges:
        target = report["targets"][f"{name}_test_error"]
        assert target["op"] == "<=" and target["threshold"] == experiment.MNIST_ERROR == 0.0305
        assert "LeCun" in target["source"] and "3.05 %" in target["source"]
        assert target["value"] == pytest.approx(1 - metrics[f"{name}_test_accuracy"], abs=1e-6)
        saved = json.loads(Path(f"runs/train/{name}/metrics.json").read_text())
        assert saved["dataset"] == "mnist"
        assert saved["test_accuracy"] == pytest.approx(metrics[f"{name}_test_accuracy"])
        assert Path(f"runs/train/{name}/model.pt").is_file()
    if HAS_TFPYTH:
        assert metrics["step_loss_max_abs_diff"] <= experiment.STEP_LOSS_TOLERANCE
    assert report["ok"] is True and code == 0, report  # ten bars: every bridge learns them
    assert leftovers(Path("runs")) == [] and leftovers(keras_home) == []
    # the run folder make report draws: the loss of every step through each bridge
    history = [json.loads(s) for s in Path("runs/train/history.jsonl").read_text().splitlines()]
    assert len(history) == 2 * 11  # 660 training images in batches of 64, 2 epochs
    assert all(f"{name}_loss" in row for row in history for name in bridges)
    assert json.loads(Path("runs/train/config.json").read_text())["dataset"] == "mnist"

    # tfpyth's TF1-trained weights, evaluated through the DLPack bridge, on the same file
    checkpoint = f"runs/train/{bridges[-1]}/model.pt"
    assert main(["evaluate", checkpoint, "--dataset", "mnist"]) == 0
    evaluated = last_json(capsys)
    assert set(evaluated) == {"ok", "seconds", "metrics", "targets"}
    assert evaluated["metrics"]["mnist_official"] is False
    assert evaluated["metrics"]["test_accuracy"] == pytest.approx(
        metrics[f"{bridges[-1]}_test_accuracy"]
    )
    error = evaluated["targets"]["checkpoint_test_error"]
    assert error["met"] is True and error["threshold"] == 0.0305 and "LeCun" in error["source"]


def test_the_split_follows_the_real_layout(keras_home):
    tiny_mnist(keras_home / "datasets" / "mnist.npz", n_train=1200, n_test=50)
    split = data.load_split("mnist")
    assert split.x_train.shape == (1100, 784) and split.x_dev.shape == (100, 784)  # 1/12 dev
    assert split.x_test.shape == (50, 784) and split.x_train.dtype == np.float32
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    assert split.n_classes == 10


def test_a_failed_download_leaves_nothing_and_the_retry_works(keras_home, tmp_path, monkeypatch):
    mirror = tiny_mnist(tmp_path / "mirror" / "mnist.npz")
    monkeypatch.setenv("MNIST_URL", (tmp_path / "mirror" / "missing.npz").as_uri())
    with pytest.raises(SystemExit) as failed:
        main(["train", "--bridge", "both", "--dataset", "mnist", "--epochs", "1"])
    message = str(failed.value.code)
    assert "attempt 1:" in message and "attempt 2:" in message  # both errors, not just the last
    assert "missing.npz" in message and "Nothing was left behind" in message
    datasets = keras_home / "datasets"
    assert not datasets.exists() or list(datasets.iterdir()) == []

    monkeypatch.setenv("MNIST_URL", mirror.as_uri())  # the retry: no cleanup in between
    path = data.fetch_mnist()
    assert path == data.mnist_path() == datasets / "mnist.npz"
    assert path.read_bytes() == mirror.read_bytes() and list(datasets.iterdir()) == [path]
    assert data.fetch_mnist() == path  # cached: no second download


def test_a_truncated_or_wrong_download_never_lands_in_the_cache(keras_home, tmp_path, monkeypatch):
    mirror = tiny_mnist(tmp_path / "mirror" / "mnist.npz")
    truncated = tmp_path / "mirror" / "truncated.npz"
    truncated.write_bytes(mirror.read_bytes()[:5000])
    monkeypatch.setenv("MNIST_URL", truncated.as_uri())
    with pytest.raises(data.DownloadError, match="(?s)attempt 1: .*not an MNIST .npz"):
        data.fetch_mnist()
    assert not data.mnist_path().exists() and leftovers(keras_home) == []
    # From Keras's own origin the file must also be Keras's byte for byte (its SHA-256).
    monkeypatch.delenv("MNIST_URL")
    monkeypatch.setattr(data, "MNIST_ORIGIN", mirror.as_uri())
    with pytest.raises(data.DownloadError, match="(?s)attempt 2: .*sha256"):
        data.fetch_mnist()
    assert not data.mnist_path().exists() and leftovers(keras_home) == []


@pytest.mark.parametrize(
    ("arrays", "problem"),
    [
        ({"x_train": np.zeros((5, 28, 28), np.uint8)}, "no y_train, x_test, y_test"),
        (
            {
                "x_train": np.zeros((5, 28, 28), np.float32),
                "y_train": np.zeros(5, np.uint8),
                "x_test": np.zeros((5, 28, 28), np.uint8),
                "y_test": np.zeros(5, np.uint8),
            },
            "x_train must be uint8",
        ),
        (
            {
                "x_train": np.zeros((5, 28, 28), np.uint8),
                "y_train": np.full(5, 10, np.uint8),
                "x_test": np.zeros((5, 28, 28), np.uint8),
                "y_test": np.zeros(5, np.uint8),
            },
            "labels outside 0..9",
        ),
    ],
)
def test_a_file_not_in_mnist_format_is_named(tmp_path, arrays, problem):
    path = tmp_path / "mnist.npz"
    with path.open("wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(ValueError, match=problem):
        data.read_mnist(path)
