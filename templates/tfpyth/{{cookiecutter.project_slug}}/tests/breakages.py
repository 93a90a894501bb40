"""Broken parts for the smoke's breakage tests: each copies values but loses some gradient.

The feature functions are named by ``ModelConfig.features`` ("breakages:frozen_features"), so
the tfpyth child imports them too (the tests put this folder on its PYTHONPATH). The backward
changes patch the DLPack bridge in this process only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf
import torch

from {{ cookiecutter.package_name }}.model import extract_features

Grads = list[Any]


def frozen_features(x: tf.Tensor, *weights: tf.Tensor) -> tf.Tensor:
    """The real features, but no gradient reaches the TF weights (in both bridges)."""
    return extract_features(x, *[tf.stop_gradient(w) for w in weights])


def frozen_in_graph_mode(x: tf.Tensor, *weights: tf.Tensor) -> tf.Tensor:
    """:func:`frozen_features` in TF1 graph mode only: the tfpyth child breaks, DLPack does not."""
    if tf.executing_eagerly():
        return extract_features(x, *weights)
    return frozen_features(x, *weights)


def zeros(grads: Grads) -> Grads:
    return [None if g is None else torch.zeros_like(g) for g in grads]


BACKWARD_CHANGES: dict[str, Callable[[Grads, Grads], tuple[Grads, Grads]]] = {
    # (input gradients, TF variable gradients) -> what the broken bridge hands torch instead
    "no gradient into the TF variables": lambda inputs, params: (inputs, zeros(params)),
    "no gradient into the bridge's inputs": lambda inputs, params: (zeros(inputs), params),
    "no gradient into the TF biases": lambda inputs, params: (
        inputs,
        [torch.zeros_like(g) if g.ndim == 1 else g for g in params],
    ),
    "TF gradients at half size": lambda inputs, params: (inputs, [0.5 * g for g in params]),
}


def break_backward(monkeypatch: Any, change: Callable[[Grads, Grads], tuple[Grads, Grads]]) -> None:
    """Make the DLPack bridge's backward pass hand torch ``change(inputs, params)``."""
    from {{ cookiecutter.package_name }} import bridge

    original = bridge._TFFunction.backward

    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        grads = original(ctx, grad_output)
        split = 3 + len(ctx.differentiable)  # (fn, variables, n_inputs, *inputs, *params)
        inputs, params = change(list(grads[3:split]), list(grads[split:]))
        return (*grads[:3], *inputs, *params)

    monkeypatch.setattr(bridge._TFFunction, "backward", staticmethod(backward))
