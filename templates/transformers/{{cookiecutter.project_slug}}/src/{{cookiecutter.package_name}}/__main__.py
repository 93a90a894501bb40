"""Command line: `python -m <package> {smoke,download,train,evaluate,predict,report,demo,space}`.

Progress goes to stderr; the result is JSON on stdout (one object as the last line; `predict`
prints one line per text; `demo` prints its URL and serves until Ctrl-C). Exit status: 0 done
and every target met, 1 a target missed, 2 a problem to fix first (bad arguments, missing
package, missing model, no network, no demo group).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data import SST2_DATASET, SST2_ENV
from .demo_server import DemoUnavailable
from .errors import StarterError
from .settings import CPU_TRAIN_EXAMPLES, DEFAULT_LEARNING_RATE, DEFAULT_MODEL, DEFAULT_SEED
from .space import SpaceError
from .targets import describe, emit

PROG = f"python -m {__package__}"
DATA_HELP = (
    f"SST-2: a hub dataset id or a local folder in its layout (default: ${SST2_ENV}, "
    f"else {SST2_DATASET})"
)

RUN_HELP = "runs/<name> with a model/ (default: the latest run)"


def _log(message: str) -> None:
    print(f"[{__package__}] {message}", file=sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _examples(text: str) -> int | str:
    return text if text in ("auto", "all") else _positive_int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subcommand per stage of the project."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Fine-tune a pretrained transformer to classify sentence sentiment."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    smoke = commands.add_parser("smoke", help="offline end-to-end run on a tiny BERT (< 1 min)")
    smoke.add_argument("--out", default="runs/smoke", help="where the model is saved")
    smoke.add_argument("--seed", type=int, default=DEFAULT_SEED)

    download = commands.add_parser("download", help="fetch the model and SST-2 into the HF cache")
    download.add_argument("--model", default=DEFAULT_MODEL)
    download.add_argument("--data", default=None, help=DATA_HELP)

    train = commands.add_parser("train", help="fine-tune a pretrained encoder on SST-2")
    train.add_argument("--model", default=DEFAULT_MODEL, help="hub id or local folder")
    train.add_argument("--out", default="runs/sst2", help="model in OUT/model, report in OUT")
    train.add_argument(
        "--train-examples",
        type=_examples,
        default="auto",
        help=f"a seeded subset; auto = {CPU_TRAIN_EXAMPLES} on CPU, all on GPU",
    )
    train.add_argument("--epochs", type=_positive_int, default=1)
    train.add_argument("--batch-size", type=_positive_int, default=16)
    train.add_argument("--lr", type=float, default=DEFAULT_LEARNING_RATE, help="peak learning rate")
    train.add_argument("--max-length", type=_positive_int, default=64, help="tokens per sentence")
    train.add_argument("--seed", type=int, default=DEFAULT_SEED)
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    train.add_argument("--data", default=None, help=DATA_HELP)

    evaluate = commands.add_parser("evaluate", help="SST-2 validation accuracy and latency")
    evaluate.add_argument("--model-dir", default="runs/sst2/model")
    evaluate.add_argument("--max-length", type=_positive_int, default=64)
    evaluate.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    evaluate.add_argument("--data", default=None, help=DATA_HELP)
    evaluate.add_argument("--out", default="runs/evaluate", help="the run folder it writes")

    predict = commands.add_parser("predict", help="label sentences with a saved model")
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    predict.add_argument("--model-dir", default="runs/sst2/model")
    predict.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")

    report = commands.add_parser(
        "report", help="figures, README Results and MODEL_CARD.md from a run folder"
    )
    report.add_argument("run", nargs="?", default=None, help="runs/<name> (default: the latest)")

    demo = commands.add_parser(
        "demo", help="serve the web demo of a run: label, probabilities, the deciding words"
    )
    demo.add_argument("--run", default=None, help=RUN_HELP)
    demo.add_argument(
        "--port", type=_positive_int, default=None, help="default: $GRADIO_SERVER_PORT, else 7860"
    )

    space = commands.add_parser("space", help="a Hugging Face Space of the demo, from a run")
    space.add_argument("--run", default=None, help=RUN_HELP)
    space.add_argument("--out", default="dist/space", help="the Space folder it writes")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run one parsed command; print its JSON; return the exit status."""
    from . import finetune
    from .model import pick_device
    from .smoke import run_smoke
    from .train import TrainConfig

    report: dict[str, Any]
    if args.command == "demo":
        from .demo import build_app
        from .demo_server import serve

        chosen = None if args.run is None else Path(args.run)
        return serve(lambda: build_app(chosen), args.port)
    if args.command == "space":
        from .demo import build_demo_space

        out = build_demo_space(args.run, args.out)
        _log(f"upload it: hf upload <you>/<space> {out} . --repo-type space")
        print(json.dumps({"ok": True, "space": str(out)}))
        return 0
    if args.command == "report":
        from .report import make_report

        print(json.dumps(make_report(args.run)))
        return 0
    if args.command == "smoke":
        from transformers.utils import logging as hf_logging

        # transformers leaves disable_progress_bar unannotated
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        report = run_smoke(args.out, seed=args.seed, log=_log)
    elif args.command == "download":
        report = finetune.download(args.model, data=args.data)
    elif args.command == "train":
        device = pick_device(args.device)
        if args.train_examples == "auto":
            examples = finetune.default_train_examples(device)
        else:
            examples = None if args.train_examples == "all" else args.train_examples
        config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            max_length=args.max_length,
            seed=args.seed,
        )
        report = finetune.run_finetune(
            args.model, args.out, device, examples, config, log=_log, data=args.data
        )
    elif args.command == "evaluate":
        report = finetune.run_evaluate(
            args.model_dir,
            pick_device(args.device),
            args.max_length,
            data=args.data,
            out_dir=args.out,
        )
    else:
        for line in finetune.predict(args.model_dir, args.texts, pick_device(args.device)):
            print(json.dumps(line))
        return 0
    if "targets" not in report:  # download: nothing to check, only what was fetched
        print(json.dumps(report))
        return 0
    _log("targets:\n" + describe(report))
    return emit(report)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv), run the command, return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (StarterError, DemoUnavailable, SpaceError, ValueError, FileNotFoundError) as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
