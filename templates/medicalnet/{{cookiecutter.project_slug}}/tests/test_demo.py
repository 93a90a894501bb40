"""The live demo: its plain functions over a real smoke run (no Gradio), the demo and space
commands, and the page itself in a headless browser (marker ``browser``)."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.demo import (
    ARMS,
    RUN_FILES,
    best_slice,
    checkpoint_name,
    dice_summary,
    load_demo_run,
    overlay,
)
from {{ cookiecutter.package_name }}.demo_server import DemoUnavailable
from {{ cookiecutter.package_name }}.model import smoke_unet
from {{ cookiecutter.package_name }}.smoke import DEMO_SCAN_COUNT, MARGIN


@pytest.fixture(scope="module")
def demo_run(smoke_run):
    return load_demo_run(smoke_run[1])


def whole_scan_dice(text, arm):
    """The whole-scan Dice the page's text gives ``arm`` (None when it gives none)."""
    found = re.search(re.escape(ARMS[arm]) + r": Dice (\S+) on the whole scan", text)
    return found.group(1) if found else None


def test_the_demo_segments_its_scans_exactly_as_the_smoke_run_scored_them(smoke_run, demo_run):
    # the demo runs the checkpoints again, through the same preprocessing, on the scans the run
    # kept: every predictor's Dice per scan is the one the run recorded for that test scan
    cases = json.loads((smoke_run[1] / "cases.json").read_text())["dice"]
    assert len(demo_run.scans) == DEMO_SCAN_COUNT
    for arm in ARMS:
        assert demo_run.dice[arm] == pytest.approx(cases[arm][:DEMO_SCAN_COUNT], abs=1e-5), arm
    assert demo_run.dice["medicalnet"] != demo_run.dice["scratch"]  # two networks, not one


def test_the_networks_beat_the_baseline_on_the_demo_scans_and_an_untrained_one_does_not(
    smoke_run, demo_run, tmp_path
):
    baseline = np.mean(demo_run.dice["threshold"])
    for arm in ("medicalnet", "scratch"):
        assert np.mean(demo_run.dice[arm]) >= baseline + MARGIN, arm
    # the same run with the pretrained arm's checkpoint replaced by an untrained network
    broken = shutil.copytree(smoke_run[1], tmp_path / "smoke")
    torch.manual_seed(0)
    torch.save(smoke_unet(2).state_dict(), broken / checkpoint_name("medicalnet"))
    untrained = load_demo_run(broken)
    assert np.nanmean(untrained.dice["medicalnet"]) < baseline
    assert untrained.dice["scratch"] == demo_run.dice["scratch"]


def test_the_overlay_colours_found_wrong_and_missed_voxels_over_the_grey_scan():
    image = np.zeros((4, 4), dtype=np.float32)
    image[3, 3] = 4.0  # a bright voxel, nothing labelled
    label, pred = np.zeros((4, 4), dtype=np.int64), np.zeros((4, 4), dtype=np.int64)
    label[0, 0] = pred[0, 0] = 1  # found
    pred[0, 1] = 1  # predicted, not there
    label[1, 0] = 1  # there, missed
    picture = overlay(image, label, pred, zoom=3).astype(int)
    assert picture.shape == (12, 12, 3)
    assert (picture[0:3, 0:3] == picture[0, 0]).all()  # one voxel, one 3x3 block
    red, green, blue = (picture[..., c] for c in range(3))
    assert green[0, 0] > max(red[0, 0], blue[0, 0])
    assert red[0, 3] > max(green[0, 3], blue[0, 3])
    assert blue[3, 0] > max(red[3, 0], green[3, 0])
    grey = picture[6, 6]
    assert grey[0] == grey[1] == grey[2] and 0 < grey[0] < picture[9, 9, 0] == 255


def test_the_page_starts_where_the_target_is_largest_and_gives_every_dice(demo_run):
    scan = 0
    label = demo_run.labels[scan]
    start = best_slice(label)
    per_slice = (label > 0).sum(axis=(1, 2))
    assert per_slice[start] == per_slice.max() > 0
    text = dice_summary(demo_run, scan, start)
    assert f"{per_slice[start]} target voxels" in text
    for arm in ARMS:
        assert whole_scan_dice(text, arm) == f"{demo_run.dice[arm][scan]:.2f}", arm
    # a slice where neither the truth nor any prediction has the target has no Dice
    empty = [
        d
        for d in range(label.shape[0])
        if per_slice[d] == 0 and all(demo_run.preds[arm][scan, d].max() == 0 for arm in ARMS)
    ]
    assert empty, "every slice has some target"
    assert text.count("n/a") == 0
    assert dice_summary(demo_run, scan, empty[0]).count("n/a on this slice") == len(ARMS)


def test_a_run_without_the_demo_files_says_to_run_make_smoke(smoke_run, tmp_path, capsys):
    with pytest.raises(DemoUnavailable, match="make smoke"):
        load_demo_run(tmp_path)
    partial = shutil.copytree(smoke_run[1], tmp_path / "partial")
    (partial / checkpoint_name("scratch")).unlink()
    with pytest.raises(DemoUnavailable, match=checkpoint_name("scratch")):
        load_demo_run(partial)
    assert main(["demo"]) == 3  # no run at all (the tests' runs folder is empty)
    assert "make smoke" in capsys.readouterr().err


def test_without_the_demo_group_the_demo_command_says_make_setup_demo(
    smoke_run, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now raises ImportError
    for name in ("GRADIO_ANALYTICS_ENABLED", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--run", str(smoke_run[1])]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "make setup-demo" in err[0]


def test_make_space_bundles_the_files_the_demo_loads(smoke_run, tmp_path, capsys):
    out = tmp_path / "space"
    assert main(["space", "--run", str(smoke_run[1]), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    for name in RUN_FILES:
        assert (out / "run" / name).read_bytes() == (smoke_run[1] / name).read_bytes(), name
    assert "build_app" in (out / "app.py").read_text()


@pytest.mark.browser
def test_the_space_app_builds_the_demo_standalone_from_another_folder(smoke_run, tmp_path):
    pytest.importorskip("gradio", reason="the demo group is not installed: make setup-demo")
    out = tmp_path / "space"
    assert main(["space", "--run", str(smoke_run[1]), "--out", str(out)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = textwrap.dedent(f"""
        import runpy
        app = runpy.run_path({str(out / "app.py")!r})["demo"]
        print(type(app).__name__, app.title)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Blocks MedicalNet U-Net"), done.stdout


@pytest.mark.browser
def test_the_demo_page_shows_a_scan_its_overlays_and_every_dice(smoke_run, demo_run):
    # here, not at the top: where the package's name sorts after "tests", ruff's import order
    # would differ between bakes
    from tests.browser import (
        browser_or_skip,
        chromium,
        demo_server,
        screenshot,
        wait_for,
        wait_for_text,
    )

    browser_or_skip()  # before the server starts: skip, with the reason, without the demo group
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    best = int(np.argmax(demo_run.dice["medicalnet"]))
    worst = int(np.argmin(demo_run.dice["medicalnet"]))

    def shows(scan):
        def check(text):
            return text.startswith(demo_run.scans[scan] + ",") and all(
                whole_scan_dice(text, arm) == f"{demo_run.dice[arm][scan]:.2f}" for arm in ARMS
            )

        return check

    with demo_server("--run", str(smoke_run[1])) as url, chromium() as driver:
        driver.get(url)
        # the page opens on the scan the pretrained network gets best, at its largest slice
        wait_for_text(driver, "#dice textarea", shows(best))
        for arm in ARMS:
            picture = wait_for(driver, f"#overlay-{arm} img")
            assert picture.get_attribute("src"), arm
        # scroll one slice down: the page follows, with that slice's own count and Dice
        start, last = best_slice(demo_run.labels[best]), len(demo_run.labels[best]) - 1
        voxels = int((demo_run.labels[best, start - 1] > 0).sum())
        assert start > 0
        wait_for(driver, "#slice input[type=range]").send_keys(Keys.ARROW_LEFT)
        wait_for_text(
            driver,
            "#dice textarea",
            lambda text: f"axial slice {start - 1} of 0-{last} ({voxels} target voxels" in text,
        )
        # the hardest scan, from the examples
        example = driver.find_element(
            By.XPATH, f"//button[normalize-space()='{demo_run.scans[worst]}']"
        )
        example.click()
        text = wait_for_text(driver, "#dice textarea", shows(worst))
        assert f"axial slice {best_slice(demo_run.labels[worst])} " in text
        assert math.isfinite(demo_run.dice["medicalnet"][worst])
        driver.set_window_size(1280, 1300)  # the whole page, from its title down
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "medicalnet-demo")
