"""make report: a (tiny) smoke run's folder becomes figures and the README's Results section,
through the same commands `make smoke && make report` run."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.showcase import (
    MAX_PNG_BYTES,
    RESULTS_BEGIN,
    RESULTS_END,
    parse_results,
)

README = Path(__file__).resolve().parents[1] / "README.md"
FIGURES = ("over_time.png", "targets.png", "before_after.png")


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo-shaped folder after `smoke` (2 scenes of 24 frames, the fewest) and `report`."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copy(README, root / "README.md")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        main(["smoke", "--scenes", "2", "--frames", "24"])  # exit code: a tiny run may miss
        assert main(["report"]) == 0
    return root


def test_the_readme_has_one_results_section_for_report_to_write():
    text = README.read_text()
    assert text.count(RESULTS_BEGIN) == 1 and text.count(RESULTS_END) == 1


def test_the_smoke_run_leaves_a_run_folder_with_a_per_frame_history(reported):
    run = reported / "runs" / "smoke"
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] is not None and config["frames"] == 24
    assert "python" in json.loads((run / "environment.json").read_text())
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [(r["scene"], r["frame"]) for r in rows] == [(s, t) for s in (0, 1) for t in range(24)]
    assert rows[0]["iou"] == pytest.approx(1.0, abs=0.05)  # the tracker starts on the true box
    assert all(r["psnr"] is None or r["psnr"] > r["psnr_unfilled"] for r in rows)


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_is_a_small_png_that_is_not_blank(reported, name):
    image = pytest.importorskip("matplotlib.image").imread(reported / "figures" / name)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert np.asarray(image)[..., :3].std() > 0.05  # something drawn on the white
    assert (reported / "figures" / name).stat().st_size < MAX_PNG_BYTES


def test_the_animation_plays_input_beside_result(reported):
    with pytest.importorskip("PIL.Image").open(reported / "figures" / "removal.webp") as image:
        assert getattr(image, "n_frames", 1) > 4
        assert image.size == (2 * 192 + 4, 144)
    assert (reported / "figures" / "removal.webp").stat().st_size < 400_000


def test_the_results_section_holds_the_run_numbers_and_every_figure(reported):
    report = json.loads((reported / "runs" / "smoke" / "report.json").read_text())
    shown = parse_results(reported / "README.md")
    assert set(shown) == set(report["targets"])
    for name, target in report["targets"].items():
        assert shown[name]["value"] == pytest.approx(target["value"], rel=1e-3)
        assert shown[name]["threshold"] == pytest.approx(target["threshold"])
        assert shown[name]["met"] == target["met"]
    text = (reported / "README.md").read_text()
    for name in (*FIGURES, "removal.webp"):
        assert f"](figures/{name})" in text
    assert "No run yet" not in text


def test_report_twice_is_report_once(reported, monkeypatch, capsys):
    monkeypatch.chdir(reported)
    before = (reported / "README.md").read_text()
    capsys.readouterr()
    assert main(["report", "runs/smoke"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["readme_changed"] is False
    assert (reported / "README.md").read_text() == before


def test_report_without_a_run_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "make smoke" in capsys.readouterr().err
