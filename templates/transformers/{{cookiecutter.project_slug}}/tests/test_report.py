"""`report`: figures, the README's Results section and MODEL_CARD.md from a run folder."""

import json
import shutil
from pathlib import Path

import pytest
from matplotlib import image

from {{ cookiecutter.package_name }} import showcase
from {{ cookiecutter.package_name }}.__main__ import (
    main,
)
from {{ cookiecutter.package_name }}.report import (
    confident_mistakes,
    confusion_counts,
    make_report,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert 5_000 < path.stat().st_size < showcase.MAX_PNG_BYTES, path
    pixels = image.imread(path)
    assert pixels.shape[2] == 3 or pixels[..., 3].min() == 1.0  # opaque
    assert pixels[..., :3].std() > 0.02, f"{path} looks blank"


def test_report_of_the_smoke_run_makes_figures_results_and_a_model_card(
    smoke_run, tmp_path, monkeypatch
):
    assert smoke_run["returncode"] == 0, smoke_run["stderr"][-2000:]
    shutil.copy(README, tmp_path / "README.md")
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(smoke_run["out"])]) == 0
    figures = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert figures == ["confusion_matrix.png", "learning_curve.png", "targets.png"]
    for name in figures:
        check_png(tmp_path / "figures" / name)

    report = smoke_run["report"]
    parsed = showcase.parse_results(tmp_path / "README.md")
    assert set(parsed) == set(report["targets"])
    for name, target in report["targets"].items():
        assert parsed[name]["value"] == pytest.approx(target["value"], rel=1e-3, abs=1e-9)
        assert parsed[name]["threshold"] == pytest.approx(target["threshold"], rel=1e-3)
        assert parsed[name]["met"] is target["met"]
    readme = (tmp_path / "README.md").read_text()
    assert "![Confusion matrix" in readme and "No run yet" not in readme
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "## Intended use" in card and "## Limitations" in card
    assert f"{report['metrics']['parameters']}" in card

    again = make_report(smoke_run["out"], root=tmp_path)  # twice = once
    assert again["readme_changed"] is False
    assert (tmp_path / "README.md").read_text() == readme


def test_history_holds_every_step_and_every_epoch(smoke_run):
    rows = [
        json.loads(line) for line in (smoke_run["out"] / "history.jsonl").read_text().splitlines()
    ]
    steps = [row for row in rows if "loss" in row]
    epochs = [row for row in rows if "dev_accuracy" in row]
    metrics = smoke_run["report"]["metrics"]
    assert [row["step"] for row in steps] == list(range(1, metrics["train_steps"] + 1))
    assert [row["dev_accuracy"] for row in epochs] == pytest.approx(
        metrics["dev_accuracy_by_epoch"], abs=1e-6
    )
    config = json.loads((smoke_run["out"] / "config.json").read_text())
    assert config["command"] == "smoke" and "seed" in config


def test_confusion_counts_and_the_surest_mistakes_come_first():
    rows = [
        {
            "text": "the plot was dull",
            "label": "NEGATIVE",
            "predicted": "POSITIVE",
            "confidence": 0.6,
        },
        {
            "text": "i loved it | truly",
            "label": "POSITIVE",
            "predicted": "NEGATIVE",
            "confidence": 0.9,
        },
        {
            "text": "the cast was great",
            "label": "POSITIVE",
            "predicted": "POSITIVE",
            "confidence": 0.99,
        },
    ]
    assert confusion_counts(rows) == [[0, 1], [1, 1]]
    table = confident_mistakes(rows).splitlines()
    assert table[0].startswith("The 2 most confident mistakes of 3")
    assert table[4] == "| i loved it \\| truly | positive | negative | 0.900 |"
    assert table[5].startswith("| the plot was dull |")
    assert confident_mistakes(rows[2:]) == "No mistakes on the 1 held-out sentences."
