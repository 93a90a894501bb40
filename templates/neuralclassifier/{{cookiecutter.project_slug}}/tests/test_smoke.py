"""The smoke run: one JSON line, real learning, targets met, files NeuralClassifier can read."""

import contextlib
import io
import json

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.smoke import TARGETS


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["--quiet", "smoke", "--out", str(out)])
    return code, buffer.getvalue(), out


def test_smoke_prints_one_json_object_last(smoke):
    code, stdout, _ = smoke
    result = json.loads(stdout.strip().splitlines()[-1])
    assert set(result) == {"ok", "seconds", "metrics", "targets"}
    assert result["ok"] is True and code == 0
    assert result["targets"] == TARGETS


def test_smoke_shows_real_learning(smoke):
    metrics = json.loads(smoke[1].strip().splitlines()[-1])["metrics"]
    for name, target in TARGETS.items():
        assert metrics[name] >= target, name
    assert metrics["last_epoch_loss"] < 0.5 * metrics["first_epoch_loss"]
    assert metrics["micro_f1"] > metrics["majority_micro_f1"] + 0.5
    assert metrics["level_1_micro_f1"] >= metrics["level_3_micro_f1"]  # deeper is harder
    assert metrics["reload_matches"] is True


def test_smoke_writes_data_model_and_upstream_config(smoke):
    out = smoke[2]
    for name in (
        "data/train.json",
        "data/dev.json",
        "data/test.json",
        "data/taxonomy.tsv",
        "model.pt",
        "upstream/config.json",
    ):
        assert (out / name).is_file(), name
    config = json.loads((out / "upstream/config.json").read_text())
    assert config["device"] == "cpu" and config["data"]["num_worker"] == 0
