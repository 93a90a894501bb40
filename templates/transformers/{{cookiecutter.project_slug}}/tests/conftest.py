"""Shared fixtures. Every test runs offline: set before transformers or the hub client loads."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from {{ cookiecutter.package_name }} import data, finetune  # noqa: E402
from {{ cookiecutter.package_name }}.model import (  # noqa: E402
    build_tokenizer,
    save_classifier,
    tiny_bert,
)

PACKAGE = data.__name__.split(".")[0]

# Every model in the tests is tiny: one thread is fastest, and several threads per process on a
# busy machine (or a CI runner) cost up to 10x in contention.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `python -m <package> smoke` run in a subprocess, shared by the tests that read it.

    Returns its exit status, its parsed JSON report (the last stdout line) and its output folder.
    """
    out = tmp_path_factory.mktemp("smoke")
    proc = subprocess.run(
        [sys.executable, "-m", PACKAGE, "smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    return {
        "returncode": proc.returncode,
        "report": json.loads(lines[-1]) if lines else None,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "out": out,
    }


@pytest.fixture(scope="session")
def tokenizer():
    """The smoke run's tokenizer: the grammar's words plus BERT's special tokens."""
    return build_tokenizer(data.grammar_words(), max_length=48)


@pytest.fixture()
def untrained_model_dir(tmp_path: Path, tokenizer) -> Path:
    """A freshly initialised tiny BERT and its tokenizer saved with save_pretrained."""
    return save_classifier(tiny_bert(len(tokenizer), max_length=48), tokenizer, tmp_path / "tiny")


@pytest.fixture(scope="session")
def sentences() -> list[data.Example]:
    """600 labelled grammar sentences."""
    return data.synthetic_sentiment(600, seed=1)


@pytest.fixture()
def fake_sst2(monkeypatch: pytest.MonkeyPatch) -> float:
    """Replace SST-2 by plain grammar sentences, learnable in seconds by the tiny BERT, so the
    real run's code runs offline. Returns the share of positive labels in the validation
    stand-in (0.7: the majority class scores 0.7 on it)."""

    def load(
        split: str, limit: int | None = None, seed: int = 0, **source: str | None
    ) -> tuple[list[str], list[int]]:
        examples = data.synthetic_sentiment(1500, seed=int(split == "train"))
        examples = [e for e in examples if e.kind == "plain"]
        if split == "validation":
            positive = [e for e in examples if e.label == 1][:140]
            negative = [e for e in examples if e.label == 0][:60]
            examples = positive + negative
        examples = examples[:limit] if limit else examples
        return [e.text for e in examples], [e.label for e in examples]

    monkeypatch.setattr(finetune, "load_sst2", load)
    return 0.7
