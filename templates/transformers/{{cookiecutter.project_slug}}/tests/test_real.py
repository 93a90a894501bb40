"""The real run on real weights and SST-2. Skipped unless both are in the local cache.

To run: `make setup`, then `python -m <package> download` once with network,
then `pytest -m real` (the tests stay offline: they read the cache).
"""

import pytest

from {{ cookiecutter.package_name }}.data import (
    load_sst2,
)
from {{ cookiecutter.package_name }}.errors import (
    StarterError,
)
from {{ cookiecutter.package_name }}.evaluate import (
    evaluate,
)
from {{ cookiecutter.package_name }}.model import (
    load_classifier,
    pick_device,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_MODEL,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    fit,
)

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def sst2():
    pytest.importorskip("datasets", reason="datasets is not installed: run `make setup`")
    try:
        return load_sst2("train", limit=512, seed=0), load_sst2("validation")
    except StarterError as err:
        pytest.skip(f"SST-2 is not in the local cache ({err})")


@pytest.fixture(scope="module")
def pretrained():
    try:
        return load_classifier(DEFAULT_MODEL)
    except StarterError:
        pytest.skip(f"{DEFAULT_MODEL} is not in the local cache: run `download` once")


def test_sst2_has_the_published_sizes_and_binary_labels(sst2):
    (train_texts, train_labels), (val_texts, val_labels) = sst2
    assert len(train_texts) == 512 and len(val_texts) == 872
    assert set(train_labels) == set(val_labels) == {0, 1}


def test_a_short_fine_tune_beats_chance(sst2, pretrained):
    (texts, labels), (val_texts, val_labels) = sst2
    model, tokenizer = pretrained
    device = pick_device("auto")
    fit(model, tokenizer, texts, labels, TrainConfig(epochs=1, batch_size=16), device=device)
    assert evaluate(model, tokenizer, val_texts, val_labels)["accuracy"] > 0.6
