"""Two multi-label text classifiers in plain PyTorch: a TextCNN and a TF-IDF linear baseline.

Both output one logit per label; train them with ``BCEWithLogitsLoss`` (one independent
sigmoid per label, so a document can carry any number of labels).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class TextCNN(nn.Module):
    """Kim (2014)'s convolutional text classifier, multi-label head.

    Token ids ``[batch, time]`` -> embeddings -> one 1-D convolution per kernel size -> ReLU ->
    max over time -> dropout -> linear -> logits ``[batch, num_labels]``. Id 0 is padding.
    """

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        embed_dim: int = 64,
        kernel_sizes: Sequence[int] = (2, 3, 4),
        num_kernels: int = 64,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.hparams = {
            "vocab_size": vocab_size,
            "num_labels": num_labels,
            "embed_dim": embed_dim,
            "kernel_sizes": list(kernel_sizes),
            "num_kernels": num_kernels,
            "dropout": dropout,
        }
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, num_kernels, k) for k in kernel_sizes)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(num_kernels * len(kernel_sizes), num_labels)
        self.kernel_sizes = tuple(kernel_sizes)
        self.min_len = max(kernel_sizes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, num_labels]`` for padded token ids ``[batch, time]``.

        Ids shorter than the widest kernel are padded with 0 to ``min_len``. Per kernel size:
        convolve the embeddings, keep only the windows that start inside a document's real
        (non-zero) tokens, at least the first window, and take ReLU of their maximum. Then
        concatenate, apply dropout and the linear layer. So a document gets the same logits
        whatever the padding of its batch.
        """
        # >>> assignment: embed, conv, max over unpadded windows, dropout, linear
        if tokens.shape[1] < self.min_len:  # shorter than the widest kernel: pad with id 0
            tokens = F.pad(tokens, (0, self.min_len - tokens.shape[1]))
        lengths = (tokens != 0).sum(dim=1, keepdim=True)  # [batch, 1]
        x = self.embedding(tokens).transpose(1, 2)  # [batch, embed, time]
        pooled = []
        for k, conv in zip(self.kernel_sizes, self.convs, strict=True):
            out = conv(x)  # [batch, kernels, time - k + 1]
            # Only windows that start inside the text count (at least one per document), so a
            # document gets the same scores whatever the padding of its batch.
            starts = torch.arange(out.shape[2], device=out.device).unsqueeze(0)
            valid = starts < (lengths - k + 1).clamp(min=1)
            out = out.masked_fill(~valid.unsqueeze(1), float("-inf"))
            pooled.append(F.relu(out.amax(dim=2)))
        logits: torch.Tensor = self.linear(self.dropout(torch.cat(pooled, dim=1)))
        return logits
        # <<< assignment


class TfidfIndex:
    """TF-IDF weights for token ids: smoothed idf, sublinear tf, L2-normalised rows."""

    def __init__(self, docs_ids: Sequence[Sequence[int]], vocab_size: int) -> None:
        df = Counter(i for ids in docs_ids for i in set(ids) if i > 1)
        n = len(docs_ids)
        self.idf = torch.ones(vocab_size)
        for i, count in df.items():
            self.idf[i] = math.log((1 + n) / (1 + count)) + 1.0
        self.idf[:2] = 0.0  # padding and unknown carry no weight

    def rows(self, docs_ids: Sequence[Sequence[int]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per document: the ids of its known tokens and their TF-IDF weights."""
        out = []
        for doc in docs_ids:
            counts = Counter(i for i in doc if i > 1)
            ids = sorted(counts)
            row = torch.tensor([1.0 + math.log(counts[i]) for i in ids]) * self.idf[ids]
            norm = float(row.norm()) or 1.0
            out.append((torch.tensor(ids, dtype=torch.long), row / norm))
        return out

    @staticmethod
    def collate(rows: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, ...]:
        """``(ids, offsets, weights)`` for ``nn.EmbeddingBag``: one bag per document."""
        lengths = torch.tensor([0] + [len(ids) for ids, _ in rows[:-1]], dtype=torch.long)
        return (
            torch.cat([ids for ids, _ in rows]) if rows else torch.zeros(0, dtype=torch.long),
            lengths.cumsum(0),
            torch.cat([w for _, w in rows]) if rows else torch.zeros(0),
        )


class TfidfLogisticRegression(nn.Module):
    """One-vs-rest logistic regression on TF-IDF features.

    A sparse linear layer: ``nn.EmbeddingBag`` sums the weight rows of a document's tokens, each
    scaled by its TF-IDF value, then adds a bias. With BCE loss and weight decay this is one
    L2-regularised logistic regression per label, trained jointly.
    """

    def __init__(self, vocab_size: int, num_labels: int) -> None:
        super().__init__()
        self.hparams = {"vocab_size": vocab_size, "num_labels": num_labels}
        self.weight = nn.EmbeddingBag(vocab_size, num_labels, mode="sum")
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(num_labels))

    def forward(
        self, ids: torch.Tensor, offsets: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Logits ``[docs, num_labels]`` for the bags made by :meth:`TfidfIndex.collate`."""
        logits: torch.Tensor = self.weight(ids, offsets, per_sample_weights=weights) + self.bias
        return logits
