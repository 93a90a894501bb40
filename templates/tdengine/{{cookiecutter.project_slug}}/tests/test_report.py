# points: 0
"""`make report` on a tiny run: the run folder, every figure, the README's Results section."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.runs import RunFolder
from {{ cookiecutter.package_name }}.showcase import MAX_PNG_BYTES, parse_results
from {{ cookiecutter.package_name }}.targets import beats_baseline, build_report

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
ALL = {"targets.png", "detection_over_time.png", "anomalies.png", "downsampled.png"}


def check_png(path: Path) -> None:
    """A valid PNG, small enough to commit, big enough to hold a chart, and not blank."""
    import matplotlib.image

    data = path.read_bytes()
    assert data.startswith(PNG), path
    assert 10_000 < len(data) < MAX_PNG_BYTES, (path, len(data))
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400, (path, pixels.shape)
    assert pixels[..., :3].std() > 0.05, f"{path} looks blank"
    assert pixels[..., 3].min() == 1.0 if pixels.shape[-1] == 4 else True, "opaque background"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of this project's README after `make smoke && make report` (a tiny smoke)."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "README.md").write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main(["smoke", "--devices", "4", "--days", "3", "--seed", "3"]) == 0
        assert main(["report"]) == 0
    return folder


def test_the_smoke_leaves_a_run_folder(project: Path) -> None:
    run = project / "runs" / "smoke"
    assert {p.name for p in run.iterdir()} == {
        "report.json",
        "history.jsonl",
        "config.json",
        "environment.json",
        "meter.npz",
        "detector.json",
    }
    assert json.loads((run / "config.json").read_text("utf-8"))["seed"] == 3
    assert json.loads((run / "environment.json").read_text("utf-8"))["packages"]["numpy"]
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text("utf-8").splitlines()]
    assert [r["hour"] for r in rows] == list(range(1, 3 * 24 + 1))  # one row per hour, 3 days
    report = json.loads((run / "report.json").read_text("utf-8"))
    assert sum(r["anomalous"] for r in rows) == report["metrics"]["anomalous_readings"]
    # the last row's cumulative F1 is the run's F1 over every reading
    assert rows[-1]["model_f1"] == pytest.approx(report["metrics"]["anomaly_f1"], abs=1e-4)
    assert rows[-1]["union_f1"] == pytest.approx(report["metrics"]["union_f1"], abs=1e-4)
    with np.load(run / "meter.npz") as meter:
        assert meter["flags"].shape == meter["ts"].shape == meter["label"].shape
        assert meter["forecast"].shape == meter["naive"].shape == (96,)


def test_report_draws_every_figure(project: Path) -> None:
    assert {p.name for p in (project / "figures").iterdir()} == ALL
    for path in (project / "figures").iterdir():
        check_png(path)


def test_the_results_section_holds_the_run(project: Path) -> None:
    readme = project / "README.md"
    report = json.loads((project / "runs/smoke/report.json").read_text("utf-8"))
    shown = parse_results(readme)
    assert set(shown) == set(report["targets"])
    for name, target in report["targets"].items():
        assert shown[name]["met"] == target["met"]
        assert shown[name]["op"] == target["op"]
        assert shown[name]["value"] == pytest.approx(target["value"], rel=1e-3)
        assert shown[name]["threshold"] == pytest.approx(target["threshold"], rel=1e-3)
    text = readme.read_text("utf-8")
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text.split("results:begin")[1]):
        assert (project / link).is_file(), link
    assert "The detector's settings, chosen on the dev fleets" in text


def test_report_twice_is_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    before = (project / "README.md").read_text("utf-8")
    assert main(["report", "runs/smoke"]) == 0
    assert (project / "README.md").read_text("utf-8") == before


def test_a_run_without_series_shows_its_targets_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest-like run (no history, no meter): the targets chart, no stale figure of an
    earlier run, and its numbers in Results."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "anomalies.png").write_bytes(PNG)  # left by an earlier report
    with RunFolder("ingest-power", {"seed": 0}) as folder:
        folder.finish(build_report(
            {"rows_generated": 1000, "rows_stored": 1000},
            {"rows_stored": beats_baseline(1000, "rows_generated", 1000, 0)},
            time.perf_counter(),
        ))  # fmt: skip
    assert main(["report"]) == 0
    assert {p.name for p in (tmp_path / "figures").iterdir()} == {"targets.png"}
    check_png(tmp_path / "figures" / "targets.png")
    assert parse_results(tmp_path / "README.md")["rows_stored"]["value"] == 1000


def test_report_without_a_run_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    assert main(["report"]) == 1
    assert "make smoke" in capsys.readouterr().err
