"""The command line, with the subcommands smoke, weights, train, evaluate, compare, report,
demo (a web page over a smoke run; ``make setup-demo``) and space (that page as a Hugging Face
Space):

    python -m {{ cookiecutter.package_name }} smoke

Progress goes to stderr; every command ends its stdout with one JSON report line
``{"ok", "seconds", "metrics", "targets"}`` (``targets.py``). Exit codes: 0 every target met,
1 a target missed, 2 a bad command line, 3 a problem the message explains (file, download,
weights, a missing demo group). Every command but ``report``, ``demo`` and ``space`` leaves a
run folder ``runs/<name>/`` (``runs.py``); ``report`` draws it (``report.py``), ``demo`` serves
it (``demo.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import (
    DEFAULT_BACKBONE,
    DEFAULT_EPOCHS,
    DEFAULT_SEED,
    DICE_THRESHOLD,
    INITS,
    MIN_SEEDS,
    RealRunConfig,
)
from .demo_server import DemoUnavailable
from .errors import Med3DError
from .runs import RunFolder
from .space import SpaceError
from .targets import describe, emit

EXIT_TARGET_MISSED = 1
EXIT_ERROR = 3
#: Where the run folders go (tests point it elsewhere).
RUNS_DIR = Path("runs")


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

    smoke = sub.add_parser("smoke", help="the study in miniature on synthetic scans, offline")
    smoke.add_argument(
        "--seed",
        type=int_at_least(0),
        default=DEFAULT_SEED,
        help="seed of the synthetic scans and the training (default: this repo's)",
    )
    smoke.add_argument("--out", type=Path, help="keep the learning curves and checkpoint here")

    weights = sub.add_parser("weights", help="load MedicalNet weights and report what fits")
    weights.add_argument("--depth", type=int, default=10, choices=(10, 18, 34, 50, 101, 152, 200))
    weights.add_argument("--pth", type=Path, help="an original MedicalNet .pth file (else: hub)")
    _add_geometry_options(weights)

    train = sub.add_parser("train", help="train the U-Net on MSD Hippocampus (downloads 27 MB)")
    train.add_argument("--init", choices=INITS, default="medicalnet")
    train.add_argument("--weights", type=Path, help="an original MedicalNet .pth (else: hub)")
    train.add_argument(
        "--backbone",
        default=DEFAULT_BACKBONE,
        choices=("resnet10", "resnet18", "resnet34", "resnet50"),
    )
    train.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS)
    train.add_argument("--data-dir", type=Path, default=Path("data"))
    train.add_argument("--out", type=Path, help="run folder (default runs/<init>-seed<seed>)")
    train.add_argument("--batch-size", type=positive_int, default=8)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument(
        "--encoder-lr-scale",
        type=float,
        default=0.1,
        help="pretrained encoder learns this much slower than the decoder",
    )
    train.add_argument("--roi", type=positive_int, default=64, help="cube side, a multiple of 8")
    train.add_argument("--dev-frac", type=float, default=0.15, help="share of volumes for dev")
    train.add_argument("--test-frac", type=float, default=0.15, help="share of volumes for test")
    train.add_argument("--limit", type=positive_int, help="use only this many volumes per split")
    train.add_argument("--workers", type=int, default=2)
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    train.add_argument(
        "--seed",
        type=int_at_least(0),
        default=DEFAULT_SEED,
        help="seed of the train/dev/test split and the training",
    )
    _add_geometry_options(train)

    evaluate = sub.add_parser("evaluate", help="test Dice of a checkpoint, next to the baseline")
    evaluate.add_argument("checkpoint", type=Path, help="best.pt or last.pt of a run")
    evaluate.add_argument("--data-dir", type=Path, default=Path("data"))
    evaluate.add_argument("--device", default="auto")

    compare = sub.add_parser("compare", help="pretrained vs scratch over seeds: the study")
    compare.add_argument(
        "runs", type=Path, nargs="+", help="run folders (report.json, metrics.csv)"
    )
    compare.add_argument("--threshold", type=float, default=DICE_THRESHOLD)
    compare.add_argument("--min-seeds", type=positive_int, default=MIN_SEEDS)
    compare.add_argument("--plot", type=Path, default=Path("runs/learning_curves.png"))

    report = sub.add_parser(
        "report", help="figures, README Results and MODEL_CARD.md from a run folder"
    )
    report.add_argument("run", type=Path, nargs="?", help="a run folder (default: the latest)")
    report.add_argument("--readme", type=Path, default=Path("README.md"))
    report.add_argument("--figures", type=Path, default=Path("figures"))
    report.add_argument("--model-card", type=Path, default=Path("MODEL_CARD.md"))

    demo = sub.add_parser("demo", help="serve the web demo of a smoke run (make setup-demo)")
    demo.add_argument("--run", type=Path, help="a smoke run folder (default: the latest run)")
    demo.add_argument("--port", type=int, help="default: GRADIO_SERVER_PORT, else 7860")

    space = sub.add_parser("space", help="a Hugging Face Space folder of the demo, from a run")
    space.add_argument("--run", type=Path, help="a smoke run folder (default: the latest run)")
    space.add_argument("--out", type=Path, default=Path("dist/space"))
    return parser


def _add_geometry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strided",
        action="store_true",
        help="MONAI's strided encoder instead of MedicalNet's dilated one",
    )
    parser.add_argument(
        "--accept-architecture-mismatch",
        action="store_true",
        help="load weights trained with another geometry anyway (warns)",
    )


def finish(report: dict[str, Any]) -> int:
    """Log the targets for a person, print the report line, return the exit code."""
    logging.getLogger(__name__).info("targets:\n%s", describe(report))
    return emit(report)


def cmd_smoke(args: argparse.Namespace) -> int:
    from .smoke import run_smoke

    with RunFolder("smoke", {"seed": args.seed, "command": "smoke"}, root=RUNS_DIR) as run:
        report = run_smoke(seed=args.seed, out_dir=args.out, run=run)
        run.finish(report)
    return finish(report)


def recorded(
    name: str, config: dict[str, Any], compute: Callable[[RunFolder], dict[str, Any]]
) -> int:
    """Run ``compute`` in the run folder ``runs/<name>``, finish it with the report, print it."""
    with RunFolder(name, config, root=RUNS_DIR) as run:
        report = compute(run)
        run.finish(report)
    return finish(report)


def cmd_weights(args: argparse.Namespace) -> int:
    return recorded(
        f"weights-resnet{args.depth}",
        {"command": "weights", **vars(args)},
        lambda run: _weights_report(args),
    )


def _weights_report(args: argparse.Namespace) -> dict[str, Any]:
    from .model import count_parameters, medicalnet_resnet
    from .targets import build_report, published
    from .weights import (
        download_medicalnet_state_dict,
        load_encoder_state,
        read_medicalnet_checkpoint,
    )

    started = time.perf_counter()
    if args.pth is not None:
        (state, geometry), source = read_medicalnet_checkpoint(args.pth), str(args.pth)
    else:
        state, geometry = download_medicalnet_state_dict(args.depth), None
        source = f"MedicalNet ResNet-{args.depth} (Hugging Face hub)"
    model = medicalnet_resnet(args.depth, dilated=not args.strided)
    report = load_encoder_state(
        model,
        state,
        geometry,
        source=source,
        accept_architecture_mismatch=args.accept_architecture_mismatch,
    )
    metrics = {"depth": args.depth, "parameters": count_parameters(model), **report.as_dict()}
    targets = {
        "architecture_mismatches": published(
            len(report.architecture_mismatch),
            "<=",
            0,
            "Tencent/MedicalNet models/resnet.py: layer3 stride 1 dilation 2, layer4 stride 1 "
            "dilation 4, the geometry the weights were trained with",
        )
    }
    return build_report(metrics, targets, started)


def cmd_train(args: argparse.Namespace) -> int:
    from .train import train_segmentation

    try:
        config = RealRunConfig(
            init=args.init,
            backbone=args.backbone,
            epochs=args.epochs,
            data_dir=args.data_dir,
            out_dir=args.out or Path("runs") / f"{args.init}-seed{args.seed}",
            weights=args.weights,
            batch_size=args.batch_size,
            lr=args.lr,
            encoder_lr_scale=args.encoder_lr_scale,
            roi_size=args.roi,
            dev_frac=args.dev_frac,
            test_frac=args.test_frac,
            dilated=not args.strided,
            accept_architecture_mismatch=args.accept_architecture_mismatch,
            limit=args.limit,
            num_workers=args.workers,
            device=args.device,
            seed=args.seed,
        )
    except ValueError as err:
        raise Med3DError(str(err)) from err
    return finish(train_segmentation(config))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from torch.utils.data import DataLoader

    from .data import hippocampus_dataset, hippocampus_split_items
    from .evaluate import load_segmentation_checkpoint, run_targets
    from .targets import build_report
    from .train import resolve_device, score_on_test

    def compute(run: RunFolder) -> dict[str, Any]:
        started = time.perf_counter()
        model, meta = load_segmentation_checkpoint(args.checkpoint)
        device = resolve_device(args.device)
        # the same split as in training: same seed and fractions; scored on test
        train_items, _, test_items = hippocampus_split_items(
            args.data_dir,
            seed=int(meta["seed"]),
            dev_frac=float(meta["dev_frac"]),
            test_frac=float(meta["test_frac"]),
        )
        roi = int(meta["roi_size"])
        plain, test = (
            DataLoader(hippocampus_dataset(items, roi, train=False), batch_size=4)
            for items in (train_items, test_items)
        )
        metrics = {
            "checkpoint": str(args.checkpoint),
            **meta,
            **score_on_test(model.to(device), plain, test, device),
        }
        return build_report(metrics, run_targets(metrics), started)

    name = f"evaluate-{args.checkpoint.parent.name or 'checkpoint'}-{args.checkpoint.stem}"
    return recorded(name, {"command": "evaluate", **vars(args)}, compute)


def cmd_compare(args: argparse.Namespace) -> int:
    from .evaluate import (
        compare_runs,
        plot_learning_curves,
        read_metrics_csv,
        read_run_report,
        study_targets,
        summarize_study,
    )
    from .targets import build_report

    def compute(run: RunFolder) -> dict[str, Any]:
        started = time.perf_counter()
        runs, curves = [], {}
        for path in args.runs:
            report = read_run_report(path / "report.json")
            rows = read_metrics_csv(path / "metrics.csv")
            runs.append({**report["metrics"], "rows": rows})
            curves[path.name] = rows
            for row in rows:
                run.log(
                    run=path.name,
                    arm=report["metrics"]["init"],
                    seed=report["metrics"].get("seed"),
                    epoch=row["epoch"],
                    dice_mean=row["dice_mean"],
                )
        metrics = summarize_study(runs, args.threshold, args.min_seeds)
        metrics["runs"] = compare_runs(curves, args.threshold)["runs"]
        plot = plot_learning_curves(curves, args.plot, args.threshold)
        metrics["plot"] = str(plot) if plot else None
        return build_report(metrics, study_targets(metrics), started)

    return recorded("compare", {"command": "compare", **vars(args)}, compute)


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from .report import make_report
    from .runs import latest_run

    try:
        folder = args.run if args.run is not None else latest_run(RUNS_DIR)
        written = make_report(folder, args.readme, args.figures, args.model_card)
    except (FileNotFoundError, ValueError) as err:
        raise Med3DError(str(err)) from err
    logging.getLogger(__name__).info("report of %s: %s", folder, ", ".join(written["figures"]))
    print(json.dumps(written))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import build_app, find_run
    from .demo_server import serve

    run = find_run(args.run, RUNS_DIR)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request Gradio makes
    return serve(lambda: build_app(run), args.port)


def cmd_space(args: argparse.Namespace) -> int:
    from .demo import RUN_FILES, find_run
    from .space import build_space

    run = find_run(args.run, RUNS_DIR)
    out = build_space(
        run=run,
        run_files=RUN_FILES,
        out=args.out,
        title="MedicalNet U-Net: 3D segmentation",
        description="Pick a held-out synthetic 3D scan and scroll its slices: a U-Net with a "
        "MedicalNet ResNet-10 encoder (pretrained, and from scratch) segments the target, next "
        "to an intensity-threshold baseline, with each one's Dice.",
    )
    print(f"wrote {out} (run {run.name}): push it to a Gradio Space (README: Live demo)")
    return 0


COMMANDS = {
    "smoke": cmd_smoke,
    "weights": cmd_weights,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "compare": cmd_compare,
    "report": cmd_report,
    "demo": cmd_demo,
    "space": cmd_space,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except (Med3DError, DemoUnavailable, SpaceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
