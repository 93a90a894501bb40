"""The command line, end to end: the smoke run's quality signal, train -> evaluate, bench."""
# points: 10

import importlib.util
import json

import pytest

from {{ cookiecutter.package_name }}.__main__ import main


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.skipif(
    importlib.util.find_spec("tfpyth") is None,
    reason="the smoke run trains through tfpyth too: run `make setup`",
)
def test_smoke_trains_both_bridges_to_the_target(capsys):
    code = main(["smoke"])
    report = last_json(capsys)
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    metrics = report["metrics"]
    assert code == 0 and report["ok"] is True, metrics
    assert metrics["dlpack_test_accuracy"] >= 0.95 and metrics["tfpyth_test_accuracy"] >= 0.95
    assert metrics["prediction_agreement"] >= 0.95
    assert metrics["dlpack_loss_last_epoch"] < 0.2 * metrics["dlpack_loss_first_epoch"]
    assert metrics["dlpack_checkpoint_roundtrip"] is True


def test_smoke_without_tfpyth_still_prints_json_and_fails(monkeypatch, capsys):
    from {{ cookiecutter.package_name }} import legacy

    monkeypatch.setattr(legacy, "tfpyth_available", lambda: False)
    assert main(["smoke", "--epochs", "1"]) == 1
    report = last_json(capsys)
    assert report["ok"] is False
    assert report["metrics"]["tfpyth_test_accuracy"] is None
    assert report["metrics"]["dlpack_checkpoint_roundtrip"] is True


def test_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["train", "--bridge", "dlpack", "--epochs", "3", "--hidden", "32", "--out", str(out)]
    assert main(args) == 0
    trained = last_json(capsys)
    metrics = json.loads((out / "dlpack" / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(trained["dlpack_test_accuracy"], abs=1e-4)
    assert main(["evaluate", str(out / "dlpack" / "model.pt")]) == 0
    evaluated = last_json(capsys)
    assert evaluated["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_evaluate_missing_checkpoint_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        main(["evaluate", str(tmp_path / "missing.pt")])


def test_bench_tiny(tmp_path, capsys):
    args = ["bench", "--max-mb", "0.004", "--min-seconds", "0.001", "--out", str(tmp_path)]
    assert main(args) == 0
    report = last_json(capsys)
    assert report["largest_bytes"] == 4096
    assert (tmp_path / "bench.csv").is_file()


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as error:
        main(["fly"])
    assert error.value.code == 2
