"""The real run, rehearsed: ``train``, ``evaluate`` and ``predict`` on a folder of your own
Python files, pointed at it with ``--data`` as the README's Real run says, through the very
loading code the real run uses; only smaller (a few seconds). The folder holds what real
folders hold: a package, a virtual environment and caches to skip, a latin-1 file with its
coding cookie, one without (not UTF-8), a syntax error, an empty file, a BOM with CRLF line
ends, and a huge one-line data table. Run alone with ``pytest -m rehearsal``."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.samples
from samples import distinct_source  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import __main__ as cli
from {{ cookiecutter.package_name }}.checkpoint import load_checkpoint
from {{ cookiecutter.package_name }}.showcase import parse_results

pytestmark = pytest.mark.rehearsal

README = Path(__file__).resolve().parents[1] / "README.md"
AWKWARD = {
    "latin1_cookie.py": b"# -*- coding: latin-1 -*-\nCAFE = 'caf\xe9'\n"
    b"\n\ndef price():\n    return 3\n",
    "latin1_no_cookie.py": b"GREETING = 'd\xe9j\xe0 vu'\n",
    "broken.py": b"def half_written(:\n    return (1,\n",
    "empty.py": b"",
    "windows.py": b"\xef\xbb\xbfimport os\r\n\r\n\r\ndef here():\r\n    return os.getcwd()\r\n",
    "huge_line.py": b"TABLE = [" + b", ".join(b"%d" % i for i in range(60_000)) + b"]\n",
}
TRAIN = (
    *("--size", "small", "--vocab-size", "200", "--batch-size", "8", "--device", "cpu"),
    *("--dev-fraction", "0.25", "--test-fraction", "0.25", "--seed", "3"),
)


def run(*argv: str) -> tuple[int, str, str]:
    """One command as ``python -m`` runs it; its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def report_of(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rehearsal") / "my-code"
    for index in range(12):
        folder = root / "mypkg" if index % 2 else root
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module_{index}.py").write_text(distinct_source(index), encoding="utf-8")
    for name, data in AWKWARD.items():
        (root / name).write_bytes(data)
    for skipped in (".venv/lib", "__pycache__", "build"):
        (root / skipped).mkdir(parents=True)
        (root / skipped / "skip_me.py").write_bytes(b"\x00\xff not even text")
    return root


def readme_targets() -> dict[str, str]:
    """The targets the README publishes for train and evaluate: name -> threshold text."""
    rows = re.findall(r"^\| `train`[^|]*\| `(\w+)` \| ([^|]+) \|", README.read_text(), re.M)
    return {name: threshold.strip() for name, threshold in rows}


def check_report(report: dict[str, Any], split: str) -> None:
    """The report shape, its targets as the README publishes them, ``ok`` true to the numbers."""
    assert set(report) >= {"ok", "seconds", "metrics", "targets"}
    metrics, targets = report["metrics"], report["targets"]
    assert metrics["split"] == split
    assert set(targets) == set(readme_targets()) == {"keystrokes_saved", "top1_over_fourgram"}
    published = targets["keystrokes_saved"]
    assert readme_targets()["keystrokes_saved"] == f">= {published['threshold']:.2f}"
    assert published["value"] == metrics["keystrokes_saved"] and published["op"] == ">="
    assert "lab-ml/python_autocomplete" in published["source"]
    fourgram = targets["top1_over_fourgram"]
    assert re.search(r"\+ ([0-9.]+)$", readme_targets()["top1_over_fourgram"])
    margin = float(re.findall(r"\+ ([0-9.]+)$", readme_targets()["top1_over_fourgram"])[0])
    assert fourgram["source"] == f"baseline:fourgram_top1 + {margin}"
    assert fourgram["threshold"] == pytest.approx(metrics["fourgram_top1"] + margin)
    for target in targets.values():
        value, threshold = target["value"], target["threshold"]
        assert target["met"] == (value >= threshold)
    assert report["ok"] == all(target["met"] for target in targets.values())
    # each model's scores under names of their own, measured on the same held-out tokens
    for model in ("", "unigram_", "bigram_", "fourgram_"):
        assert {f"{model}top1", f"{model}keystrokes_saved"} <= metrics.keys()


def test_a_failed_train_then_a_retry_needs_no_cleanup(
    own_folder: Path, tmp_path: Path, monkeypatch
):
    out_dir = tmp_path / "runs" / "mine"
    real_save = torch.save

    def dies_midway(payload: object, target: Path) -> None:
        Path(target).write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt  # Ctrl-C while the checkpoint is written

    monkeypatch.setattr(torch, "save", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        run("train", "--data", str(own_folder), "--steps", "2", "--out", str(out_dir), *TRAIN)
    # no half-written checkpoint, no staged run folder: nothing to delete
    assert not out_dir.exists() and list(out_dir.parent.iterdir()) == []

    monkeypatch.setattr(torch, "save", real_save)
    code, out, _ = run(
        "train", "--data", str(own_folder), "--steps", "2", "--out", str(out_dir), *TRAIN
    )
    assert code in (0, 1) and report_of(out)["metrics"]["split"] == "dev"
    assert sorted(path.name for path in out_dir.iterdir()) == [
        "completion.json", "config.json", "environment.json", "history.jsonl", "model.pt",
        "report.json",
    ]  # fmt: skip
    assert sorted(path.name for path in out_dir.parent.iterdir()) == ["mine"]
    assert load_checkpoint(out_dir / "model.pt").meta["steps"] == 2


def test_train_evaluate_predict_on_your_own_folder(
    own_folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
):
    out_dir = tmp_path / "runs" / "mine"
    caplog.set_level("WARNING")
    code, out, err = run(
        "train", "--data", str(own_folder), "--steps", "30", "--out", str(out_dir), *TRAIN
    )
    trained = report_of(out)
    assert code == (0 if trained["ok"] else 1) and "Traceback" not in err
    check_report(trained, "dev")
    assert json.loads((out_dir / "report.json").read_text()) == trained
    meta = load_checkpoint(out_dir / "model.pt").meta
    assert meta["data"] == [str(own_folder)] and meta["steps"] == 30
    assert meta["train_files"] >= 4

    model = str(out_dir / "model.pt")
    for split in ("dev", "test"):
        code, out, _ = run("evaluate", "--checkpoint", model, "--split", split, "--device", "cpu")
        report = report_of(out)
        assert code == (0 if report["ok"] else 1)
        check_report(report, split)
        assert json.loads((out_dir / f"evaluate_{split}.json").read_text()) == report
        if split == "dev":  # the checkpoint alone finds the same folder, split and seed
            assert report["metrics"]["top1"] == trained["metrics"]["top1"]
    # the evaluate run has a folder of its own, and report draws it with its training's curve
    readme = tmp_path / "README.md"
    shutil.copy(README, readme)
    code, out, _ = run(
        "report", str(out_dir.parent / "mine-test"), "--readme", str(readme),
        "--figures", str(tmp_path / "figures"), "--model-card", str(tmp_path / "MODEL_CARD.md"),
    )  # fmt: skip
    assert code == 0 and len(json.loads(out)["figures"]) == 3
    assert set(parse_results(readme)) == set(trained["targets"])
    # every awkward file was met on some side and skipped with a warning naming it, not fatal
    for name in ("latin1_no_cookie.py", "broken.py"):
        assert re.search(rf"skipped .*{name}", caplog.text), name
    assert "skip_me" not in caplog.text  # .venv, __pycache__ and build are never read

    code, out, _ = run(
        "predict", "--checkpoint", model, "--file", str(own_folder / "latin1_cookie.py")
    )
    assert code == 0 and out.endswith("\n")
    code, out, err = run(
        "predict", "--checkpoint", model, "--file", str(own_folder / "latin1_no_cookie.py")
    )
    assert code == 2 and out == "" and "not text in its declared encoding" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("import os\n\n\ndef here():\n    return os."))
    code, out, _ = run("predict", "--checkpoint", model, "-")
    assert code == 0 and out.endswith("\n")
