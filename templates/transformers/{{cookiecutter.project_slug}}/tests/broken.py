"""Broken models for the breakage tests: each removes what the smoke claims to prove.

Every factory has the smoke's model-factory signature (vocabulary size, max length, seed) and
returns the smoke's own tiny BERT with one thing taken away, so `run_smoke(model_factory=...)`
runs the real pipeline (train, dev choice, save, reload, pipeline, baselines, targets) on it.

- a model that never learns: every weight frozen but the classifier's bias (it can learn the
  label prior, nothing about a sentence), or an encoder frozen at its random start with only
  the pooler and classifier on top learning ("frozen_encoder");
- attention that sees neither order nor pairs: position embeddings zeroed and frozen, and every
  token attends only to itself ("self_only", as literal as it gets: [CLS] then sees nothing), or
  every token attends only to itself while [CLS] pools all tokens ("bag_of_tokens": a learned
  bag of tokens with a non-linear read-out, the strongest order-free model of the class);
- attention without order: no position information, full attention (a function of the multiset
  of tokens: "X but Y" and "Y but X" look the same).

Not in the class, and so not here: keeping the positions while every token attends only to
itself and [CLS] pools them still passes the smoke (seeds 0-4 of the template's sweep): the
positions carry the order, and [CLS], attending twice, relates the tokens through its own state.

The attention variants are registered with transformers' `AttentionInterface` (and a mask
function with `AttentionMaskInterface`), the v5 way to swap attention; the smoke reloads its model
with the same `attn_implementation`, so the saved and served model is broken the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import AttentionInterface, BertForSequenceClassification
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

from {{ cookiecutter.package_name }}.model import (
    tiny_bert,
)

Factory = Callable[[int, int, int], BertForSequenceClassification]


def _attention(cls_sees_all: bool) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """An attention function in which token i attends to token i only.

    With `cls_sees_all`, the query at position 0 ([CLS]) attends to every non-padding token.
    """

    def attend(
        module: torch.nn.Module,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None,
        scaling: float | None = None,
        dropout: float = 0.0,
        **kwargs: object,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # query, key, value: (batch, heads, length, head size)
        length = query.shape[-2]
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        scores = query @ key.transpose(-1, -2) * scale
        allowed = torch.eye(length, dtype=torch.bool, device=query.device)
        if cls_sees_all:
            allowed[0] = True
        allowed = allowed.expand_as(scores)
        if attention_mask is not None:  # sdpa-style boolean mask: True where a key may be seen
            allowed = allowed & attention_mask.bool().expand_as(scores)
        # A padding query may see nothing at all: let it see itself, its output is never read.
        allowed = allowed | torch.eye(length, dtype=torch.bool, device=query.device)
        weights = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        output = (weights @ value).transpose(1, 2).contiguous()
        return output, weights

    return attend


AttentionInterface.register("self_only", _attention(cls_sees_all=False))
AttentionInterface.register("bag_of_tokens", _attention(cls_sees_all=True))
for _name in ("self_only", "bag_of_tokens"):
    ALL_MASK_ATTENTION_FUNCTIONS.register(_name, sdpa_mask)


def _without_positions(model: BertForSequenceClassification) -> BertForSequenceClassification:
    """Zero and freeze the position embeddings: the model no longer knows where a token is."""
    positions = model.bert.embeddings.position_embeddings.weight
    with torch.no_grad():
        positions.zero_()
    positions.requires_grad_(False)
    return model


def never_learns(vocab_size: int, max_length: int, seed: int) -> BertForSequenceClassification:
    """The tiny BERT with every weight frozen except the classifier's bias."""
    model = tiny_bert(vocab_size, max_length=max_length, seed=seed)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name == "classifier.bias")
    return model


def frozen_encoder(vocab_size: int, max_length: int, seed: int) -> BertForSequenceClassification:
    """Embeddings and encoder frozen at their random start: only pooler and classifier learn."""
    model = tiny_bert(vocab_size, max_length=max_length, seed=seed)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith(("bert.pooler.", "classifier.")))
    return model


def self_only(vocab_size: int, max_length: int, seed: int) -> BertForSequenceClassification:
    """No positions, and every token (also [CLS]) attends only to itself."""
    model = tiny_bert(vocab_size, max_length=max_length, seed=seed)
    model.set_attn_implementation("self_only")
    return _without_positions(model)


def bag_of_tokens(vocab_size: int, max_length: int, seed: int) -> BertForSequenceClassification:
    """No positions, every token attends only to itself, [CLS] pools all tokens."""
    model = tiny_bert(vocab_size, max_length=max_length, seed=seed)
    model.set_attn_implementation("bag_of_tokens")
    return _without_positions(model)


def no_positions(vocab_size: int, max_length: int, seed: int) -> BertForSequenceClassification:
    """Full attention, but no position information: a function of the multiset of tokens."""
    return _without_positions(tiny_bert(vocab_size, max_length=max_length, seed=seed))


BROKEN: dict[str, Factory] = {
    "never_learns": never_learns,
    "frozen_encoder": frozen_encoder,
    "self_only": self_only,
    "bag_of_tokens": bag_of_tokens,
    "no_positions": no_positions,
}
