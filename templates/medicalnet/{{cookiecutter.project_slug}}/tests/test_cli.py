"""The command line: exit codes, JSON on stdout, clear errors on bad input."""

import json

import pytest

from {{ cookiecutter.package_name }} import model, smoke
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.evaluate import (
    write_metrics_csv,
)
from {{ cookiecutter.package_name }}.model import (
    medicalnet_resnet,
)
from {{ cookiecutter.package_name }}.weights import (
    save_medicalnet_checkpoint,
)


def last_json_line(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["fly"], "invalid choice"),
        (["smoke", "--epochs", "0"], "at least 1"),
        (["smoke", "--epochs", "many"], "not an integer"),
        (["smoke", "--train-volumes", "1"], "at least 2"),
        (["weights", "--depth", "7"], "invalid choice"),
        (["train", "--init", "imagenet"], "invalid choice"),
    ],
)
def test_bad_command_lines_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("smoke", "weights", "train", "evaluate", "compare"):
        assert command in out


def test_smoke_that_misses_its_target_still_prints_json_and_exits_1(monkeypatch, capsys):
    monkeypatch.setitem(smoke.SMOKE_TARGETS, "val_accuracy_min", 1.01)  # out of reach
    argv = ["smoke", "--epochs", "1", "--train-volumes", "8", "--val-volumes", "4"]
    assert main(argv) == 1
    result = last_json_line(capsys.readouterr().out)
    assert result["ok"] is False
    assert set(result) == {"ok", "seconds", "metrics", "targets"}
    assert result["targets"]["val_accuracy_min"] == 1.01
    assert result["metrics"]["n_train"] == 8


def test_weights_reports_how_a_local_file_loads(tmp_path, capsys):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10), tmp_path / "resnet_10.pth")
    assert main(["weights", "--depth", "10", "--pth", str(path)]) == 0
    report = last_json_line(capsys.readouterr().out)
    assert report["missing"] == [] and report["unexpected"] == []
    assert report["loaded"] > 0 and report["source"] == str(path)


def test_weights_of_another_depth_exit_3_naming_the_problem(tmp_path, capsys):
    path = save_medicalnet_checkpoint(medicalnet_resnet(18), tmp_path / "resnet_18.pth")
    assert main(["weights", "--depth", "10", "--pth", str(path)]) == 3
    assert "missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["weights", "--pth", "absent.pth"], "no weights file"),
        (["train", "--init", "scratch", "--roi", "48"], "multiple of 32"),
        (["evaluate", "absent.pt"], "no checkpoint"),
        (["compare", "absent-run"], "train a run first"),
    ],
)
def test_problems_the_user_can_fix_exit_3_with_a_message(argv, message, tmp_path, monkeypatch,
                                                         capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 3
    assert message in capsys.readouterr().err


def test_compare_prints_the_summary(tmp_path, capsys):
    for name, values in (("medicalnet", [0.6, 0.75]), ("scratch", [0.3, 0.5])):
        (tmp_path / name).mkdir()
        rows = [{"epoch": i, "dice_mean": v} for i, v in enumerate(values, start=1)]
        write_metrics_csv(rows, tmp_path / name / "metrics.csv")
    argv = ["compare", str(tmp_path / "medicalnet"), str(tmp_path / "scratch"),
            "--plot", str(tmp_path / "curves.png")]
    assert main(argv) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["runs"]["medicalnet"]["epochs_to_threshold"] == 2
    assert summary["runs"]["scratch"]["epochs_to_threshold"] is None
    assert summary["speedup"] is None


def test_downloading_without_the_hub_client_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match=r"pip install -e '\.\[real\]'"):
        medicalnet_resnet(10, pretrained=True)
