"""The live demo: a drawing becomes the model's input as the digits were made, both bridges'
models read the run's test digits, an untrained model does not, and the page works in a browser.

One small run through the `train` command's own code path (both bridges, few epochs) serves
every test here; the browser tests (marker `browser`) need `make setup-demo` and Chromium.
"""
# points: 0

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# pytest puts tests/ on sys.path; mypy, whose path is src/, knows this file as tests.browser
from browser import chromium, demo_server, screenshot, wait_for, wait_for_text  # type: ignore[import-not-found]

from {{ cookiecutter.package_name }} import demo
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.demo_server import DemoUnavailable
from {{ cookiecutter.package_name }}.model import HybridModel, save_hybrid

PACKAGE = "{{ cookiecutter.package_name }}"
needs_tfpyth = pytest.mark.skipif(
    importlib.util.find_spec("tfpyth") is None,
    reason="the run trains through tfpyth too: run `make setup`",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs/train of `train --bridge both` on the digits, with the smoke's network, 8 epochs."""
    if importlib.util.find_spec("tfpyth") is None:
        pytest.skip("the run trains through tfpyth too: run `make setup`")
    out = tmp_path_factory.mktemp("project") / "runs" / "train"
    code = main(["train", "--bridge", "both", "--epochs", "8", "--hidden", "128,8",
                 "--lr", "0.003", "--out", str(out)])  # fmt: skip
    assert code == 0 and demo.checkpoints(out).keys() == {"dlpack", "tfpyth"}
    return out


def correct(models: dict[str, HybridModel], x: np.ndarray, y: np.ndarray) -> dict[str, int]:
    """How many of the digits ``x`` each model reads as their label, through the page's path."""
    counts = dict.fromkeys(models, 0)
    for pixels, label in zip(x, y, strict=True):
        drawn = demo.to_model_input(demo.render(pixels, scale=35), demo.image_side(pixels.size))
        for bridge, probs in demo.probabilities(models, drawn).items():
            counts[bridge] += int(probs.argmax() == label)
    return counts


def test_a_drawing_is_cropped_centred_and_averaged_like_the_digits():
    digit = np.zeros((8, 8), np.float32)
    digit[:, 3:5] = 1.0  # a "1": two full columns in the middle
    digit[7, 2:6] = 0.5
    assert np.allclose(
        demo.to_model_input(demo.render(digit.ravel(), 35), 8), digit.ravel(), atol=0.01
    )
    # the same strokes drawn small, off-centre, on a large transparent RGBA canvas
    canvas = np.zeros((600, 500, 4), np.uint8)
    small = demo.render(digit.ravel(), scale=20)  # 160 x 160, ink black on white
    canvas[400:560, 30:190, 3] = 255 - small  # opaque where inked, transparent paper elsewhere
    assert np.allclose(demo.to_model_input(canvas, 8), digit.ravel(), atol=0.01)
    # MNIST's digits keep a 4-pixel margin; each pixel is the ink's mean, not its maximum
    wide = demo.to_model_input(
        np.kron(255 - 255 * np.eye(2, dtype=np.uint8), np.ones((10, 10), np.uint8)), 28
    )
    grid = wide.reshape(28, 28)
    assert grid[:4].max() == 0 and grid[:, -4:].max() == 0 and grid[4:24, 4:24].sum() > 0
    assert np.isclose(demo.to_model_input(np.full((10, 10), 128, np.uint8), 8).max(), 1 - 128 / 255)
    with pytest.raises(ValueError, match="empty"):
        demo.to_model_input(np.full((50, 50, 4), 0, np.uint8), 8)


def test_the_verdict_says_whether_the_bridges_agree():
    sure, unsure = np.eye(10)[7], np.full(10, 0.1)
    unsure[1] = 0.19
    assert demo.verdict({"dlpack": sure, "tfpyth": sure}).startswith("Both bridges say 7 (")
    assert demo.verdict({"dlpack": sure, "tfpyth": unsure}) == (
        "The bridges disagree: dlpack says 7, tfpyth says 1 (dlpack 100.0%, tfpyth 19.0%)"
    )


@needs_tfpyth
def test_both_bridges_read_the_runs_test_digits_and_an_untrained_model_does_not(run, tmp_path):
    x, y = demo.load_examples(run)
    assert sorted(y.tolist()) == list(range(10))  # one test digit of every class
    loaded = demo.load_demo(run)
    assert re.search(r"test accuracy dlpack \d+\.\d%, tfpyth \d+\.\d%", loaded.summary)
    assert min(correct(loaded.models, x, y).values()) >= 8
    seen, probs, line = loaded.answer(demo.render(x[3], scale=35))
    assert seen.shape == (256, 256) and set(probs) == {"dlpack", "tfpyth"}
    assert all(np.isclose(p.sum(), 1.0, atol=1e-5) for p in probs.values())
    assert line.startswith(f"Both bridges say {y[3]} ")
    # break it: the DLPack side's weights replaced by the same network, never trained
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    model = loaded.models["dlpack"]
    save_hybrid(
        HybridModel(model.n_features, model.n_classes, model.config), broken / "dlpack" / "model.pt"
    )
    counts = correct(demo.load_models(broken), x, y)
    assert counts["dlpack"] <= 4 and counts["tfpyth"] >= 8
    lines = [demo.load_demo(broken).answer(demo.render(p, scale=35))[2] for p in x]
    assert any(line.startswith("The bridges disagree") for line in lines)


@needs_tfpyth
def test_the_demo_takes_the_newest_run_with_a_model(run, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(run, runs / "train")
    (runs / "bench").mkdir()
    (runs / "bench" / "report.json").write_text("{}")  # newer, but holds no model
    assert demo.find_run(root=runs) == runs / "train"
    with pytest.raises(DemoUnavailable, match="make smoke"):
        demo.find_run(runs / "bench")
    with pytest.raises(DemoUnavailable, match="make smoke"):
        demo.find_run(root=tmp_path / "nothing")


def test_without_a_run_the_demo_says_to_run_the_smoke_first(caplog):
    assert main(["demo"]) == 1
    assert "run make smoke first" in caplog.text


@needs_tfpyth
def test_without_the_demo_group_the_demo_exits_with_the_setup_line(run):
    script = (
        "import runpy, sys\n"
        "sys.modules['gradio'] = None\n"  # import gradio now fails, as without the demo group
        f"sys.argv = ['{PACKAGE}', 'demo', '--run', {str(run)!r}]\n"
        f"runpy.run_module('{PACKAGE}', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr
    assert "make setup-demo" in done.stderr.strip().splitlines()[-1]


@needs_tfpyth
def test_the_space_holds_the_runs_models_and_examples(run, tmp_path, capsys):
    out = tmp_path / "space"
    assert main(["space", "--run", str(run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    for name in ("report.json", "examples.npz", "dlpack/model.pt", "tfpyth/model.pt"):
        assert (out / "run" / name).read_bytes() == (run / name).read_bytes(), name
    assert (out / PACKAGE / "demo.py").is_file()
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in requirements  # tfpyth's metadata would make pip refuse the Space
    assert not any(line.startswith("tfpyth") for line in requirements)
    assert main(["space", "--run", str(tmp_path / "none"), "--out", str(tmp_path / "s2")]) == 1
    assert not (tmp_path / "s2").exists()


@pytest.mark.browser
@needs_tfpyth
def test_the_spaces_app_builds_the_demo_standalone(run, tmp_path):
    pytest.importorskip("gradio", reason="the demo group is not installed: make setup-demo")
    out = tmp_path / "space"
    assert main(["space", "--run", str(run), "--out", str(out)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import runpy\n"
        f"app = runpy.run_path({str(out / 'app.py')!r})['demo']\n"
        "print(type(app).__name__, app.title)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "Blocks Two bridges, one digit"


def answered(text: str) -> bool:
    """The verdict line once the models answered (an error or nothing does not count)."""
    return bool(re.match(r"(Both bridges say \d|The bridges disagree: )", text))


@pytest.mark.browser
@needs_tfpyth
def test_picking_a_test_digit_or_drawing_one_shows_both_bridges_predictions(run):
    x, y = demo.load_examples(run)
    with demo_server("--run", str(run)) as url, chromium() as driver:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        driver.get(url)
        wait_for(driver, "#examples button.gallery-item")
        driver.find_elements(By.CSS_SELECTOR, "#examples button.gallery-item")[7].click()
        line = wait_for_text(driver, "#verdict textarea", answered)
        assert line.startswith(f"Both bridges say {y[7]} ("), line
        for bridge in ("dlpack", "tfpyth"):
            top = wait_for_text(driver, f"#label-{bridge}", lambda text: "%" in text)
            assert top.splitlines()[1] == str(y[7]), top  # the big digit under the title
        screenshot(driver, "tfpyth-demo")

        # draw a "7" with the brush: a bar, then a stroke down to the left
        driver.find_element(By.CSS_SELECTOR, "#drawing button[aria-label='Clear canvas']").click()
        driver.find_element(By.CSS_SELECTOR, "#drawing button[aria-label='Brush']").click()
        canvas = driver.find_element(By.CSS_SELECTOR, "#drawing canvas")
        size = min(canvas.size["width"], canvas.size["height"])
        strokes = ActionChains(driver).move_to_element_with_offset(
            canvas, int(-0.25 * size), int(-0.35 * size)
        )
        strokes.click_and_hold()
        for k in range(1, 21):
            dx, dy = (
                (-0.25 + 0.5 * k / 10, -0.35)
                if k <= 10
                else (0.25 - 0.025 * (k - 10), -0.35 + 0.075 * (k - 10))
            )
            strokes.move_to_element_with_offset(canvas, int(dx * size), int(dy * size))
        strokes.release().perform()
        driver.find_element(By.CSS_SELECTOR, "#predict").click()
        drawn = wait_for_text(
            driver, "#verdict textarea", lambda text: answered(text) and text != line
        )
        screenshot(driver, "tfpyth-demo-drawn")
        assert drawn.startswith("Both bridges say "), drawn
