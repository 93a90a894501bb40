"""Deliberately broken models, for proving that the smoke run can fail.

Each is a model factory (``ModelConfig`` in, model out) that ``run_smoke`` accepts, so the
broken model goes through the smoke's own code path: training, checkpoint, completion,
evaluation and targets.
"""

from __future__ import annotations

import torch

from {{ cookiecutter.package_name }}.model import LSTMLanguageModel, ModelConfig, State


class NoMemoryLSTM(LSTMLanguageModel):
    """The LSTM with its recurrent state cut between tokens: each step sees only the current
    token, as if every token were a sequence of its own. At best a bigram model."""

    def encode(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        batch, steps = ids.shape
        hidden, _ = super().encode(ids.reshape(batch * steps, 1))  # a fresh state each token
        zeros = hidden.new_zeros(self.config.num_layers, batch, self.config.hidden_size)
        return hidden.reshape(batch, steps, -1), (zeros, zeros.clone())


class BlindLSTM(LSTMLanguageModel):
    """The LSTM fed the same token whatever the code says: it can learn how often tokens
    come, never which one comes next."""

    def encode(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        return super().encode(torch.full_like(ids, len(self.embedding.weight) - 1), state)


def only_output_bias(config: ModelConfig) -> LSTMLanguageModel:
    """An LSTM whose every weight is frozen but the output bias: it learns token frequencies
    (a unigram model) and nothing else."""
    model = LSTMLanguageModel(config)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name == "output_bias")
    return model
