"""The command line; progress goes to stderr, the result is one JSON line on stdout.

python -m {{ cookiecutter.package_name }} smoke      # both bridges on the bundled digits
python -m {{ cookiecutter.package_name }} train      # real mode: --bridge, --dataset mnist
python -m {{ cookiecutter.package_name }} evaluate   # a checkpoint, through the DLPack bridge
python -m {{ cookiecutter.package_name }} bench      # interop cost, numpy copy vs DLPack
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .data import DEFAULT_SEED

DEFAULT_BRIDGE = "{{ cookiecutter.default_bridge }}"
SMOKE_TARGETS = {
    "dlpack_test_accuracy": (">=", 0.95),
    "tfpyth_test_accuracy": (">=", 0.95),
    "prediction_agreement": (">=", 0.95),
    "tfpyth_checkpoint_via_dlpack_accuracy": (">=", 0.95),
}

SEED_HELP = f"digits split, initial weights and batch order (default {DEFAULT_SEED})"

log = logging.getLogger(__package__)


def _met(value: Any, op: str, threshold: float) -> bool:
    if not isinstance(value, int | float):
        return False
    return value >= threshold if op == ">=" else value <= threshold


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def smoke(args: argparse.Namespace) -> int:
    """Train the hybrid model both ways on the bundled digits; check they learn and agree."""
    start = time.perf_counter()
    import torch

    from .data import load_digits_split
    from .evaluate import accuracy, agreement
    from .legacy import train_tfpyth
    from .model import ModelConfig, load_hybrid
    from .train import TrainConfig, predict, train_dlpack

    split = load_digits_split(seed=args.seed)
    config = TrainConfig(epochs=args.epochs, seed=args.seed, model=ModelConfig(seed=args.seed))
    log.info(
        "digits: %d train / %d test, %d epochs",
        len(split.y_train),
        len(split.y_test),
        config.epochs,
    )
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        log.info("path 1/2: DLPack bridge (TF2 eager, in process)")
        dl = train_dlpack(split, config, out_dir=Path(tmp) / "dlpack")
        metrics["dlpack_test_accuracy"] = round(dl.test_accuracy, 4)
        metrics["dlpack_loss_first_epoch"] = round(dl.losses[0], 4)
        metrics["dlpack_loss_last_epoch"] = round(dl.losses[-1], 4)
        metrics["dlpack_train_seconds"] = round(dl.seconds, 2)
        log.info("path 2/2: tfpyth (TF1 graph mode, in a subprocess)")
        try:
            legacy = train_tfpyth(config, out_dir=Path(tmp) / "tfpyth", threads=args.threads)
        except RuntimeError as error:  # TfpythUnavailable included: report, do not crash
            log.error("tfpyth path: %s", error)
            legacy = None
        x_test = torch.from_numpy(split.x_test)
        if legacy is not None:
            metrics["tfpyth_test_accuracy"] = round(legacy.test_accuracy, 4)
            metrics["tfpyth_loss_last_epoch"] = round(legacy.losses[-1], 4)
            metrics["tfpyth_train_seconds"] = round(legacy.seconds, 2)
            metrics["prediction_agreement"] = round(
                agreement(dl.predictions, legacy.predictions), 4
            )
            # The weights tfpyth trained in a TF1 graph, run through the TF2 DLPack bridge.
            reloaded = predict(load_hybrid(legacy.checkpoint), x_test)
            metrics["tfpyth_checkpoint_via_dlpack_accuracy"] = round(
                accuracy(reloaded, split.y_test), 4
            )
        else:
            metrics["tfpyth_test_accuracy"] = None
        roundtrip = predict(load_hybrid(dl.checkpoint), x_test)
        metrics["dlpack_checkpoint_roundtrip"] = bool((roundtrip == dl.predictions).all())
    ok = metrics["dlpack_checkpoint_roundtrip"] and all(
        _met(metrics.get(name), op, threshold) for name, (op, threshold) in SMOKE_TARGETS.items()
    )
    _emit(
        {
            "ok": bool(ok),
            "seconds": round(time.perf_counter() - start, 2),
            "metrics": metrics,
            "targets": {
                name: f"{op} {threshold}" for name, (op, threshold) in SMOKE_TARGETS.items()
            },
        }
    )
    return 0 if ok else 1


def train(args: argparse.Namespace) -> int:
    """Train through one bridge or both; write model.pt and metrics.json per bridge."""
    from .data import load_split
    from .evaluate import agreement
    from .legacy import train_tfpyth
    from .model import ModelConfig
    from .train import TrainConfig, train_dlpack

    hidden = tuple(int(h) for h in args.hidden.split(","))
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        model=ModelConfig(hidden=hidden, head_hidden=args.head_hidden, seed=args.seed),
    )
    bridges = ["dlpack", "tfpyth"] if args.bridge == "both" else [args.bridge]
    results = {}
    for bridge in bridges:
        out_dir = Path(args.out) / bridge
        log.info("training through %s on %s", bridge, args.dataset)
        if bridge == "dlpack":
            result = train_dlpack(load_split(args.dataset, seed=args.seed), config, out_dir)
        else:
            result = train_tfpyth(
                config, dataset=args.dataset, out_dir=out_dir, threads=args.threads
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        report = {k: v for k, v in result.to_dict().items() if k != "predictions"}
        report.update(dataset=args.dataset, config=config.to_dict())
        (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
        results[bridge] = result
    summary: dict[str, Any] = {
        f"{b}_test_accuracy": round(r.test_accuracy, 4) for b, r in results.items()
    }
    summary.update({f"{b}_train_seconds": round(r.seconds, 1) for b, r in results.items()})
    if len(results) == 2:
        summary["prediction_agreement"] = round(
            agreement(results["dlpack"].predictions, results["tfpyth"].predictions), 4
        )
    _emit({"dataset": args.dataset, "out": str(args.out), **summary})
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint from either bridge through the DLPack bridge."""
    from .evaluate import evaluate_checkpoint

    _emit(evaluate_checkpoint(args.checkpoint, dataset=args.dataset, seed=args.seed))
    return 0


def bench(args: argparse.Namespace) -> int:
    """Interop cost study: numpy copy vs DLPack, 1 KB up to --max-mb."""
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
    plot_path = write_plot(rows, out / "bench.png")
    _emit({"csv": str(csv_path), "plot": plot_path and str(plot_path), **summarize(rows)})
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

    p = sub.add_parser("smoke", help="both bridges on the bundled digits, offline, < 1 minute")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=SEED_HELP)
    p.set_defaults(func=smoke)

    p = sub.add_parser("train", help="train through one bridge or both (real mode)")
    p.add_argument("--bridge", choices=["dlpack", "tfpyth", "both"], default=DEFAULT_BRIDGE)
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--hidden", default="256,128", help="TF extractor widths, comma-separated")
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
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="[%(name)s] %(message)s",
        stream=sys.stderr,
    )
    from .bridge import set_threads

    set_threads(args.threads)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
