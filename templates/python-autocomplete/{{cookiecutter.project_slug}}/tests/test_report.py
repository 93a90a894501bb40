"""`report` on a tiny run: each figure is a real, non-blank PNG of a committable size, the
README's Results section reads back as the run's numbers, and running it twice changes nothing
more than once. The annotated snippet shows the code as written and what the model saved."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.samples
from samples import distinct_source  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import __main__ as cli
from {{ cookiecutter.package_name }}.criteria import real_run_targets
from {{ cookiecutter.package_name }}.evaluate import (
    COMPLETION,
    completion_example,
    evaluate_heldout,
    keystroke_trace,
    keystrokes_saved,
    rank_lstm,
)
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel
from {{ cookiecutter.package_name }}.ngram import fit_baselines
from {{ cookiecutter.package_name }}.report import layout, make_report
from {{ cookiecutter.package_name }}.runs import RunFolder, write_json
from {{ cookiecutter.package_name }}.showcase import parse_results
from {{ cookiecutter.package_name }}.targets import build_report
from {{ cookiecutter.package_name }}.tokenizer import Token, tokenize_source
from {{ cookiecutter.package_name }}.train import TrainConfig, train, write_history
from {{ cookiecutter.package_name }}.vocab import Vocabulary

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def tiny_run(
    tmp_path: Path, trained: tuple[LSTMLanguageModel, Vocabulary], corpus_tokens: list[Token]
) -> Path:
    """A run folder made by the real pieces: a short training's history, held-out metrics
    beside the baselines, the targets, and the annotated held-out snippet."""
    model, vocab = trained
    ids = vocab.encode(token.text for token in corpus_tokens)
    spare = LSTMLanguageModel(model.config)
    history = train(spare, ids, TrainConfig(batch_size=4, max_steps=40, lr=1e-2))
    heldout = tokenize_source(distinct_source(4))
    metrics: dict[str, Any] = {"split": "test", "steps": 300}
    metrics.update(
        evaluate_heldout(model, vocab, heldout, baselines=fit_baselines(ids), latency_samples=0)
    )
    report = build_report(metrics, real_run_targets(metrics), time.perf_counter())
    with RunFolder("tiny", {"command": "train", "seed": 0}, root=tmp_path / "runs") as run:
        write_history(run.staging, history)
        write_json(run.path(COMPLETION), completion_example(model, vocab, corpus_tokens))
        return run.finish(report)


def test_report_draws_each_figure_and_writes_results_and_card_once(tiny_run: Path, tmp_path: Path):
    from matplotlib import image

    readme = tmp_path / "README.md"
    shutil.copy(README, readme)
    made = make_report(
        tiny_run, readme=readme, figures=tmp_path / "figures", card=tmp_path / "MODEL_CARD.md"
    )
    names = [Path(figure).name for figure in made["figures"]]
    assert names == ["learning_curve.png", "targets.png", "completion.png"]
    for figure in made["figures"]:
        data = Path(figure).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(data) < 400_000
        pixels = image.imread(figure)[..., :3]
        assert (pixels < 0.9).any(axis=-1).mean() > 0.01, f"{figure} is blank"  # ink on white
        assert pixels[0, 0].tolist() == [1.0, 1.0, 1.0]  # opaque white background

    report = json.loads((tiny_run / "report.json").read_text())
    shown = parse_results(readme)
    assert set(shown) == set(report["targets"])
    for name, target in report["targets"].items():
        assert shown[name]["value"] == pytest.approx(target["value"], rel=1e-3)
        assert shown[name]["threshold"] == pytest.approx(target["threshold"], rel=1e-3)
        assert shown[name]["met"] == target["met"] and shown[name]["op"] == target["op"]
    text = readme.read_text()
    assert all(f"](figures/{name})" in text for name in names)
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert f"| `keystrokes_saved` | {report['metrics']['keystrokes_saved']:.4g}" in card

    before = readme.read_bytes(), (tmp_path / "MODEL_CARD.md").read_bytes()
    make_report(
        tiny_run, readme=readme, figures=tmp_path / "figures", card=tmp_path / "MODEL_CARD.md"
    )
    assert (readme.read_bytes(), (tmp_path / "MODEL_CARD.md").read_bytes()) == before


def test_the_snippet_is_laid_out_as_written_and_its_savings_add_up(
    trained: tuple[LSTMLanguageModel, Vocabulary], corpus_tokens: list[Token]
):
    code = "def f(a, b=1):\n    return os.path.join(a[0], b)\n\n\nx = f('s', b=2)\n"
    tokens = tokenize_source(code)
    typed_only = [[t.source, t.text, t.typed_chars, 0, "typed", True] for t in tokens]
    lines = ["".join(text for text, _ in line) for line in layout(typed_only)]
    assert [line for line in lines if line] == [
        "def f(a, b=1):",
        "    return os.path.join(a[0], b)",
        "x = f('s', b=2)",
    ]

    model, vocab = trained  # it knows these modules by heart: it saves a lot
    example = completion_example(model, vocab, corpus_tokens)
    assert example["saved"] == sum(row[3] for row in example["tokens"]) > 0
    pieces = [kind for line in layout(example["tokens"]) for _, kind in line]
    assert "token" in pieces or "line" in pieces
    # the trace is the very simulation keystrokes_saved scores
    ids = vocab.encode(token.text for token in corpus_tokens)
    ranking = rank_lstm(model, ids)
    trace = keystroke_trace(ranking, corpus_tokens, vocab)
    typed = sum(step.typed for step in trace if step.counted)
    assert sum(step.saved for step in trace) / typed == keystrokes_saved(
        ranking, corpus_tokens, vocab
    )


def test_report_without_a_run_says_what_to_do(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report"]) == 2
    assert "make smoke" in capsys.readouterr().err
