"""The live demo: its plain functions (no Gradio needed) remove the object for a reason the
known background shows, follow the run's settings and refuse bad boxes with the reason; the
browser tests serve `python -m {{ cookiecutter.package_name }} demo` over a run and drive it in
headless Chromium; the Space made from a run builds the same app on its own."""

# points: 0

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.demo import (
    BOX_COLOR,
    box_from_clicks,
    build_app,
    first_frame,
    load_settings,
    preview_scale,
    read_box,
    remove_from_clip,
    write_examples,
    write_webm,
)
from {{ cookiecutter.package_name }}.demo_server import DemoUnavailable
from {{ cookiecutter.package_name }}.metrics import psnr_in
from {{ cookiecutter.package_name }}.synthetic import make_clip
from {{ cookiecutter.package_name }}.video import read_video

PACKAGE = "{{ cookiecutter.package_name }}"
PROJECT = Path(__file__).resolve().parents[1]


def write_run(folder: Path, **config: object) -> Path:
    """A finished run folder as the smoke run leaves it (its settings, a report)."""
    folder.mkdir(parents=True)
    settings = {"command": "smoke", "seed": 0, "scenes": 5, "frames": 40, "tracker": "csrt",
                "method": "temporal-median", "dilate_px": 6, "radius": 5, **config}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(settings))
    metrics = {"iou_median": 0.89, "iou_static_median": 0.12, "psnr_median": 40.5,
               "psnr_telea_median": 17.5, "scenes": 5}  # fmt: skip
    targets = {"a": {"met": True}, "b": {"met": False}}
    (folder / "report.json").write_text(json.dumps({"ok": False, "metrics": metrics,
                                                    "targets": targets}))  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The app's first synthetic example (path, box) over a smoke-like run."""
    root = tmp_path_factory.mktemp("demo")
    settings = load_settings(write_run(root / "runs" / "smoke"))
    path, box, _ = write_examples(settings, root / "examples")[0]
    return settings, Path(path), box, root


@pytest.fixture(scope="module")
def removed(example):
    """The app's answer for the first example, with its true box and the run's settings."""
    settings, path, box, root = example
    return remove_from_clip(path, box, settings, root / "out")


def test_without_a_run_or_its_files_the_demo_says_to_run_the_smoke(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DemoUnavailable, match="make smoke"):
        load_settings(None)
    run = tmp_path / "runs" / "half"
    run.mkdir(parents=True)
    (run / "report.json").write_text("{}")
    with pytest.raises(DemoUnavailable, match=r"lacks config\.json: run make smoke"):
        build_app(run)  # refused before Gradio is imported: no demo group needed


def test_the_settings_and_the_headline_come_from_the_run(tmp_path):
    settings = load_settings(
        write_run(tmp_path / "mine", tracker="kcf", method="telea", dilate_px=3, seed=7)
    )
    assert (settings.run, settings.tracker, settings.method) == ("mine", "kcf", "telea")
    assert (settings.dilate_px, settings.seed) == (3, 7)
    assert "IoU 0.89" in settings.headline and "40.5 dB" in settings.headline
    assert "1 of 2 targets met" in settings.headline


def test_the_examples_are_scenes_the_smoke_run_did_not_score_with_their_true_first_box(example):
    settings, path, box, _ = example
    assert settings.scenes == 5 and path.name == "synthetic-seed0-scene5-40f.webm"
    clip = make_clip(0, 5, n_frames=40)
    assert box == ",".join(str(v) for v in clip.boxes[0])
    frames, _ = read_video(path)
    assert frames.shape == clip.frames.shape
    # VP8 is lossy, but the clip is the scene: far closer to it than to another scene
    same = np.abs(frames.astype(float) - clip.frames).mean()
    other = np.abs(frames.astype(float) - make_clip(0, 6, n_frames=40).frames).mean()
    assert same < 6 < other


def test_an_example_loses_its_object_and_the_fill_beats_telea_and_the_untouched_clip(removed):
    result = removed
    assert result.scores is not None and result.lost_frames == 0
    scores = result.scores
    assert scores["iou"] > 0.6
    assert scores["psnr"] > scores["psnr_telea"] + 6 > scores["psnr_unfilled"] + 12
    assert f"hole PSNR {scores['psnr']:.1f} dB" in result.summary
    frames, _ = read_video(result.video)  # the clip the browser gets back
    assert frames.shape == (40, 144, 192, 3)
    assert result.sheet.shape[2] == 3 and result.sheet.shape[0] > 2 * 144


def test_a_box_beside_the_object_leaves_it_in_the_clip(example, removed):
    settings, path, box, root = example
    x, y, w, h = (int(v) for v in box.split(","))
    beside = f"{(x + w + 20) % (192 - w)},{y},{w},{h}"
    good = removed.scores
    wrong = remove_from_clip(path, beside, settings, root / "wrong").scores
    assert good is not None and wrong is not None
    assert wrong["iou"] < 0.2
    assert wrong["psnr"] < good["psnr"] - 10


def test_a_run_whose_fill_is_telea_gives_telea_not_the_temporal_median(example, removed, tmp_path):
    # The run's settings are what the app runs: a run made with per-frame Telea fills worse.
    _, path, box, _ = example
    telea = load_settings(write_run(tmp_path / "telea", method="telea"))
    median = removed.scores
    worse = remove_from_clip(path, box, telea, tmp_path / "t").scores
    assert median is not None and worse is not None
    assert worse["psnr"] == pytest.approx(worse["psnr_telea"])
    assert worse["psnr"] < median["psnr"] - 6


def test_a_clip_of_your_own_is_not_scored_but_still_cleaned(example, tmp_path):
    settings, path, box, _ = example
    mine = shutil.copy(path, tmp_path / "holiday.webm")
    result = remove_from_clip(mine, box, settings, tmp_path / "out")
    assert result.scores is None and "Known background" not in result.summary
    assert "Removed the object from 40 frames of 192x144" in result.summary


def test_a_wide_clip_is_scaled_down_with_its_box(tmp_path, example):
    settings = example[0]
    clip = make_clip(0, 5, n_frames=24)
    big = np.repeat(np.repeat(clip.frames[:8], 4, axis=1), 4, axis=2)  # 768x576
    path = write_webm(tmp_path / "big.webm", big, 24.0)
    x, y, w, h = (4 * v for v in clip.boxes[0])
    result = remove_from_clip(path, f"{x},{y},{w},{h}", settings, tmp_path / "out")
    assert "8 frames of 640x480 (scaled down from 768x576)" in result.summary
    out = read_video(result.video)[0]
    assert out.shape == (8, 480, 640, 3)

    def small(images: np.ndarray, interpolation: int) -> np.ndarray:
        """The 192x144 scene at 640x480, as the app scales the 768x576 clip."""
        return np.stack([cv2.resize(i, (640, 480), interpolation=interpolation) for i in images])

    # the object is gone where it really was: the box was scaled with the clip
    clean = small(np.repeat(np.repeat(clip.clean[:8], 4, axis=1), 4, axis=2), cv2.INTER_AREA)
    where = small(clip.masks[:8].astype(np.uint8), cv2.INTER_NEAREST) > 0
    untouched = small(big, cv2.INTER_AREA)
    assert psnr_in(out, clean, where) > psnr_in(untouched, clean, where) + 15


def test_boxes_that_are_not_four_numbers_or_leave_the_frame_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="four integers"):
        read_box("1,2,3", 192, 144)
    with pytest.raises(ValueError, match="sticks out of the 192x144 frame"):
        read_box("180,0,30,30", 192, 144)
    with pytest.raises(ValueError, match="outside the 192x144 frame"):
        read_box("500,500,10,10", 192, 144)
    assert read_box(" 10, 20, 30, 40", 192, 144) == (10, 20, 30, 40)


def test_two_clicks_make_the_box_between_them_and_the_first_frame_shows_it(example):
    _, path, _, _ = example
    corner, box = box_from_clicks(None, (60, 40))
    assert (corner, box) == ((60, 40), None)
    assert box_from_clicks(corner, (20, 90)) == (None, "20,40,41,51")
    image, note = first_frame(path, "20,40,41,51")
    assert image is not None and "192x144" in note and "20,40,41,51" in note
    scale = preview_scale(192)
    assert image.shape[:2] == (144 * scale, 192 * scale)
    green = np.array(BOX_COLOR[::-1])  # the preview is RGB
    assert (image[40 * scale, 30 * scale] == green).all()  # on the box's top edge
    assert not (image[60 * scale, 40 * scale] == green).all()  # inside it
    _, bad = first_frame(path, "300,0,10,10")
    assert "outside the 192x144 frame" in bad


def test_without_the_demo_group_the_demo_command_says_make_setup_demo(tmp_path):
    run = write_run(tmp_path / "run")
    blocked = (
        f"import sys; sys.modules['gradio'] = None; from {PACKAGE}.__main__ import main; "
        f"raise SystemExit(main(['demo', '--run', {str(run)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "make setup-demo" in done.stderr


def test_the_space_of_a_run_without_its_config_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.json").write_text("{}")
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "space", "--run", str(run), "--out", str(tmp_path / "s")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "make smoke" in done.stderr
    assert not (tmp_path / "s").exists()


# --- in a real browser, over a run the smoke's own code made ---


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """A reduced smoke run (2 scenes of 24 frames) through the smoke command itself."""
    missing = "the demo group is not installed: make setup-demo"
    gradio = pytest.importorskip("gradio", reason=missing)
    if getattr(gradio, "__file__", None) is None:  # uninstalled: only its runtime files are left
        pytest.skip(missing)
    run = tmp_path_factory.mktemp("runs") / "smoke"
    smaller = ["--scenes", "2", "--frames", "24"]
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "smoke", "--out", str(run), *smaller],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (run / "report.json").is_file(), done.stderr  # targets may miss on 2 scenes: fine
    return run


@pytest.mark.browser
def test_the_demo_removes_the_object_of_an_example_in_a_browser(smoke_run):
    # imported here: where it sorts among the imports above depends on the package's name
    from tests.browser import chromium, demo_server, screenshot, wait_for, wait_for_text

    with demo_server("--run", str(smoke_run)) as url, chromium() as driver:
        driver.get(url)
        header = wait_for_text(driver, "h1", lambda text: "Video object removal" in text)
        assert header
        assert "run smoke" in driver.find_element("css selector", "body").text
        wait_for(driver, "#examples button").click()  # the first synthetic clip
        box = wait_for_text(driver, "#box textarea", lambda text: text.count(",") == 3)
        wait_for_text(driver, "#frame-note", lambda text: "Your box, in green" in text)
        wait_for(driver, "#remove").click()
        summary = wait_for_text(driver, "#summary textarea", lambda text: "Removed" in text)
        found = re.search(r"hole PSNR ([\d.]+) dB, against ([\d.]+) dB for per-frame", summary)
        assert found, summary
        assert float(found[1]) > float(found[2]) + 6, summary
        assert "lost the object on 0 of 24 frames" in summary, summary
        assert box in driver.find_element("css selector", "#box textarea").get_attribute("value")
        video = wait_for(driver, "#result video")
        assert str(video.get_attribute("src")).endswith("-removed.webm")
        # the whole page in one picture
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, int(height) + 120)
        screenshot(driver, "video-object-removal-demo")


@pytest.mark.browser
def test_the_space_of_the_run_builds_the_app_on_its_own(smoke_run, tmp_path):
    out = tmp_path / "space"
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "space", "--run", str(smoke_run), "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=PROJECT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "run").iterdir()) == ["config.json", "report.json"]
    # built, not launched (run_path's __name__ is not "__main__"), from another folder
    check = (
        f"import runpy; app = runpy.run_path({str(out / 'app.py')!r})['demo']; "
        f"import {PACKAGE}; print(type(app).__name__, {PACKAGE}.__file__)"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": ""}
    built = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True, text=True, timeout=180, cwd=elsewhere, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    kind, source = built.stdout.split()
    assert kind == "Blocks" and source.startswith(str(out)), built.stdout
