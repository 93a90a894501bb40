"""``report [RUN]`` (make report): figures, the README's Results section and the model card,
drawn from one run folder (default: the run finished last).

Figures (``figures/``, PNG in the shared style of ``showcase``):

* ``learning_curve.png``: dev micro-F1 per epoch (hierarchical and flat TextCNN; upstream runs:
  train, dev and test micro-F1 as upstream's log writes them);
* ``training_loss.png``: the training loss per epoch;
* ``per_level_f1.png``: micro-F1 at each level of the label tree, the TextCNN next to the
  baselines of the same run (same test documents);
* ``label_tree.png``: the label tree, every node coloured by its own F1 on the test split
  (upstream runs: the per-label scores of eval.py's ``all_prf``, labels as written);
* ``targets.png``: every target of the run, its value, threshold and baseline.

A figure whose numbers the run does not have (an eval run of another tool has no history) is
skipped, and an old file of that name is removed so the README never shows another run's picture.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .evaluate import per_label_scores
from .runs import latest_run, read_run
from .taxonomy import ROOT, SEP, Taxonomy, close_under_prefixes

NODE_SCORES = "per_node_f1.json"
FIGURE_NAMES = (
    "learning_curve.png",
    "training_loss.png",
    "per_level_f1.png",
    "label_tree.png",
    "targets.png",
)
# Same-run models whose per-level scores the per-level chart compares (label, metric prefix).
LEVEL_MODELS = (
    ("TextCNN, hierarchical", ""),
    ("TextCNN, flat", "flat_"),
    ("TF-IDF words + pairs", "tfidf_bigram_"),
    ("TF-IDF words", "tfidf_unigram_"),
    ("TF-IDF (baseline command)", "tfidf_"),
    ("majority label set", "majority_"),
)
HEADLINE = (
    "micro_f1",
    "macro_f1",
    "raw_micro_f1",
    "raw_macro_f1",
    "flat_micro_f1",
    "flat_macro_f1",
    "tfidf_bigram_micro_f1",
    "tfidf_unigram_micro_f1",
    "majority_micro_f1",
    "level_1_micro_f1",
    "level_2_micro_f1",
    "level_3_micro_f1",
    "raw_level_1_micro_f1",
    "raw_level_2_micro_f1",
    "dev_raw_micro_f1",
    "best_epoch",
    "train_seconds",
    "test_docs",
)


def label_tree(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Every node's full path -> its children's full paths, ``""`` standing for the root."""
    tree = {"": [taxonomy.path(child) for child in taxonomy.children(ROOT)]}
    for name in taxonomy.nodes:
        tree[taxonomy.path(name)] = [taxonomy.path(child) for child in taxonomy.children(name)]
    return tree


def node_scores(
    taxonomy: Taxonomy | None,
    gold: Sequence[Iterable[str]],
    pred: Sequence[Iterable[str]],
    model: str,
    split: str,
) -> dict[str, Any]:
    """What ``per_node_f1.json`` holds: the tree and each node's F1 (closed under ancestors).

    Without a taxonomy the tree is the one the gold and predicted labels spell out.
    """
    if taxonomy is None:
        labels = set().union(*(close_under_prefixes(x) for x in [*gold, *pred]))
        taxonomy = Taxonomy.from_labels(sorted(labels))
    return {
        "model": model,
        "split": split,
        "tree": label_tree(taxonomy),
        "nodes": per_label_scores(gold, pred),
    }


_PRF_LINE = re.compile(
    r"^(?P<label>[^,]+), precision: [\d.]+, recall: [\d.]+, fscore: (?P<f1>[\d.]+), "
    r"right_count: (?P<tp>\d+), predict_count: (?P<pred>\d+), standard_count: (?P<gold>\d+)"
)


def upstream_node_scores(prf: Path, model: str) -> dict[str, Any] | None:
    """Per-label F1 from upstream eval.py's ``all_prf`` file (labels as written), or None."""
    nodes: dict[str, dict[str, float]] = {}
    for line in prf.read_text(encoding="utf-8").splitlines():
        match = _PRF_LINE.match(line.strip())
        if match and not match["label"].endswith("_average"):
            tp, pred, gold = int(match["tp"]), int(match["pred"]), int(match["gold"])
            nodes[match["label"]] = {
                "f1": float(match["f1"]),
                "support": gold,
                "tp": tp,
                "fp": pred - tp,
                "fn": gold - tp,
            }
    if not nodes:
        return None
    tree = Taxonomy.from_labels(sorted(close_under_prefixes(nodes)))
    return {
        "model": model,
        "split": "test",
        "measure": "labels as written",
        "tree": label_tree(tree),
        "nodes": nodes,
    }


def learning_figures(history: Sequence[Mapping[str, Any]], figures: Path) -> list[tuple[Path, str]]:
    """The learning curve and the loss curve, from whichever columns the history has."""
    from .showcase import learning_curve

    keys = set().union(*(row.keys() for row in history)) if history else set()
    if "validate_micro_f1" in keys:  # an upstream run: upstream's log, labels as written
        f1_series = {"train": "train_micro_f1", "dev": "validate_micro_f1", "test": "test_micro_f1"}
        loss_series = {"train": "train_loss", "dev": "validate_loss", "test": "test_loss"}
        f1_label, who = "micro-F1, labels as written", "NeuralClassifier"
        loss_title, loss_label = "loss per epoch", "loss, as upstream's log writes it"
    else:
        f1_series = {"hierarchical TextCNN": "dev_micro_f1", "flat TextCNN": "flat_dev_micro_f1"}
        loss_series = {"hierarchical TextCNN": "loss", "flat TextCNN": "flat_loss"}
        f1_label, who = "dev micro-F1 (closed under ancestors)", "TextCNN"
        loss_title, loss_label = "training loss per epoch", "loss (BCE, mean per document)"
    out = []
    if keys & set(f1_series.values()):
        path = learning_curve(
            history,
            "epoch",
            f1_series,
            figures / "learning_curve.png",
            f"{who}: micro-F1 after each epoch",
            f1_label,
        )
        out.append((path, f"{who} micro-F1 per epoch"))
    if keys & set(loss_series.values()):
        path = learning_curve(
            history,
            "epoch",
            loss_series,
            figures / "training_loss.png",
            f"{who}: {loss_title}",
            loss_label,
        )
        out.append((path, f"{who} {loss_title}"))
    return out


def per_level_chart(metrics: Mapping[str, Any], path: Path) -> Path | None:
    """Grouped bars: micro-F1 at each level of the tree, one bar per model of the run."""
    from .showcase import BLUE, GREEN, GREY, ORANGE, PURPLE, VERMILION, new_figure, save_figure

    closed = any(re.fullmatch(r"level_\d+_micro_f1", key) for key in metrics)
    models = LEVEL_MODELS if closed else (("NeuralClassifier", "raw_"),)
    levels = sorted(
        {int(m.group(1)) for key in metrics if (m := re.fullmatch(r"level_(\d+)_micro_f1", key))}
        if closed
        else {
            int(m.group(1))
            for key in metrics
            if (m := re.fullmatch(r"raw_level_(\d+)_micro_f1", key))
        }
    )
    shown = [(name, prefix) for name, prefix in models if f"{prefix}level_1_micro_f1" in metrics]
    if closed:  # the baseline command's scores carry no prefix: name them after what they are
        shown = [(n, p) for n, p in shown if p != "tfidf_"]
        if "c" in metrics and "ngram" in metrics:
            shown = [("TF-IDF + logistic regression" if p == "" else n, p) for n, p in shown]
    if not levels or not shown:
        return None
    colors = [BLUE, ORANGE, GREEN, PURPLE, VERMILION, GREY]
    fig, ax = new_figure(6.8, 4.3)
    width = 0.8 / len(shown)
    for i, ((name, prefix), color) in enumerate(zip(shown, colors, strict=False)):
        values = [float(metrics.get(f"{prefix}level_{k}_micro_f1", 0.0)) for k in levels]
        xs = [k + (i - (len(shown) - 1) / 2) * width for k in levels]
        bars = ax.bar(xs, values, width * 0.92, label=name, color=color)
        ax.bar_label(bars, [f"{v:.2f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(levels, [f"level {k}" + (" (top)" if k == 1 else "") for k in levels])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("micro-F1 on test" + (" (closed)" if closed else " (as written)"))
    ax.set_xlabel("level of the label tree")
    ax.set_title("Micro-F1 at each level of the label tree, same test documents")
    ax.grid(axis="x", visible=False)
    ax.legend(frameon=False, fontsize=8, ncol=min(3, len(shown)), loc="upper center",
              bbox_to_anchor=(0.5, -0.2))  # fmt: skip
    return save_figure(fig, path)


def _layout(tree: Mapping[str, Sequence[str]]) -> dict[str, tuple[int, float]]:
    """(level, row) of every node: leaves on consecutive rows, a parent centred on its children."""
    place: dict[str, tuple[int, float]] = {}
    rows = [0]

    def visit(node: str, depth: int) -> float:
        children = tree.get(node, [])
        if not children:
            row = float(rows[0])
            rows[0] += 1
        else:
            ys = [visit(child, depth + 1) for child in children]
            row = (min(ys) + max(ys)) / 2
        if node:
            place[node] = (depth, row)
        return row

    visit("", 0)
    return place


def label_tree_chart(record: Mapping[str, Any], path: Path) -> Path:
    """The label tree left to right, each node a dot coloured by its F1 (grey: no test doc)."""
    import matplotlib as mpl

    from .showcase import new_figure, save_figure

    tree, nodes = record["tree"], record["nodes"]
    place = _layout(tree)
    leaves = sum(1 for node in place if not tree.get(node))
    depth = max((level for level, _ in place.values()), default=1)
    font = 8 if leaves <= 40 else 6
    fig, ax = new_figure(2.2 + 2.3 * depth, min(max(2.8, 0.7 + 0.24 * leaves), 30.0))
    cmap = mpl.colormaps["viridis"]
    box = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}
    for parent, children in tree.items():
        for child in children:
            if parent in place and child in place:
                (x0, y0), (x1, y1) = place[parent], place[child]
                ax.plot([x0, x0 + 0.5, x0 + 0.5, x1], [y0, y0, y1, y1], color="#bbbbbb", lw=0.9)
    for node, (x, y) in place.items():
        score = nodes.get(node)
        short = node.split(SEP)[-1]
        if score and score["support"]:
            ax.scatter([x], [y], s=70, color=cmap(score["f1"]), edgecolors="#222222", zorder=3)
            text = f"{short}  {score['f1']:.2f} (n={score['support']})"
        else:
            ax.scatter([x], [y], s=70, facecolors="white", edgecolors="#888888", zorder=3)
            text = f"{short}  (n=0)"
        ax.annotate(text, (x, y), xytext=(7, 0), textcoords="offset points", va="center",
                    fontsize=font, zorder=4, bbox=box)  # fmt: skip
    ax.set_xlim(0.7, depth + 0.95)
    ax.set_ylim(leaves - 0.4, -0.6)
    ax.set_xticks(range(1, depth + 1), [f"level {k}" for k in range(1, depth + 1)])
    ax.set_yticks([])
    ax.grid(visible=False)
    ax.spines["left"].set_visible(False)
    ax.set_title(
        f"Label tree, each node coloured by its F1 on the {record['split']} split\n"
        f"{record['model']}; n = documents with the label, hollow: n = 0",
        fontsize=10,
    )
    bar = fig.colorbar(mpl.cm.ScalarMappable(mpl.colors.Normalize(0, 1), cmap), ax=ax,
                       fraction=0.04, pad=0.01)  # fmt: skip
    bar.set_label(f"F1 of the node\n({record.get('measure', 'closed under ancestors')})")
    return save_figure(fig, path)


def write_card(run: Mapping[str, Any], path: Path) -> Path:
    """MODEL_CARD.md for a run that trained a model (the TextCNN or NeuralClassifier)."""
    from .showcase import write_model_card

    config = run.get("config", {})
    upstream = "upstream" in config
    command = config.get("command", "upstream" if upstream else "train")
    if upstream:
        model = config["upstream"].get("model_name", "a NeuralClassifier encoder")
        title = f"NeuralClassifier {model} (Tencent), trained by this repo"
        files = config["upstream"].get("data", {})
        training = f"{_shown(files.get('train_json_files', []))} (dev, for the epoch: " + (
            f"{_shown(files.get('validate_json_files', []))})."
        )
        evaluation = f"{_shown(files.get('test_json_files', []))}."
    elif command == "smoke":
        title = "TextCNN, hierarchical (smoke run)"
        training = (
            "The synthetic corpus the smoke run writes (28 labels in 3 levels; the second and "
            "third level are only readable from word order and negation), seed "
            f"{config.get('seed')}; the epoch is picked by micro-F1 on its dev split."
        )
        evaluation = "The synthetic test split: no test or dev text also occurs in train."
    else:
        title = f"TextCNN, {config.get('mode', 'hierarchical')}"
        training = f"{_shown([config['train']])} (dev, for the epoch: {_shown([config['dev']])})."
        evaluation = f"{_shown([config['test']])}, taxonomy {_shown([config['taxonomy']])}."
    return write_model_card(
        path,
        run,
        title=title,
        summary=(
            "A hierarchical multi-label text classifier: it reads a tokenised document and "
            "returns label paths of a taxonomy (e.g. `Science--Physics--Optics`). `micro_f1` "
            "and `level_<k>_micro_f1` close labels under their ancestors (this repo's measure); "
            "`raw_*` compare labels as written, as NeuralClassifier's eval.py does."
        ),
        intended_use=(
            "Learning and comparing hierarchical text classifiers on the taxonomy it was trained "
            "on. Not for decisions about people, and not for documents unlike its training data."
        ),
        training_data=training,
        evaluation_data=evaluation,
        limitations=(
            "It only knows the labels of its training taxonomy and the words of its training "
            "vocabulary (unknown words are ignored). Rare labels get low F1 (see the label tree "
            "figure). Scores on the synthetic smoke corpus say the pipeline learns word order; "
            "they say nothing about real text. Closed and as-written scores are different "
            "measures: compare published RCV1 numbers with `raw_*` only."
        ),
        metrics=[name for name in HEADLINE if not name.startswith("tfidf")],
    )


def _shown(paths: Sequence[str]) -> str:
    """Data files as a card shows them: relative to this repo when inside it (no home folders)."""
    shown = []
    for path in paths:
        try:
            shown.append(Path(path).resolve().relative_to(Path.cwd()).as_posix())
        except ValueError:
            shown.append(Path(path).name)
    return ", ".join(f"`{path}`" for path in shown) or "not recorded"


def make_report(
    run_dir: Path | None = None,
    readme: Path = Path("README.md"),
    figures: Path = Path("figures"),
    card: Path = Path("MODEL_CARD.md"),
) -> dict[str, Any]:
    """Draw the run's figures, write the README's Results section and, when the run trained a
    model, the model card; return what was written."""
    from .showcase import results_section, targets_chart, write_results

    run = read_run(run_dir if run_dir is not None else latest_run())
    report, folder = run["report"], Path(run["path"])
    drawn = learning_figures(run["history"], figures)
    per_level = per_level_chart(report.get("metrics", {}), figures / "per_level_f1.png")
    if per_level is not None:
        drawn.append((per_level, "micro-F1 per level of the label tree, model and baselines"))
    record: dict[str, Any] | None = None
    if (folder / NODE_SCORES).is_file():
        record = json.loads((folder / NODE_SCORES).read_text(encoding="utf-8"))
    elif (folder / "eval_all_prf").is_file():  # an upstream run: upstream's per-label scores
        model = run.get("config", {}).get("upstream", {}).get("model_name", "")
        record = upstream_node_scores(folder / "eval_all_prf", f"NeuralClassifier {model}")
    if record is not None:
        drawn.append((label_tree_chart(record, figures / "label_tree.png"), "label tree by F1"))
    drawn.append((targets_chart(report, figures / "targets.png"), "targets of this run"))
    for name in FIGURE_NAMES:  # never leave another run's picture beside this one's
        if (figures / name) not in {path for path, _ in drawn}:
            (figures / name).unlink(missing_ok=True)
    changed = write_results(readme, results_section(run, drawn, readme.parent, HEADLINE))
    written: dict[str, Any] = {
        "run": str(folder),
        "figures": [str(path) for path, _ in drawn],
        "readme": str(readme),
        "readme_changed": changed,
    }
    config = run.get("config", {})
    if (folder / "model.pt").is_file() or ("upstream" in config and folder.name.endswith("-train")):
        written["model_card"] = str(write_card(run, card))
    return written
