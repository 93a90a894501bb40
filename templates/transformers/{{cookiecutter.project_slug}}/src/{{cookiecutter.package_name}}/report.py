"""`python -m <package> report [RUN]`: figures, the README's Results section and MODEL_CARD.md
from a run folder (default: the run finished last)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import showcase
from .data import LABELS
from .history import PREDICTIONS
from .runs import latest_run, read_run

HEADLINE = (
    "accuracy",
    "accuracy_contrast",
    "bow_accuracy",
    "keyword_accuracy",
    "majority_class_accuracy",
    "dev_accuracy",
    "train_examples",
    "train_steps",
    "train_seconds",
    "train_minutes",
    "p50_ms",
    "p95_ms",
    "parameters",
)
MISTAKES_SHOWN = 6


def read_predictions(folder: Path) -> list[dict[str, Any]]:
    """The run's held-out predictions (text, label, predicted, confidence), or none."""
    path = Path(folder) / PREDICTIONS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def confusion_counts(rows: Sequence[dict[str, Any]]) -> list[list[int]]:
    """counts[true][predicted] over LABELS."""
    index = {label: i for i, label in enumerate(LABELS)}
    counts = [[0] * len(LABELS) for _ in LABELS]
    for row in rows:
        counts[index[row["label"]]][index[row["predicted"]]] += 1
    return counts


def confusion_matrix(rows: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """A labelled 2 x 2 confusion matrix: sentence counts and the share of each true label."""
    counts = confusion_counts(rows)
    fig, ax = showcase.new_figure(4.6, 4.0)
    ax.imshow(counts, cmap="Blues", vmin=0)
    for t, row in enumerate(counts):
        total = sum(row) or 1
        for p, count in enumerate(row):
            dark = count > 0.6 * max(max(r) for r in counts)
            ax.text(p, t, f"{count}\n({count / total:.0%})", ha="center", va="center",
                    fontsize=11, color="white" if dark else "#111111")  # fmt: skip
    names = [label.lower() for label in LABELS]
    ax.set_xticks(range(len(LABELS)), names)
    ax.set_yticks(range(len(LABELS)), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.grid(False)
    ax.set_title(title)
    fig.tight_layout()
    return showcase.save_figure(fig, path)


def confident_mistakes(rows: Sequence[dict[str, Any]], n: int = MISTAKES_SHOWN) -> str:
    """A Markdown table of the `n` wrong predictions the model was surest of."""
    wrong = sorted(
        (row for row in rows if row["label"] != row["predicted"]),
        key=lambda row: -row["confidence"],
    )[:n]
    if not wrong:
        return f"No mistakes on the {len(rows)} held-out sentences."
    lines = [
        f"The {len(wrong)} most confident mistakes of {len(rows)} held-out sentences:",
        "",
        "| sentence | true | predicted | confidence |",
        "|---|---|---|---|",
    ]
    for row in wrong:
        text = row["text"].strip().replace("|", "\\|")
        lines.append(f"| {text} | {row['label'].lower()} | {row['predicted'].lower()} "
                     f"| {row['confidence']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def make_report(
    run_dir: str | Path | None = None, root: str | Path = ".", figures_dir: str | Path = "figures"
) -> dict[str, Any]:
    """Draw the run's figures into `figures_dir`, write the README's Results section and
    (for a run that saved a model) MODEL_CARD.md under `root`; return what was written."""
    folder = Path(run_dir) if run_dir else latest_run(Path(root) / "runs")
    run = read_run(folder)
    root = Path(root)
    figures_path = root / figures_dir
    figures_path.mkdir(parents=True, exist_ok=True)
    command = run["config"].get("command", run["name"])
    figures: list[tuple[Path, str]] = []
    if any("loss" in row for row in run["history"]):
        curve = showcase.learning_curve(
            run["history"],
            "step",
            {"training loss, each optimiser step": "loss"},
            figures_path / "learning_curve.png",
            f"Training loss per optimiser step ({command} run)",
            "cross-entropy loss",
        )
        figures.append((curve, "Training loss per optimiser step"))
    figures.append((
        showcase.targets_chart(run["report"], figures_path / "targets.png",
                               f"Targets of the {command} run"),
        "Each target: the run's value, the threshold and the same-run baseline",
    ))  # fmt: skip
    rows = read_predictions(folder)
    held_out = "grammar test sentences" if command == "smoke" else "SST-2 validation sentences"
    if rows:
        figures.append((
            confusion_matrix(rows, figures_path / "confusion_matrix.png",
                             f"Confusion matrix: {len(rows)} {held_out}"),
            "Confusion matrix of the held-out predictions",
        ))  # fmt: skip
    section = showcase.results_section(run, figures, root, HEADLINE)
    if rows:
        section += "\n\n" + confident_mistakes(rows)
    readme = root / "README.md"
    changed = showcase.write_results(readme, section)
    card = None
    if (folder / "model" / "config.json").is_file():
        card = write_card(run, root / "MODEL_CARD.md", command, held_out)
    return {
        "run": str(folder),
        "figures": [str(path) for path, _ in figures],
        "readme_changed": changed,
        "model_card": str(card) if card else None,
    }


def write_card(run: dict[str, Any], path: Path, command: str, held_out: str) -> Path:
    metrics = run["report"]["metrics"]
    if command == "smoke":
        title = "tiny BERT sentiment classifier (smoke run)"
        summary = (
            f"A {metrics.get('parameters', '?')}-parameter 2-layer BERT trained from scratch on a "
            "synthetic sentiment grammar (plain, negated and 'X but Y' sentences); it proves "
            "the fine-tune, save, reload and serve pipeline, not a useful sentiment model."
        )
        training = "Sentences of the synthetic grammar in data.py (seeded), train split."
    else:
        model = run["config"].get("model", "a pretrained encoder")
        title = f"{model} fine-tuned on SST-2"
        summary = f"`{model}` with a 2-way head, fine-tuned on SST-2 (binary sentiment)."
        training = (
            f"SST-2 training phrases ({metrics.get('train_examples', '?')} of them, "
            f"{metrics.get('protocol', '?')} protocol) from {run['config'].get('data', '?')}; "
            "1,000 held out as a dev split that picks the epoch kept."
        )
    return showcase.write_model_card(
        path,
        run,
        title=title,
        summary=summary,
        intended_use=(
            "Labelling short English movie-review sentences as positive or negative, for "
            "learning and experiments; not for decisions about people."
        ),
        training_data=training,
        evaluation_data=f"{held_out.capitalize()}, never used for any choice during training.",
        limitations=(
            "Two labels only (no neutral); English movie reviews; sentences longer than the "
            "max length are cut. Sarcasm and domain shift (product reviews, social media) "
            "lower accuracy. Check the most confident mistakes in the README before trusting it."
        ),
        metrics=HEADLINE,
    )
