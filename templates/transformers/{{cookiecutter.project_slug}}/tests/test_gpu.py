"""Training on a CUDA GPU (bfloat16 autocast where supported). Skipped without one."""

import pytest
import torch

from {{ cookiecutter.package_name }}.evaluate import (
    predict_logits,
)
from {{ cookiecutter.package_name }}.model import (
    pick_device,
    tiny_bert,
)
from {{ cookiecutter.package_name }}.train import (
    TrainConfig,
    fit,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch"),
]


def test_fit_runs_on_the_gpu_and_lowers_the_loss(tokenizer, sentences):
    device = pick_device("cuda")
    model = tiny_bert(len(tokenizer), max_length=48)
    plain = [e for e in sentences if e.kind == "plain"]
    texts, labels = [e.text for e in plain], [e.label for e in plain]
    config = TrainConfig(epochs=8, batch_size=32, learning_rate=2e-3, max_length=48)
    result = fit(model, tokenizer, texts, labels, config, device=device)
    assert next(model.parameters()).device.type == "cuda"
    assert result.mean_loss(first=False) < result.mean_loss(first=True)
    assert predict_logits(model, tokenizer, texts[:8]).shape == (8, 2)
