"""The language model: token embedding, a stacked LSTM, and tied output weights.

The output layer reuses the embedding matrix (weight tying, Press & Wolf 2017; Inan et al.
2017): the LSTM state is projected to the embedding size and scored against every token's
embedding. It halves the parameters and the cost of the output layer, and on CPU budgets it
learns much faster: with the output layer untied, a 20-second run stays stuck at predicting
the most frequent token (see the README's milestones for the ablation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional

State = tuple[torch.Tensor, torch.Tensor]

# The longest context the model learns from and is scored with: its state starts blank at
# most this many tokens back, as when it completes a line from the code before the cursor
# (`predict.Completer` reads up to 128 tokens). A model that only ever carried its state
# on, and never started blank, can fall into a state it never leaves on held-out code.
MAX_CONTEXT = 256

# The sizes of `train --size`; "small" is the model the smoke run trains.
PRESETS: dict[str, dict[str, int]] = {
    "small": {"vocab_size": 5000, "embedding_dim": 128, "hidden_size": 256, "num_layers": 2},
    "medium": {"vocab_size": 10000, "embedding_dim": 256, "hidden_size": 512, "num_layers": 2},
    "large": {"vocab_size": 20000, "embedding_dim": 512, "hidden_size": 1024, "num_layers": 3},
}


@dataclass(frozen=True)
class ModelConfig:
    """The shape of an ``LSTMLanguageModel``; stored in every checkpoint."""

    vocab_size: int
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.1
    tie_weights: bool = True

    def to_dict(self) -> dict[str, int | float | bool]:
        return asdict(self)


class LSTMLanguageModel(nn.Module):
    """Predicts the next token at every position of a batch of token-id sequences."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        if config.tie_weights:
            self.project = nn.Linear(config.hidden_size, config.embedding_dim)
            self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))
        else:
            self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``ids`` [B, T] to logits [B, T, vocab_size], and the LSTM state after the last step.

        Pass the returned state back in to continue the same sequences (truncated
        backpropagation through time, or one token at a time when completing a line).
        """
        hidden, state = self.encode(ids, state)
        return self.logits(hidden), state

    def encode(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``ids`` [B, T] to the LSTM's top-layer outputs [B, T, hidden_size], and its state."""
        # >>> assignment: dropout(embedding(ids)) into self.lstm with state; dropout outputs
        hidden, state = self.lstm(self.dropout(self.embedding(ids)), state)
        return self.dropout(hidden), state
        # <<< assignment

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """LSTM outputs [..., hidden_size] to next-token logits [..., vocab_size].

        Completion calls it on the last position only: the output layer is most of the cost.
        """
        if self.config.tie_weights:
            return functional.linear(self.project(hidden), self.embedding.weight, self.output_bias)
        return self.head(hidden)

    def num_parameters(self) -> int:
        return sum(parameter.numel() for parameter in self.parameters())


def detach_state(state: State) -> State:
    """Cut the graph between training windows while keeping the LSTM's memory."""
    return state[0].detach(), state[1].detach()
