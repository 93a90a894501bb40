"""Settings of the real run; the defaults are the answers given when this repo was generated."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: The U-Net encoder of the real run: a MedicalNet 3D ResNet (resnet10 fits a laptop CPU).
DEFAULT_BACKBONE = "{{ cookiecutter.backbone }}"
#: Epochs of one real training run (the pretrained and the scratch run each get this many).
DEFAULT_EPOCHS = {{ cookiecutter.real_epochs }}
#: The Medical Segmentation Decathlon task of the real run and its label names.
MSD_TASK = "Task04_Hippocampus"
CLASS_NAMES = ("background", "anterior", "posterior")
#: The question the real run answers: how many epochs each run needs to reach this mean Dice.
DICE_THRESHOLD = 0.70
#: Seeds per arm (pretrained, scratch) before the study's claim counts.
MIN_SEEDS = 3
#: Ways to initialise the encoder of the real run.
INITS = ("medicalnet", "scratch")
#: The seed this repo was generated with: the smoke run's synthetic scans and every --seed default.
DEFAULT_SEED = {{ cookiecutter.seed|int }}


@dataclass(frozen=True)
class RealRunConfig:
    """Everything one real training run depends on (written next to its results)."""

    init: str = "medicalnet"
    backbone: str = DEFAULT_BACKBONE
    epochs: int = DEFAULT_EPOCHS
    data_dir: Path = Path("data")
    out_dir: Path = Path("runs/medicalnet")
    weights: Path | None = None
    batch_size: int = 8
    lr: float = 1e-3
    encoder_lr_scale: float = 0.1
    roi_size: int = 64
    dev_frac: float = 0.15
    test_frac: float = 0.15
    dilated: bool = True
    accept_architecture_mismatch: bool = False
    limit: int | None = None
    num_workers: int = 2
    device: str = "auto"
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        multiple = 8 if self.dilated else 32
        if self.roi_size % multiple:
            raise ValueError(
                f"roi_size must be a multiple of {multiple} (the encoder shrinks it "
                f"{multiple} times), got {self.roi_size}"
            )
        if not (
            0 < self.dev_frac < 1 and 0 < self.test_frac < 1 and self.dev_frac + self.test_frac < 1
        ):
            raise ValueError(
                f"dev_frac {self.dev_frac} and test_frac {self.test_frac} must lie "
                "in (0, 1) and sum to less than 1"
            )

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
