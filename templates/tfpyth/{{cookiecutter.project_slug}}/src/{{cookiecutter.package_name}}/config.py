"""The settings and results that cross the process boundary to the tfpyth child as JSON.

This module imports neither TensorFlow nor torch, so the smoke run can start the tfpyth subprocess
before this process pays for its own imports: the two start-ups then overlap on two cores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .data import DEFAULT_SEED

# The TensorFlow function both bridges train, as "module:function"; a string, not a callable,
# because the tfpyth child imports it by name. A test swaps it to break the TF half on purpose.
DEFAULT_FEATURES = f"{__package__}.model:extract_features"


@dataclass(frozen=True)
class ModelConfig:
    """Layer widths of the TF extractor (``hidden``) and of the torch head, the init seed, and the
    TensorFlow feature function (``features``, ``"module:function"``).

    The default widths are those of LeCun et al.'s 300-100 network (the real run's yardstick).
    """

    hidden: tuple[int, ...] = (300, 100)
    head_hidden: int = 32
    seed: int = DEFAULT_SEED
    features: str = DEFAULT_FEATURES

    def __post_init__(self) -> None:
        if not self.hidden or any(int(h) < 1 for h in self.hidden) or self.head_hidden < 1:
            raise ValueError(f"layer widths must be positive integers, got {self}")
        if self.features.count(":") != 1:
            raise ValueError(f"features must be 'module:function', got {self.features!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Inverse of ``dataclasses.asdict`` (JSON turns the tuple of widths into a list)."""
        values = dict(values)
        if "hidden" in values:
            values["hidden"] = tuple(values["hidden"])
        return cls(**values)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``model`` holds the architecture and init seed."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = DEFAULT_SEED
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"epochs, batch_size and lr must be positive, got {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        return cls(**{**values, "model": ModelConfig.from_dict(values.get("model", {}))})


@dataclass
class TrainResult:
    """What one training run reports.

    ``losses`` holds the mean loss of every epoch and ``step_losses`` the loss of every step, in
    order (the two bridges are compared step by step). The weights kept are those of
    ``best_epoch``, the epoch with the best accuracy on the dev split; ``test_accuracy`` and
    ``predictions`` (on the test split) come from them. ``gradient_error`` is the bridge's
    gradient check before training (see :func:`.train.gradient_error`); ``None`` when not run.
    """

    bridge: str
    test_accuracy: float
    dev_accuracy: float
    train_accuracy: float
    best_epoch: int
    losses: list[float]
    step_losses: list[float]
    predictions: list[int]
    seconds: float
    gradient_error: float | None = None
    checkpoint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
