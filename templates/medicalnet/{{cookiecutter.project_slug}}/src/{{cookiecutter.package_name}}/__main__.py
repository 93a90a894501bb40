"""The command line, with the subcommands smoke, weights, train, evaluate and compare:

    python -m {{ cookiecutter.package_name }} smoke

Progress goes to stderr, results to stdout as JSON. Exit codes: 0 done, 1 the smoke run missed
a target, 2 a bad command line, 3 a problem the message explains (file, download, weights).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import (
    DEFAULT_BACKBONE,
    DEFAULT_EPOCHS,
    DEFAULT_SEED,
    DICE_THRESHOLD,
    INITS,
    RealRunConfig,
)
from .errors import Med3DError

EXIT_TARGET_MISSED = 1
EXIT_ERROR = 3


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.package_name }}",
        description="Does MedicalNet (Med3D) pretraining help 3D segmentation? Smoke run, "
        "MedicalNet weights, and the MSD Hippocampus study.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    smoke = sub.add_parser("smoke", help="the whole pipeline on synthetic scans, offline (~20 s)")
    smoke.add_argument("--epochs", type=positive_int, default=8)
    smoke.add_argument("--seed", type=int_at_least(0), default=DEFAULT_SEED,
                       help="seed of the synthetic scans and the training (default: this repo's)")
    smoke.add_argument("--train-volumes", type=int_at_least(2), default=160)
    smoke.add_argument("--val-volumes", type=int_at_least(2), default=64)
    smoke.add_argument("--out", type=Path, help="keep the learning curve and checkpoint here")

    weights = sub.add_parser("weights", help="load MedicalNet weights and report what fits")
    weights.add_argument("--depth", type=int, default=10, choices=(10, 18, 34, 50, 101, 152, 200))
    weights.add_argument("--pth", type=Path, help="an original MedicalNet .pth file (else: hub)")

    train = sub.add_parser("train", help="train the U-Net on MSD Hippocampus (downloads 27 MB)")
    train.add_argument("--init", choices=INITS, default="medicalnet")
    train.add_argument("--weights", type=Path, help="an original MedicalNet .pth (else: hub)")
    train.add_argument("--backbone", default=DEFAULT_BACKBONE,
                       choices=("resnet10", "resnet18", "resnet34", "resnet50"))
    train.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS)
    train.add_argument("--data-dir", type=Path, default=Path("data"))
    train.add_argument("--out", type=Path, help="run folder (default runs/<init>)")
    train.add_argument("--batch-size", type=positive_int, default=8)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--encoder-lr-scale", type=float, default=0.1,
                       help="pretrained encoder learns this much slower than the decoder")
    train.add_argument("--roi", type=positive_int, default=64, help="cube side, a multiple of 32")
    train.add_argument("--limit", type=positive_int, help="use only this many volumes per split")
    train.add_argument("--workers", type=int, default=2)
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    train.add_argument("--seed", type=int_at_least(0), default=DEFAULT_SEED,
                       help="seed of the train/val split and the training")

    evaluate = sub.add_parser("evaluate", help="Dice per class of a checkpoint on the val split")
    evaluate.add_argument("checkpoint", type=Path, help="best.pt or last.pt of a run")
    evaluate.add_argument("--data-dir", type=Path, default=Path("data"))
    evaluate.add_argument("--device", default="auto")

    compare = sub.add_parser("compare", help="pretrained vs scratch: summary and learning curves")
    compare.add_argument("runs", type=Path, nargs="+", help="run folders (each has metrics.csv)")
    compare.add_argument("--threshold", type=float, default=DICE_THRESHOLD)
    compare.add_argument("--plot", type=Path, default=Path("runs/learning_curves.png"))
    return parser


def cmd_smoke(args: argparse.Namespace) -> int:
    from .smoke import run_smoke

    result = run_smoke(epochs=args.epochs, seed=args.seed, n_train=args.train_volumes,
                       n_val=args.val_volumes, out_dir=args.out)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else EXIT_TARGET_MISSED


def cmd_weights(args: argparse.Namespace) -> int:
    from .model import count_parameters, medicalnet_resnet
    from .weights import (
        download_medicalnet_state_dict,
        load_state_dict_checked,
        read_medicalnet_state_dict,
    )

    if args.pth is not None:
        state, source = read_medicalnet_state_dict(args.pth), str(args.pth)
    else:
        state = download_medicalnet_state_dict(args.depth)
        source = f"MedicalNet ResNet-{args.depth} (Hugging Face hub)"
    model = medicalnet_resnet(args.depth)
    report = load_state_dict_checked(model, state, source=source)
    print(json.dumps({"depth": args.depth, "parameters": count_parameters(model),
                      **report.as_dict()}))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import train_segmentation

    try:
        config = RealRunConfig(
            init=args.init, backbone=args.backbone, epochs=args.epochs, data_dir=args.data_dir,
            out_dir=args.out or Path("runs") / args.init, weights=args.weights,
            batch_size=args.batch_size, lr=args.lr, encoder_lr_scale=args.encoder_lr_scale,
            roi_size=args.roi, limit=args.limit, num_workers=args.workers, device=args.device,
            seed=args.seed,
        )
    except ValueError as err:
        raise Med3DError(str(err)) from err
    out = train_segmentation(config)
    print(json.dumps({"run": str(out), "metrics": str(out / "metrics.csv")}))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from torch.utils.data import DataLoader

    from .config import CLASS_NAMES
    from .data import hippocampus_datasets
    from .evaluate import evaluate_segmentation, load_segmentation_checkpoint
    from .train import resolve_device

    model, meta = load_segmentation_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    # the same validation split as in training: same seed and fraction
    _, val_ds = hippocampus_datasets(args.data_dir, roi_size=int(meta["roi_size"]),
                                     val_frac=float(meta["val_frac"]), seed=int(meta["seed"]))
    scores = evaluate_segmentation(model.to(device), DataLoader(val_ds, batch_size=4),
                                   len(CLASS_NAMES), device)
    print(json.dumps({"checkpoint": str(args.checkpoint), **meta, **scores}))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .evaluate import compare_runs, plot_learning_curves, read_metrics_csv

    runs = {path.name: read_metrics_csv(path / "metrics.csv") for path in args.runs}
    summary = compare_runs(runs, args.threshold)
    plot = plot_learning_curves(runs, args.plot, args.threshold)
    summary["plot"] = str(plot) if plot else None
    print(json.dumps(summary))
    return 0


COMMANDS = {"smoke": cmd_smoke, "weights": cmd_weights, "train": cmd_train,
            "evaluate": cmd_evaluate, "compare": cmd_compare}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except Med3DError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
