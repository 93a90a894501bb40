"""The live demo: label paths through the tree with each node's score, from a run's checkpoint.

The plain functions are tested without Gradio on a reduced smoke run (the smoke's own code, a
smaller corpus); the tests marked ``browser`` serve the app and drive it in headless Chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.data import Document
from {{ cookiecutter.package_name }}.demo import (
    ARROW,
    DemoError,
    DemoRun,
    classify,
    find_run,
    guide,
    load_run,
    predicted_paths,
    ranked_leaf_paths,
    tree_view,
)
from {{ cookiecutter.package_name }}.model import TextCNN
from {{ cookiecutter.package_name }}.smoke import run_smoke
from {{ cookiecutter.package_name }}.synthetic import SyntheticSpec
from {{ cookiecutter.package_name }}.taxonomy import SEP
from {{ cookiecutter.package_name }}.train import Classifier

PACKAGE = "{{ cookiecutter.package_name }}"
SPEC = SyntheticSpec(n_train=800, n_dev=200, n_test=200)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smoke run made by the smoke's own code on a smaller corpus (its default seed)."""
    out = tmp_path_factory.mktemp("runs") / "smoke"
    run_smoke(out, spec=SPEC)
    return out


@pytest.fixture(scope="module")
def shown(run: Path) -> DemoRun:
    return load_run(run)


def held_out(shown: DemoRun) -> list[Document]:
    from {{ cookiecutter.package_name }}.data import read_corpus

    return read_corpus(shown.path / "data" / "test.json")[:120]


def text(doc: Document) -> str:
    return " ".join(doc.tokens)


def leaves(shown: DemoRun, doc: Document) -> set[str]:
    return {p.label for p in predicted_paths(shown.classifier, text(doc))}


def path_accuracy(shown: DemoRun, docs: list[Document]) -> float:
    """The share of documents whose predicted label paths are exactly their true ones."""
    return sum(leaves(shown, d) == set(d.labels) for d in docs) / len(docs)


def test_the_predicted_paths_are_the_true_paths_of_held_out_documents(shown):
    assert path_accuracy(shown, held_out(shown)) >= 0.6
    path = predicted_paths(shown.classifier, text(held_out(shown)[0]))[0]
    assert [name for name, _ in path.nodes] == path.label.split(SEP)
    assert path.score == min(score for _, score in path.nodes if score is not None)


def test_an_untrained_checkpoint_gets_the_paths_wrong(shown):
    clf = shown.classifier
    torch.manual_seed(0)
    untrained = Classifier(TextCNN(**clf.model.hparams).eval(), clf.vocab, clf.labels, clf.config)
    broken = DemoRun(shown.path, untrained, examples=shown.examples)
    assert path_accuracy(broken, held_out(shown)) <= 0.2 < path_accuracy(shown, held_out(shown))


def swapped(doc: Document, first: str, second: str) -> Document:
    tokens = list(doc.tokens)
    i, j = tokens.index(first), tokens.index(second)
    tokens[i], tokens[j] = tokens[j], tokens[i]
    return Document(doc.labels, tuple(tokens))


def test_the_guide_names_the_words_that_flip_the_path(shown):
    # The guide says how the corpus writes a node; swapping the two actors (or which aspect is
    # negated) must move the prediction to the sibling node: the model reads word order.
    words = guide(shown)
    sibling = {label: other for label in words for other in words
               if label != other and label.rsplit(SEP, 1)[0] == other.rsplit(SEP, 1)[0]
               and SEP in label}  # fmt: skip
    flipped = tried = 0
    for doc in held_out(shown):
        one_leaf = len(doc.labels) == 1 and doc.labels[0].count(SEP) == 2
        if not one_leaf or leaves(shown, doc) != set(doc.labels):
            continue
        leaf = doc.labels[0]
        middle = leaf.rsplit(SEP, 1)[0]
        actor, _, other = words[middle].split()
        aspect = words[leaf].split(",")[0]
        negated = words[leaf].split()[-1]
        tried += 1
        by_actor = leaves(shown, swapped(doc, actor, other))
        by_aspect = leaves(shown, swapped(doc, aspect, negated))
        middle_flips = any(x.startswith(sibling[middle] + SEP) for x in by_actor)
        flipped += middle_flips and by_aspect == {sibling[leaf]}
    assert tried >= 10 and flipped / tried >= 0.7, (flipped, tried)


def test_a_path_is_as_sure_as_its_weakest_node_and_the_tree_opens_only_kept_branches():
    scores = {"A": 0.9, "A--B": 0.8, "A--B--C": 0.7, "A--B--D": 0.1, "A--E": 0.2,
              "F": 0.05, "F--G": 0.95}  # fmt: skip
    ranked = [(p.label, round(p.score, 2)) for p in ranked_leaf_paths(scores)]
    assert ranked == [("A--B--C", 0.7), ("A--E", 0.2), ("A--B--D", 0.1), ("F--G", 0.05)]
    lines = tree_view(scores, 0.5).splitlines()
    assert [line.split()[0] for line in lines] == ["A", "B", "C", "D", "E", "F", "(1"]
    assert [line.split()[0] for line in lines if line.endswith("✓")] == ["A", "B", "C"]
    assert "G" not in tree_view(scores, 0.5) and "G" in tree_view(scores, 0.01)


def test_classify_answers_a_held_out_text_and_asks_for_text_when_empty(shown):
    doc = next(d for d in shown.examples if len(d.labels) == 1)
    paths, ranked, tree = classify(shown, text(doc))
    assert paths.replace(" (", "|").split("|")[0] == doc.labels[0].split(SEP)[0]
    assert max(ranked, key=lambda k: ranked[k]).startswith(doc.labels[0].split(SEP)[0] + ARROW)
    assert "✓" in tree
    assert classify(shown, "  ,, ")[0].startswith("Type a text")


def test_a_run_without_a_checkpoint_says_to_run_the_smoke(tmp_path, run):
    with pytest.raises(DemoError, match="make smoke"):
        find_run(tmp_path)
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "report.json").write_text("{}")
    with pytest.raises(DemoError, match="make smoke"):
        load_run(tmp_path / "baseline")
    assert find_run(run.parent) == run


def test_without_gradio_the_demo_command_exits_with_the_make_setup_demo_line(run):
    code = (f"import runpy, sys; sys.modules['gradio'] = None; "
            f"sys.argv = ['{PACKAGE}', 'demo', '--run', sys.argv[1]]; "
            f"runpy.run_module('{PACKAGE}', run_name='__main__')")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error:")
    assert "make setup-demo" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.browser
def test_the_space_app_builds_the_demo_standalone_from_another_folder(run, tmp_path):
    pytest.importorskip("gradio", reason="the demo group is not installed: make setup-demo")
    space = tmp_path / "space"
    assert main(["space", "--run", str(run), "--out", str(space)]) == 0
    assert (space / "run" / "model.pt").is_file()
    assert (space / "run" / "data" / "test.json").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import runpy, sys; app = runpy.run_path(sys.argv[1])['demo']; "
            "print(type(app).__name__, app.title)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(space / "app.py")], cwd=elsewhere,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "Blocks Hierarchical text classifier"


@pytest.mark.browser
def test_a_person_pastes_a_held_out_text_and_reads_its_label_paths(run, shown):
    right = [d for d in shown.examples if len(d.labels) == 1 and leaves(shown, d) == set(d.labels)]
    doc = right[-1]
    expected = doc.labels[0].replace(SEP, ARROW)
    from tests.browser import chromium, demo_server, screenshot, wait_for, wait_for_text

    def names_only(answer: str) -> str:
        return ARROW.join(part.split(" (")[0] for part in answer.split("\n")[0].split(ARROW))

    with demo_server("--run", str(run)) as url, chromium() as driver:
        driver.get(url)
        box = wait_for(driver, "#text textarea")
        box.send_keys(text(doc))
        wait_for(driver, "#classify").click()
        answer = wait_for_text(driver, "#paths textarea", lambda t: names_only(t) == expected)
        assert all(f"{name} (" in answer for name in doc.labels[0].split(SEP))
        wait_for_text(driver, "#tree", lambda t: "✓" in t)
        screenshot(driver, "neuralclassifier-demo")
