"""The command line; progress goes to stderr, the report is one JSON line on stdout.

python -m {{ cookiecutter.package_name }} smoke      # both bridges and two baselines on the bundled digits
python -m {{ cookiecutter.package_name }} train      # real mode: --bridge, --dataset mnist
python -m {{ cookiecutter.package_name }} evaluate   # a checkpoint, through the DLPack bridge
python -m {{ cookiecutter.package_name }} bench      # interop cost, numpy copy vs DLPack

smoke, train and evaluate end with the same report: {"ok", "seconds", "metrics", "targets"}; the
exit code is 0 when every target is met and 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from .data import DEFAULT_SEED

DEFAULT_BRIDGE = "{{ cookiecutter.default_bridge }}"
# Whether `bench` also draws runs/bench/bench.png (matplotlib); --plot / --no-plot decide per run.
DRAW_PLOT = {{ cookiecutter.include_plot == "yes" }}

SEED_HELP = f"data split, initial weights and batch order (default {DEFAULT_SEED})"

log = logging.getLogger(__package__)


def _finish(report: dict[str, Any]) -> int:
    """Show the targets on stderr, print the report as the last stdout line, return the code."""
    from .targets import describe, emit

    log.info("targets:\n%s", describe(report))
    return emit(report)


def _set_threads(args: argparse.Namespace) -> None:
    from .bridge import set_threads

    set_threads(args.threads)


def smoke(args: argparse.Namespace) -> int:
    """Train the hybrid model through both bridges and the baselines on the bundled digits."""
    from .experiment import run_smoke

    return _finish(run_smoke(seed=args.seed, epochs=args.epochs, threads=args.threads))


def train(args: argparse.Namespace) -> int:
    """Train through one bridge or both; write model.pt and metrics.json per bridge."""
    started = time.perf_counter()
    from . import legacy
    from .config import ModelConfig, TrainConfig
    from .data import load_split
    from .runs import write_json

    hidden = tuple(int(h) for h in args.hidden.split(","))
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        model=ModelConfig(hidden=hidden, head_hidden=args.head_hidden, seed=args.seed),
    )
    bridges = ["dlpack", "tfpyth"] if args.bridge == "both" else [args.bridge]
    out = Path(args.out)
    dataset_metrics = _fetch(args.dataset)  # once, here, before the tfpyth child reads it too
    runs = {}
    if "tfpyth" in bridges:  # started first: it runs beside the DLPack bridge
        log.info("training through tfpyth on %s (subprocess)", args.dataset)
        runs["tfpyth"] = legacy.start_tfpyth(
            config, dataset=args.dataset, out_dir=out / "tfpyth", threads=args.threads
        )
    _set_threads(args)
    from .experiment import accuracy_targets, bridge_metrics, step_loss_gap
    from .train import train_dlpack

    split = load_split(args.dataset, seed=args.seed)
    results = {}
    if "dlpack" in bridges:
        log.info("training through dlpack on %s", args.dataset)
        results["dlpack"] = train_dlpack(split, config, out / "dlpack")
    if "tfpyth" in runs:
        results["tfpyth"] = runs["tfpyth"].result()
    metrics: dict[str, Any] = {"dataset": args.dataset, **dataset_metrics}
    for bridge, result in results.items():
        saved = {k: v for k, v in result.to_dict().items() if k != "predictions"}
        saved.update(dataset=args.dataset, config=config.to_dict())
        write_json(out / bridge / "metrics.json", saved)
        metrics.update(bridge_metrics(result, bridge))
    if len(results) == 2:
        dl, old = results["dlpack"], results["tfpyth"]
        metrics["step_loss_max_abs_diff"] = step_loss_gap(dl.step_losses, old.step_losses)
        metrics["prediction_agreement"] = sum(
            a == b for a, b in zip(dl.predictions, old.predictions, strict=True)
        ) / len(dl.predictions)
    logreg = _logreg(split, metrics)
    accuracies = {b: r.test_accuracy for b, r in results.items()}
    from .targets import build_report

    targets = accuracy_targets(args.dataset, accuracies, logreg)
    return _finish(build_report(metrics, targets, started))


def _fetch(dataset: str) -> dict[str, Any]:
    """Download MNIST if it is not there yet (nothing to do for the digits).

    Returns the metrics that say which file was used: ``mnist_official`` is false for any file
    but Keras's (a mirror's re-encoding, a hand-made one), whose error is then not comparable
    with the published one. A failed download ends the command with every attempt's error.
    """
    if dataset != "mnist":
        return {}
    from .data import DownloadError, fetch_mnist, mnist_is_official

    try:
        path = fetch_mnist()
    except DownloadError as error:
        raise SystemExit(f"error: {error}") from error
    official = mnist_is_official(path)
    if not official:
        log.warning("%s is not Keras's MNIST file: the published target does not apply", path)
    return {"mnist_file": str(path), "mnist_official": official}


def _logreg(split: Any, metrics: dict[str, Any]) -> float | None:
    """Logistic regression on the digits (seconds); MNIST's yardstick is the published one."""
    if split.name != "digits":
        return None
    from .baselines import logistic_regression

    baseline = logistic_regression(split)
    metrics.update(logreg_test_accuracy=baseline.test_accuracy, logreg_C=baseline.setting)
    return baseline.test_accuracy


def evaluate(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint from either bridge through the DLPack bridge, on the test split."""
    started = time.perf_counter()
    _set_threads(args)
    from .data import load_split
    from .evaluate import evaluate_checkpoint
    from .experiment import accuracy_targets
    from .targets import build_report

    dataset_metrics = _fetch(args.dataset)
    split = load_split(args.dataset, seed=args.seed)
    metrics = {**evaluate_checkpoint(args.checkpoint, split), **dataset_metrics}
    logreg = _logreg(split, metrics)
    targets = accuracy_targets(args.dataset, {"checkpoint": metrics["test_accuracy"]}, logreg)
    return _finish(build_report(metrics, targets, started))


def bench(args: argparse.Namespace) -> int:
    """Interop cost study: numpy copy vs DLPack, 1 KB up to --max-mb."""
    _set_threads(args)
    from .bench import KB, run_benchmark, summarize, write_csv, write_plot

    if args.max_mb * 1024 < args.min_kb or args.min_kb < 1:
        raise SystemExit("need 1 <= --min-kb <= --max-mb * 1024")
    sizes, size = [], KB * args.min_kb
    while size <= args.max_mb * 1024 * KB:
        sizes.append(size)
        size *= 4
    rows = run_benchmark(tuple(sizes), min_seconds=args.min_seconds)
    out = Path(args.out)
    csv_path = write_csv(rows, out / "bench.csv")
    plot_path = write_plot(rows, out / "bench.png") if args.plot else None
    sys.stdout.write(
        json.dumps({"csv": str(csv_path), "plot": plot_path and str(plot_path), **summarize(rows)})
        + "\n"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for TensorFlow and for torch (default 1, fastest for small models; "
        "0 keeps the frameworks' defaults)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    from .experiment import SMOKE_EPOCHS

    p = sub.add_parser("smoke", help="both bridges and two baselines on the digits, < 1 minute")
    p.add_argument("--epochs", type=int, default=SMOKE_EPOCHS)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=SEED_HELP)
    p.set_defaults(func=smoke)

    p = sub.add_parser("train", help="train through one bridge or both (real mode)")
    p.add_argument("--bridge", choices=["dlpack", "tfpyth", "both"], default=DEFAULT_BRIDGE)
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--hidden", default="300,100", help="TF extractor widths, comma-separated (LeCun's 300-100)"
    )
    p.add_argument("--head-hidden", type=int, default=32)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=SEED_HELP)
    p.add_argument("--out", default="runs/train")
    p.set_defaults(func=train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint through the DLPack bridge")
    p.add_argument("checkpoint")
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=SEED_HELP)
    p.set_defaults(func=evaluate)

    p = sub.add_parser("bench", help="interop cost: numpy copy vs DLPack, 1 KB to 256 MB")
    p.add_argument("--max-mb", type=float, default=256)
    p.add_argument("--min-kb", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=0.2, help="time spent per measurement")
    p.add_argument("--out", default="runs/bench")
    p.add_argument(
        "--plot",
        action=argparse.BooleanOptionalAction,
        default=DRAW_PLOT,
        help="draw bench.png beside the CSV (matplotlib)",
    )
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="[%(name)s] %(message)s",
        stream=sys.stderr,
    )
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
