"""The command line, run for real: bad input fails with one clear line; train and evaluate
end with the report and exit 1 while a target is missed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import __main__ as cli
from {{ cookiecutter.package_name }}.checkpoint import save_checkpoint
from {{ cookiecutter.package_name }}.criteria import UPSTREAM_CITATION
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.vocab import Vocabulary


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last_line_report(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_train_on_a_missing_path_fails_with_one_clear_line(capsys, tmp_path: Path):
    code, out, err = run(capsys, "train", "--data", str(tmp_path / "nowhere"), "--steps", "1")
    assert code == 2 and out == ""
    assert "error: data path does not exist" in err and "Traceback" not in err


def test_train_on_a_folder_without_python_fails_clearly(capsys, tmp_path: Path):
    code, _, err = run(capsys, "train", "--data", str(tmp_path), "--steps", "1")
    assert code == 2 and "no .py files under" in err


def test_predict_without_a_checkpoint_fails_clearly(capsys, tmp_path: Path):
    code, _, err = run(capsys, "predict", "--checkpoint", str(tmp_path / "model.pt"), "x = ")
    assert code == 2 and "no checkpoint at" in err


def test_train_evaluate_predict_on_your_own_folder(capsys, python_tree: Path, tmp_path: Path):
    out_dir = tmp_path / "runs" / "mine"
    code, out, err = run(
        capsys, "train", "--data", str(python_tree), "--size", "small", "--steps", "20",
        "--vocab-size", "100", "--dev-fraction", "0.25", "--test-fraction", "0.25",
        "--out", str(out_dir), "--device", "cpu",
    )  # fmt: skip
    trained = last_line_report(out)
    # 20 steps cannot save 30 % of keystrokes: the report says so and the run exits 1
    assert code == 1 and trained["ok"] is False
    assert trained["metrics"]["split"] == "dev"
    assert trained["targets"]["keystrokes_saved"] == {
        "value": trained["metrics"]["keystrokes_saved"],
        "op": ">=",
        "threshold": 0.3,
        "met": False,
        "source": UPSTREAM_CITATION,
    }
    assert "MISSED  keystrokes_saved" in err  # and says so to a person
    assert {"unigram_top1", "bigram_top1", "fourgram_top1"} <= trained["metrics"].keys()
    assert json.loads((out_dir / "report.json").read_text()) == trained
    checkpoint = str(out_dir / "model.pt")

    # evaluate finds the same held-out files from the checkpoint alone
    code, out, _ = run(
        capsys, "evaluate", "--checkpoint", checkpoint, "--split", "dev", "--device", "cpu"
    )
    assert code == 1
    assert last_line_report(out)["metrics"]["top1"] == trained["metrics"]["top1"]
    code, out, _ = run(capsys, "evaluate", "--checkpoint", checkpoint, "--device", "cpu")
    tested = last_line_report(out)
    assert code == 1 and tested["metrics"]["split"] == "test"
    assert set(tested["targets"]) == set(trained["targets"])
    assert json.loads((out_dir / "evaluate_test.json").read_text()) == tested

    code, out, _ = run(capsys, "predict", "--checkpoint", checkpoint, "import os\n\n\ndef f():\n")
    assert code == 0 and out.endswith("\n")


def test_evaluate_refuses_the_dev_split_of_a_checkpoint_older_than_it(capsys, tmp_path: Path):
    vocab = Vocabulary.build([["x", "=", "<num>"]], max_size=10)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 4, 8, num_layers=1, dropout=0.0))
    old = save_checkpoint(tmp_path / "model.pt", model, vocab, {"heldout_fraction": 0.1})
    code, out, err = run(capsys, "evaluate", "--checkpoint", str(old), "--split", "dev")
    assert code == 2 and out == ""
    assert "before the dev split" in err
