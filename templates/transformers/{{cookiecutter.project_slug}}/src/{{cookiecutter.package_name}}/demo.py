"""The live demo: a sentence in; its label, the label's probabilities, and the words that moved
the decision, found by occlusion (each word left out in turn, the sentence classified again).

The model logic is plain functions that need no Gradio (`load_run`, `explain`, `summary`);
`build_app` puts a Gradio page over them for `python -m <package> demo` and the Space, and
`build_demo_space` writes that Space (`python -m <package> space`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .data import synthetic_sentiment
from .demo_server import DemoUnavailable, import_gradio
from .errors import StarterError
from .evaluate import predict_logits
from .model import load_classifier
from .runs import CONFIG, REPORT, latest_run
from .space import build_space, project_folder

# What the demo loads from a run folder, and so what its Space carries.
MODEL_DIR = "model"
RUN_FILES = (MODEL_DIR, REPORT, CONFIG)
# Every word costs one more forward pass; a review paragraph is about this long.
MAX_WORDS = 80
# A word whose removal moves no probability by more than this moved nothing worth showing.
NEGLIGIBLE = 0.02
# SST-2-style sentences for a fine-tuned encoder (the smoke model gets sentences of its grammar).
REAL_EXAMPLES = (
    "a gorgeous, witty and moving film.",
    "the plot is a mess and the jokes fall flat.",
    "it is not a bad movie at all.",
    "the cast tries hard, but the script is dull and lifeless.",
)
HOW_TO_READ = (
    "Type a sentence: the model labels it, then leaves out each word in turn and labels what "
    "is left (occlusion). A word whose absence changes the answer moved the decision."
)
COLORS = {"POSITIVE": "#2e9e5b", "NEGATIVE": "#d64545"}


class Scorer(Protocol):
    """What `explain` needs of a model: its label names and a batch of probabilities."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def probabilities(self, texts: Sequence[str]) -> torch.Tensor: ...


@dataclass(frozen=True)
class Classifier:
    """A saved sequence classifier and its tokenizer, scoring sentences as probabilities."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    max_length: int = 64

    @property
    def labels(self) -> tuple[str, ...]:
        names: dict[Any, Any] = dict(self.model.config.id2label or {})
        return tuple(str(names[i]) for i in range(len(names)))

    def probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        """Softmax probabilities, shape (len(texts), len(labels)), in the order of `labels`."""
        logits = predict_logits(self.model, self.tokenizer, texts, max_length=self.max_length)
        return logits.softmax(-1)

    def unknown_pieces(self, text: str) -> list[str]:
        """The words and punctuation marks of `text` the tokenizer reads as [UNK], once each."""
        unk = self.tokenizer.unk_token_id
        pieces = dict.fromkeys(re.findall(r"\w+|[^\w\s]", text))  # BERT splits off punctuation
        return [
            piece
            for piece in pieces
            if unk in self.tokenizer(piece, add_special_tokens=False)["input_ids"]
        ]


@dataclass(frozen=True)
class Influence:
    """What one word did: the answer's probability with it minus without it (`change`; positive
    when it supported the answer), the label it pushed toward (the one that loses most without
    it), and the answer without it (`flips` when that is another label)."""

    word: str
    position: int
    change: float
    toward: str
    label_without: str
    probability_without: float
    flips: bool


@dataclass(frozen=True)
class Explanation:
    """A sentence's label and probabilities, and what each of its words did to them."""

    text: str
    label: str
    probabilities: dict[str, float]
    influences: tuple[Influence, ...]  # in sentence order
    unknown: tuple[str, ...] = ()

    def ranked(self) -> list[Influence]:
        """The influences, largest effect on the answer first (ties: sentence order)."""
        return sorted(self.influences, key=lambda i: (-abs(i.change), i.position))

    def deciding(self) -> list[Influence]:
        """The words without which the label flips, largest effect first."""
        return [i for i in self.ranked() if i.flips]


@dataclass(frozen=True)
class LoadedRun:
    """The demo's model and what the page says about it."""

    classifier: Classifier
    run: Path
    description: str
    examples: tuple[str, ...]


def explain(scorer: Scorer, text: str) -> Explanation:
    """Classify `text`, then each word left out in turn: one batch of len(words) + 1 sentences.

    Raises ValueError for an empty text or one longer than MAX_WORDS words.
    """
    words = text.split()
    if not words:
        raise ValueError("type a sentence first")
    if len(words) > MAX_WORDS:
        raise ValueError(f"{len(words)} words: at most {MAX_WORDS} (each costs a forward pass)")
    sentence = " ".join(words)
    variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
    probabilities = scorer.probabilities([sentence, *variants])
    labels = scorer.labels
    full = probabilities[0]
    answer = int(full.argmax())
    influences = []
    for i, (word, without) in enumerate(zip(words, probabilities[1:], strict=True)):
        raised = full - without  # how much the word raised each label's probability
        influences.append(
            Influence(
                word=word,
                position=i,
                change=float(raised[answer]),
                toward=labels[int(raised.argmax())],
                label_without=labels[int(without.argmax())],
                probability_without=float(without[answer]),
                flips=int(without.argmax()) != answer,
            )
        )
    return Explanation(
        text=sentence,
        label=labels[answer],
        probabilities={label: float(p) for label, p in zip(labels, full, strict=True)},
        influences=tuple(influences),
    )


def explain_with_vocabulary(classifier: Classifier, text: str) -> Explanation:
    """`explain`, also naming what the model's tokenizer reads as [UNK]."""
    explanation = explain(classifier, text)
    return dataclasses.replace(explanation, unknown=tuple(classifier.unknown_pieces(text)))


def summary(explanation: Explanation) -> str:
    """Two or three sentences of Markdown a person reads first: the answer, then its reasons."""
    label = explanation.label
    sure = explanation.probabilities[label]
    lines = [f"**{label}**, probability {sure:.1%}."]
    deciding = explanation.deciding()
    if deciding:
        words = ", ".join(f"**{i.word}**" for i in deciding)
        which = words if len(deciding) == 1 else f"any one of {words}"
        lines.append(f"Leave out {which} and the answer flips to {deciding[0].label_without}.")
    top = explanation.ranked()[0]
    if abs(top.change) >= NEGLIGIBLE:
        lines.append(
            f"The word that moved it most: **{top.word}** (P({label}) {sure:.2f} with it, "
            f"{top.probability_without:.2f} without it)."
        )
    else:
        lines.append("No single word moves it: leaving any one out changes little.")
    if explanation.unknown:
        names = ", ".join(f"`{word}`" for word in explanation.unknown)
        lines.append(f"Unknown to this model, read as [UNK]: {names}.")
    return " ".join(lines)


def highlighted(explanation: Explanation) -> list[tuple[str, str | None]]:
    """The sentence as (word, category) pairs for Gradio's HighlightedText: each word that moved
    the answer is marked with the label it pushed toward; spaces and negligible words are not."""
    pieces: list[tuple[str, str | None]] = []
    for i in explanation.influences:
        if pieces:
            pieces.append((" ", None))
        moved = abs(i.change) >= NEGLIGIBLE
        pieces.append((i.word, f"toward {i.toward}" if moved else None))
    return pieces


TABLE_HEADERS = ["word", "pushes toward", "effect on the answer", "answer without it"]


def table(explanation: Explanation) -> list[list[str]]:
    """One row per word, largest effect first: what leaving it out does to the answer."""
    rows = []
    for i in explanation.ranked():
        without = f"{i.label_without} ({i.probability_without:.0%} {explanation.label})"
        if i.flips:
            without = f"{i.label_without}: flips"
        rows.append([i.word, i.toward, f"{i.change:+.3f}", without])
    return rows


def load_run(run: Path | str | None = None) -> LoadedRun:
    """The classifier saved in `run` (default: the latest run) and what the page says about it.

    Raises DemoUnavailable, saying what to run, when there is no run or it holds no model.
    """
    try:
        folder = Path(run) if run is not None else latest_run()
    except FileNotFoundError as err:
        raise DemoUnavailable(f"{err} (the demo shows a trained model)") from None
    model_dir = folder / MODEL_DIR
    if not (model_dir / "config.json").is_file():
        raise DemoUnavailable(
            f"{folder} holds no model ({model_dir}/config.json is missing): "
            "run make smoke first, or make run, then pass that run with --run"
        )
    try:
        model, tokenizer = load_classifier(model_dir)
    except StarterError as err:
        raise DemoUnavailable(str(err)) from None
    config = _read_json(folder / CONFIG)
    report = _read_json(folder / REPORT)
    classifier = Classifier(model, tokenizer, int(config.get("max_length", 64)))
    smoke = config.get("command") == "smoke"
    examples = _grammar_examples(int(config.get("seed", 0))) if smoke else REAL_EXAMPLES
    return LoadedRun(classifier, folder, describe(folder, config, report, classifier), examples)


def describe(
    folder: Path, config: dict[str, Any], report: dict[str, Any], classifier: Classifier
) -> str:
    """One line of Markdown: what the model is, which run it came from, and its key metric."""
    metrics = report.get("metrics", {})
    accuracy = metrics.get("accuracy")
    parameters = sum(p.numel() for p in classifier.model.parameters())
    if config.get("command") == "smoke":
        words = len(classifier.tokenizer) - len(classifier.tokenizer.all_special_tokens)
        score = "no accuracy recorded"
        if accuracy is not None:
            score = f"accuracy {accuracy:.3f} on held-out grammar sentences"
        if accuracy is not None and "bow_accuracy" in metrics:
            score += f" (bag of n-grams: {metrics['bow_accuracy']:.3f})"
        return (
            f"A tiny BERT ({parameters:,} parameters) trained from scratch by `make smoke` on a "
            f"synthetic sentiment grammar; run `{folder.name}`, {score}. It knows only the "
            f"grammar's {words} lowercase words: try the examples, or write your own with them."
        )
    name = config.get("model") or config.get("model_dir")
    what = f"`{name}`" if name else "A saved classifier"
    if config.get("command") == "train":
        what += " fine-tuned on SST-2"
    size = f"{parameters / 1e6:.1f}M" if parameters >= 1e6 else f"{parameters:,}"
    score = "no accuracy recorded"
    if accuracy is not None:
        score = f"SST-2 validation accuracy {accuracy:.3f}"
    return f"{what} ({size} parameters); run `{folder.name}`, {score}."


def build_app(run: Path | None = None) -> Any:
    """The Gradio page over the classifier of `run` (default: the latest run), not launched."""
    gr = import_gradio()
    loaded = load_run(run)
    labels = loaded.classifier.labels
    colors = {f"toward {label}": COLORS.get(label, "#888888") for label in labels}

    def analyse(text: str) -> tuple[Any, ...]:
        try:
            explanation = explain_with_vocabulary(loaded.classifier, text)
        except ValueError as err:
            return None, [], [], f"**{str(err).capitalize()}.**"
        return (
            explanation.probabilities,
            highlighted(explanation),
            table(explanation),
            summary(explanation),
        )

    with gr.Blocks(title="Sentiment: which words decide?") as app:
        # The outputs are made first (the examples answer into them) and placed below.
        probabilities = gr.Label(
            label="Label and probabilities",
            num_top_classes=len(labels),
            elem_id="label",
            render=False,
        )
        verdict = gr.Markdown(elem_id="summary", render=False)
        words = gr.HighlightedText(
            label="Words that moved the decision (colour: the label each word pushed toward)",
            color_map=colors,
            show_legend=True,
            show_inline_category=False,
            elem_id="words",
            render=False,
        )
        rows = gr.Dataframe(
            headers=TABLE_HEADERS,
            label="Each word left out in turn, largest effect first (effect: the answer's "
            "probability with the word minus without it)",
            interactive=False,
            elem_id="table",
            render=False,
        )
        outputs = [probabilities, words, rows, verdict]
        gr.Markdown(f"# Sentiment: which words decide?\n{loaded.description}\n\n{HOW_TO_READ}")
        with gr.Row():
            with gr.Column(scale=1):
                sentence = gr.Textbox(
                    label="Sentence",
                    placeholder="Type a sentence, or click an example below",
                    lines=2,
                    elem_id="sentence",
                )
                button = gr.Button("Classify and explain", variant="primary", elem_id="classify")
                gr.Examples(
                    examples=[[text] for text in loaded.examples],
                    inputs=[sentence],
                    outputs=outputs,
                    fn=analyse,
                    cache_examples=False,
                    run_on_click=True,  # a click fills the box and answers at once
                    label="Examples (sentences the model never saw in training): click one",
                    elem_id="examples",
                )
            with gr.Column(scale=1):
                probabilities.render()
                verdict.render()
        words.render()
        rows.render()
        button.click(analyse, inputs=sentence, outputs=outputs)
        sentence.submit(analyse, inputs=sentence, outputs=outputs)
    return app


def build_demo_space(run: Path | str | None, out: Path | str) -> Path:
    """A Hugging Face Space of the demo over `run` (default: the latest) in `out`."""
    folder = load_run(run).run  # the same checks as the demo: a run, with a model
    pyproject = project_folder() / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return build_space(
        run=folder,
        run_files=RUN_FILES,
        out=Path(out),
        title=str(project["name"]),
        description=str(project.get("description", "")),
    )


def _grammar_examples(seed: int) -> tuple[str, ...]:
    """Sentences built from the smoke run's test split (pairs of words it never saw together in
    training), without opener or closer: a plain one, a negated one ("not" decides), and a
    contrast of each label ("but" decides)."""
    wanted: list[tuple[str, int, Callable[[str], bool]]] = [
        ("plain", 1, lambda text: True),
        ("negated", 0, lambda text: " not " in text and " did " not in text),
        ("contrast", 1, lambda text: True),
        ("contrast", 0, lambda text: True),
    ]
    pool = synthetic_sentiment(300, seed=seed, split="test")
    found = []
    for kind, label, fits in wanted:
        cores = [e.core for e in pool if (e.kind, e.label) == (kind, label) and fits(e.core)]
        found += cores[:1]
    return tuple(found)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
