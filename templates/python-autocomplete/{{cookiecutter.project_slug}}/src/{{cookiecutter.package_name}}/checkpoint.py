"""Save and load a trained completer: model weights, model shape and vocabulary in one file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .model import LSTMLanguageModel, ModelConfig
from .runs import atomic_file
from .vocab import Vocabulary

FORMAT = "python-autocomplete-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or not one this package wrote."""


@dataclass
class Checkpoint:
    """A model ready to use, its vocabulary, and what is known about how it was trained."""

    model: LSTMLanguageModel
    vocab: Vocabulary
    meta: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: Path, model: LSTMLanguageModel, vocab: Vocabulary, meta: dict[str, Any] | None = None
) -> Path:
    """Write ``model``, its config and ``vocab`` to ``path`` (parents created); returns the path.

    Only tensors and plain Python values are stored, so ``load_checkpoint`` can read the file
    with ``torch.load(weights_only=True)``, which runs no code from the file. The file is
    written beside ``path`` and renamed into place (``runs.atomic_file``): a crash, a full disk
    or Ctrl-C mid-write leaves the previous checkpoint whole and no partial file behind.
    """
    path = Path(path)
    payload = {
        "format": FORMAT,
        "model_config": model.config.to_dict(),
        "vocab": vocab.to_dict(),
        "state_dict": {name: tensor.cpu() for name, tensor in model.state_dict().items()},
        "meta": meta or {},
    }
    with atomic_file(path) as staging:
        torch.save(payload, staging)
    return path


def load_checkpoint(
    path: Path,
    device: str | torch.device = "cpu",
    *,
    model_factory: Callable[[ModelConfig], LSTMLanguageModel] = LSTMLanguageModel,
) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``; the model comes back in eval mode.

    ``model_factory`` builds the model the weights are loaded into (a subclass with the same
    parameters, such as a test's deliberately broken variant). Raises ``CheckpointError``
    naming the path when the file is missing or not a checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path} (train one first: see README, Real run)")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many kinds for a corrupt file
        raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    config = ModelConfig(**payload["model_config"])
    model = model_factory(config)
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    return Checkpoint(model, Vocabulary.from_dict(payload["vocab"]), payload.get("meta", {}))
