"""The language model: token embedding, a stacked LSTM, and a linear layer to next-token logits."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]

# Sizes for the command line's --size; "small" is what the smoke run trains.
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

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class LSTMLanguageModel(nn.Module):
    """Predicts the next token at every position of a batch of token-id sequences."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """``ids`` [B, T] to logits [B, T, vocab_size], and the LSTM state after the last step.

        Pass the returned state back in to continue the same sequences (truncated
        backpropagation through time, or one token at a time when completing a line).
        """
        embedded = self.dropout(self.embedding(ids))
        hidden, state = self.lstm(embedded, state)
        return self.head(self.dropout(hidden)), state

    def num_parameters(self) -> int:
        return sum(parameter.numel() for parameter in self.parameters())


def detach_state(state: State) -> State:
    """Cut the graph between training windows while keeping the LSTM's memory."""
    return state[0].detach(), state[1].detach()
