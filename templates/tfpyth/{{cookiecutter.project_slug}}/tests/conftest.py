"""Test set-up: offline, quiet TensorFlow, one CPU thread, and markers that skip with a reason."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

from {{ cookiecutter.package_name }}.bridge import set_threads  # noqa: E402
from {{ cookiecutter.package_name }}.data import Split, load_digits_split  # noqa: E402

set_threads(1)  # before TensorFlow's first op: small models run fastest on one thread


def _gpu_in_both() -> bool:
    return torch.cuda.is_available() and bool(tf.config.list_physical_devices("GPU"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_real = os.environ.get("RUN_REAL") == "1"
    has_gpu = _gpu_in_both()
    for item in items:
        if "real" in item.keywords and not run_real:
            item.add_marker(pytest.mark.skip(reason="real mode downloads MNIST: set RUN_REAL=1"))
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(
                pytest.mark.skip(reason="needs a GPU visible to both TensorFlow and torch")
            )


@pytest.fixture(autouse=True)
def no_mnist_download(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unless RUN_REAL=1: an empty Keras cache of the test's own and a download URL that fails
    at once, so no test reads the user's ~/.keras or reaches the network."""
    if os.environ.get("RUN_REAL") != "1":
        home = tmp_path_factory.mktemp("keras-home")
        monkeypatch.setenv("KERAS_HOME", str(home))
        monkeypatch.setenv("MNIST_URL", (home / "no-download-in-tests.npz").as_uri())


@pytest.fixture(autouse=True)
def scratch_folder(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in a folder of its own: the run folders commands leave (runs/) and the
    figures of `report` never land in the project."""
    monkeypatch.chdir(str(tmp_path))


@pytest.fixture(scope="session")
def digits() -> Split:
    """The bundled digits, split with the project's seed (``data.DEFAULT_SEED``)."""
    return load_digits_split()
