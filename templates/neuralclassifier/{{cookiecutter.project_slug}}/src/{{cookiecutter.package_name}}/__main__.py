"""Command line: ``python -m <package> <command>``; ``--help`` lists the commands.

Offline: ``smoke``, ``synth``, ``validate``, ``convert``, ``train``, ``evaluate``, ``predict``,
``baseline``, ``ablation``, ``report``, ``demo`` (a web page over a run; ``make setup-demo``),
``space`` (that page as a Hugging Face Space). Every command that computes keeps a run folder
``runs/<name>/`` (report, per-epoch history, config with the seed, environment). With
NeuralClassifier (needs git and the network once): ``upstream clone|config|train|eval|predict``.
Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from . import DEFAULT_SEED, upstream
from .convert import ConvertError, ConvertOptions, convert_csv
from .data import Document, FormatError, read_corpus, tokenize, validate_file
from .demo import DemoError
from .demo_server import DemoUnavailable
from .evaluate import label_style, majority_baseline, score_metrics
from .published import rcv1_targets
from .report import NODE_SCORES, make_report, node_scores
from .runs import RunFolder, write_json
from .space import SpaceError
from .synthetic import write_synthetic
from .targets import beats_baseline, build_report, describe, emit
from .taxonomy import Taxonomy, TaxonomyError
from .train import Classifier, TrainConfig, fit, fit_tfidf_baseline

# The baseline command's check: a TF-IDF model that does not beat the majority label set by this
# much (micro-F1, same test documents) learned nothing usable.
BASELINE_MARGIN = 0.05

log = logging.getLogger(__name__)


def _print_json(obj: object) -> None:
    print(json.dumps(obj, sort_keys=False))


def _add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (one of --data, --rcv1, or --train/--dev/--test/--taxonomy)")
    g.add_argument(
        "--data", type=Path, help="folder with train.json, dev.json, test.json, taxonomy.tsv"
    )
    g.add_argument("--rcv1", action="store_true", help="the RCV1 sample inside the upstream clone")
    g.add_argument("--train", type=Path)
    g.add_argument("--dev", type=Path)
    g.add_argument("--test", type=Path)
    g.add_argument("--taxonomy", type=Path)
    g.add_argument(
        "--upstream-dir",
        type=Path,
        default=upstream.DEFAULT_DIR,
        help="where the NeuralClassifier clone lives (default: %(default)s)",
    )


def _data_files(args: argparse.Namespace) -> dict[str, Path]:
    if args.rcv1:
        files = {k: args.upstream_dir / v for k, v in upstream.RCV1.items()}
        if not files["train"].is_file():
            raise SystemExit(f"{files['train']} not found: run 'upstream clone' first")
    elif args.data:
        files = {k: args.data / f"{k}.json" for k in ("train", "dev", "test")}
        files["taxonomy"] = args.data / "taxonomy.tsv"
    else:
        files = {k: getattr(args, k) for k in ("train", "dev", "test", "taxonomy")}
    for key in ("train", "dev", "test", "taxonomy"):
        if args.__dict__.get(key) is not None:
            files[key] = getattr(args, key)
        if files.get(key) is None:
            raise SystemExit(f"no {key} file: pass --data, --rcv1 or --{key}")
    return files


def _load_splits(args: argparse.Namespace) -> tuple[list[Document], list[Document], list[Document]]:
    files = _data_files(args)
    taxonomy = Taxonomy.read(files["taxonomy"])
    train, dev, test = (read_corpus(files[s], taxonomy) for s in ("train", "dev", "test"))
    return train, dev, test


def _token_lists(path: Path) -> list[list[str]]:
    """The ``doc_token`` list of every line of a JSON-lines file (labels are not needed)."""
    out = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            try:
                tokens = json.loads(line)["doc_token"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise SystemExit(
                    f"{path}:{lineno}: expected a JSON object with 'doc_token'"
                ) from None
            out.append(tokens)
    return out


def cmd_smoke(args: argparse.Namespace) -> int:
    from .smoke import run_smoke

    report = run_smoke(
        args.out, seed=args.seed, epochs=args.epochs, lr=args.lr, kernel_sizes=args.kernel_sizes
    )
    log.info("run folder: %s", args.out)
    return _finish(report)


def _finish(report: dict[str, Any], run: RunFolder | None = None) -> int:
    """Log the targets for a person, finish the run folder, print the report last; 0 when ok."""
    log.info("%s", describe(report))
    if run is not None:
        log.info("run folder: %s", run.finish(report))
    return emit(report)


def _run_folder(out: Path, command: str, args: argparse.Namespace, **config: Any) -> RunFolder:
    """The run folder ``out`` of ``command``: its settings are the command line's own."""
    settings = {
        key: value for key, value in vars(args).items() if key not in ("func", "quiet", "out")
    }
    return RunFolder(out.name, {"command": command, **settings, **config}, out.parent)


def cmd_synth(args: argparse.Namespace) -> int:
    out = write_synthetic(args.out, seed=args.seed)
    print(f"wrote {out}/train.json, dev.json, test.json and taxonomy.tsv")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    taxonomy = Taxonomy.read(args.taxonomy) if args.taxonomy else None
    failed = 0
    for path in args.files:
        problems = validate_file(path, taxonomy)
        for problem in problems:
            print(problem)
        if problems:
            failed += 1
        else:
            with path.open(encoding="utf-8") as handle:
                n = sum(1 for _ in handle)
            print(f"{path}: ok, {n} documents")
    return 1 if failed else 0


def cmd_convert(args: argparse.Namespace) -> int:
    opts = ConvertOptions(
        text_column=args.text_column,
        labels_column=args.labels_column,
        label_sep=args.label_sep,
        level_sep=args.level_sep,
        lowercase=not args.keep_case,
        ancestors=not args.no_ancestors,
        rename_duplicates=args.rename_duplicates,
        dev_fraction=args.dev_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
    )
    report = convert_csv(args.csv, args.out, opts)
    for warning in report.warnings:
        log.warning("warning: %s", warning)
    _print_json(
        {
            "files": {k: str(v) for k, v in report.files.items()},
            "documents": report.counts,
            "labels_per_level": report.labels_per_level,
            "renamed": report.renamed,
            "dropped_duplicates": report.dropped_duplicates,
        }
    )
    return 0


def _train_config(
    args: argparse.Namespace, mode: str | None = None, seed: int | None = None
) -> TrainConfig:
    return TrainConfig(
        mode=mode or args.mode,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        max_len=args.max_len,
        min_count=args.min_count,
        hierar_penalty=args.hierar_penalty,
        seed=args.seed if seed is None else seed,
    )


def _model_report(
    clf: Classifier, test: list[Document], started: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """Scores of ``clf`` on ``test`` (closed and as written) against the README's TextCNN row."""
    gold = [d.labels for d in test]
    written = clf.written_labels or tuple(sorted({x for d in test for x in d.labels}))
    metrics: dict[str, Any] = score_metrics("", gold, clf.predict(test), clf.label_style, written)
    metrics.update(extra)
    metrics["mode"] = clf.config.mode
    targets = rcv1_targets(
        "TextCNN",
        clf.config.mode,
        metrics["raw_micro_f1"],
        metrics["raw_macro_f1"],
        f"this repo's TextCNN ({clf.config.mode}), as-written scores",
    )
    return build_report(metrics, targets, started)


def _node_scores(
    run: RunFolder, clf: Classifier, docs: list[Document], taxonomy: Path | None
) -> None:
    tree = Taxonomy.read(taxonomy) if taxonomy is not None else None
    gold = [d.labels for d in docs]
    record = node_scores(tree, gold, clf.predict(docs), f"TextCNN, {clf.config.mode}", "test")
    write_json(run.path(NODE_SCORES), record)


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    files = _data_files(args)
    train, dev, test = _load_splits(args)
    config = _train_config(args)
    paths = {k: str(v) for k, v in files.items()}
    with _run_folder(args.out, "train", args, **dataclasses.asdict(config), **paths) as run:
        result = fit(train, dev, config)
        for row in result.history:
            run.log(**row)
        path = result.classifier.save(run.path("model.pt"))
        _node_scores(run, result.classifier, test, files["taxonomy"])
        extra = {
            "model_path": str(args.out / path.name),
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "test_docs": len(test),
        }
        return _finish(_model_report(result.classifier, test, started, extra), run)


def cmd_evaluate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    clf = Classifier.load(args.model)
    docs = read_corpus(args.test)
    if args.threshold is not None:
        clf.config.threshold = args.threshold
    with _run_folder(args.out, "evaluate", args, seed=clf.config.seed) as run:
        _node_scores(run, clf, docs, args.taxonomy)
        extra = {"test_file": str(args.test), "test_docs": len(docs)}
        return _finish(_model_report(clf, docs, started, extra), run)


def cmd_predict(args: argparse.Namespace) -> int:
    clf = Classifier.load(args.model)
    if args.text is not None:
        docs = [Document(labels=(), tokens=tuple(tokenize(args.text)))]
    else:
        docs = [Document(labels=(), tokens=tuple(t)) for t in _token_lists(args.input)]
    for labels in clf.predict(docs, args.threshold):
        _print_json(sorted(labels))
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    train, dev, test = _load_splits(args)
    gold = [d.labels for d in test]
    style = label_style(d.labels for d in train)
    written = {x for d in train for x in d.labels}
    metrics: dict[str, Any] = {}
    majority = majority_baseline([d.labels for d in train], len(test))
    metrics.update(score_metrics("majority_", gold, majority, style, written))
    result = fit_tfidf_baseline(train, dev, test, cs=args.c, ngram=args.ngram)
    metrics.update(score_metrics("", gold, result.predictions, style, written))
    metrics.update({"c": result.c, "dev_micro_f1": result.dev_micro_f1, "ngram": args.ngram})
    targets = {
        "micro_f1_over_majority": beats_baseline(
            metrics["micro_f1"],
            "majority_micro_f1",
            metrics["majority_micro_f1"],
            BASELINE_MARGIN,
        )
    }
    with _run_folder(args.out, "baseline", args, seed=None) as run:
        return _finish(build_report(metrics, targets, started), run)


def cmd_ablation(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    train, dev, test = _load_splits(args)
    gold = [d.labels for d in test]
    rows: dict[str, dict[str, list[float]]] = {}
    history: list[dict[str, Any]] = []
    for mode in ("flat", "hierarchical"):
        for seed in args.seeds:
            log.info("ablation: %s, seed %d", mode, seed)
            result = fit(train, dev, _train_config(args, mode=mode, seed=seed))
            clf = result.classifier
            history.extend({"mode": mode, "run_seed": seed, **row} for row in result.history)
            scores = score_metrics("", gold, clf.predict(test), clf.label_style, clf.written_labels)
            for key in ("micro_f1", "macro_f1", "raw_micro_f1", "raw_macro_f1"):
                rows.setdefault(mode, {}).setdefault(key, []).append(scores[key])
    summary: dict[str, dict[str, dict[str, Any]]] = {
        mode: {
            key: {
                "mean": round(statistics.mean(v), 4),
                "std": round(statistics.stdev(v), 4) if len(v) > 1 else 0.0,
                "runs": v,
            }
            for key, v in metrics.items()
        }
        for mode, metrics in rows.items()
    }
    keys = ("micro_f1", "macro_f1", "raw_micro_f1", "raw_macro_f1")
    print("| mode | " + " | ".join(keys) + " |", file=sys.stderr)
    print("|---" * (len(keys) + 1) + "|", file=sys.stderr)
    for mode, m in summary.items():
        cells = [f"{m[k]['mean']:.4f} ± {m[k]['std']:.4f}" for k in keys]
        print(f"| {mode} | " + " | ".join(cells) + " |", file=sys.stderr)
    targets = {}
    for mode, m in summary.items():
        for name, target in rcv1_targets(
            "TextCNN",
            mode,
            m["raw_micro_f1"]["mean"],
            m["raw_macro_f1"]["mean"],
            f"this repo's TextCNN ({mode}), mean over seeds {args.seeds}",
        ).items():
            targets[f"{mode}_{name}"] = target
    report = build_report({"seeds": args.seeds, "results": summary}, targets, started)
    with _run_folder(args.out, "ablation", args) as run:
        for row in history:
            run.log(**row)
        return _finish(report, run)


def _upstream_config(args: argparse.Namespace) -> Path:
    files = _data_files(args)
    config = upstream.build_config(
        train=[files["train"]],
        dev=[files["dev"]],
        test=[files["test"]],
        taxonomy=files["taxonomy"],
        run_dir=args.run_dir,
        model=args.model,
        hierarchical=not args.flat,
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        top_k=args.top_k,
        pretrained_embedding=args.embedding,
        embedding_dim=args.embedding_dim,
    )
    path = upstream.write_config(config, args.run_dir / "config.json")
    log.info("wrote %s", path)
    return path


def _finish_upstream(
    args: argparse.Namespace, action: str, config: Path, started: float, log_start: int
) -> int:
    """Read upstream's numbers back into the report, keep the run folder, print the report."""
    report = upstream.eval_report(config, started, log_start)
    run = upstream.record_run(
        f"{args.run_dir.name}-{action}",
        config,
        report,
        log_start,
        root=args.run_dir.parent,
        clone_dir=args.upstream_dir,
    )
    log.info("run folder: %s", run)
    return _finish(report)


def cmd_upstream(args: argparse.Namespace) -> int:
    if args.run_dir is None:
        mode = "flat" if args.flat or args.model == "HMCN" else "hierarchical"
        args.run_dir = Path(f"runs/upstream-{args.model}-{mode}")
    if args.action == "clone":
        path = upstream.clone(args.upstream_dir)
        print(f"NeuralClassifier {upstream.source()[1][:12]} is in {path}")
        return 0
    if args.action == "config":
        print(_upstream_config(args))
        return 0
    started = time.perf_counter()
    if args.action == "train":
        if not (args.upstream_dir / "train.py").is_file():  # an existing checkout is used as is
            upstream.clone(args.upstream_dir)
        config = _upstream_config(args)
        log_start = upstream.log_size(config)
        code = upstream.run_script("train.py", config, args.upstream_dir)
        if code != 0:
            return code
        # train.py logs per-epoch scores only; eval.py writes the test scores the report reads.
        code = upstream.run_script("eval.py", config, args.upstream_dir)
        return code or _finish_upstream(args, "train", config, started, log_start)
    config = args.run_dir / "config.json"
    if args.action == "eval":
        if args.test is not None:  # score another test file with the trained model
            config = upstream.retarget_test(config, args.test)
        log_start = upstream.log_size(config) if config.is_file() else 0
        code = upstream.run_script("eval.py", config, args.upstream_dir)
        return code or _finish_upstream(args, "eval", config, started, log_start)
    # predict: NeuralClassifier reads all four keys; labels are ignored in predict mode
    lines = [
        json.dumps({"doc_label": [], "doc_token": t, "doc_keyword": [], "doc_topic": []})
        for t in _token_lists(args.input)
    ]
    staged = args.run_dir / "predict_input.json"
    staged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = upstream.run_script("predict.py", config, args.upstream_dir, str(staged.resolve()))
    if code == 0:
        print(f"labels per line in {args.run_dir / 'predict.txt'}")
    return code


def cmd_report(args: argparse.Namespace) -> int:
    try:
        written = make_report(args.run, args.readme, args.figures, args.card)
    except ValueError as err:  # a README without its Results markers, a figure too large
        print(f"error: {err}", file=sys.stderr)
        return 1
    _print_json(written)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import build_app
    from .demo_server import serve

    return serve(lambda: build_app(args.run), args.port)


def cmd_space(args: argparse.Namespace) -> int:
    from .demo import EXAMPLES_FILE, RUN_FILES, find_run
    from .space import build_space

    run = args.run if args.run is not None else find_run()
    files = [*RUN_FILES, *([EXAMPLES_FILE] if (run / EXAMPLES_FILE).is_file() else [])]
    out = build_space(
        run=run,
        run_files=files,
        out=args.out,
        title="Hierarchical text classifier",
        description="A text in; its label paths through the label tree out, each node with "
        "its score, from a TextCNN trained with this project.",
    )
    print(f"wrote {out} (run {run.name}): push it to a Gradio Space (README: Live demo)")
    return 0


def _add_train_args(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--max-len", type=int, default=d.max_len, help="tokens kept per document")
    p.add_argument(
        "--min-count", type=int, default=d.min_count, help="drop rarer tokens from the vocabulary"
    )
    p.add_argument(
        "--hierar-penalty",
        type=float,
        default=d.hierar_penalty,
        help="weight of the parent-child regularisation (hierarchical mode)",
    )
    p.add_argument("--seed", type=int, default=d.seed, help="default: %(default)s")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (``--help`` on each says more)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("smoke", help="the whole pipeline on synthetic data, offline (< 1 min)")
    p.add_argument("--out", type=Path, default=Path("runs/smoke"))
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed of the synthetic corpus and of training (default: %(default)s)",
    )
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument(
        "--lr",
        type=float,
        help="learning rate of the smoke's TextCNN (0: a model that never learns)",
    )
    p.add_argument(
        "--kernel-sizes",
        type=int,
        nargs="+",
        help="convolution widths of the smoke's TextCNN (default 2 3 4; 1 sees one token)",
    )
    p.set_defaults(func=cmd_smoke)

    p = sub.add_parser("synth", help="write the synthetic corpus and taxonomy")
    p.add_argument("--out", type=Path, default=Path("data/synthetic"))
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the corpus (default: %(default)s)"
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("validate", help="check corpus files (and their labels against a taxonomy)")
    p.add_argument("files", type=Path, nargs="+")
    p.add_argument("--taxonomy", type=Path)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("convert", help="CSV (text, labels) to corpus files and a taxonomy")
    p.add_argument("csv", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--text-column", default="text")
    p.add_argument("--labels-column", default="labels")
    p.add_argument("--label-sep", default=";", help="between label paths (default: %(default)s)")
    p.add_argument(
        "--level-sep", default="/", help="between levels of a path (default: %(default)s)"
    )
    p.add_argument("--keep-case", action="store_true", help="do not lowercase tokens")
    p.add_argument("--no-ancestors", action="store_true", help="write only the given paths")
    p.add_argument(
        "--rename-duplicates",
        action="store_true",
        help="rename a short name reused under another parent to Parent_Name",
    )
    p.add_argument("--dev-fraction", type=float, default=0.1)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the shuffle (default: %(default)s)"
    )
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("train", help="train the TextCNN, save it, score the test split")
    _add_data_args(p)
    _add_train_args(p)
    p.add_argument("--mode", choices=("hierarchical", "flat"), default="hierarchical")
    p.add_argument("--out", type=Path, default=Path("runs/textcnn"))
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a saved model on a corpus file")
    p.add_argument("--model", type=Path, default=Path("runs/textcnn/model.pt"))
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--threshold", type=float)
    p.add_argument(
        "--taxonomy", type=Path, help="the label tree (for the per-node F1 of make report)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/evaluate"), help="its run folder")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="labels for a text or a corpus file (one JSON list a line)")
    p.add_argument("--model", type=Path, default=Path("runs/textcnn/model.pt"))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text")
    src.add_argument("--input", type=Path)
    p.add_argument("--threshold", type=float)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("baseline", help="TF-IDF + one-vs-rest logistic regression")
    _add_data_args(p)
    p.add_argument(
        "--c",
        type=float,
        nargs="+",
        default=[1.0, 10.0, 100.0],
        help="inverse L2 strengths to try; the best on dev is used (default: %(default)s)",
    )
    p.add_argument(
        "--ngram", type=int, default=1, help="features: 1..N-grams of tokens (default: %(default)s)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/baseline"), help="its run folder")
    p.set_defaults(func=cmd_baseline)

    p = sub.add_parser("ablation", help="flat vs hierarchical TextCNN over several seeds")
    _add_data_args(p)
    _add_train_args(p)
    p.add_argument("--seeds", type=int, nargs="+", default=[DEFAULT_SEED + i for i in range(3)])
    p.add_argument("--out", type=Path, default=Path("runs/ablation"), help="its run folder")
    p.set_defaults(func=cmd_ablation)

    p = sub.add_parser(
        "upstream", help="Tencent NeuralClassifier: clone, config, train, eval, predict"
    )
    p.add_argument("action", choices=("clone", "config", "train", "eval", "predict"))
    _add_data_args(p)
    p.add_argument(
        "--run-dir",
        type=Path,
        help="working folder: config, checkpoints, logs (default: runs/upstream-<model>-<mode>); "
        "each train / eval also keeps the run folder <run-dir>-train or -eval beside it",
    )
    p.add_argument("--model", choices=upstream.MODELS, default=upstream.DEFAULT_MODEL)
    p.add_argument("--flat", action="store_true", help="task_info.hierarchical = false")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default=upstream.DEFAULT_DEVICE)
    p.add_argument("--top-k", type=int, default=100)
    p.add_argument("--embedding", type=Path, help="pretrained word vectors (GloVe text format)")
    p.add_argument("--embedding-dim", type=int, default=64, help="300 for glove.6B.300d")
    p.add_argument("--input", type=Path, help="predict: a JSON-lines file of documents")
    p.set_defaults(func=cmd_upstream)

    p = sub.add_parser(
        "report", help="figures, README Results and MODEL_CARD.md from a run folder (make report)"
    )
    p.add_argument("run", type=Path, nargs="?", help="a run folder (default: the latest run)")
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.add_argument("--figures", type=Path, default=Path("figures"))
    p.add_argument("--card", type=Path, default=Path("MODEL_CARD.md"))
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="serve the web demo of a run (needs make setup-demo)")
    p.add_argument(
        "--run", type=Path, help="a run folder with a model.pt (default: the newest such run)"
    )
    p.add_argument("--port", type=int, help="default: GRADIO_SERVER_PORT, else 7860")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("space", help="a Hugging Face Space folder of the demo, from a run")
    p.add_argument(
        "--run", type=Path, help="a run folder with a model.pt (default: the newest such run)"
    )
    p.add_argument("--out", type=Path, default=Path("dist/space"))
    p.set_defaults(func=cmd_space)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (1 on a data or config error, with the reason)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    if args.command == "upstream" and args.action == "predict" and args.input is None:
        build_parser().error("upstream predict needs --input")
    try:
        code: int = args.func(args)
        return code
    except (
        OSError,
        FormatError,
        TaxonomyError,
        ConvertError,
        upstream.ConfigError,
        upstream.UpstreamError,
        DemoError,
        DemoUnavailable,
        SpaceError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    from .runs import exit_with

    exit_with(main)
