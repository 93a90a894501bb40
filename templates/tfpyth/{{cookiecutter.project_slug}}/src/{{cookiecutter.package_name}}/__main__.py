"""The command line; progress goes to stderr, the report is one JSON line on stdout.

python -m {{ cookiecutter.package_name }} smoke      # both bridges and two baselines on the bundled digits
python -m {{ cookiecutter.package_name }} train      # real mode: --bridge, --dataset mnist
python -m {{ cookiecutter.package_name }} evaluate   # a checkpoint, through the DLPack bridge
python -m {{ cookiecutter.package_name }} bench      # interop cost, numpy copy vs DLPack
python -m {{ cookiecutter.package_name }} report     # figures, README Results, MODEL_CARD.md from a run
python -m {{ cookiecutter.package_name }} demo       # the web demo: draw a digit, both bridges answer
python -m {{ cookiecutter.package_name }} space      # that demo as a Hugging Face Space (dist/space)

smoke, train and evaluate end with the same report: {"ok", "seconds", "metrics", "targets"}; the
exit code is 0 when every target is met and 1 otherwise. Each of them, and bench, leaves a run
folder (runs/smoke, runs/train, runs/evaluate, runs/bench: report, history, config with the
seed, environment) that `report` draws.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import DEFAULT_SEED

if TYPE_CHECKING:
    from .targets import Target

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
    """Train the hybrid model through both bridges and the baselines on the bundled digits, then
    a quick interop bench; leave it all in runs/smoke (make report draws it)."""
    import math

    from . import experiment
    from .runs import RunFolder

    config = experiment.smoke_config(args.seed, args.epochs)
    settings = {"command": "smoke", "seed": config.seed, "threads": args.threads,
                "bench_sizes": list(SMOKE_BENCH_SIZES), **config.to_dict()}  # fmt: skip
    with RunFolder("smoke", settings) as run:
        curves: dict[str, list[float]] = {}
        report = experiment.run_smoke(  # the run folder keeps the models the demo loads
            seed=args.seed, epochs=args.epochs, threads=args.threads, curves=curves,
            keep=run.staging,
        )  # fmt: skip
        steps_per_epoch = math.ceil(len(curves.get("dlpack", [])) / max(config.epochs, 1))
        for row in experiment.step_history(curves, steps_per_epoch):
            run.log(**row)
        report["metrics"].update(_quick_bench(run.path("bench.csv")))
        code = _finish(report)
        log.info("run folder: %s (make report draws it)", run.finish(report))
    return code


# The smoke's interop bench: 4 KB to 16 MB, a few hundredths of a second per measurement.
SMOKE_BENCH_SIZES = tuple(4096 * 4**i for i in range(7))


def _quick_bench(csv_path: Path) -> dict[str, Any]:
    """Time the interop routes at the smoke's sizes into ``csv_path``; return the summary."""
    from .bench import run_benchmark, summarize, write_csv

    log.info("interop bench, numpy copy vs DLPack, 4 KB to 16 MB")
    rows = run_benchmark(SMOKE_BENCH_SIZES, min_seconds=0.01, max_repeats=50)
    write_csv(rows, csv_path)
    return {f"bench_{key}": value for key, value in summarize(rows).items()}


def train(args: argparse.Namespace) -> int:
    """Train through one bridge or both; write model.pt and metrics.json per bridge."""
    started = time.perf_counter()
    from .config import ModelConfig, TrainConfig
    from .runs import RunFolder

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
    settings = {"command": "train", "dataset": args.dataset, "bridges": bridges,
                "threads": args.threads, **config.to_dict()}  # fmt: skip
    # runs/train (--out) is the run folder: staged beside it, moved into place when done
    with RunFolder(out.name, settings, root=out.parent) as run:
        report = _train(args, config, bridges, run, dataset_metrics, started)
        code = _finish(report)
        log.info("run folder: %s (make report draws it)", run.finish(report))
    return code


def _train(
    args: argparse.Namespace,
    config: Any,
    bridges: list[str],
    run: Any,
    dataset_metrics: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """Train each bridge into the run folder; return the report."""
    import math

    from . import legacy
    from .data import load_split
    from .runs import write_json

    runs = {}
    if "tfpyth" in bridges:  # started first: it runs beside the DLPack bridge
        log.info("training through tfpyth on %s (subprocess)", args.dataset)
        runs["tfpyth"] = legacy.start_tfpyth(
            config, dataset=args.dataset, out_dir=run.path("tfpyth"), threads=args.threads
        )
    _set_threads(args)
    from .experiment import accuracy_targets, bridge_metrics, step_history, step_loss_gap
    from .train import train_dlpack

    split = load_split(args.dataset, seed=args.seed)
    from .demo import save_examples

    save_examples(split, run.path("examples.npz"))  # the digits `make demo` offers to pick
    results = {}
    if "dlpack" in bridges:
        log.info("training through dlpack on %s", args.dataset)
        results["dlpack"] = train_dlpack(split, config, run.path("dlpack"))
    if "tfpyth" in runs:
        results["tfpyth"] = runs["tfpyth"].result()
    metrics: dict[str, Any] = {"dataset": args.dataset, **dataset_metrics}
    for bridge, result in results.items():
        saved = {k: v for k, v in result.to_dict().items() if k != "predictions"}
        saved.update(dataset=args.dataset, config=config.to_dict())
        if result.checkpoint:  # where it is once the run folder is in place
            saved["checkpoint"] = str(run.target / bridge / "model.pt")
        write_json(run.path(bridge) / "metrics.json", saved)
        metrics.update(bridge_metrics(result, bridge))
    if len(results) == 2:
        dl, old = results["dlpack"], results["tfpyth"]
        metrics["step_loss_max_abs_diff"] = step_loss_gap(dl.step_losses, old.step_losses)
        metrics["prediction_agreement"] = sum(
            a == b for a, b in zip(dl.predictions, old.predictions, strict=True)
        ) / len(dl.predictions)
    steps_per_epoch = math.ceil(len(split.y_train) / config.batch_size)
    curves = {bridge: result.step_losses for bridge, result in results.items()}
    for row in step_history(curves, steps_per_epoch):
        run.log(**row)
    logreg = _logreg(split, metrics)
    accuracies = {b: r.test_accuracy for b, r in results.items()}
    from .targets import build_report

    targets = accuracy_targets(args.dataset, accuracies, logreg)
    return build_report(metrics, targets, started)


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
    from .runs import RunFolder
    from .targets import build_report

    dataset_metrics = _fetch(args.dataset)
    split = load_split(args.dataset, seed=args.seed)
    settings = {"command": "evaluate", "checkpoint": str(args.checkpoint),
                "dataset": args.dataset, "seed": args.seed, "threads": args.threads}  # fmt: skip
    with RunFolder("evaluate", settings) as run:
        metrics = {**evaluate_checkpoint(args.checkpoint, split), **dataset_metrics}
        logreg = _logreg(split, metrics)
        targets = accuracy_targets(args.dataset, {"checkpoint": metrics["test_accuracy"]}, logreg)
        report = build_report(metrics, targets, started)
        code = _finish(report)
        log.info("run folder: %s (make report draws it)", run.finish(report))
    return code


def bench(args: argparse.Namespace) -> int:
    """Interop cost study: numpy copy vs DLPack, 1 KB up to --max-mb."""
    _set_threads(args)
    from dataclasses import asdict

    from .bench import KB, run_benchmark, summarize, write_csv, write_plot
    from .runs import RunFolder
    from .targets import build_report

    if args.max_mb * 1024 < args.min_kb or args.min_kb < 1:
        raise SystemExit("need 1 <= --min-kb <= --max-mb * 1024")
    sizes: list[int] = []
    size = KB * args.min_kb
    while size <= args.max_mb * 1024 * KB:
        sizes.append(size)
        size *= 4
    out = Path(args.out)
    settings = {"command": "bench", "sizes": sizes, "min_seconds": args.min_seconds,
                "threads": args.threads}  # fmt: skip
    started = time.perf_counter()
    # --out (runs/bench) is the run folder: bench.csv is its history too, one row a measurement
    with RunFolder(out.name, settings, root=out.parent) as run:
        rows = run_benchmark(tuple(sizes), min_seconds=args.min_seconds)
        for row in rows:
            run.log(**asdict(row))
        write_csv(rows, run.path("bench.csv"))
        drawn = write_plot(rows, run.path("bench.png")) if args.plot else None
        summary = summarize(rows)
        run.finish(build_report(summary, bench_targets(summary), started))
    sys.stdout.write(
        json.dumps(
            {
                "csv": str(out / "bench.csv"),
                "plot": drawn and str(out / "bench.png"),
                **summary,
            }
        )
        + "\n"
    )
    return 0


def bench_targets(summary: dict[str, Any]) -> dict[str, Target]:
    """The bench's checks: DLPack shares memory in both directions, measured (not assumed)."""
    from .targets import Target

    return {
        f"{key}_dlpack_zero_copy": Target(
            float(summary[f"{key}_dlpack_shares_memory"]),
            ">=",
            1.0,
            "measured: a write through one framework is seen through the other (README)",
        )
        for key in ("torch_to_tf", "tf_to_torch")
    }


def report(args: argparse.Namespace) -> int:
    """Figures, the README's Results section and MODEL_CARD.md from a run folder."""
    from .report import make_report

    try:
        made = make_report(args.run, args.readme, args.figures)
    except (FileNotFoundError, ValueError) as error:
        log.error("%s", error)
        return 1
    for path in made:
        sys.stdout.write(f"{path}\n")
    return 0


def demo(args: argparse.Namespace) -> int:
    """Serve the web demo of a run (default: the newest run with a model) until Ctrl-C."""
    from .demo import build_app, find_run
    from .demo_server import DemoUnavailable, serve

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up requests
    try:
        run = find_run(args.run)
        return serve(lambda: build_app(run), args.port)
    except DemoUnavailable as error:
        log.error("%s", error)
        return 1


def space(args: argparse.Namespace) -> int:
    """Write a Hugging Face Space of the demo, with the run's models, into --out."""
    from .demo import BRIDGES, CHECKPOINT, EXAMPLES, find_run
    from .demo_server import DemoUnavailable
    from .runs import REPORT
    from .space import SpaceError, build_space

    try:
        run = find_run(args.run)
        wanted = [REPORT, EXAMPLES, *(f"{bridge}/{CHECKPOINT}" for bridge in BRIDGES)]
        out = build_space(
            run=run,
            run_files=[name for name in wanted if (run / name).is_file()],
            out=args.out,
            title="Two bridges, one digit",
            description="Draw a digit and see what the same TensorFlow + PyTorch network, "
            "trained through the DLPack bridge and through tfpyth, predicts.",
        )
        # The Space predicts through the DLPack bridge only; pip cannot install tfpyth there
        # (its metadata asks for TensorFlow 1 and torch 1), so it is left out.
        requirements = out / "requirements.txt"
        lines = requirements.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("tfpyth==")]
        requirements.write_text("".join(kept), encoding="utf-8")
    except (DemoUnavailable, SpaceError, OSError) as error:
        log.error("%s", error)
        return 1
    sys.stdout.write(f"{out}\n")
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

    p = sub.add_parser("report", help="figures/, README Results and MODEL_CARD.md from a run")
    p.add_argument("run", nargs="?", type=Path, default=None, help="runs/<name> (default: latest)")
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.add_argument("--figures", type=Path, default=Path("figures"))
    p.set_defaults(func=report)

    p = sub.add_parser("demo", help="serve the web demo of a run (make setup-demo first)")
    p.add_argument("--run", type=Path, default=None, help="runs/<name> (default: latest)")
    p.add_argument("--port", type=int, default=None, help="default GRADIO_SERVER_PORT, or 7860")
    p.set_defaults(func=demo)

    p = sub.add_parser("space", help="a Hugging Face Space of the demo (README: Live demo)")
    p.add_argument("--run", type=Path, default=None, help="runs/<name> (default: latest)")
    p.add_argument("--out", type=Path, default=Path("dist/space"))
    p.set_defaults(func=space)
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
    from .runs import exit_with

    exit_with(main)
