"""Shared fixtures. Everything here runs offline, on CPU, in seconds."""

import os

# Before any import that could reach a model hub (none does here; every starter sets it).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from samples import distinct_source, module_source  # noqa: E402

from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig  # noqa: E402
from {{ cookiecutter.package_name }}.tokenizer import Token, tokenize_source  # noqa: E402
from {{ cookiecutter.package_name }}.train import TrainConfig, seed_everything, train  # noqa: E402
from {{ cookiecutter.package_name }}.vocab import Vocabulary  # noqa: E402

# One thread: the same numbers run after run, and no thread contention on shared runners.
torch.set_num_threads(1)


@pytest.fixture
def python_tree(tmp_path: Path) -> Path:
    """A folder of 12 distinct modules, some in a package, plus folders that must be skipped."""
    root = tmp_path / "project"
    for index in range(12):
        folder = root / "pkg" if index % 3 else root
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module_{index}.py").write_text(distinct_source(index), encoding="utf-8")
    for skipped in ("__pycache__", ".venv", "site-packages"):
        (root / skipped).mkdir()
        (root / skipped / "ignored.py").write_text("x = 1\n", encoding="utf-8")
    (root / "notes.txt").write_text("not python\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def corpus_tokens() -> list[Token]:
    """The tokens of 30 small modules (about 4,000 tokens)."""
    return [token for index in range(30) for token in tokenize_source(module_source(index))]


@pytest.fixture(scope="session")
def trained(corpus_tokens: list[Token]) -> tuple[LSTMLanguageModel, Vocabulary]:
    """A tiny model trained until it knows the modules above by heart (a few seconds)."""
    seed_everything(0)
    texts = [token.text for token in corpus_tokens]
    vocab = Vocabulary.build([texts], max_size=200)
    model = LSTMLanguageModel(ModelConfig(len(vocab), 32, 64, num_layers=2, dropout=0.0))
    train(model, vocab.encode(texts), TrainConfig(batch_size=8, max_steps=300, lr=1e-2))
    return model.eval(), vocab
