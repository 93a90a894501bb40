"""What each command measures, and the targets its report must meet.

The smoke run trains the hybrid model through both bridges and, in the same run and on the same
test split, two baselines: the frozen extractor (the same network, same initial weights and
batches, but only the torch head trains: what the model reaches when no gradient crosses into
TensorFlow) and a logistic regression on the raw pixels. Its targets, and why they are what they
are, are in the README (Success criteria); the margins come from a seed sweep (seeds 0-9) made
when this template was written.

Heavy imports (TensorFlow, torch) happen inside the functions: :func:`run_smoke` starts the
tfpyth child first, so that the two processes load their frameworks at the same time.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import ModelConfig, TrainConfig, TrainResult
from .data import DEFAULT_SEED
from .targets import Target, beats_baseline, published

log = logging.getLogger(__name__)

# The smoke's model: the TF half ends in an 8-wide bottleneck, so the torch head sees 8 numbers
# of the 64 pixels. Random (never trained) weights keep little of the digit in 8 numbers; trained
# through the bridge they keep almost all of it. That gap is what the gradients into TF buy.
SMOKE_MODEL = ModelConfig(hidden=(128, 8), head_hidden=32)
SMOKE_EPOCHS = 20
SMOKE_LR = 3e-3

# Each bridge's test accuracy must beat the frozen extractor's by this much (accuracy points).
# Seed sweep: the smallest gap of a working bridge was 0.35; a bridge whose gradients never
# reach TensorFlow is the frozen extractor itself (gap 0).
MARGIN_OVER_FROZEN = 0.25
# ... and fall no further than this below logistic regression on all 64 raw pixels. Seed sweep:
# a working bridge fell 0.044 below it at worst; a torch head that never learns (TF half
# trained) 0.156 at least.
LOGREG_SLACK = 0.08
# Largest gap between the two bridges' losses at any training step (same init, same batches).
STEP_LOSS_TOLERANCE = 1e-3
# Digits to which a bridge's gradients (for its input and every TF variable) agree with central
# differences of the same loss in float64: about 8 for a correct bridge, 0 for a dropped one.
GRADIENT_DIGITS = 6.0
# Share of test predictions the tfpyth-trained weights give unchanged through the DLPack bridge.
RELOAD_AGREEMENT = 0.99

MNIST_ERROR = 0.0305
MNIST_SOURCE = (
    "LeCun, Bottou, Bengio, Haffner 1998, Gradient-Based Learning Applied to Document "
    "Recognition, Proc. IEEE 86(11), Fig. 9: 3-layer NN, 300+100 hidden units, 3.05 % test error"
)


def smoke_config(seed: int = DEFAULT_SEED, epochs: int = SMOKE_EPOCHS) -> TrainConfig:
    """The smoke run's training settings for ``seed`` (data split, initial weights, batches)."""
    model = ModelConfig(
        hidden=SMOKE_MODEL.hidden,
        head_hidden=SMOKE_MODEL.head_hidden,
        seed=seed,
        features=SMOKE_MODEL.features,
    )
    return TrainConfig(epochs=epochs, lr=SMOKE_LR, seed=seed, model=model)


def step_loss_gap(a: Sequence[float], b: Sequence[float]) -> float:
    """Largest absolute difference of two per-step loss curves; infinite unless the two have the
    same, non-zero number of steps."""
    if not a or len(a) != len(b):
        return math.inf
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def gradient_digits(error: float | None) -> float | None:
    """``-log10`` of a gradient check's relative error (16 at most): the digits that agree."""
    if error is None or math.isnan(error):
        return None
    return min(16.0, -math.log10(max(error, 1e-16)))


def _agreement(a: Sequence[int], b: Sequence[int]) -> float:
    from .evaluate import agreement

    return agreement(list(a), list(b))


def bridge_metrics(result: TrainResult | None, prefix: str) -> dict[str, Any]:
    """The numbers a report shows for one training run (``None`` values when it did not run)."""
    if result is None:
        return {f"{prefix}_test_accuracy": None}
    return {
        f"{prefix}_test_accuracy": result.test_accuracy,
        f"{prefix}_test_error": 1.0 - result.test_accuracy,
        f"{prefix}_dev_accuracy": result.dev_accuracy,
        f"{prefix}_best_epoch": result.best_epoch,
        f"{prefix}_loss_first_epoch": result.losses[0],
        f"{prefix}_loss_last_epoch": result.losses[-1],
        f"{prefix}_gradient_digits": gradient_digits(result.gradient_error),
        f"{prefix}_train_seconds": result.seconds,
    }


def known(value: Any) -> float:
    """A metric as a target's value: NaN (never meets a target) when it was not measured."""
    return math.nan if value is None else float(value)


def near_logreg(value: float | None, logreg: float) -> Target:
    """``value`` must not fall more than ``LOGREG_SLACK`` below logistic regression's accuracy."""
    return Target(
        known(value),
        ">=",
        logreg - LOGREG_SLACK,
        f"baseline:logreg_test_accuracy - {LOGREG_SLACK:g}",
    )


def smoke_targets(metrics: Mapping[str, Any]) -> dict[str, Target]:
    """The smoke run's targets, from its metrics (a missing value never meets its target)."""
    frozen = metrics["frozen_extractor_test_accuracy"]
    logreg = metrics["logreg_test_accuracy"]
    targets: dict[str, Target] = {}
    for bridge in ("dlpack", "tfpyth"):
        value = metrics.get(f"{bridge}_test_accuracy")
        targets[f"{bridge}_beats_frozen_extractor"] = beats_baseline(
            known(value), "frozen_extractor_test_accuracy", frozen, MARGIN_OVER_FROZEN
        )
        targets[f"{bridge}_near_logreg"] = near_logreg(value, logreg)
        targets[f"{bridge}_gradient_check"] = Target(
            known(metrics.get(f"{bridge}_gradient_digits")),
            ">=",
            GRADIENT_DIGITS,
            "central differences of the same loss, float64 (README, Success criteria)",
        )
    targets["bridges_agree_step_by_step"] = Target(
        known(metrics.get("step_loss_max_abs_diff")),
        "<=",
        STEP_LOSS_TOLERANCE,
        "baseline:tfpyth_step_losses, same init and batches; float32 round-off (README)",
    )
    targets["tfpyth_weights_through_dlpack"] = Target(
        known(metrics.get("tfpyth_checkpoint_via_dlpack_agreement")),
        ">=",
        RELOAD_AGREEMENT,
        "baseline:tfpyth_predictions of the same weights; float32 round-off (README)",
    )
    return targets


def accuracy_targets(
    dataset: str, accuracies: Mapping[str, float | None], logreg: float | None = None
) -> dict[str, Target]:
    """Targets of the real-run commands (``train``, ``evaluate``) for each named accuracy.

    MNIST: the test error must not exceed the published 3.05 % of LeCun et al.'s 300-100
    network. The digits have no published number: the accuracy must stay within
    ``LOGREG_SLACK`` of logistic regression measured in the same run (``logreg``).
    """
    targets: dict[str, Target] = {}
    for name, value in accuracies.items():
        if dataset == "mnist":
            error = known(None if value is None else 1.0 - value)
            targets[f"{name}_test_error"] = published(error, "<=", MNIST_ERROR, MNIST_SOURCE)
        else:
            if logreg is None:
                raise ValueError("the digits' target needs the logistic regression baseline")
            targets[f"{name}_near_logreg"] = near_logreg(value, logreg)
    return targets


def run_smoke(
    seed: int = DEFAULT_SEED,
    epochs: int = SMOKE_EPOCHS,
    threads: int = 1,
    config: TrainConfig | None = None,
    curves: dict[str, list[float]] | None = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Train the smoke model through both bridges and both baselines; return the report.

    ``config`` replaces the smoke's settings (``smoke_config(seed, epochs)``) as a whole: tests
    use it to break the model on purpose through this very code path. ``curves``, when given,
    receives the loss of every training step of each model that trained (``dlpack``,
    ``tfpyth``, ``frozen_extractor``), for the run folder's history. ``keep``, when given, is
    the folder that keeps what the demo loads: each bridge's ``<bridge>/model.pt`` and
    ``examples.npz`` (test digits); without it they live in a temporary folder.
    """
    started = time.perf_counter()
    from . import legacy
    from .data import load_digits_split

    config = config or smoke_config(seed, epochs)
    split = load_digits_split(seed=config.seed)
    log.info(
        "digits: %d train / %d dev / %d test; TF extractor %s, torch head %d; %d epochs",
        len(split.y_train),
        len(split.y_dev),
        len(split.y_test),
        "-".join(map(str, config.model.hidden)),
        config.model.head_hidden,
        config.epochs,
    )
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(keep or scratch)
        run = None
        try:  # started first: its TensorFlow start-up overlaps with this process's work
            log.info("tfpyth (TF1 graph mode) starts in a subprocess")
            run = legacy.start_tfpyth(config, out_dir=tmp / "tfpyth", threads=threads)
        except legacy.TfpythUnavailable as error:
            log.error("tfpyth path: %s", error)
        metrics, dl, frozen = _smoke_in_process(split, config, threads, tmp)
        if keep is not None:
            from .demo import save_examples

            save_examples(split, tmp / "examples.npz")
        legacy_result = None
        if run is not None:
            try:
                legacy_result = run.result()
            except RuntimeError as error:
                log.error("tfpyth path: %s", error)
        metrics.update(_compare_bridges(split, dl, legacy_result))
    if curves is not None:
        curves.update(dlpack=dl.step_losses, frozen_extractor=frozen.step_losses)
        if legacy_result is not None:
            curves["tfpyth"] = legacy_result.step_losses
    from .targets import build_report

    return build_report(metrics, smoke_targets(metrics), started)


def _smoke_in_process(
    split: Any, config: TrainConfig, threads: int, tmp: Path
) -> tuple[dict[str, Any], TrainResult, TrainResult]:
    """The DLPack bridge, the frozen extractor and logistic regression, in this process."""
    from .baselines import logistic_regression
    from .bridge import set_threads

    set_threads(threads)
    from .train import train_dlpack

    log.info("DLPack bridge (TF2 eager, in process)")
    dl = train_dlpack(split, config, out_dir=tmp / "dlpack")
    log.info("baseline: frozen TF extractor, torch head trained alone")
    frozen = train_dlpack(split, config, freeze_extractor=True)
    log.info("baseline: logistic regression on raw pixels, C chosen on dev")
    logreg = logistic_regression(split)
    metrics: dict[str, Any] = {
        **bridge_metrics(dl, "dlpack"),
        "frozen_extractor_test_accuracy": frozen.test_accuracy,
        "frozen_extractor_dev_accuracy": frozen.dev_accuracy,
        "logreg_test_accuracy": logreg.test_accuracy,
        "logreg_dev_accuracy": logreg.dev_accuracy,
        "logreg_C": logreg.setting,
    }
    return metrics, dl, frozen


def step_history(
    curves: Mapping[str, Sequence[float]], steps_per_epoch: int
) -> list[dict[str, Any]]:
    """One history row per training step: its epoch and each model's loss (``<name>_loss``)."""
    steps = max((len(losses) for losses in curves.values()), default=0)
    return [
        {
            "step": step + 1,
            "epoch": step // max(steps_per_epoch, 1) + 1,
            **{
                f"{name}_loss": losses[step]
                for name, losses in curves.items()
                if step < len(losses)
            },
        }
        for step in range(steps)
    ]


def _compare_bridges(split: Any, dl: TrainResult, legacy: TrainResult | None) -> dict[str, Any]:
    """Checkpoint round trips and the step-by-step agreement of the two bridges."""
    import torch

    from .model import load_hybrid
    from .train import predict

    x_test = torch.from_numpy(split.x_test)
    metrics: dict[str, Any] = {}
    if dl.checkpoint is not None:
        metrics["dlpack_checkpoint_roundtrip"] = _agreement(
            predict(load_hybrid(dl.checkpoint), x_test).tolist(), dl.predictions
        )
    metrics.update(bridge_metrics(legacy, "tfpyth"))
    if legacy is not None:
        metrics["step_loss_max_abs_diff"] = step_loss_gap(dl.step_losses, legacy.step_losses)
        metrics["steps_compared"] = len(dl.step_losses)
        metrics["prediction_agreement"] = _agreement(dl.predictions, legacy.predictions)
        if legacy.checkpoint is not None:
            # the weights tfpyth trained in a TF1 graph, run through the TF2 DLPack bridge
            reloaded = predict(load_hybrid(legacy.checkpoint), x_test).tolist()
            metrics["tfpyth_checkpoint_via_dlpack_agreement"] = _agreement(
                reloaded, legacy.predictions
            )
    return metrics
