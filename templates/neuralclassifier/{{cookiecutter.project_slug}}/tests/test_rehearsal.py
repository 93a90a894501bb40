"""Rehearsal of the real run: ``upstream clone|train|eval|predict`` end to end, offline.

A local git repository stands in for NeuralClassifier at a pinned commit. It is a test double
of upstream's script interface written here (never upstream's code): ``train.py``, ``eval.py``
and ``predict.py`` take the config path (and predict's input file) as upstream's do, read the
JSON-lines corpus and the taxonomy the config names, and write what upstream writes, in its
format: checkpoints ``<model>_<epoch>`` and ``<model>_best``, the log lines of its
``util.Logger``, ``eval/all_prf``, ``probs.txt`` and ``predict.txt``. Its "model" is a token
count table, enough to give real, imperfect scores. The repository also ships an RCV1-shaped
sample (``data/rcv1_*.hierar.json``, ``data/rcv1.taxonomy``) that ``--rcv1`` reads, through the
same loading code as the real run. ``NEURALCLASSIFIER_URL`` / ``NEURALCLASSIFIER_COMMIT`` (see
the README) point the commands at it.
"""

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import upstream
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.runs import read_run
from {{ cookiecutter.package_name }}.upstream import UpstreamError

pytestmark = [
    pytest.mark.rehearsal,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]

# Shared by the three scripts of the double, like upstream's util.py / evaluator.
COMMON = """
import json, logging, sys

def config():
    with open(sys.argv[1], encoding="utf-8") as f:
        return json.load(f)

def docs(paths):
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    for key in ("doc_label", "doc_token", "doc_keyword", "doc_topic"):
                        d[key]  # upstream's dataset reads all four keys
                    out.append(d)
    return out

def logger(conf):
    logging.basicConfig(filename=conf["log"]["logger_file"], level=logging.WARN, filemode="a",
                        format="%(asctime)s : %(levelname)s  %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")

def warn(msg):
    logging.warning(msg)
    sys.stdout.write(msg + "\\n")

def probs(model, tokens):
    counts = model["counts"]
    share = {}
    for t in tokens:  # how much of each token's training count falls on each label
        total = sum(c.get(t, 0) for c in counts.values())
        share[t] = {l: c.get(t, 0) / total for l, c in counts.items()} if total else {}
    top = sum(max(s.values(), default=0.0) for s in share.values()) or 1.0
    return {l: sum(s.get(l, 0.0) for s in share.values()) / top for l in counts}

def predict(model, conf, tokens):
    p = probs(model, tokens)
    best = sorted(p, key=lambda l: -p[l])[: conf["eval"]["top_k"]]
    return [l for l in best if p[l] > conf["eval"]["threshold"]]

def prf(right, predicted, standard):
    p = right / predicted if predicted else 0.0
    r = right / standard if standard else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)

def evaluate(model, conf, documents):
    labels = sorted(model["counts"])
    right, pred, std = ({l: 0 for l in labels} for _ in range(3))
    for d in documents:
        guess = predict(model, conf, d["doc_token"])
        for l in guess: pred[l] += 1
        for l in d["doc_label"]:
            if l in std:
                std[l] += 1
                right[l] += l in guess
    per = {l: prf(right[l], pred[l], std[l]) for l in labels}
    mp = sum(v[0] for v in per.values()) / len(labels)
    mr = sum(v[1] for v in per.values()) / len(labels)
    macro = (mp, mr, 2 * mp * mr / (mp + mr) if mp + mr else 0.0)
    counts = (sum(right.values()), sum(pred.values()), sum(std.values()))
    return macro, prf(*counts), counts, per, (right, pred, std)
"""

TRAIN = """
import json, os, shutil
from double import *
conf = config(); logger(conf)
train = docs(conf["data"]["train_json_files"])
dev = docs(conf["data"]["validate_json_files"]); test = docs(conf["data"]["test_json_files"])
os.makedirs(conf["checkpoint_dir"], exist_ok=True)
prefix = conf["checkpoint_dir"] + "/" + conf["model_name"]
best_epoch, best = -1, 0.0
epochs = conf["train"]["num_epochs"]
for epoch in range(1, epochs + 1):
    seen = train[: max(1, len(train) * epoch // epochs)]  # more data each epoch: a rising curve
    counts = {}
    for d in seen:
        for l in d["doc_label"]:
            c = counts.setdefault(l, {})
            for t in d["doc_token"]:
                c[t] = c.get(t, 0) + 1
    model = {"counts": counts}
    for stage, split in (("Train", train), ("Validate", dev), ("test", test)):
        macro, micro, n, _, _ = evaluate(model, conf, split)
        warn("%s performance at epoch %d is precision: %f, recall: %f, fscore: %f, "
             "macro-fscore: %f, right: %d, predict: %d, standard: %d.\\nLoss is: %f."
             % (stage, epoch, micro[0], micro[1], micro[2], macro[2], *n, 1.0 / epoch))
        if stage == "Validate" and micro[2] > best:
            best_epoch, best = epoch, micro[2]
    with open(prefix + "_" + str(epoch), "w") as f:
        json.dump({"epoch": epoch, "model": model}, f)
shutil.copyfile(prefix + "_" + str(best_epoch), prefix + "_best")
with open(prefix + "_best") as f:
    model = json.load(f)["model"]
macro, micro, n, _, _ = evaluate(model, conf, test)
warn("Best test performance at epoch %d is precision: %f, recall: %f, fscore: %f, "
     "macro-fscore: %f, right: %d, predict: %d, standard: %d.\\nLoss is: %f."
     % (best_epoch, micro[0], micro[1], micro[2], macro[2], *n, 0.5))
"""

EVAL = """
import json, os
from double import *
conf = config(); logger(conf)
with open(conf["eval"]["model_dir"]) as f:
    model = json.load(f)["model"]
test = docs(conf["data"]["test_json_files"])
with open("probs.txt", "w") as f:
    for d in test:
        f.write(json.dumps(list(probs(model, d["doc_token"]).values())) + "\\n")
macro, micro, n, per, (right, pred, std) = evaluate(model, conf, test)
warn("Performance is precision: %f, recall: %f, fscore: %f, right: %d, predict: %d, "
     "standard: %d." % (*micro, *n))
os.makedirs(conf["eval"]["dir"], exist_ok=True)
with open(conf["eval"]["dir"] + "/all_prf", "w") as f:
    f.write("macro_average, precision: %f, recall: %f, fscore: %f, \\n" % macro)
    f.write("micro_average, precision: %f, recall: %f, fscore: %f, right_count: %d, "
            "predict_count: %d, standard_count: %d\\n" % (*micro, *n))
    f.write("\\n")
    for l, v in per.items():
        f.write("%s, precision: %f, recall: %f, fscore: %f, right_count: %d, predict_count: %d, "
                "standard_count: %d\\n" % (l, *v, right[l], pred[l], std[l]))
"""

PREDICT = """
import json, sys
from double import *
conf = config()
with open(conf["eval"]["model_dir"]) as f:
    model = json.load(f)["model"]
with open(sys.argv[2], encoding="utf-8") as f, open("predict.txt", "w", encoding="utf-8") as out:
    for line in f:
        out.write(";".join(predict(model, conf, json.loads(line)["doc_token"])) + "\\n")
"""

# An RCV1-shaped sample: taxonomy lines "parent<TAB>children", most specific label paths only.
TAXONOMY = {
    "Root": ["CCAT", "GCAT"],
    "CCAT": ["C15", "C17"],
    "C15": ["C151", "C152"],
    "GCAT": ["GSPO", "GPOL"],
}
LEAVES = ["CCAT--C15--C151", "CCAT--C15--C152", "CCAT--C17", "GCAT--GSPO", "GCAT--GPOL"]


def _corpus(rng: random.Random, n: int) -> str:
    words = {leaf: [f"{leaf.split('--')[-1].lower()}w{i}" for i in range(6)] for leaf in LEAVES}
    noise = [f"common{i}" for i in range(30)]
    lines = []
    for i in range(n):
        labels = [LEAVES[i % len(LEAVES)]]
        if rng.random() < 0.3:
            labels.append(rng.choice([x for x in LEAVES if x != labels[0]]))
        tokens = [rng.choice(words[label]) for label in labels for _ in range(4)]
        tokens += rng.sample(noise, 8)
        rng.shuffle(tokens)
        doc = {"doc_label": labels, "doc_token": tokens, "doc_keyword": [], "doc_topic": []}
        lines.append(json.dumps(doc))
    return "\n".join(lines) + "\n"


def _git(*args: str, cwd: Path) -> str:
    ident = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    out = subprocess.run(
        ["git", *ident, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def fake_upstream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The stand-in repository and its pinned commit (a later commit breaks train.py)."""
    repo = tmp_path_factory.mktemp("upstream") / "NeuralNLP-NeuralClassifier"
    (repo / "data").mkdir(parents=True)
    for name, text in {"double.py": COMMON, "train.py": TRAIN, "eval.py": EVAL}.items():
        (repo / name).write_text(text, encoding="utf-8")
    (repo / "predict.py").write_text(PREDICT, encoding="utf-8")
    (repo / "data" / "rcv1.taxonomy").write_text(
        "".join("\t".join([p, *c]) + "\n" for p, c in TAXONOMY.items()), encoding="utf-8"
    )
    rng = random.Random(0)
    for split, n in (("train", 60), ("dev", 20), ("test", 20)):
        (repo / "data" / f"rcv1_{split}.hierar.json").write_text(_corpus(rng, n), encoding="utf-8")
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "stand-in for NeuralClassifier", cwd=repo)
    pinned = _git("rev-parse", "HEAD", cwd=repo)
    (repo / "train.py").write_text("raise SystemExit('not the pinned commit')\n")
    _git("commit", "-q", "-am", "a later commit", cwd=repo)
    return repo, pinned


@pytest.fixture
def pointed(fake_upstream, tmp_path, monkeypatch):
    """Work in a fresh folder with the real commands pointed at the stand-in repository."""
    repo, pinned = fake_upstream
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEURALCLASSIFIER_URL", repo.as_uri())
    monkeypatch.setenv("NEURALCLASSIFIER_COMMIT", pinned)
    return repo, pinned


def _report(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def test_clone_train_eval_predict_end_to_end(pointed, tmp_path, capsys):
    _, pinned = pointed
    assert main(["upstream", "clone"]) == 0
    clone = tmp_path / upstream.DEFAULT_DIR
    assert _git("rev-parse", "HEAD", cwd=clone) == pinned
    assert not [p for p in clone.parent.iterdir() if p.name.startswith(".")]  # no leftovers

    args = ["--rcv1", "--model", "TextCNN", "--epochs", "3"]
    code = main(["upstream", "train", *args])
    report = _report(capsys)
    assert code == (0 if report["ok"] else 1)
    work = tmp_path / "runs" / "upstream-TextCNN-hierarchical"
    prf = upstream.read_prf(work / "eval" / "all_prf")
    metrics = report["metrics"]
    # upstream's numbers, read back from eval.py's all_prf, under their as-written names
    assert metrics["raw_micro_f1"] == pytest.approx(prf["micro_f1"], abs=1e-6)
    assert metrics["raw_macro_f1"] == pytest.approx(prf["macro_f1"], abs=1e-6)
    assert 0.0 < metrics["raw_micro_f1"] < 1.0
    assert "micro_f1" not in metrics  # closed scores are this repo's, never upstream's
    target = report["targets"]["raw_micro_f1_vs_published"]
    assert target["threshold"] == 0.7717 and target["value"] == metrics["raw_micro_f1"]
    assert report["ok"] is (metrics["raw_micro_f1"] >= 0.7717 and metrics["raw_macro_f1"] >= 0.5246)

    run = read_run(tmp_path / "runs" / "upstream-TextCNN-hierarchical-train")
    assert run["report"] == report
    assert [row["epoch"] for row in run["history"]] == [1, 2, 3]  # from upstream's log
    assert all("validate_micro_f1" in row and "train_loss" in row for row in run["history"])
    assert metrics["epochs"] == 3 and 1 <= metrics["best_epoch"] <= 3
    assert run["config"]["upstream_commit"] == pinned and run["config"]["seed"] == 2019
    assert run["config"]["clone_head"] == pinned
    assert run["config"]["upstream"]["model_name"] == "TextCNN"
    assert (run["path"] / "eval_all_prf").read_text() == (work / "eval" / "all_prf").read_text()
    assert "Best test performance" in (run["path"] / "neuralclassifier.log").read_text()

    # eval again: a run folder of its own; only this run's log lines are read
    assert main(["upstream", "eval", "--model", "TextCNN"]) == code
    again = read_run(tmp_path / "runs" / "upstream-TextCNN-hierarchical-eval")
    assert again["report"]["metrics"]["raw_micro_f1"] == metrics["raw_micro_f1"]
    assert again["history"] == [] and "best_epoch" not in again["report"]["metrics"]
    capsys.readouterr()

    docs = tmp_path / "docs.json"
    test = (clone / upstream.RCV1["test"]).read_text().splitlines()
    docs.write_text("\n".join(json.dumps({"doc_token": json.loads(x)["doc_token"]}) for x in test))
    assert main(["upstream", "predict", "--model", "TextCNN", "--input", str(docs)]) == 0
    predicted = (work / "predict.txt").read_text().splitlines()
    assert len(predicted) == len(test)
    assert all(p.split(";")[0].startswith(("CCAT", "GCAT")) for p in predicted if p)


def test_failed_clone_leaves_nothing_and_a_retry_works(pointed, tmp_path, monkeypatch, capsys):
    repo, pinned = pointed
    monkeypatch.setenv("NEURALCLASSIFIER_URL", (tmp_path / "no-such-repo").as_uri())
    dest = tmp_path / "third_party" / "NeuralNLP-NeuralClassifier"
    with pytest.raises(UpstreamError) as failed:
        upstream.clone(dest)
    message = str(failed.value)
    # both fetch attempts failed, and both errors are shown
    assert "fetching the commit: git fetch -q --depth 1" in message
    assert "fetching the history: git fetch -q origin" in message
    assert not dest.exists() and list(dest.parent.iterdir()) == []  # nothing half-done
    assert main(["upstream", "train", "--rcv1", "--model", "TextCNN"]) == 1  # error, no crash
    assert "could not fetch" in capsys.readouterr().err

    monkeypatch.setenv("NEURALCLASSIFIER_URL", repo.as_uri())  # the network is back: retry
    assert upstream.clone(dest) == dest
    assert _git("rev-parse", "HEAD", cwd=dest) == pinned
    assert list(dest.parent.iterdir()) == [dest]


def test_a_broken_clone_of_an_older_version_says_what_to_remove(pointed, tmp_path):
    dest = tmp_path / "third_party" / "NeuralNLP-NeuralClassifier"
    dest.mkdir(parents=True)
    _git("init", "-q", cwd=dest)  # what the non-atomic clone left after a failed fetch
    with pytest.raises(UpstreamError, match=r"remove it \(rm -rf .*NeuralNLP-NeuralClassifier\)"):
        upstream.clone(dest)
    shutil.rmtree(dest)
    assert upstream.clone(dest) == dest


def test_an_interrupted_clone_is_removed(pointed, tmp_path, monkeypatch):
    dest = tmp_path / "third_party" / "NeuralNLP-NeuralClassifier"
    real_git = upstream._git

    def interrupted(args, cwd):
        if args[0] == "checkout":
            raise KeyboardInterrupt
        return real_git(args, cwd)

    monkeypatch.setattr(upstream, "_git", interrupted)
    with pytest.raises(KeyboardInterrupt):
        upstream.clone(dest)
    assert list(dest.parent.iterdir()) == []
    monkeypatch.setattr(upstream, "_git", real_git)
    assert upstream.clone(dest) == dest


def test_the_pinned_commit_is_checked_out_not_the_newest(pointed, tmp_path, capsys):
    repo, _ = pointed
    newest = _git("rev-parse", "HEAD", cwd=repo)
    upstream.clone(tmp_path / "pinned")
    assert "not the pinned" not in (tmp_path / "pinned" / "train.py").read_text()
    with pytest.raises(UpstreamError, match="not the pinned"):
        upstream.clone(tmp_path / "pinned", commit=newest)
