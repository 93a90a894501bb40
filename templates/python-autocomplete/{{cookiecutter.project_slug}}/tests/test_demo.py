"""The live demo: its model logic without Gradio (which run, which suggestions, what they
are worth), its commands, and, marked `browser`, the app served and used in headless Chromium
and the Space built from a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows these files as tests.*
from browser import chromium, demo_server, screenshot, text_of, wait_for, wait_for_text  # type: ignore[import-not-found]
from samples import module_source  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import __main__ as cli
from {{ cookiecutter.package_name }}.checkpoint import save_checkpoint
from {{ cookiecutter.package_name }}.demo import EXAMPLES, accept, find_run, load_demo, suggest
from {{ cookiecutter.package_name }}.demo_server import DemoUnavailable
from {{ cookiecutter.package_name }}.model import LSTMLanguageModel
from {{ cookiecutter.package_name }}.predict import Completer
from {{ cookiecutter.package_name }}.smoke import SmokeSettings, run_smoke
from {{ cookiecutter.package_name }}.train import seed_everything

# The fixture model knows the modules of samples.module_source by heart.
SOURCE = module_source(3)
INSIDE_METHOD = SOURCE[: SOURCE.index("self.value * 2")]
LEARNED = "self.value * <num>"


def make_run(folder: Path, model: LSTMLanguageModel, vocab, **metrics: float) -> Path:
    save_checkpoint(folder / "model.pt", model, vocab)
    report = {"ok": True, "metrics": {"split": "test", **metrics}}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


def test_suggestions_rank_the_learned_line_first_and_show_the_whole_line(trained):
    model, vocab = trained
    suggestions = suggest(Completer(model, vocab), INSIDE_METHOD, k=4)
    assert suggestions[0].insert == LEARNED
    assert suggestions[0].line == "        return " + LEARNED
    assert 1 < len(suggestions) <= 4
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] > 0.5 and sum(probabilities) <= 1 + 1e-6


def test_an_untrained_checkpoint_gives_a_worse_answer(trained):
    model, vocab = trained
    seed_everything(0)
    untrained = LSTMLanguageModel(model.config).eval()
    learned = suggest(Completer(model, vocab), INSIDE_METHOD, k=4)[0]
    guessed = suggest(Completer(untrained, vocab), INSIDE_METHOD, k=4)
    assert all(s.insert != LEARNED for s in guessed)
    assert guessed[0].probability < learned.probability / 10


def test_accepting_completes_the_line_and_begins_the_next(trained):
    model, vocab = trained
    completer = Completer(model, vocab)
    once = accept(completer, INSIDE_METHOD)
    assert once == INSIDE_METHOD + "self.value * 0\n"  # the literal as Python, to fill in
    # the next line of the learned module, indentation included
    twice = accept(completer, once)
    assert twice.splitlines()[-1] == "    def path(self, name):"
    assert accept(completer, INSIDE_METHOD + "'abc") == INSIDE_METHOD + "'abc"


def test_the_demo_shows_the_newest_run_that_holds_a_model(trained, tmp_path: Path):
    model, vocab = trained
    root = tmp_path / "runs"
    older = make_run(root / "smoke", model, vocab)
    newest = make_run(root / "lstm", model, vocab)
    os.utime(older / "report.json", (1, 1))
    (root / "lstm-test").mkdir()  # an evaluate run: a report, no model
    (root / "lstm-test" / "report.json").write_text("{}")
    make_run(root / "lstm.previous", model, vocab)
    assert find_run(root=root) == newest
    assert find_run(older) == older


def test_no_run_or_a_run_without_a_model_says_make_smoke(tmp_path: Path):
    with pytest.raises(DemoUnavailable, match="make smoke"):
        find_run(root=tmp_path / "runs")
    (tmp_path / "evaluated").mkdir()
    with pytest.raises(DemoUnavailable, match="make smoke"):
        find_run(tmp_path / "evaluated")
    (tmp_path / "evaluated" / "model.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DemoUnavailable, match="make smoke"):
        load_demo(tmp_path / "evaluated")


def test_the_summary_says_what_the_model_is_and_what_its_run_measured(trained, tmp_path: Path):
    model, vocab = trained
    run = make_run(tmp_path / "mine", model, vocab, top1=0.4712, bigram_top1=0.3101)
    summary = load_demo(run).summary
    assert f"{model.num_parameters():,} parameters" in summary and "`mine`" in summary
    assert "47.1%" in summary and "bigram baseline: 31.0%" in summary
    assert "make run" not in summary  # only a smoke run is called one


def test_demo_without_its_group_says_make_setup_demo(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now raises ImportError
    assert cli.main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "make setup-demo" in err and "Traceback" not in err


def test_space_from_a_run_without_a_model_fails_with_one_line(capsys, tmp_path: Path):
    assert cli.main(["space", "--run", str(tmp_path), "--out", str(tmp_path / "space")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make smoke" in err
    assert not (tmp_path / "space").exists()


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke's own model (its training, unchanged), scored on fewer held-out tokens."""
    not_installed = "the demo group is not installed: make setup-demo"
    gradio = pytest.importorskip("gradio", reason=not_installed)
    if getattr(gradio, "__file__", None) is None:  # only files an uninstall left behind
        pytest.skip(not_installed)
    run = tmp_path_factory.mktemp("runs") / "smoke"
    run.mkdir()
    run_smoke(run, replace(SmokeSettings(), max_heldout_tokens=5000, latency_samples=3))
    (run / "config.json").write_text(json.dumps({"command": "smoke"}))
    return run


@pytest.mark.browser
def test_a_visitor_clicks_an_example_reads_the_top_k_and_accepts_a_line(smoke_run: Path):
    from selenium.webdriver.common.by import By

    signature = dict(EXAMPLES)["a signature"]
    expected = suggest(load_demo(smoke_run).completer, signature, k=5)
    with demo_server("--run", str(smoke_run)) as url, chromium() as driver:
        driver.get(url)
        wait_for(driver, "#examples button")
        example = [b for b in driver.find_elements(By.CSS_SELECTOR, "#examples button")
                   if b.text == "a signature"]  # fmt: skip
        example[0].click()
        best = wait_for_text(driver, "#best textarea", lambda text: "__init__" in text)
        assert best == expected[0].line == "    def __init__(self, *args, **kwargs):"
        rows = [text_of(row).split("\n") for row in
                driver.find_elements(By.CSS_SELECTOR, "#completions dl")]  # fmt: skip
        assert [line for line, _ in rows] == [s.line.strip() for s in expected]
        assert [share for _, share in rows] == [f"{round(s.probability * 100)}%" for s in expected]
        screenshot(driver, "python-autocomplete-demo")
        driver.find_element(By.CSS_SELECTOR, "#accept").click()
        # the line is taken, the cursor on the next one: the suggestion is for that line
        then = suggest(load_demo(smoke_run).completer, signature + "kwargs):\n")
        assert then[0].line.startswith("        ")
        wait_for_text(driver, "#best textarea", lambda text: text == then[0].line)
        assert "**kwargs):" in text_of(driver.find_element(By.CSS_SELECTOR, "#code .cm-content"))


@pytest.mark.browser
def test_the_space_app_builds_the_demo_standalone(smoke_run: Path, tmp_path: Path):
    space = tmp_path / "space"
    assert cli.main(["space", "--run", str(smoke_run), "--out", str(space)]) == 0
    assert {p.name for p in (space / "run").iterdir()} == {"model.pt", "report.json", "config.json"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import runpy, sys; app = runpy.run_path(sys.argv[1])['demo']; "
        "print(type(app).__name__, len(app.fns), sys.modules['{{ cookiecutter.package_name }}'].__file__)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(space / "app.py")], cwd=elsewhere,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    kind, events, package = done.stdout.split()
    assert kind == "Blocks" and int(events) >= 4
    assert Path(package).is_relative_to(space)  # the Space's copy, not this project's
