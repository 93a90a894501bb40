"""The command line: ``python -m {{ cookiecutter.package_name }} COMMAND``, one of smoke, train,
evaluate, report, predict, demo, space.

Progress goes to stderr; results go to stdout: smoke, train and evaluate end with one JSON
report (``targets.py``: metrics, and each target with its threshold and source), predict
prints the completion, demo serves the web demo until Ctrl-C. Exit codes: 0 done and every
target met, 1 a target missed, 2 bad input (a missing path, no ``.py`` files, no checkpoint, no
demo group).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .criteria import real_run_targets
from .data import DEFAULT_SEED, DEV_FRACTION, TEST_FRACTION, DataError, load_split, read_source
from .demo_server import DemoUnavailable
from .evaluate import COMPLETION, completion_example, evaluate_heldout
from .model import PRESETS, LSTMLanguageModel, ModelConfig
from .ngram import fit_baselines
from .predict import Completer
from .runs import RunFolder, atomic_file, write_json
from .smoke import SmokeSettings, run_smoke
from .space import SpaceError
from .targets import build_report, describe, emit
from .train import TrainConfig, TrainResult, seed_everything, train, write_history
from .vocab import Vocabulary

# Chosen when this project was generated (answers model_size and train_minutes).
DEFAULT_SIZE = "{{ cookiecutter.model_size }}"
DEFAULT_MINUTES = {{ cookiecutter.train_minutes }}
DEFAULT_CHECKPOINT = Path("runs/lstm/model.pt")

log = logging.getLogger("{{ cookiecutter.package_name }}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        command: Callable[[argparse.Namespace], int] = args.command
        return command(args)
    except (DataError, CheckpointError, DemoUnavailable, SpaceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options."""
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.package_name }}",
        description="An LSTM that completes Python code.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    smoke = commands.add_parser("smoke", help="the whole pipeline on the stdlib in ~20 s of CPU")
    smoke.add_argument("--steps", type=int, default=SmokeSettings.steps, help="training steps")
    smoke.add_argument("--out", type=Path, default=Path("runs/smoke"), help="run folder")
    smoke.add_argument("--seed", type=int, default=DEFAULT_SEED, help="split and weights")
    smoke.add_argument(
        "--split",
        choices=("dev", "test"),
        default=SmokeSettings.split,
        help="held-out side to score: dev to make choices, test to report (default)",
    )
    smoke.add_argument("--max-train-tokens", type=int, default=SmokeSettings.max_train_tokens)
    smoke.add_argument("--max-heldout-tokens", type=int, default=SmokeSettings.max_heldout_tokens)
    smoke.set_defaults(command=smoke_command)

    training = commands.add_parser("train", help="train on your .py files (default: the stdlib)")
    _add_data_arguments(training)
    training.add_argument("--size", choices=sorted(PRESETS), default=DEFAULT_SIZE)
    training.add_argument("--vocab-size", type=int, help="override the size's vocabulary")
    training.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="time budget")
    training.add_argument("--steps", type=int, help="step budget (the same model every run)")
    training.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    training.add_argument("--seq-len", type=int, default=TrainConfig.seq_len)
    training.add_argument("--lr", type=float, default=TrainConfig.lr)
    training.add_argument("--dropout", type=float, default=ModelConfig.dropout)
    training.add_argument("--max-train-tokens", type=int, help="cap the training text")
    training.add_argument("--seed", type=int, default=DEFAULT_SEED, help="split and weights")
    training.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT.parent, help="run folder")
    training.add_argument(
        "--checkpoint-minutes", type=float, default=5.0, help="save a checkpoint this often"
    )
    training.set_defaults(command=train_command)

    evaluation = commands.add_parser(
        "evaluate", help="test-split metrics of a checkpoint beside the n-gram baselines"
    )
    evaluation.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    evaluation.add_argument(
        "--split",
        choices=("dev", "test"),
        default="test",
        help="held-out side: dev while you make choices, test for the number you report",
    )
    evaluation.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a folder of .py files or one file; repeat for several (default: the checkpoint's)",
    )
    evaluation.add_argument("--max-heldout-tokens", type=int, default=200_000)
    evaluation.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    evaluation.set_defaults(command=evaluate_command)

    reporting = commands.add_parser(
        "report", help="figures, the README's Results and MODEL_CARD.md from a run folder"
    )
    reporting.add_argument("run", nargs="?", type=Path, help="a run folder (default: the latest)")
    reporting.add_argument("--readme", type=Path, default=Path("README.md"))
    reporting.add_argument("--figures", type=Path, default=Path("figures"))
    reporting.add_argument("--model-card", type=Path, default=Path("MODEL_CARD.md"))
    reporting.set_defaults(command=report_command)

    prediction = commands.add_parser("predict", help="complete the line at the end of a prefix")
    prediction.add_argument("prefix", nargs="?", help="the code before the cursor ('-': stdin)")
    prediction.add_argument("--file", type=Path, help="read the code before the cursor here")
    prediction.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    prediction.add_argument("--beam", type=int, default=1, help="beam width (1: greedy)")
    prediction.add_argument("--device", default="cpu")
    prediction.set_defaults(command=predict_command)

    demo = commands.add_parser(
        "demo", help="serve the web demo of a run: top-k line completions (make setup-demo)"
    )
    demo.add_argument("--run", type=Path, help="a run folder with model.pt (default: the newest)")
    demo.add_argument("--port", type=int, help="default: GRADIO_SERVER_PORT, else 7860")
    demo.set_defaults(command=demo_command)

    space = commands.add_parser("space", help="a Hugging Face Space of the demo, from a run")
    space.add_argument("--run", type=Path, help="a run folder with model.pt (default: the newest)")
    space.add_argument("--out", type=Path, default=Path("dist/space"), help="the Space folder")
    space.set_defaults(command=space_command)
    return parser


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose the training text and its split."""
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a folder of .py files or one file; repeat for several (default: the stdlib)",
    )
    parser.add_argument(
        "--dev-fraction", type=float, default=DEV_FRACTION, help="share of files for dev"
    )
    parser.add_argument(
        "--test-fraction", type=float, default=TEST_FRACTION, help="share of files for test"
    )
    parser.add_argument("--max-heldout-tokens", type=int, default=200_000)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def smoke_command(args: argparse.Namespace) -> int:
    """Run the smoke (``smoke.run_smoke``) and print its report; 1 when a target is missed."""
    settings = SmokeSettings(
        steps=args.steps,
        seed=args.seed,
        split=args.split,
        max_train_tokens=args.max_train_tokens,
        max_heldout_tokens=args.max_heldout_tokens,
    )
    out = Path(args.out)
    with RunFolder(out.name, {"command": "smoke", **asdict(settings)}, root=out.parent) as run:
        report = run_smoke(run.staging, settings)
        run.finish(report)
    return _finish(report)


def train_command(args: argparse.Namespace) -> int:
    """Train, save the checkpoint, and report on the dev split against the real targets."""
    started = time.perf_counter()
    device = _device(args.device)
    seed_everything(args.seed)
    train_corpus, dev_corpus = load_split(
        args.data,
        split="dev",
        dev_fraction=args.dev_fraction,
        test_fraction=args.test_fraction,
        max_train_tokens=args.max_train_tokens,
        max_heldout_tokens=args.max_heldout_tokens,
        seed=args.seed,
    )
    shape = dict(PRESETS[args.size])
    if args.vocab_size:
        shape["vocab_size"] = args.vocab_size
    texts = [token.text for token in train_corpus.tokens]
    vocab = Vocabulary.build([texts], shape["vocab_size"])
    ids = vocab.encode(texts)
    model = LSTMLanguageModel(
        ModelConfig(
            vocab_size=len(vocab),
            embedding_dim=shape["embedding_dim"],
            hidden_size=shape["hidden_size"],
            num_layers=shape["num_layers"],
            dropout=args.dropout,
        )
    )
    config = TrainConfig(
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        lr=args.lr,
        max_steps=args.steps,
        max_minutes=args.minutes,
    )
    meta: dict[str, Any] = {
        "data": [str(root) for root in args.data or []],
        "dev_fraction": args.dev_fraction,
        "test_fraction": args.test_fraction,
        "max_train_tokens": args.max_train_tokens,
        "train_files": len(train_corpus.files),
        "train_tokens": len(ids),
        "seed": args.seed,
        "train_config": asdict(config),
    }
    settings = {"command": "train", "size": args.size, "model": model.config.to_dict(), **meta}
    with RunFolder(args.out.name, settings, root=args.out.parent) as run:
        path = run.path("model.pt")  # every few minutes, in the staged folder, then in place
        last_save = time.perf_counter()

        def save_now_and_then(result: TrainResult) -> None:
            nonlocal last_save
            if time.perf_counter() - last_save >= args.checkpoint_minutes * 60:
                save_checkpoint(path, model, vocab, {**meta, "steps": result.steps})
                last_save = time.perf_counter()

        log.info(
            "training %s parameters on %s for %s (Ctrl-C ends the training early)",
            f"{model.num_parameters():,}",
            device,
            f"{args.steps} steps" if args.steps else f"{args.minutes:g} minutes",
        )
        result = train(
            model, ids, config, device=device, on_progress=save_now_and_then, stop_on_interrupt=True
        )
        meta.update(
            steps=result.steps, epochs=round(result.epochs, 3), seconds=round(result.seconds)
        )
        save_checkpoint(path, model, vocab, meta)
        write_history(run.staging, result)
        log.info("saved the model; scoring %d dev files", len(dev_corpus.files))
        metrics: dict[str, Any] = {"split": "dev"}
        metrics.update(
            evaluate_heldout(
                model, vocab, dev_corpus.tokens, baselines=fit_baselines(ids), device=device
            )
        )
        metrics.update(
            loss_start=result.mean_loss(first=True),
            loss_end=result.mean_loss(first=False),
            steps=result.steps,
            interrupted=result.interrupted,
            train_tokens=len(ids),
            parameters=model.num_parameters(),
        )
        write_json(
            run.path(COMPLETION),
            completion_example(model, vocab, dev_corpus.tokens, device=device),
        )
        report = build_report(metrics, real_run_targets(metrics), started)
        run.finish(report)
    log.info("run folder: %s", args.out)
    return _finish(report)


def evaluate_command(args: argparse.Namespace) -> int:
    """Score a checkpoint on its held-out split (test by default) against the real targets.

    The split, the training text (for the baselines and the near-duplicate filter) and the
    seed come from the checkpoint, so the held-out files are those the model never saw. The
    report is also written beside the checkpoint (``evaluate_test.json``).
    """
    started = time.perf_counter()
    device = _device(args.device)
    checkpoint = load_checkpoint(args.checkpoint, device)
    meta = checkpoint.meta
    if "dev_fraction" not in meta and args.split == "dev":
        raise CheckpointError(
            f"{args.checkpoint} was trained before the dev split existed: its dev files were"
            " training files (evaluate --split test, or train again)"
        )
    roots = args.data or [Path(root) for root in meta.get("data", [])] or None
    train_corpus, heldout_corpus = load_split(
        roots,
        split=args.split,
        dev_fraction=meta.get("dev_fraction", DEV_FRACTION),
        test_fraction=meta.get("test_fraction", TEST_FRACTION),
        max_train_tokens=meta.get("max_train_tokens"),
        max_heldout_tokens=args.max_heldout_tokens,
        seed=meta.get("seed", DEFAULT_SEED),
    )
    baselines = fit_baselines(checkpoint.vocab.encode(t.text for t in train_corpus.tokens))
    metrics: dict[str, Any] = {"split": args.split, "steps": meta.get("steps")}
    metrics.update(
        evaluate_heldout(
            checkpoint.model,
            checkpoint.vocab,
            heldout_corpus.tokens,
            baselines=baselines,
            device=device,
        )
    )
    report = build_report(metrics, real_run_targets(metrics), started)
    trained = Path(args.checkpoint).resolve().parent
    settings = {
        "command": "evaluate",
        "checkpoint": str(args.checkpoint),
        "split": args.split,
        "data": [str(root) for root in roots or []],
        "seed": meta.get("seed", DEFAULT_SEED),
        "steps": meta.get("steps"),
    }
    with RunFolder(f"{trained.name}-{args.split}", settings, root=trained.parent) as run:
        write_json(
            run.path(COMPLETION),
            completion_example(
                checkpoint.model, checkpoint.vocab, heldout_corpus.tokens, device=device
            ),
        )
        run.finish(report)
    _write_report(args.checkpoint.parent / f"evaluate_{args.split}.json", report)
    return _finish(report)


def _write_report(path: Path, report: dict[str, Any]) -> None:
    """Write the report beside its final name and rename it into place (never half-written)."""
    with atomic_file(path) as staging:
        staging.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _finish(report: dict[str, Any]) -> int:
    """Show the targets to a person (stderr), print the report last (stdout), exit 0 or 1."""
    print(describe(report), file=sys.stderr)
    return emit(report)


def report_command(args: argparse.Namespace) -> int:
    """Draw the run's figures, write the README's Results and the model card (``report.py``)."""
    from .report import make_report  # matplotlib: only this command needs it

    try:
        made = make_report(args.run, readme=args.readme, figures=args.figures, card=args.model_card)
    except FileNotFoundError as error:
        raise DataError(str(error)) from error
    for figure in made["figures"]:
        print(f"wrote {figure}", file=sys.stderr)
    print(f"wrote {made['readme']} (Results) and {made['model_card']}", file=sys.stderr)
    print(json.dumps(made))
    return 0


def predict_command(args: argparse.Namespace) -> int:
    """Print the completion of the line at the end of the prefix (argument, file or stdin)."""
    if args.file is not None:
        text = read_source(args.file)
    elif args.prefix in (None, "-"):
        text = sys.stdin.read()
    else:
        text = args.prefix
    completer = Completer.from_checkpoint(args.checkpoint, device=args.device)
    print(completer.complete(text, beam_size=args.beam))
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """Serve the demo (``demo.build_app``) over a run until Ctrl-C (``demo_server.serve``)."""
    from .demo import build_app
    from .demo_server import serve

    return serve(lambda: build_app(args.run), args.port)


def space_command(args: argparse.Namespace) -> int:
    """Write a Hugging Face Space of the demo: the app, the source and the run's model."""
    from .demo import RUN_FILES, find_run, load_demo
    from .space import build_space

    if not Path("pyproject.toml").is_file():
        raise SpaceError("run it in the project's folder, where pyproject.toml is (make space)")
    run = find_run(args.run)
    out = build_space(
        run=run,
        run_files=RUN_FILES,
        out=args.out,
        title="Python line completion",
        description=load_demo(run).summary,
    )
    print(f"wrote {out}: upload it to a Gradio Space (README: Live demo)", file=sys.stderr)
    return 0


def _device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
