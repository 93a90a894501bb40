"""The command line and the real-run code path, offline (SST-2 stands in for the grammar)."""

import json

import pytest

from {{ cookiecutter.package_name }} import finetune
from {{ cookiecutter.package_name }}.__main__ import (
    main,
)
from {{ cookiecutter.package_name }}.data import (
    synthetic_sentiment,
)
from {{ cookiecutter.package_name }}.model import (
    pick_device,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_MODEL,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
)


@pytest.fixture()
def fake_sst2(monkeypatch):
    """Replace SST-2 by grammar sentences, so the real-run code runs offline in seconds."""

    def load(split, limit=None, seed=0):
        examples = synthetic_sentiment(400 if split == "train" else 100, seed=int(split == "train"))
        examples = examples[:limit] if limit else examples
        return [e.text for e in examples], [e.label for e in examples]

    monkeypatch.setattr(finetune, "load_sst2", load)


def test_the_default_model_is_the_one_chosen_at_generation():
    assert DEFAULT_MODEL == "{{ cookiecutter.model_name }}"


def test_train_saves_a_model_and_a_report(fake_sst2, untrained_model_dir, tmp_path):
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=2e-3, max_length=48)
    report = finetune.run_finetune(
        str(untrained_model_dir), tmp_path / "run", pick_device("cpu"), 300, config
    )
    assert report["metrics"]["train_examples"] == 300
    assert 0.0 <= report["metrics"]["accuracy"] <= 1.0
    assert report["metrics"]["p50_ms"] <= report["metrics"]["p95_ms"]
    assert report["ok"] == (report["metrics"]["accuracy"] >= 0.87)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == report
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()

    scores = finetune.run_evaluate(tmp_path / "run" / "model", pick_device("cpu"), max_length=48)
    assert scores["metrics"]["accuracy"] == report["metrics"]["accuracy"]


def test_predict_prints_one_json_line_per_text(untrained_model_dir, capsys):
    status = main(["predict", "--model-dir", str(untrained_model_dir), "--device", "cpu",
                   "the cast was superb", "the plot was dull"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [line["text"] for line in lines] == ["the cast was superb", "the plot was dull"]
    assert all(0.0 <= line["score"] <= 1.0 for line in lines)


def test_a_missing_model_folder_is_exit_2_with_a_hint(tmp_path, capsys):
    status = main(["evaluate", "--model-dir", str(tmp_path / "nothing"), "--device", "cpu"])
    assert status == 2
    assert "train" in capsys.readouterr().err


def test_download_refuses_to_run_offline(capsys):
    assert main(["download"]) == 2
    assert "unset HF_HUB_OFFLINE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["train", "--train-examples", "0"], ["train", "--epochs", "-1"], ["smoke", "--sentences", "x"],
     ["fly"]],
)
def test_bad_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
