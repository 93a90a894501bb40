"""Training on a CUDA GPU (bfloat16 autocast where supported). Skipped without one."""

import pytest
import torch

from {{ cookiecutter.package_name }} import (
    finetune,
)
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


def test_the_real_run_trains_on_the_gpu_and_reports(fake_sst2, untrained_model_dir, tmp_path):
    # The code path `train` takes on a GPU: bfloat16 autocast, the dev choice of the epoch (the
    # best weights are kept on the GPU), the report. The tiny BERT stands in for the encoder.
    config = TrainConfig(epochs=4, batch_size=16, learning_rate=3e-3, max_length=48)
    device = pick_device("cuda")
    report = finetune.run_finetune(str(untrained_model_dir), tmp_path, device, 400, config)
    metrics = report["metrics"]
    assert metrics["device"] == "cuda" and len(metrics["dev_accuracy_by_epoch"]) == 4
    assert metrics["dev_accuracy"] == max(metrics["dev_accuracy_by_epoch"])
    assert metrics["accuracy"] >= metrics["majority_class_accuracy"] + 0.2
    assert set(report["targets"]) == {
        "accuracy_over_majority_class",
        "accuracy_cpu_goal",
        "train_minutes_cpu_goal",
    }
