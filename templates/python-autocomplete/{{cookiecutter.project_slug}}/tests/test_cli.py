import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import __main__ as cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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
    code, out, _ = run(
        capsys, "train", "--data", str(python_tree), "--size", "small", "--steps", "20",
        "--vocab-size", "100", "--heldout-fraction", "0.25", "--out", str(out_dir),
        "--device", "cpu",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert {"top1", "top5", "keystrokes_saved", "ngram_top1"} <= report["metrics"].keys()
    assert json.loads((out_dir / "metrics.json").read_text())["metrics"] == report["metrics"]
    checkpoint = str(out_dir / "model.pt")

    code, out, _ = run(capsys, "evaluate", "--checkpoint", checkpoint, "--device", "cpu")
    assert code == 0
    assert json.loads(out)["metrics"]["top1"] == report["metrics"]["top1"]  # same held-out files

    code, out, _ = run(capsys, "predict", "--checkpoint", checkpoint, "import os\n\n\ndef f():\n")
    assert code == 0 and out.endswith("\n")


def test_smoke_prints_one_json_line_and_exits_1_when_a_target_is_missed(capsys, monkeypatch):
    missed = {"ok": False, "seconds": 0.1, "metrics": {"top5": 0.1}, "targets": {"top5": 0.3}}
    monkeypatch.setattr(cli, "run_smoke", lambda out, settings: missed)
    code, out, _ = run(capsys, "smoke")
    assert code == 1
    assert json.loads(out.strip().splitlines()[-1]) == missed


def test_the_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = capsys.readouterr().out
    assert all(command in help_text for command in ("smoke", "train", "evaluate", "predict"))
