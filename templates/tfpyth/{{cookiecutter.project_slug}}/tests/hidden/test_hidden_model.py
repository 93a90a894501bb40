"""Instructor test for HybridModel.forward: exact logits, every shape error, gradients.

It also runs from the grader folder, without this repo's conftest.py: the package, imported before
TensorFlow, sets TensorFlow's quiet, repeatable defaults.
"""

import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.bridge import set_threads
from {{ cookiecutter.package_name }}.model import HybridModel, ModelConfig

set_threads(1)


def test_hybrid_forward_is_the_head_of_the_relu_features():
    config = ModelConfig(hidden=(16, 8), head_hidden=4, seed=5)
    model = HybridModel(20, 3, config)
    x = torch.from_numpy(np.random.default_rng(1).random((6, 20), dtype=np.float32))
    w1, b1, w2, b2 = (p.detach() for p in model.extractor.tf_params)
    expected = model.head(torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2))

    logits = model(x)
    assert logits.shape == (6, 3) and logits.dtype == torch.float32
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected.detach(), rtol=1e-5, atol=1e-6)
    assert model(x[:1]).shape == (1, 3)  # a batch of one

    # one backward reaches all eight parameters: four TensorFlow weights, four in the head
    logits.logsumexp(dim=1).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert len(grads) == 8 and all(g is not None and g.abs().sum() > 0 for g in grads)

    for bad in (torch.rand(20), torch.rand(2, 19), torch.rand(2, 21), torch.rand(1, 2, 20)):
        with pytest.raises(ValueError, match="shape"):
            model(bad)
