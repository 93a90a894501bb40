"""The live demo (``make demo``): a text in, its label paths through the tree with scores out.

The model logic is plain functions over a run's checkpoint (``model.pt``), testable without
Gradio: :func:`load_run` reads a run folder, :func:`score_nodes` gives every node of the tree
its sigmoid score, :func:`predicted_paths` the paths the classifier keeps (each node with its
score), :func:`ranked_leaf_paths` every root-to-leaf path ranked by its weakest node, and
:func:`tree_view` draws the tree with the scores. :func:`build_app` puts them in a Gradio page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import Document, read_corpus, tokenize
from .runs import RUNS
from .synthetic import node_words
from .taxonomy import SEP, close_under_prefixes, prefixes
from .train import Classifier

CHECKPOINT = "model.pt"
# What the Space copies from the run: the checkpoint, its report and config, the test split
# (the examples) when the run keeps it.
RUN_FILES = ("model.pt", "report.json", "config.json")
EXAMPLES_FILE = "data/test.json"
ARROW = " › "


class DemoError(RuntimeError):
    """The run cannot be shown: no run, or a run without a checkpoint."""


@dataclass(frozen=True)
class LabelPath:
    """A path through the tree (``Science--Physics--Optics``) with the score of each node on it.

    ``nodes`` holds ``(short name, score)`` from the top level down; a node that the model does
    not score (a flat model scores only the most specific labels) has ``None``.
    """

    label: str
    nodes: tuple[tuple[str, float | None], ...]

    @property
    def score(self) -> float:
        """The path's score: its weakest scored node (a path is only as sure as every step)."""
        return min(s for _, s in self.nodes if s is not None)

    def describe(self) -> str:
        """``Science (0.99) › Physics (0.97) › Optics (0.93)``."""
        return ARROW.join(
            name if score is None else f"{name} ({score:.2f})" for name, score in self.nodes
        )


@dataclass
class DemoRun:
    """What the demo shows: a run's classifier, its numbers, and example texts with their labels."""

    path: Path
    classifier: Classifier
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    examples: list[Document] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the model, the run it came from, its key metric."""
        mode = self.classifier.config.mode
        line = f"A TextCNN ({mode}) from run `{self.path.name}`"
        if "micro_f1" in self.metrics:
            line += f": test micro-F1 {self.metrics['micro_f1']:.3f}"
            if "macro_f1" in self.metrics:
                line += f", macro-F1 {self.metrics['macro_f1']:.3f}"
            bags = [
                self.metrics[key]
                for key in ("tfidf_unigram_micro_f1", "tfidf_bigram_micro_f1")
                if key in self.metrics
            ]
            if bags:
                line += f" (the best bag of n-grams: {max(bags):.3f})"
        return line + "."


def find_run(root: Path = RUNS) -> Path:
    """The newest finished run with a checkpoint in ``root`` (what ``make demo`` shows)."""
    runs = [
        p.parent for p in Path(root).glob(f"*/{CHECKPOINT}") if (p.parent / "report.json").is_file()
    ]
    runs = [p for p in runs if not p.name.endswith(".previous")]
    if not runs:
        raise DemoError(f"no run with a {CHECKPOINT} in {root}/: run make smoke first")
    return max(runs, key=lambda p: (p / "report.json").stat().st_mtime)


def load_run(run: Path) -> DemoRun:
    """The classifier of ``run`` (its ``model.pt``), its report's metrics, and example texts."""
    run = Path(run)
    if not run.is_dir():
        raise DemoError(f"{run} is not a run folder: run make smoke first")
    if not (run / CHECKPOINT).is_file():
        raise DemoError(f"{run} has no {CHECKPOINT}: run make smoke first (or make textcnn)")
    classifier = Classifier.load(run / CHECKPOINT)
    report = _read_json(run / "report.json")
    config = _read_json(run / "config.json")
    return DemoRun(run, classifier, dict(report.get("metrics", {})), config, _examples(run, config))


def score_nodes(classifier: Classifier, text: str) -> dict[str, float]:
    """Every label the classifier scores (a node's full path) -> its sigmoid score for ``text``."""
    doc = Document(labels=(), tokens=tuple(tokenize(text)))
    row = classifier.predict_proba([doc])[0].tolist()
    return dict(zip(classifier.labels.labels, (float(x) for x in row), strict=True))


def label_path(label: str, scores: Mapping[str, float]) -> LabelPath:
    """``label`` with the score of each node on it (``None`` where the model scores none)."""
    return LabelPath(label, tuple((p.split(SEP)[-1], scores.get(p)) for p in prefixes(label)))


def predicted_paths(
    classifier: Classifier, text: str, threshold: float | None = None
) -> list[LabelPath]:
    """The most specific label paths the classifier predicts for ``text``, surest first.

    The prediction is the classifier's own (every label above ``threshold``, the best one when
    none is), closed under ancestors; each path carries the score of every node on it.
    """
    doc = Document(labels=(), tokens=tuple(tokenize(text)))
    chosen = close_under_prefixes(classifier.predict([doc], threshold)[0])
    leaves = [x for x in chosen if not any(y.startswith(x + SEP) for y in chosen)]
    scores = score_nodes(classifier, text)
    paths = [label_path(label, scores) for label in leaves]
    return sorted(paths, key=lambda p: (-p.score, p.label))


def ranked_leaf_paths(scores: Mapping[str, float]) -> list[LabelPath]:
    """Every root-to-leaf path of the tree the scores cover, ranked by its weakest node."""
    nodes = close_under_prefixes(scores)
    leaves = [x for x in nodes if not any(y.startswith(x + SEP) for y in nodes)]
    return sorted((label_path(leaf, scores) for leaf in leaves), key=lambda p: (-p.score, p.label))


def tree_view(scores: Mapping[str, float], threshold: float = 0.5) -> str:
    """The tree as indented text, each node with its score; ``✓`` marks a node above
    ``threshold``. The children of a node are shown only when it is above the threshold (the
    branches the text goes down); the others are folded into one line."""
    nodes = sorted(close_under_prefixes(scores), key=lambda x: (x.count(SEP), x))
    children: dict[str, list[str]] = {}
    for node in nodes:
        parent = node.rsplit(SEP, 1)[0] if SEP in node else ""
        children.setdefault(parent, []).append(node)
    for siblings in children.values():  # the surest branch first
        siblings.sort(key=lambda x: -scores.get(x, -1.0))
    width = max(len(n.split(SEP)[-1]) + 2 * n.count(SEP) for n in nodes)

    def line(node: str, prefix: str) -> str:
        name = prefix + node.split(SEP)[-1]
        score = scores.get(node)
        if score is None:
            return f"{name:<{width + 2}}    -"
        mark = "✓" if score > threshold else " "
        return f"{name:<{width + 2}} {score:.2f} {mark}"

    out: list[str] = []

    def walk(parent: str, indent: str) -> None:
        for node in children.get(parent, []):
            out.append(line(node, indent))
            below = children.get(node, [])
            if not below:
                continue
            score = scores.get(node)
            if score is None or score > threshold:
                walk(node, indent + "  ")
            else:
                out.append(f"{indent}  ({len(below)} below, not shown)")

    walk("", "")
    return "\n".join(out)


def classify(run: DemoRun, text: str) -> tuple[str, dict[str, float], str]:
    """What the app shows for ``text``: the predicted paths (one a line), the root-to-leaf paths
    ranked (label -> score), and the tree view."""
    if not tokenize(text):
        return "Type a text first (or pick an example below).", {}, ""
    scores = score_nodes(run.classifier, text)
    paths = predicted_paths(run.classifier, text)
    ranked = {ARROW.join(n for n, _ in p.nodes): p.score for p in ranked_leaf_paths(scores)}
    lines = "\n".join(p.describe() for p in paths)
    return lines, ranked, tree_view(scores, run.classifier.config.threshold)


def _examples(run: Path, config: Mapping[str, Any], count: int = 6) -> list[Document]:
    """Up to ``count`` held-out documents of the run: one per top-level label first, then a
    document with two label paths and one labelled with an inner node (not picked by score)."""
    path = run / EXAMPLES_FILE
    if not path.is_file() and isinstance(config.get("test"), str):
        path = Path(config["test"])
    if not path.is_file():
        return []
    docs = read_corpus(path)
    chosen: list[Document] = []
    tops: set[str] = set()
    for doc in docs:
        top = {label.split(SEP)[0] for label in doc.labels}
        if len(doc.labels) == 1 and all(x.count(SEP) == 2 for x in doc.labels) and not top & tops:
            tops |= top
            chosen.append(doc)
    two_paths = [d for d in docs if len(d.labels) == 2]
    inner_node = [d for d in docs if any(x.count(SEP) == 1 for x in d.labels)]
    for candidates in (two_paths, inner_node):
        found = next((d for d in candidates if d not in chosen), None)
        if found is not None:
            chosen.append(found)
    return chosen[:count]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def guide(run: DemoRun) -> dict[str, str]:
    """For a smoke run: how its synthetic corpus writes each label path (else empty)."""
    if run.config.get("command") != "smoke" or not isinstance(run.config.get("seed"), int):
        return {}
    return node_words(run.config["seed"])


def build_app(run: Path | None = None) -> Any:
    """The Gradio page over ``run`` (default: the newest run with a checkpoint); not launched."""
    from .demo_server import DemoUnavailable, import_gradio

    gr = import_gradio()
    try:
        shown = load_run(run if run is not None else find_run())
    except DemoError as err:
        raise DemoUnavailable(str(err)) from None
    threshold = shown.classifier.config.threshold
    words = guide(shown)

    def answer(text: str, *_: str) -> tuple[str, dict[str, float], str]:
        return classify(shown, text)

    with gr.Blocks(title="Hierarchical text classifier") as app:
        gr.Markdown(
            "# Hierarchical text classifier: label paths through the tree\n"
            f"{shown.summary()} It scores every node of the label tree for a text; a label "
            f"path is kept when its nodes score above {threshold:.2f}."
        )
        # The answers are made first and placed in the right column, so that the examples can
        # sit under the Classify button, in sight.
        paths = gr.Textbox(
            label="Predicted label paths, each node with its score",
            lines=2,
            interactive=False,
            elem_id="paths",
            render=False,
        )
        tree = gr.Code(
            label=f"The tree, each node's score (✓ above {threshold:.2f}; lower branches folded)",
            language=None,
            interactive=False,
            show_line_numbers=False,
            elem_id="tree",
            render=False,
        )
        ranked = gr.Label(
            label="Root-to-leaf paths, ranked by their weakest node",
            num_top_classes=4,
            show_heading=False,
            elem_id="ranked",
            render=False,
        )
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(
                    label="Text (words separated by spaces)",
                    lines=4,
                    placeholder="Pick a held-out document below, or write your own",
                    elem_id="text",
                )
                gold = gr.Textbox(
                    label="True label paths (for the held-out examples; cleared when you edit)",
                    interactive=False,
                    elem_id="gold",
                )
                button = gr.Button("Classify", variant="primary", elem_id="classify")
                if shown.examples:
                    gr.Examples(
                        examples=[
                            [
                                " ".join(doc.tokens),
                                "; ".join(label.replace(SEP, ARROW) for label in doc.labels),
                            ]
                            for doc in shown.examples
                        ],
                        inputs=[text, gold],
                        outputs=[paths, ranked, tree],
                        fn=answer,
                        run_on_click=True,
                        label="Held-out test documents of the run (click one to classify it)",
                    )
            with gr.Column():
                paths.render()
                tree.render()
                ranked.render()
        if words:
            with gr.Accordion(
                "How the smoke corpus writes each label (to write a text of your own)", open=False
            ):
                gr.Markdown(
                    "The smoke corpus is made of invented words. Change one example: swap the "
                    "two words around an actor phrase, or move the `not`, and watch the path "
                    "change.\n\n| label path | written as |\n|---|---|\n"
                    + "\n".join(
                        f"| {label.replace(SEP, ARROW)} | `{how}` |" for label, how in words.items()
                    )
                )
        button.click(answer, inputs=text, outputs=[paths, ranked, tree])
        text.submit(answer, inputs=text, outputs=[paths, ranked, tree])
        text.input(lambda: "", outputs=gold)
    return app
