"""The README's success criteria, checked on the model of a real run (`make run`).

Skipped until runs/lstm/model.pt exists; then they pass once the run meets the targets.
"""

from pathlib import Path

import pytest
import torch

from {{ cookiecutter.package_name }}.checkpoint import load_checkpoint
from {{ cookiecutter.package_name }}.data import load_split
from {{ cookiecutter.package_name }}.evaluate import evaluate_heldout
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig
from {{ cookiecutter.package_name }}.predict import Completer
from {{ cookiecutter.package_name }}.train import TrainConfig, train

CHECKPOINT = Path(__file__).resolve().parents[1] / "runs" / "lstm" / "model.pt"
TARGETS = {"top1": 0.60, "top5": 0.80, "keystrokes_saved": 0.30}
LATENCY_MS_P95 = 20.0


@pytest.mark.real
@pytest.mark.skipif(not CHECKPOINT.is_file(), reason=f"no real run yet: {CHECKPOINT} (make run)")
def test_the_real_run_meets_the_readme_targets():
    checkpoint = load_checkpoint(CHECKPOINT)
    roots = [Path(root) for root in checkpoint.meta.get("data", [])] or None
    _, heldout = load_split(
        roots,
        heldout_fraction=checkpoint.meta.get("heldout_fraction", 0.1),
        load_train=False,
        max_heldout_tokens=50_000,
        seed=checkpoint.meta.get("seed", 0),
    )
    metrics = evaluate_heldout(checkpoint.model, checkpoint.vocab, heldout.tokens)
    for name, target in TARGETS.items():
        assert metrics[name] >= target, f"{name} {metrics[name]:.3f} < {target}"
    assert metrics["latency_ms_p95"] < LATENCY_MS_P95


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_training_and_completion_run_on_the_gpu(trained, corpus_tokens):
    _, vocab = trained
    model = LSTMLanguageModel(ModelConfig(len(vocab), 32, 64, dropout=0.0))
    ids = vocab.encode(token.text for token in corpus_tokens)
    result = train(model, ids, TrainConfig(batch_size=8, max_steps=50, lr=1e-2), device="cuda")
    assert result.mean_loss(first=False) < result.mean_loss(first=True)
    assert next(model.parameters()).is_cuda
    assert isinstance(Completer(model, vocab, device="cuda").complete("import os\n"), str)
