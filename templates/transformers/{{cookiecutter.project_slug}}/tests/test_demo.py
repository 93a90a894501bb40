"""The live demo: the smoke model's labels and the words occlusion finds are the ones the grammar
says decide (an untrained model's are not); the command's errors; in a real browser, the page
answers a typed sentence and an example, and the Space's app builds on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from {{ cookiecutter.package_name }} import (
    data,
)
from {{ cookiecutter.package_name }}.__main__ import (
    main,
)
from {{ cookiecutter.package_name }}.demo import (
    MAX_WORDS,
    REAL_EXAMPLES,
    Classifier,
    explain,
    explain_with_vocabulary,
    load_run,
    summary,
    table,
)
from {{ cookiecutter.package_name }}.demo_server import (
    DemoUnavailable,
)
from {{ cookiecutter.package_name }}.model import (
    load_classifier,
)
from {{ cookiecutter.package_name }}.settings import (
    DEFAULT_SEED,
)

if TYPE_CHECKING:  # mypy reads tests/ as the package `tests`
    from tests.browser import chromium, demo_server, screenshot, wait_for, wait_for_text
else:  # pytest puts tests/ itself on sys.path (no __init__.py), so `browser` is top-level
    from browser import chromium, demo_server, screenshot, wait_for, wait_for_text

# Held-out sentences (their word pairs never met in training) the checks below score.
HELD_OUT = 300
# What a model that learned the grammar must show on them (the smoke model: 1.0, 1.0, 0.88;
# an untrained one: about 0.5, 0.0, 0.1).
MIN_ACCURACY = 0.9
MIN_NOT_FLIPS = 0.9
MIN_CONTRAST_DECIDED_AFTER_BUT = 0.7


def occlusion_scores(classifier: Classifier) -> dict[str, float]:
    """On held-out grammar sentences: accuracy; the share of "X was not Y" sentences labelled
    right whose label flips without "not"; the share of contrasts "A but B" labelled right whose
    most influential word stands after "but" (the clause after "but" decides)."""
    examples = data.synthetic_sentiment(HELD_OUT, seed=DEFAULT_SEED, split="test")
    right = negated = not_flips = contrasts = after_but = 0
    for example in examples:
        explanation = explain(classifier, example.text)
        correct = explanation.label == data.LABELS[example.label]
        right += correct
        words = example.text.split()
        if example.kind == "negated" and "did" not in words:
            negated += 1
            flipping = {i.word for i in explanation.deciding()}
            not_flips += correct and "not" in flipping
        if example.kind == "contrast":
            contrasts += 1
            after_but += correct and explanation.ranked()[0].position > words.index("but")
    return {
        "accuracy": right / len(examples),
        "not_flips": not_flips / negated,
        "contrast_decided_after_but": after_but / contrasts,
    }


def meets_the_bar(scores: dict[str, float]) -> bool:
    return (
        scores["accuracy"] >= MIN_ACCURACY
        and scores["not_flips"] >= MIN_NOT_FLIPS
        and scores["contrast_decided_after_but"] >= MIN_CONTRAST_DECIDED_AFTER_BUT
    )


@pytest.fixture(scope="module")
def smoke_demo(smoke_run):
    assert smoke_run["returncode"] == 0, smoke_run["stderr"][-2000:]
    return load_run(smoke_run["out"])


class KeywordScorer:
    """A stand-in model with a known rule: POSITIVE exactly when "good" is there without "not"."""

    labels = ("NEGATIVE", "POSITIVE")

    def probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        positive = [("good" in t.split()) and ("not" not in t.split()) for t in texts]
        return torch.tensor([[0.2, 0.8] if p else [0.7, 0.3] for p in positive])


def test_occlusion_names_exactly_the_words_whose_removal_flips_the_label():
    explanation = explain(KeywordScorer(), "the  film was not good")
    assert explanation.label == "NEGATIVE"
    assert explanation.probabilities == pytest.approx({"NEGATIVE": 0.7, "POSITIVE": 0.3})
    assert [i.word for i in explanation.deciding()] == ["not"]
    by_word = {i.word: i for i in explanation.influences}
    assert by_word["not"].change == pytest.approx(0.7 - 0.2)  # P(NEGATIVE) with it - without it
    assert by_word["not"].toward == "NEGATIVE" and by_word["not"].label_without == "POSITIVE"
    assert by_word["good"].change == 0 and not by_word["good"].flips
    assert explanation.ranked()[0].word == "not"
    assert table(explanation)[0] == ["not", "NEGATIVE", "+0.500", "POSITIVE: flips"]
    assert "Leave out **not** and the answer flips to POSITIVE" in summary(explanation)


def test_an_empty_or_overlong_sentence_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="type a sentence"):
        explain(KeywordScorer(), "   ")
    with pytest.raises(ValueError, match=f"at most {MAX_WORDS}"):
        explain(KeywordScorer(), "good " * (MAX_WORDS + 1))


def test_the_smoke_model_labels_held_out_sentences_and_not_and_but_decide(smoke_demo):
    scores = occlusion_scores(smoke_demo.classifier)
    assert meets_the_bar(scores), scores
    explanation = explain(smoke_demo.classifier, smoke_demo.examples[0])
    assert sum(explanation.probabilities.values()) == pytest.approx(1, abs=1e-5)
    ranked = sorted(explanation.probabilities.items(), key=lambda pair: -pair[1])
    assert explanation.label == ranked[0][0]


def test_an_untrained_checkpoint_misses_the_bar(untrained_model_dir):
    # the same checks on the smoke's architecture before training: labels at chance, and no
    # word moves the answer, so none is the one the grammar says decides
    model, tokenizer = load_classifier(untrained_model_dir)
    scores = occlusion_scores(Classifier(model, tokenizer, max_length=48))
    assert not meets_the_bar(scores), scores
    assert scores["not_flips"] < 0.5 and scores["accuracy"] < 0.7


def test_the_page_names_the_run_its_accuracy_and_examples_the_model_gets_right(smoke_demo):
    report = json.loads((smoke_demo.run / "report.json").read_text())
    assert f"run `{smoke_demo.run.name}`" in smoke_demo.description
    assert f"accuracy {report['metrics']['accuracy']:.3f}" in smoke_demo.description
    kinds = {e.core: e for e in data.synthetic_sentiment(HELD_OUT, DEFAULT_SEED, split="test")}
    assert len(smoke_demo.examples) == 4
    for text in smoke_demo.examples:
        assert text in kinds, text  # a held-out sentence of the grammar, not a training one
        label = data.LABELS[kinds[text].label]
        assert explain(smoke_demo.classifier, text).label == label, text


def test_a_fine_tuned_run_is_described_as_one_and_gets_english_examples(
    untrained_model_dir, tmp_path
):
    run = tmp_path / "sst2"
    run.mkdir()
    untrained_model_dir.rename(run / "model")  # what `train` writes, with untrained weights
    config = {"command": "train", "model": "some/encoder", "max_length": 64}
    (run / "config.json").write_text(json.dumps(config))
    (run / "report.json").write_text(json.dumps({"metrics": {"accuracy": 0.8766}}))
    loaded = load_run(run)
    assert loaded.description.startswith("`some/encoder` fine-tuned on SST-2")
    assert "run `sst2`, SST-2 validation accuracy 0.877" in loaded.description
    assert loaded.examples == REAL_EXAMPLES and loaded.classifier.max_length == 64


def test_words_the_model_cannot_read_are_named(smoke_demo):
    sentence = "The cast was dull, but I LOVED it!"
    explanation = explain_with_vocabulary(smoke_demo.classifier, sentence)
    assert explanation.unknown == (",", "it", "!")
    assert "read as [UNK]: `,`, `it`, `!`" in summary(explanation)


def test_a_run_without_a_model_or_no_run_at_all_says_to_run_the_smoke(tmp_path, monkeypatch):
    (tmp_path / "runs" / "evaluate").mkdir(parents=True)
    (tmp_path / "runs" / "evaluate" / "report.json").write_text("{}")
    with pytest.raises(DemoUnavailable, match="make smoke"):
        load_run(tmp_path / "runs" / "evaluate")
    monkeypatch.chdir(tmp_path / "runs")  # no runs/ here
    with pytest.raises(DemoUnavailable, match="make smoke"):
        load_run()


def test_without_the_demo_group_the_demo_command_says_make_setup_demo(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now raises ImportError
    assert main(["demo", "--port", "7861"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "make setup-demo" in error[0], error


def test_space_writes_the_run_the_demo_loads_and_refuses_a_run_without_a_model(
    smoke_run, tmp_path, capsys
):
    out = tmp_path / "space"
    assert main(["space", "--run", str(smoke_run["out"]), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["space"] == str(out)
    assert (out / "run" / "model" / "config.json").is_file()
    assert (out / "run" / "report.json").is_file() and (out / "app.py").is_file()
    assert main(["space", "--run", str(tmp_path), "--out", str(tmp_path / "other")]) == 2
    assert "make smoke" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


@pytest.mark.browser
def test_the_space_app_builds_the_demo_on_its_own_from_another_folder(smoke_run, tmp_path):
    pytest.importorskip("gradio", reason="the demo group is not installed: make setup-demo")
    out = tmp_path / "space"
    assert main(["space", "--run", str(smoke_run["out"]), "--out", str(out)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = (
        "import runpy, sys; ns = runpy.run_path(sys.argv[1]); "
        "print(type(ns['demo']).__name__, sys.modules[ns['build_app'].__module__].__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", check, str(out / "app.py")],
        cwd=elsewhere,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    kind, module_file = proc.stdout.split()[-2:]
    assert kind == "Blocks"
    assert Path(module_file).is_relative_to(out)  # the Space's own copy of the package


@pytest.mark.browser
def test_the_demo_answers_a_typed_sentence_and_an_example_in_a_browser(smoke_run):
    run = smoke_run["out"]
    assert smoke_run["returncode"] == 0
    sentence = "the plot was not clever but i loved the cast"  # words the grammar has
    with chromium() as driver, demo_server("--run", str(run)) as url:
        from selenium.webdriver.common.by import By

        driver.get(url)
        box = wait_for(driver, "#sentence textarea")
        box.send_keys(sentence)
        driver.find_element(By.CSS_SELECTOR, "#classify").click()
        answer = wait_for_text(driver, "#summary", lambda text: "probability" in text)
        assert answer.startswith("POSITIVE"), answer
        assert "Leave out" in answer and "flips to NEGATIVE" in answer, answer
        label = wait_for_text(driver, "#label", lambda text: "POSITIVE" in text)
        assert "NEGATIVE" in label and "%" in label, label
        words = wait_for_text(driver, "#words", lambda text: "loved" in text)
        assert "toward POSITIVE" in words, words
        wait_for_text(driver, "#table", lambda text: "flips" in text)
        screenshot(driver, "transformers-demo")

        # a click on an example answers at once: the second one is "X was not Y", NEGATIVE
        example = load_run(run).examples[1]
        cell = f"//*[@id='examples']//*[normalize-space(text())='{example}']"
        driver.find_element(By.XPATH, cell).click()
        answer = wait_for_text(driver, "#summary", lambda text: text.startswith("NEGATIVE"))
        assert "flips to POSITIVE" in answer, answer
        assert wait_for_text(driver, "#sentence textarea", lambda text: text == example)
