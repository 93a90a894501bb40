"""The real run rehearsed: `train`, `evaluate` and `predict` end to end, offline, as a user runs
them after `download`, on a tiny stand-in for each thing the hub would have sent.

- The pretrained model: a tiny BERT written with `save_pretrained` into a Hugging Face hub cache
  (`models--<org>--<name>/refs/main` and `snapshots/<commit>/`, the layout `download` leaves),
  under the real default model id, so `from_pretrained(DEFAULT_MODEL)` finds it offline.
- SST-2: the hub repository's layout (`data/<split>-00000-of-00001.parquet` with SST-2's columns
  `idx`, `sentence`, `label` and its ClassLabel names), written with `datasets`, read by the real
  run's own `load_dataset` call through `--data` or $SST2_DATA (README: Real run).

Each command runs in a subprocess with HF_HOME in a temporary folder and HF_HUB_OFFLINE=1, and
ends in the report shape checked against the README's targets. Also: an interrupted checkpoint
save leaves nothing behind and the retry works without manual cleanup.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from {{ cookiecutter.package_name }} import data, finetune, model
from {{ cookiecutter.package_name }}.errors import (
    StarterError,
)
from {{ cookiecutter.package_name }}.model import (
    build_tokenizer,
    tiny_bert,
)
from {{ cookiecutter.package_name }}.settings import (
    CPU_GOAL_ACCURACY,
    CPU_GOAL_MINUTES,
    DEFAULT_MODEL,
    MAJORITY_MARGIN,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
)

pytestmark = pytest.mark.rehearsal

PACKAGE = data.__name__.split(".")[0]
COMMIT = "0" * 39 + "1"  # the snapshot's revision: any 40 hex digits
CPU = torch.device("cpu")
README = Path(__file__).resolve().parents[1] / "README.md"


def write_hub_model(hub_cache: Path, model_id: str) -> Path:
    """A tiny BERT and its tokenizer in the hub cache's layout, under `model_id`."""
    repo = hub_cache / f"models--{model_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    tokenizer = build_tokenizer(data.grammar_words(), max_length=48)
    classifier = tiny_bert(len(tokenizer), max_length=48, seed=0)
    classifier.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return snapshot


def write_sst2(folder: Path) -> Path:
    """SST-2 in the hub repository's layout: plain grammar sentences, 70 % positive in
    validation (so the majority class scores 0.7 there)."""
    import datasets

    features = datasets.Features(
        {
            "idx": datasets.Value("int32"),
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
        }
    )
    plain = [e for e in data.synthetic_sentiment(3000, seed=7) if e.kind == "plain"]
    validation = [e for e in plain if e.label == 1][:70] + [e for e in plain if e.label == 0][:30]
    splits = {"train": [e for e in plain if e not in validation][:800], "validation": validation}
    for split, examples in splits.items():
        table = datasets.Dataset.from_dict(
            {
                "idx": list(range(len(examples))),
                "sentence": [f"{e.text} " for e in examples],  # SST-2 ends each with a space
                "label": [e.label for e in examples],
            },
            features=features,
        )
        table.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    return folder


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("datasets", reason="datasets is not installed: run `make setup`")
    root = tmp_path_factory.mktemp("rehearsal")
    snapshot = write_hub_model(root / "hf" / "hub", DEFAULT_MODEL)
    return {
        "root": root,
        "hf_home": root / "hf",
        "snapshot": snapshot,
        "sst2": write_sst2(root / "sst2"),
    }


def run_command(
    hub: dict[str, Path], *args: str, sst2_env: bool = False
) -> tuple[int, dict[str, Any]]:
    env = {
        **os.environ,
        "HF_HOME": str(hub["hf_home"]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # a tiny model: one thread is fastest on a shared machine
    }
    env.pop("HF_HUB_CACHE", None)
    env.pop(data.SST2_ENV, None)
    if sst2_env:
        env[data.SST2_ENV] = str(hub["sst2"])
    proc = subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=hub["root"],
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def check_targets(report: dict[str, Any]) -> None:
    """The report shape of the smoke, with the README's published targets of a CPU subset."""
    assert set(report) >= {"ok", "seconds", "metrics", "targets"}
    targets = report["targets"]
    assert set(targets) >= {"accuracy_over_majority_class", "accuracy_cpu_goal"}
    majority = report["metrics"]["majority_class_accuracy"]
    assert majority == pytest.approx(0.7)
    assert targets["accuracy_over_majority_class"]["threshold"] == pytest.approx(
        majority + MAJORITY_MARGIN
    )
    assert targets["accuracy_cpu_goal"]["threshold"] == CPU_GOAL_ACCURACY
    readme = README.read_text(encoding="utf-8")
    assert f">= {CPU_GOAL_ACCURACY}" in readme and f"majority class + {MAJORITY_MARGIN}" in readme
    for target in targets.values():
        assert set(target) >= {"value", "op", "threshold", "met", "source"}
    assert report["ok"] == all(t["met"] for t in targets.values())


def test_train_evaluate_predict_run_offline_on_the_hub_formats(hub):
    out = hub["root"] / "runs" / "sst2"
    status, report = run_command(
        hub,
        "train",
        "--data",
        str(hub["sst2"]),
        "--train-examples",
        "700",
        "--epochs",
        "4",
        # The tiny model sits at chance for a seed-dependent while before it learns: a fixed
        # seed keeps this test about the plumbing, whatever seed the repository was made with.
        "--seed",
        "0",
        "--lr",
        "3e-3",
        "--max-length",
        "48",
        "--device",
        "cpu",
        "--out",
        str(out),
    )
    check_targets(report)
    assert status == 0 and report["ok"], report
    metrics = report["metrics"]
    assert metrics["model"] == DEFAULT_MODEL and metrics["data"] == str(hub["sst2"])
    assert metrics["protocol"] == "subset" and metrics["train_examples"] == 700
    assert metrics["examples"] == 100  # every validation sentence of the local copy
    assert report["targets"]["train_minutes_cpu_goal"]["threshold"] == CPU_GOAL_MINUTES
    assert json.loads((out / "metrics.json").read_text()) == report
    assert (out / "model" / "model.safetensors").is_file()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no partial folder

    # evaluate reads SST-2 from $SST2_DATA this time: the README's other way to point at it
    status, scores = run_command(
        hub, "evaluate", "--model-dir", str(out / "model"), "--max-length", "48", sst2_env=True
    )
    check_targets(scores)
    assert status == 0 and scores["metrics"]["accuracy"] == metrics["accuracy"]
    assert scores["metrics"]["data"] == str(hub["sst2"])

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            PACKAGE,
            "predict",
            "--model-dir",
            str(out / "model"),
            "the plot was good",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert json.loads(proc.stdout.splitlines()[0])["label"] in ("NEGATIVE", "POSITIVE")


def test_a_missing_local_copy_says_where_it_looked(hub):
    with pytest.raises(StarterError, match="--data"):
        data.load_sst2("validation", data=str(hub["root"] / "no-such-folder"))


def test_an_interrupted_checkpoint_save_leaves_nothing_and_the_retry_works(
    hub, fake_sst2, monkeypatch: pytest.MonkeyPatch
):
    # In this process the hub client has read HF_HOME already: the snapshot folder stands in
    # for the model id, and conftest's fake_sst2 for the loader (the subprocess test above
    # covers both); what is tested here is the save.
    out = hub["root"] / "interrupted"
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=3e-3, max_length=48)
    real_save = model.save_classifier

    def save_then_fail(classifier, tokenizer, folder):
        real_save(classifier, tokenizer, folder)  # the weights are written, then ...
        raise KeyboardInterrupt  # ... Ctrl-C before the run file

    monkeypatch.setattr(finetune, "save_classifier", save_then_fail)
    with pytest.raises(KeyboardInterrupt):
        finetune.run_finetune(str(hub["snapshot"]), out, CPU, 64, config)
    assert not out.exists()  # nothing half-saved, not even the run folder
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]

    monkeypatch.setattr(finetune, "save_classifier", real_save)
    report = finetune.run_finetune(str(hub["snapshot"]), out, CPU, 64, config)
    assert (out / "model" / finetune.RUN_FILE).is_file()
    assert json.loads((out / "metrics.json").read_text()) == report
