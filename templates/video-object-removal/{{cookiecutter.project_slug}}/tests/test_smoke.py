"""The smoke run, as `make smoke` runs it: it meets every target on the project's seed, its report
has the agreed shape, its numbers come from the scenes it scored, and a miss exits 1."""

# points: 2

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import smoke
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
from {{ cookiecutter.package_name }}.metrics import mean_iou, psnr_in
from {{ cookiecutter.package_name }}.synthetic import make_clip
from {{ cookiecutter.package_name }}.video import read_video

TARGETS = {
    "tracked_share",
    "iou_over_static",
    "psnr_over_unfilled",
    "psnr_over_telea",
    "flicker_vs_telea",
    "mp4_over_telea",
}


def run_cli(argv: list[str]) -> tuple[int, dict[str, Any]]:
    """Run the command line; return its exit code and its last stdout line as JSON."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(argv)
    return code, json.loads(buffer.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("smoke")
    code, report = run_cli(["smoke", "--out", str(out)])
    return code, report, out


def test_the_smoke_run_meets_every_target_and_exits_0(smoke_run):
    code, report, _ = smoke_run
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert set(report["targets"]) == TARGETS
    missed = {k: v for k, v in report["targets"].items() if not v["met"]}
    assert report["ok"] is True and code == 0, missed
    for target in report["targets"].values():
        assert set(target) == {"value", "op", "threshold", "met", "source"}
        assert target["source"].startswith("baseline:")  # every target is against a baseline


def test_the_targets_are_computed_from_the_scenes_it_scored(smoke_run):
    _, report, _ = smoke_run
    m, t = report["metrics"], report["targets"]
    scenes = m["per_scene"]
    assert len(scenes) == smoke.N_SCENES and m["seed"] == DEFAULT_SEED
    # Several different scenes, not one scene scored five times.
    assert len({round(s["psnr_unfilled"], 3) for s in scenes}) == len(scenes)
    assert len({round(s["iou_static"], 3) for s in scenes}) == len(scenes)

    def median(f) -> float:
        return float(np.median([f(s) for s in scenes]))

    approx = pytest.approx
    assert t["iou_over_static"]["value"] == approx(
        median(lambda s: s["iou"] - s["iou_static"]), abs=1e-5
    )
    assert t["psnr_over_telea"]["value"] == approx(
        median(lambda s: s["psnr"] - s["psnr_telea"]), abs=1e-5
    )
    assert t["psnr_over_unfilled"]["value"] == approx(
        median(lambda s: s["psnr"] - s["psnr_unfilled"]), abs=1e-5
    )
    tracked = np.mean([s["iou"] - s["iou_static"] >= smoke.TRACKED_MARGIN for s in scenes])
    assert t["tracked_share"]["value"] == approx(tracked)
    assert m["iou_worst"] <= m["iou_median"] and m["psnr_worst"] <= m["psnr_median"]


def test_the_baselines_are_measured_honestly(smoke_run):
    """A weakened baseline would make every target easy: recompute what can be recomputed."""
    _, report, _ = smoke_run
    for k, scores in enumerate(report["metrics"]["per_scene"]):
        clip = make_clip(DEFAULT_SEED, k)
        still = mean_iou([clip.boxes[0]] * len(clip.boxes), clip.boxes)
        assert scores["iou_static"] == pytest.approx(still, abs=1e-5)
        # The unfilled frames differ from the clean plates only on the object, so scoring a
        # larger region can only raise their PSNR above the object-only value.
        assert scores["psnr_unfilled"] >= psnr_in(clip.frames, clip.clean, clip.masks) - 1e-4
        # Telea does fill: clearly better than the unfilled hole, clearly worse than the pipeline.
        assert scores["psnr_unfilled"] + 3 < scores["psnr_telea"] < scores["psnr"]
        assert scores["flicker"] < scores["flicker_telea"]


def test_the_run_leaves_its_report_and_videos(smoke_run):
    _, report, out = smoke_run
    saved = json.loads((out / "report.json").read_text())
    assert saved["targets"] == report["targets"]
    frames, _ = read_video(out / "scene0_removed.mp4")
    assert len(frames) == smoke.N_FRAMES
    assert (out / "scene0_input.mp4").stat().st_size > 0


def test_a_missed_target_prints_the_report_and_exits_1(tmp_path, monkeypatch):
    def returns_input(frames, masks):
        return frames.copy()

    broken = smoke.Pipeline(filler=returns_input)
    monkeypatch.setattr(smoke, "Pipeline", lambda: broken)
    code, report = run_cli(["smoke", "--out", str(tmp_path), "--scenes", "1"])
    assert code == 1 and report["ok"] is False
    assert report["targets"]["psnr_over_unfilled"]["met"] is False


def test_no_scene_is_an_error():
    with pytest.raises(ValueError, match="n_scenes"):
        smoke.run_smoke(n_scenes=0)
