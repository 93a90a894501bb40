"""The real-run commands end with the smoke's report shape, checked against their targets.

A small stand-in split named "mnist" takes MNIST's place here, so the published target (LeCun
et al. 1998) is applied exactly as in the real run, to a model that learns and to one that
cannot; test_rehearsal.py runs the same commands on a tiny file in MNIST's real format.
"""
# points: 5

from __future__ import annotations

import importlib.util
import json
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import data, experiment
from {{ cookiecutter.package_name }}.__main__ import DRAW_PLOT, main
from {{ cookiecutter.package_name }}.data import Split


def last_json(capsys) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def stand_in_mnist(separable: bool) -> Split:
    """A tiny split named "mnist": ten well-separated clusters, or labels that are pure noise."""
    rng = np.random.default_rng(0)
    centres = rng.random((10, 16), dtype=np.float32)

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, size=n)
        x = centres[y] + rng.normal(0, 0.02, size=(n, 16)).astype(np.float32)
        if not separable:
            y = rng.integers(0, 10, size=n)  # labels unrelated to the inputs
        return np.clip(x, 0, 1).astype(np.float32), y.astype(np.int64)

    return Split("mnist", *part(600), *part(200), *part(200))


@pytest.mark.parametrize("separable", [True, False])
def test_train_and_evaluate_on_mnist_check_the_published_error(
    monkeypatch, capsys, tmp_path, separable
):
    monkeypatch.setattr(data, "load_mnist_split", lambda: stand_in_mnist(separable))
    monkeypatch.setattr(data, "fetch_mnist", lambda: tmp_path / "mnist.npz")  # no file to fetch
    monkeypatch.setattr(data, "mnist_is_official", lambda path=None: True)
    out = tmp_path / "runs"
    args = ["train", "--bridge", "dlpack", "--dataset", "mnist", "--epochs", "3", "--out", str(out)]
    code = main(args)
    report = last_json(capsys)
    target = report["targets"]["dlpack_test_error"]
    assert target["op"] == "<=" and target["threshold"] == experiment.MNIST_ERROR == 0.0305
    assert "LeCun" in target["source"] and "3.05 %" in target["source"]
    assert target["value"] == pytest.approx(1 - report["metrics"]["dlpack_test_accuracy"], abs=1e-6)
    assert target["met"] is separable and report["ok"] is separable
    assert code == (0 if separable else 1)
    saved = json.loads((out / "dlpack" / "metrics.json").read_text())
    assert saved["test_accuracy"] == pytest.approx(report["metrics"]["dlpack_test_accuracy"])

    code = main(["evaluate", str(out / "dlpack" / "model.pt"), "--dataset", "mnist"])
    evaluated = last_json(capsys)
    assert set(evaluated) == {"ok", "seconds", "metrics", "targets"}
    assert evaluated["metrics"]["test_accuracy"] == pytest.approx(saved["test_accuracy"])
    assert evaluated["targets"]["checkpoint_test_error"]["met"] is separable
    assert code == (0 if separable else 1)


def test_train_then_evaluate_on_the_digits_against_logistic_regression(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["train", "--bridge", "dlpack", "--epochs", "8", "--out", str(out)]
    assert main(args) == 0
    trained = last_json(capsys)
    target = trained["targets"]["dlpack_near_logreg"]
    logreg = trained["metrics"]["logreg_test_accuracy"]
    assert target["threshold"] == pytest.approx(logreg - experiment.LOGREG_SLACK, abs=1e-6)
    assert target["source"].startswith("baseline:logreg_test_accuracy")
    assert trained["ok"] is True and trained["metrics"]["dlpack_test_accuracy"] > logreg - 0.05

    assert main(["evaluate", str(out / "dlpack" / "model.pt")]) == 0
    evaluated = last_json(capsys)
    assert evaluated["metrics"]["test_accuracy"] == pytest.approx(
        trained["metrics"]["dlpack_test_accuracy"]
    )


def test_an_untrained_checkpoint_fails_evaluate(tmp_path, capsys):
    from {{ cookiecutter.package_name }}.model import HybridModel, ModelConfig, save_hybrid

    path = save_hybrid(HybridModel(64, 10, ModelConfig(hidden=(32,))), tmp_path / "model.pt")
    assert main(["evaluate", str(path)]) == 1
    report = last_json(capsys)
    assert report["ok"] is False and report["targets"]["checkpoint_near_logreg"]["met"] is False


def test_evaluate_missing_checkpoint_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        main(["evaluate", str(tmp_path / "missing.pt")])


def test_bench_tiny(tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["bench", "--max-mb", "0.004", "--min-seconds", "0.001", "--out", str(out)]
    assert main(args) == 0
    report = last_json(capsys)
    assert report["largest_bytes"] == 4096
    assert (out / "bench.csv").is_file()
    # the plot follows the template's answer (DRAW_PLOT), when matplotlib is there to draw it
    drawn = DRAW_PLOT and importlib.util.find_spec("matplotlib") is not None
    assert (out / "bench.png").is_file() == drawn == (report["plot"] is not None)
    # the run folder: one history row per measurement, zero copy checked in its report
    run = json.loads((out / "report.json").read_text())
    assert run["ok"] is True and set(run["targets"]) == {
        "torch_to_tf_dlpack_zero_copy",
        "tf_to_torch_dlpack_zero_copy",
    }
    assert len((out / "history.jsonl").read_text().splitlines()) == 2 * 4  # 2 sizes, 4 routes
    assert json.loads((out / "config.json").read_text())["sizes"] == [1024, 4096]


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit) as error:
        main(["fly"])
    assert error.value.code == 2
