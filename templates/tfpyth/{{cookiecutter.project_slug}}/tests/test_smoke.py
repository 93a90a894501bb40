"""The smoke run is a proof: it passes as it is, and misses its targets when the core is broken.

Every test here goes through `main(["smoke"])`, the code path `make smoke` runs, with one part
broken on purpose: the optimiser, the gradient into TensorFlow in either bridge or in both, the
gradient into the bridge's inputs, part of the TF gradients, the torch head, the checkpoint.
The DLPack-side breakages reuse one real tfpyth run of the same settings (the child is not what
they break).
"""
# points: 15

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.breakages
from breakages import BACKWARD_CHANGES, break_backward  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import experiment, legacy
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.config import TrainConfig, TrainResult
from {{ cookiecutter.package_name }}.data import DEFAULT_SEED
from {{ cookiecutter.package_name }}.showcase import parse_results

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tfpyth") is None,
    reason="the smoke run trains through tfpyth too: run `make setup`",
)

HERE = Path(__file__).resolve().parent
BRIDGE_TARGETS = ("beats_frozen_extractor", "near_logreg", "gradient_check")


class Finished:
    """Stands in for a running tfpyth child whose result is already known."""

    def __init__(self, result: TrainResult) -> None:
        self._result = result

    def result(self) -> TrainResult:
        return self._result


@pytest.fixture(scope="module")
def intact_tfpyth(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """One real tfpyth run with the smoke's own settings (its checkpoint kept for the module)."""
    out = tmp_path_factory.mktemp("tfpyth")
    return legacy.train_tfpyth(experiment.smoke_config(), out_dir=out)


def run_smoke(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: TrainConfig | None = None,
    tfpyth: TrainResult | None = None,
) -> tuple[int, dict[str, Any], set[str]]:
    """``main(["smoke"])`` with the settings ``config`` and, when given, a known tfpyth result.

    Returns the exit code, the report and the names of the targets it missed.
    """
    if config is not None:
        monkeypatch.setattr(experiment, "smoke_config", lambda seed, epochs: config)
    if tfpyth is not None:
        monkeypatch.setattr(legacy, "start_tfpyth", lambda *args, **kwargs: Finished(tfpyth))
    # the tfpyth child must find breakages.py when the settings name a function in it
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), path])))
    code = main(["smoke"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    missed = {name for name, target in report["targets"].items() if not target["met"]}
    assert report["ok"] is (not missed) and code == (1 if missed else 0)
    return code, report, missed


def with_features(features: str) -> TrainConfig:
    config = experiment.smoke_config()
    return dataclasses.replace(config, model=dataclasses.replace(config.model, features=features))


def test_the_smoke_meets_every_target(monkeypatch, capsys):
    code, report, missed = run_smoke(monkeypatch, capsys)
    assert code == 0 and not missed, report["targets"]
    metrics = report["metrics"]
    # the same model, trained through two bridges, is the same to the last bit of every loss
    assert metrics["step_loss_max_abs_diff"] <= experiment.STEP_LOSS_TOLERANCE
    assert metrics["steps_compared"] > 100
    assert metrics["dlpack_test_accuracy"] == metrics["tfpyth_test_accuracy"]
    assert metrics["dlpack_checkpoint_roundtrip"] == 1.0
    # the dev split chose the epoch
    assert 1 <= metrics["dlpack_best_epoch"] <= experiment.SMOKE_EPOCHS
    assert set(report["targets"]) == {
        *(f"{b}_{t}" for b in ("dlpack", "tfpyth") for t in BRIDGE_TARGETS),
        "bridges_agree_step_by_step",
        "tfpyth_weights_through_dlpack",
    }
    # the run folder make report draws: every step of both bridges and the quick bench
    run = Path("runs/smoke")
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(rows) == metrics["steps_compared"]
    assert all(row["dlpack_loss"] == row["tfpyth_loss"] for row in rows)
    assert json.loads((run / "config.json").read_text())["seed"] == DEFAULT_SEED
    assert metrics["bench_torch_to_tf_dlpack_shares_memory"] is True
    # a fresh project has something to show after make smoke && make report
    Path("README.md").write_text((HERE.parent / "README.md").read_text())
    assert main(["report"]) == 0
    assert {p.name for p in Path("figures").iterdir()} == {
        "targets.png",
        "bridges_loss.png",
        "bench.png",
    }
    assert set(parse_results(Path("README.md"))) == set(report["targets"])
    assert Path("MODEL_CARD.md").is_file()


def test_a_model_that_never_learns_misses_every_accuracy_target(monkeypatch, capsys):
    never = dataclasses.replace(experiment.smoke_config(), lr=1e-9)
    code, report, missed = run_smoke(monkeypatch, capsys, config=never)
    assert code == 1
    for bridge in ("dlpack", "tfpyth"):
        assert {f"{bridge}_beats_frozen_extractor", f"{bridge}_near_logreg"} <= missed
        assert report["metrics"][f"{bridge}_test_accuracy"] < 0.5


def test_no_gradient_into_tensorflow_in_either_bridge_misses(monkeypatch, capsys):
    code, report, missed = run_smoke(
        monkeypatch, capsys, config=with_features("breakages:frozen_features")
    )
    assert code == 1
    for bridge in ("dlpack", "tfpyth"):
        assert {f"{bridge}_beats_frozen_extractor", f"{bridge}_gradient_check"} <= missed
        # the TF half never moved: the hybrid is the frozen-extractor baseline itself
        assert report["metrics"][f"{bridge}_test_accuracy"] == pytest.approx(
            report["metrics"]["frozen_extractor_test_accuracy"]
        )


def test_no_gradient_into_tensorflow_in_the_tfpyth_bridge_alone_misses(monkeypatch, capsys):
    code, _, missed = run_smoke(
        monkeypatch, capsys, config=with_features("breakages:frozen_in_graph_mode")
    )
    assert code == 1
    assert {
        "tfpyth_beats_frozen_extractor",
        "tfpyth_gradient_check",
        "bridges_agree_step_by_step",
    } <= missed
    assert not any(name.startswith("dlpack_") for name in missed)


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            "no gradient into the TF variables",
            {
                "dlpack_beats_frozen_extractor",
                "dlpack_gradient_check",
                "bridges_agree_step_by_step",
            },
        ),
        ("no gradient into the bridge's inputs", {"dlpack_gradient_check"}),
        ("no gradient into the TF biases", {"dlpack_gradient_check", "bridges_agree_step_by_step"}),
        # Adam nearly undoes a uniform scale, so the step losses barely move: the check does not
        ("TF gradients at half size", {"dlpack_gradient_check"}),
    ],
)
def test_a_dlpack_bridge_that_loses_gradients_misses(
    monkeypatch, capsys, intact_tfpyth, breakage, expected
):
    break_backward(monkeypatch, BACKWARD_CHANGES[breakage])
    code, _, missed = run_smoke(monkeypatch, capsys, tfpyth=intact_tfpyth)
    assert code == 1 and expected <= missed, missed
    assert not any(name.startswith("tfpyth_") for name in missed)


def test_a_torch_head_that_never_learns_misses(monkeypatch, capsys, intact_tfpyth):
    """The TF half trains through the bridge, the torch half does not: not the model either."""
    from {{ cookiecutter.package_name }} import model

    make_head = model.make_head

    def frozen_head(*args: Any, **kwargs: Any) -> Any:
        return make_head(*args, **kwargs).requires_grad_(False)

    monkeypatch.setattr(model, "make_head", frozen_head)
    code, report, missed = run_smoke(monkeypatch, capsys, tfpyth=intact_tfpyth)
    assert code == 1 and {"dlpack_near_logreg", "bridges_agree_step_by_step"} <= missed
    assert report["metrics"]["dlpack_test_accuracy"] < report["metrics"]["tfpyth_test_accuracy"]


def test_a_checkpoint_that_loses_the_trained_head_misses(monkeypatch, capsys, intact_tfpyth):
    from {{ cookiecutter.package_name }} import model

    load = model.load_hybrid

    def forgetful(path: str | Path) -> model.HybridModel:
        loaded = load(path)
        fresh = model.make_head(loaded.config.hidden[-1], loaded.n_classes, loaded.config)
        loaded.head.load_state_dict(fresh.state_dict())  # the initial head, not the trained one
        return loaded

    monkeypatch.setattr(model, "load_hybrid", forgetful)
    code, report, missed = run_smoke(monkeypatch, capsys, tfpyth=intact_tfpyth)
    assert code == 1 and missed == {"tfpyth_weights_through_dlpack"}
    assert report["metrics"]["dlpack_checkpoint_roundtrip"] < 0.5


def test_without_tfpyth_the_smoke_still_reports_and_fails(monkeypatch, capsys):
    monkeypatch.setattr(legacy, "tfpyth_available", lambda: False)
    code, report, missed = run_smoke(monkeypatch, capsys)
    assert code == 1 and report["metrics"]["tfpyth_test_accuracy"] is None
    assert {f"tfpyth_{t}" for t in BRIDGE_TARGETS} <= missed
    assert not any(name.startswith("dlpack_") for name in missed)
