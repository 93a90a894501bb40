"""Shared test setup: offline hub flags, markers that skip with a reason, small corpora."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

# Tests train tiny models: one thread is as fast and never waits on busy cores.
torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``real`` tests unless RUN_REAL=1 and ``gpu`` tests without a CUDA device."""
    run_real = os.environ.get("RUN_REAL") == "1"
    has_gpu = torch.cuda.is_available()
    for item in items:
        if "real" in item.keywords and not run_real:
            item.add_marker(pytest.mark.skip(reason="needs the network and git: set RUN_REAL=1"))
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory):
    """A small synthetic corpus folder: train.json, dev.json, test.json, taxonomy.tsv."""
    from {{ cookiecutter.package_name }}.synthetic import (
        SyntheticSpec,
        write_synthetic,
    )

    spec = SyntheticSpec(n_train=400, n_dev=100, n_test=100)
    return write_synthetic(tmp_path_factory.mktemp("corpus"), seed=1, spec=spec)
