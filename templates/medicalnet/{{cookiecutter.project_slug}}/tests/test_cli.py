"""The command line: every command ends with the report line; exit codes follow its targets."""

import importlib.util
import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import smoke
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.errors import WeightsError
from {{ cookiecutter.package_name }}.evaluate import MED3D_MIN_GAIN, write_metrics_csv
from {{ cookiecutter.package_name }}.model import medicalnet_resnet
from {{ cookiecutter.package_name }}.targets import Target, build_report
from {{ cookiecutter.package_name }}.weights import save_medicalnet_checkpoint

REPORT_KEYS = {"ok", "seconds", "metrics", "targets"}


def last_json_line(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["fly"], "invalid choice"),
        (["smoke", "--seed", "-1"], "at least 0"),
        (["smoke", "--seed", "many"], "not an integer"),
        (["weights", "--depth", "7"], "invalid choice"),
        (["train", "--init", "imagenet"], "invalid choice"),
        (["train", "--epochs", "0"], "at least 1"),
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
    for command in ("smoke", "weights", "train", "evaluate", "compare", "report"):
        assert command in out


@pytest.mark.parametrize(("value", "code"), [(0.9, 0), (0.1, 1)])
def test_smoke_prints_its_report_last_and_exits_by_its_targets(value, code, monkeypatch, capsys):
    def fake(**kwargs):  # the report path only; the real run is in test_train.py
        return build_report(
            {"seed": kwargs["seed"]}, {"t": Target(value, ">=", 0.5, "baseline:b + 0.2")}, 0.0
        )

    monkeypatch.setattr(smoke, "run_smoke", fake)
    assert main(["smoke", "--seed", "7"]) == code
    report = last_json_line(capsys.readouterr().out)
    assert set(report) == REPORT_KEYS
    assert report["ok"] is (code == 0) and report["metrics"]["seed"] == 7


def test_weights_reports_how_a_local_file_loads(tmp_path, capsys):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10, dilated=True), tmp_path / "r10.pth")
    assert main(["weights", "--depth", "10", "--pth", str(path)]) == 0
    report = last_json_line(capsys.readouterr().out)
    assert set(report) == REPORT_KEYS and report["ok"] is True
    assert report["metrics"]["missing"] == [] and report["metrics"]["loaded"] > 0
    assert report["targets"]["architecture_mismatches"]["value"] == 0


def test_weights_into_a_strided_encoder_exit_3_or_1_when_accepted(tmp_path, capsys):
    path = save_medicalnet_checkpoint(medicalnet_resnet(10, dilated=True), tmp_path / "r10.pth")
    assert main(["weights", "--pth", str(path), "--strided"]) == 3
    assert "geometry" in capsys.readouterr().err
    assert main(["weights", "--pth", str(path), "--strided", "--accept-architecture-mismatch"]) == 1
    report = last_json_line(capsys.readouterr().out)
    assert report["ok"] is False and report["targets"]["architecture_mismatches"]["value"] == 4


def test_weights_of_another_depth_exit_3_naming_the_problem(tmp_path, capsys):
    path = save_medicalnet_checkpoint(medicalnet_resnet(18, dilated=True), tmp_path / "r18.pth")
    assert main(["weights", "--depth", "10", "--pth", str(path)]) == 3
    assert "missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["weights", "--pth", "absent.pth"], "no weights file"),
        (["train", "--init", "scratch", "--roi", "60"], "multiple of 8"),
        (["evaluate", "absent.pt"], "no checkpoint"),
        (["compare", "absent-run"], "train a run first"),
    ],
)
def test_problems_the_user_can_fix_exit_3_with_a_message(
    argv, message, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 3
    assert message in capsys.readouterr().err


def fake_run(folder, init, seed, test_dice, dev_curve):
    """A run folder as `train` leaves it: report.json and metrics.csv."""
    folder.mkdir(parents=True)
    metrics = {"init": init, "seed": seed, "test_dice_mean": test_dice}
    (folder / "report.json").write_text(json.dumps({"ok": True, "metrics": metrics}))
    rows = [{"epoch": i, "dice_mean": v} for i, v in enumerate(dev_curve, start=1)]
    write_metrics_csv(rows, folder / "metrics.csv")
    return folder


@pytest.mark.parametrize(("pretrained", "code"), [(0.86, 0), (0.82, 1)])
def test_compare_checks_the_study_against_med3ds_gain(pretrained, code, tmp_path, capsys):
    runs = [
        str(fake_run(tmp_path / f"medicalnet-seed{s}", "medicalnet", s, pretrained, [0.6, 0.75]))
        for s in range(3)
    ]
    runs += [
        str(fake_run(tmp_path / f"scratch-seed{s}", "scratch", s, 0.81, [0.3, 0.5, 0.72]))
        for s in range(3)
    ]
    assert main(["compare", *runs, "--plot", str(tmp_path / "curves.png")]) == code
    report = last_json_line(capsys.readouterr().out)
    assert set(report) == REPORT_KEYS and report["ok"] is (code == 0)
    target = report["targets"]["pretrained_gain_over_scratch"]
    assert target["threshold"] == MED3D_MIN_GAIN and "1904.00625" in target["source"]
    assert target["value"] == pytest.approx(pretrained - 0.81)
    assert report["metrics"]["speedup"] == pytest.approx(1.5)
    assert report["metrics"]["runs"]["scratch-seed0"]["epochs_to_threshold"] == 3


def test_compare_refuses_a_study_of_one_seed(tmp_path, capsys):
    runs = [
        str(fake_run(tmp_path / "m", "medicalnet", 0, 0.9, [0.8])),
        str(fake_run(tmp_path / "s", "scratch", 0, 0.8, [0.8])),
    ]
    assert main(["compare", *runs, "--plot", str(tmp_path / "c.png")]) == 3
    assert "at least 3" in capsys.readouterr().err


def test_downloading_without_the_hub_client_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="make setup WITH=real"):
        medicalnet_resnet(10, pretrained=True)
