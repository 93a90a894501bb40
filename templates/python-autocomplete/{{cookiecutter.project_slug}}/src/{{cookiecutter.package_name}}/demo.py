"""The live demo: a code box whose current line the model completes, top-k with probabilities.

`python -m {{ cookiecutter.package_name }} demo [--run RUN]` serves it (``demo_server.serve``) over
a run's ``model.pt``: the smoke run is enough. The model logic is plain functions
(``find_run``, ``load_demo``, ``suggest``, ``accept``) that need no Gradio; ``build_app`` lays
them out in a Gradio page.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError
from .demo_server import DemoUnavailable, import_gradio
from .predict import Completer
from .runs import CONFIG, REPORT, RUNS
from .tokenizer import NUM, STR

CHECKPOINT = "model.pt"
RUN_FILES = (CHECKPOINT, REPORT, CONFIG)  # what the demo reads from a run; a Space bundles them
SPACE_RUN = "run"  # the folder a Space keeps its run in (space.py)
DEFAULT_K = 5
MAX_K = 10
NO_SUGGESTION = "(none: the cursor is in a string or a comment, or no known name starts so)"
# Code before the cursor that shows the model at work, with what each asks of it.
EXAMPLES = (
    ("close a call", "def check(value):\n    if value < 0:\n        raise ValueError("),
    ("a signature", "class Config:\n    def __init__(self, *args, **"),
    ("finish a name", "def first(items):\n    for index, item in enum"),
    ("after a block opener", "class Counter:\n    def __init__(self, start):\n"),
    ("the main guard", "def main():\n    pass\n\n\nif __name__ == "),
)


@dataclass(frozen=True)
class Suggestion:
    """One completion of the current line: ``insert`` goes at the cursor, making ``line``."""

    insert: str
    line: str
    probability: float


@dataclass
class DemoModel:
    """A run's completer and the one line that tells a visitor what it is."""

    completer: Completer
    run: Path
    summary: str


def find_run(run: Path | None = None, root: Path = RUNS) -> Path:
    """The run folder to show: ``run``, else the newest finished run under ``root`` that holds a
    model (an ``evaluate`` run holds only its report). ``DemoUnavailable`` when there is none."""
    if run is not None:
        run = Path(run)
        if not (run / CHECKPOINT).is_file():
            raise DemoUnavailable(
                f"{run} holds no {CHECKPOINT}: run make smoke first, or pick a run folder that "
                "has one (make demo RUN=runs/<name>)"
            )
        return run
    models = [
        path.parent
        for path in Path(root).glob(f"*/{CHECKPOINT}")
        if (path.parent / REPORT).is_file() and not path.parent.name.endswith(".previous")
    ]
    if not models:
        raise DemoUnavailable(f"no run with a {CHECKPOINT} in {root}/: run make smoke first")
    return max(models, key=lambda folder: (folder / REPORT).stat().st_mtime)


def load_demo(run: Path | None = None) -> DemoModel:
    """The completer of ``run`` (``find_run``) and its summary line."""
    folder = find_run(run)
    try:
        completer = Completer.from_checkpoint(folder / CHECKPOINT)
    except CheckpointError as error:
        raise DemoUnavailable(f"{error}: run make smoke first") from None
    report = _read_json(folder / REPORT)
    smoke = _read_json(folder / CONFIG).get("command") == "smoke"
    return DemoModel(completer, folder, summarize(folder.name, report, completer, smoke=smoke))


def summarize(
    name: str, report: dict[str, Any], completer: Completer, *, smoke: bool = False
) -> str:
    """What the model is and how good run ``name`` measured it (Markdown, one line)."""
    metrics = report.get("metrics", {})
    parameters = sum(p.numel() for p in completer.model.parameters())
    source = f"run `{name}`" if name != SPACE_RUN else "the run this Space bundles"
    line = (
        f"An LSTM language model over Python tokens ({parameters:,} parameters, a vocabulary of "
        f"{len(completer.vocab):,} tokens), loaded from {source}"
    )
    if "top1" in metrics:
        line += (
            f": it guessed the next token of held-out {metrics.get('split', 'test')} files "
            f"{_percent(metrics['top1'])} of the time"
        )
        if "bigram_top1" in metrics:
            line += f" (bigram baseline: {_percent(metrics['bigram_top1'])})"
        if "keystrokes_saved" in metrics:
            line += f" and saved {_percent(metrics['keystrokes_saved'])} of keystrokes"
    line += "."
    if smoke:
        line += (
            " A smoke run trains for seconds, so expect rough guesses: `make run` trains the "
            "real model."
        )
    return line


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"  # spelled out: no rendered file holds a percent sign then a brace


def _read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}


def suggest(completer: Completer, code: str, k: int = DEFAULT_K) -> list[Suggestion]:
    """The ``k`` likeliest completions of the line at the end of ``code``, likeliest first
    (none inside a string or comment, or when no known name starts with what is typed)."""
    typed = code.rsplit("\n", 1)[-1]
    return [
        Suggestion(c.text, typed + c.text, math.exp(c.log_prob))
        for c in completer.top_k(code, int(k))
    ]


def accept(completer: Completer, code: str) -> str:
    """``code`` with its current line completed by the top suggestion and a new line begun
    (unchanged when there is none). Literals come in as ``''`` and ``0``, for you to fill:
    valid Python, which the model reads as ``<str>`` and ``<num>`` again."""
    best = suggest(completer, code, 1)
    if not best:
        return code
    return code + best[0].insert.replace(STR, "''").replace(NUM, "0") + "\n"


def build_app(run: Path | None = None) -> Any:
    """The Gradio page over ``run`` (default: the newest run with a model)."""
    gr = import_gradio()
    model = load_demo(run)

    def show(code: str, k: float) -> tuple[dict[str, float], str]:
        suggestions = suggest(model.completer, code or "", int(k))
        if not suggestions:
            return {}, NO_SUGGESTION
        shown: dict[str, float] = {}
        for suggestion in suggestions:  # a line's indentation is not worth a second entry
            key = suggestion.line.strip()
            shown[key] = shown.get(key, 0.0) + suggestion.probability
        return shown, suggestions[0].line

    with gr.Blocks(title="Python line completion") as app:
        gr.Markdown(
            "# Python line completion\n"
            f"{model.summary}\n\n"
            "Type or paste code, or click an example: the cursor is at the end of the box, and "
            "the model suggests the rest of the current line. Each suggestion's percentage is "
            "the model's probability of that whole line given the code (and the name you are "
            "typing), so together they make at most 100 %. String and number literals show as "
            "`<str>` and `<num>`: the model predicts *that* one comes, you type it (an accepted "
            "line brings them as `''` and `0` to fill in)."
        )
        with gr.Row():
            with gr.Column(scale=3):
                code = gr.Code(
                    value=EXAMPLES[0][1],
                    language="python",
                    lines=8,
                    label="Code before the cursor",
                    elem_id="code",
                )
                # gr.Code strips the new line an example ends with, and here it says where the
                # cursor is: the examples are shown as given. (A subclass of gr.Code would do
                # too, but Gradio writes a .pyi file beside any module that defines one.)
                code.postprocess = _as_given
                gr.Examples(
                    examples=[[text] for _, text in EXAMPLES],
                    example_labels=[label for label, _ in EXAMPLES],
                    inputs=[code],
                    label="Examples",
                    elem_id="examples",
                )
                with gr.Row():
                    complete = gr.Button("Complete the line", variant="primary", elem_id="complete")
                    take = gr.Button("Accept the top line, go to the next", elem_id="accept")
            with gr.Column(scale=2):
                best = gr.Textbox(
                    label="Top suggestion: the current line, completed",
                    elem_id="best",
                    interactive=False,
                )
                ranked = gr.Label(
                    label="Top-k completions of the line, with their probability",
                    num_top_classes=MAX_K,
                    show_heading=False,
                    elem_id="completions",
                )
                k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Suggestions (k)",
                              elem_id="k")  # fmt: skip
        for event in (code.change, k.change, complete.click, app.load):
            event(show, inputs=[code, k], outputs=[ranked, best])
        take.click(
            lambda text: accept(model.completer, text or ""),
            inputs=[code],
            outputs=[code],
            postprocess=False,  # the code as given, its new line too (see _as_given)
        ).then(show, inputs=[code, k], outputs=[ranked, best])
    return app


def _as_given(value: str | None) -> str | None:
    return value
