"""``python -m {{ cookiecutter.package_name }} report [RUN]``: what a reviewer sees of a run.

From a run folder (``runs/<name>/``, default the latest): the learning curve (the loss of every
training step), the targets chart (each target, its threshold and the baseline it comes from),
and an annotated completion of a real held-out snippet (what the programmer typed, what the
model suggested and was accepted, the keystrokes saved) in ``figures/``; then the README's
Results section and ``MODEL_CARD.md``. Running it twice changes nothing more than once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .evaluate import COMPLETION
from .runs import HISTORY, latest_run, read_run
from .showcase import (
    BLUE,
    FIGURES,
    GREEN,
    GREY,
    learning_curve,
    new_figure,
    results_section,
    save_figure,
    targets_chart,
    write_model_card,
    write_results,
)
from .tokenizer import DEDENT, INDENT, NEWLINE

HEADLINE = (
    "top1",
    "top5",
    "keystrokes_saved",
    "loss",
    "unigram_top1",
    "bigram_top1",
    "fourgram_top1",
    "fourgram_keystrokes_saved",
    "latency_ms_p95",
    "steps",
    "heldout_tokens",
)
OPENING = frozenset({"(", "[", "{", ".", "@", "~"})
CLOSING = frozenset({")", "]", "}", ",", ":", ".", ";"})
LITERAL_CHARS = 28  # a longer literal is shortened in the picture (never suggested, never counted)


def make_report(
    run_dir: Path | None = None,
    *,
    readme: Path = Path("README.md"),
    figures: Path = FIGURES,
    card: Path = Path("MODEL_CARD.md"),
) -> dict[str, Any]:
    """Draw the figures, write the Results section and the model card; returns what was made."""
    folder = Path(run_dir) if run_dir is not None else latest_run()
    run = read_run(folder)
    report = run["report"]
    made: list[tuple[Path, str]] = []
    history, trained_by = training_history(run)
    if history:
        steps = len(history)
        made.append(
            (
                learning_curve(
                    history,
                    "step",
                    {"loss of each step": "loss", "mean of the last 50 steps": "loss_mean"},
                    figures / "learning_curve.png",
                    title=f"Training loss of run {trained_by} ({steps} steps)",
                    ylabel="cross-entropy (nats per token)",
                ),
                "Training loss per step",
            )
        )
    made.append(
        (
            targets_chart(report, figures / "targets.png", title=f"Targets of run {run['name']}"),
            "Each target: the run's value, the threshold, the same-run baseline",
        )
    )
    example = folder / COMPLETION
    if example.is_file():
        made.append(
            (
                completion_figure(
                    json.loads(example.read_text(encoding="utf-8")), figures / "completion.png"
                ),
                "A held-out snippet typed with the model's suggestions",
            )
        )
    write_results(readme, results_section(run, made, readme.parent, headline=HEADLINE))
    write_card(card, run)
    return {
        "run": str(folder),
        "figures": [str(path) for path, _ in made],
        "readme": str(readme),
        "model_card": str(card),
    }


def training_history(run: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The run's per-step history, or (an ``evaluate`` run) that of the run that trained its
    checkpoint; with the name of the run it comes from."""
    if run["history"]:
        return list(run["history"]), str(run["name"])
    checkpoint = run.get("config", {}).get("checkpoint")
    if checkpoint:
        trained = Path(checkpoint).parent
        path = trained / HISTORY
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            return [row for row in rows if row], trained.name
    return [], str(run["name"])


def completion_figure(example: Mapping[str, Any], path: Path) -> Path:
    """The snippet as typed: black what the programmer typed, on green a token suggestion
    accepted with one key, on blue a rest-of-line suggestion accepted with one key, grey the
    literals (neither suggested nor counted)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    from matplotlib.patches import Patch, Rectangle

    lines = layout(example["tokens"])
    font = 9.0
    char = 0.602 * font / 72  # inches: DejaVu Sans Mono advances 0.602 em
    row = 1.5 * font / 72
    columns = max([84, *(sum(len(text) for text, _ in line) for line in lines)])
    width = columns * char + 0.5
    top, bottom = 0.55, 0.45
    height = len(lines) * row + top + bottom
    fig, ax = new_figure(width, height)
    ax.set_position(
        (0.25 / width, bottom / height, columns * char / width, len(lines) * row / height)
    )
    ax.set_axis_off()
    ax.set_xlim(0, columns)
    ax.set_ylim(len(lines), 0)
    shade = {"token": GREEN, "line": BLUE}
    for number, line in enumerate(lines):
        column = 0
        for text, kind in line:
            if kind in shade:
                ax.add_patch(
                    Rectangle(
                        (column, number + 0.08), len(text), 0.84, color=shade[kind], alpha=0.3
                    )
                )
            for offset, character in enumerate(text):  # one per cell: no drift along a line
                if not character.isspace():
                    ax.text(
                        column + offset + 0.5, number + 0.5, character, family="DejaVu Sans Mono",
                        fontsize=font, va="center", ha="center",
                        color=GREY if kind == "literal" else "#111111",
                    )  # fmt: skip
            column += len(text)
    saved, typed = example["saved"], example["typed"]
    share = saved / typed if typed else 0.0
    fig.suptitle(
        f"Keystrokes saved on a held-out snippet: {share * 100:.0f}% "
        f"({saved} of {typed} characters)",
        fontsize=11, y=1 - 0.08 / height, va="top",
    )  # fmt: skip
    fig.legend(
        handles=[
            Patch(facecolor="white", edgecolor="#111111", label="typed"),
            Patch(color=GREEN, alpha=0.3, label="token suggestion accepted (1 key)"),
            Patch(color=BLUE, alpha=0.3, label="rest of line accepted (1 key)"),
            Patch(facecolor="white", edgecolor=GREY, label="literal: not counted"),
        ],
        loc="lower center", ncol=4, frameon=False, fontsize=8,
    )  # fmt: skip
    # the text sits on a grid of characters: keep the axes where they were put
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
    return save_figure(fig, path)


def layout(tokens: Sequence[Sequence[Any]]) -> list[list[tuple[str, str]]]:
    """The traced tokens as lines of (text, kind) pieces: kind is ``typed``, ``token`` (the
    suggested rest of a token), ``line`` (a whole-line suggestion), ``literal`` or ``space``.
    Spacing is rebuilt from the tokens (the model does not see it), PEP 8 style."""
    lines: list[list[tuple[str, str]]] = [[]]
    depth = level = 0
    previous = NEWLINE
    for source, text, _typed, saved, how, counted in tokens:
        line = lines[-1]
        if text == NEWLINE:
            lines.append([])
            previous = NEWLINE
            continue
        if text in (INDENT, DEDENT):
            level = max(0, level + (1 if text == INDENT else -1))
            continue
        if not line:
            line.append(("    " * level, "space"))
        elif not (
            previous in OPENING
            or text in CLOSING
            or (text in ("(", "[") and (previous.isidentifier() or previous in (")", "]")))
            or (depth and "=" in (text, previous))
        ):
            inside = how == "line" and line[-1][1] == "line"  # one band for an accepted line
            line.append((" ", "line" if inside else "space"))
        depth = max(0, depth + (text in "([{") - (text in ")]}"))
        previous = text if counted else "<literal>"
        if not counted:
            shown = source.splitlines()[0] if source.strip() else source
            if len(shown) > LITERAL_CHARS or shown != source:
                shown = shown[: LITERAL_CHARS - 1] + "…"
            line.append((shown, "literal"))
        elif how == "line":
            line.append((source, "line"))
        elif how == "token" and saved > 0:
            cut = len(source) - saved - 1  # typed until the suggestion was right, then 1 key
            line += [(source[:cut], "typed"), (source[cut:], "token")]
        else:
            line.append((source, "typed"))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def write_card(path: Path, run: Mapping[str, Any]) -> Path:
    """MODEL_CARD.md from the run (``showcase.write_model_card``)."""
    config = run.get("config", {})
    metrics = run["report"]["metrics"]
    command = config.get("command", "smoke")
    data = config.get("data") or []
    corpus = ", ".join(f"`{root}`" for root in data) if data else "this Python's standard library"
    parameters = metrics.get("parameters")
    size = f"{parameters / 1e6:.1f} M-parameter " if isinstance(parameters, int | float) else ""
    return write_model_card(
        path,
        run,
        title=f"LSTM Python completer (run `{run['name']}`)",
        summary=(
            f"A {size}LSTM language model over Python tokens (names, keywords, operators;"
            " literals as `<str>` / `<num>`) that suggests the next token and the rest of the"
            f" line. Made by `python -m {{ cookiecutter.package_name }} {command}` of this"
            " repository; its own code, trained from scratch (no upstream weights)."
        ),
        intended_use=(
            "Next-token and rest-of-line suggestions for Python code like its training text,"
            " in an editor where a person accepts or ignores each suggestion; a learning project"
            " measured against n-gram baselines and the upstream project's published"
            " keystrokes-saved figure. Not for writing code unsupervised: it has no notion of"
            " correctness."
        ),
        training_data=(
            f"`.py` files of {corpus}, the train side of a per-file hash split (seed"
            f" {config.get('seed', 'n/a')}); generated files and data tables left out."
            f" Training tokens: {metrics.get('train_tokens', config.get('train_tokens', 'n/a'))}."
        ),
        evaluation_data=(
            f"The held-out `{metrics.get('split', 'test')}` files of the same split (never"
            " trained on; near-duplicates of the training text left out):"
            f" {metrics.get('heldout_tokens', 'n/a')} tokens, scored beside the unigram, bigram"
            " and 4-gram baselines on the same positions."
        ),
        limitations=(
            "It predicts *that* a string or number comes, never its text. Names outside its"
            " vocabulary are `<unk>`, always a miss. Keystrokes saved is counted on tokens, code"
            " characters only, not in the upstream project's character-level protocol (see the"
            " README, Success criteria): the two numbers are not comparable as equals. The"
            " smoke's model (300 steps) proves the pipeline, it is no useful completer."
        ),
        metrics=HEADLINE,
    )
