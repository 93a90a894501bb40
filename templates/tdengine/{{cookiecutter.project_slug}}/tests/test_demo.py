# points: 0
"""The live demo over a run: the checkpoint is the run's own detector, the readings come back
through the fake as generated, the feeder context is what finds a shift, the chart and episodes
say what the flags say; then the app itself, served and driven in headless Chromium (`browser`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.context import local_meters, local_series, meter_series
from {{ cookiecutter.package_name }}.data import LABELS, NORMAL, SHIFT
from {{ cookiecutter.package_name }}.demo import (
    ALL_DAYS,
    FakeStore,
    chart_svg,
    day_window,
    days_of,
    examples,
    fleet_of,
    inspect,
    latest_detector_run,
    load_checkpoint,
    read_meter,
    runs_of,
    summary,
)
from {{ cookiecutter.package_name }}.demo_server import DemoUnavailable
from {{ cookiecutter.package_name }}.evaluate import precision_recall_f1

PACKAGE = "{{ cookiecutter.package_name }}"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reduced smoke run (8 meters on two feeders, 3 days) through the command line."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main(["smoke", "--devices", "8", "--days", "3", "--seed", "3"]) == 0
    return folder / "runs" / "smoke"


@pytest.fixture(scope="module")
def store(run: Path):
    checkpoint = load_checkpoint(run)
    fake = FakeStore(fleet_of(checkpoint.fleet))
    yield fake
    fake.close()


def shift_day(run: Path) -> tuple[str, str]:
    """The example meter-day for shifts (the one holding the most shifted readings)."""
    checkpoint = load_checkpoint(run)
    rows, labels = examples(fleet_of(checkpoint.fleet), checkpoint.showcase)
    row = next(r for r, label in zip(rows, labels, strict=True) if label.startswith("shift:"))
    return row[1], row[2]


def stored(store: FakeStore, device: str):
    """`device` as the demo reads it: from the fake, with its feeder."""
    client = store.client_for(device)
    try:
        return read_meter(client, store.db, store.fleet, device)
    finally:
        client.close()


@pytest.fixture(scope="module")
def shift_result(run, store):
    """The run's detector on the example shift day, as the demo shows it."""
    device, day = shift_day(run)
    return inspect(load_checkpoint(run).detector, stored(store, device), day_window(day))


def test_the_checkpoint_is_the_detector_the_run_scored(run):
    # Restored from detector.json alone, it scores the run's fleet exactly as the smoke did.
    checkpoint = load_checkpoint(run)
    report = json.loads((run / "report.json").read_text("utf-8"))["metrics"]
    meters = local_meters(fleet_of(checkpoint.fleet))
    flags = np.concatenate([checkpoint.detector.flags(m) for m in meters])
    truth = np.concatenate([m.truth() for m in meters])
    assert precision_recall_f1(flags, truth)["f1"] == pytest.approx(report["anomaly_f1"], abs=1e-4)
    assert checkpoint.detector.name == report["detector"] == "scorer"


def test_a_meter_read_through_the_fake_is_the_fleet_as_generated(run, store):
    fleet = store.fleet
    device = fleet.devices[5].name
    meter = stored(store, device)
    local = next(m for m in local_meters(fleet) if m.device == device)
    for name in ("ts", "current", "voltage", "label"):
        np.testing.assert_array_equal(getattr(meter, name), getattr(local, name), err_msg=name)
    # the feeder's median comes from the other meters on the feeder, read back too
    np.testing.assert_allclose(meter.peer_voltage, local.peer_voltage, equal_nan=True)
    assert np.isfinite(meter.peer_voltage).mean() > 0.9


def test_the_feeder_context_is_what_finds_a_shift(run, store):
    # A shifted voltage channel looks normal on its own: read the same meter without its
    # feeder peers and the run's detector misses most of what it caught with them.
    device, day = shift_day(run)
    checkpoint = load_checkpoint(run)
    with_peers = stored(store, device)
    index = next(i for i, d in enumerate(store.fleet.devices) if d.name == device)
    alone = meter_series(store.fleet, [local_series(store.fleet)[index]])[0]
    assert np.isnan(alone.peer_voltage).all()

    def shift_recall(meter):
        result = inspect(checkpoint.detector, meter, day_window(day))
        shifted = np.asarray(result.meter.label) == SHIFT
        assert shifted.sum() >= 30, "the example day holds a shift"
        return result.flags[shifted].mean()

    found, blind = shift_recall(with_peers), shift_recall(alone)
    assert found >= 0.7, found
    assert blind <= found - 0.4, (found, blind)


def test_episodes_and_summary_say_what_the_flags_say(run, shift_result):
    _, day = shift_day(run)
    result = shift_result
    lo, hi = day_window(day) or (0, 0)
    assert ((result.meter.ts >= lo) & (result.meter.ts < hi)).all()
    assert result.readings > 1300  # a day of one-minute readings, less lost packets
    flagged = [e for e in result.episodes if e.why != "not flagged"]
    missed = [e for e in result.episodes if e.why == "not flagged"]
    assert sum(e.readings for e in flagged) == result.flagged > 0
    label = np.asarray(result.meter.label)
    for e in result.episodes:
        inside = (result.meter.ts >= e.start_ms) & (result.meter.ts <= e.end_ms)
        assert inside.sum() == e.readings
        assert result.flags[inside].all() if e in flagged else not result.flags[inside].any()
        kinds = {LABELS[k] for k in label[inside].tolist() if k != NORMAL}
        assert (e.fault == "none (false alarm)") if not kinds else set(e.fault.split(", ")) == kinds
    assert all(e.fault != "none (false alarm)" for e in missed)
    assert any("off its feeder" in e.why for e in flagged if "shift" in e.fault)
    scores = precision_recall_f1(result.flags, result.meter.truth())
    text = summary(result, "California.Test", "the loopback fake")
    assert f"caught **{result.caught:,} of {result.faulty:,}**" in text
    assert f"(recall {scores['recall']:.2f})" in text
    assert f"shift {int((label == SHIFT).sum())}" in text


def test_the_chart_draws_every_flag_and_every_injected_fault(shift_result):
    result = shift_result
    root = ET.fromstring(chart_svg(result))  # well-formed SVG
    dots = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "flag"]
    on = {k: [c for c in dots if c.get("data-channel") == k] for k in ("current", "voltage")}
    assert len(on["current"]) == result.on_current.sum()
    assert len(on["voltage"]) == result.on_voltage.sum()
    # every flag is drawn on a line, and a shift (a voltage fault) only on the voltage line
    np.testing.assert_array_equal(result.on_current | result.on_voltage, result.flags)
    shifted = np.asarray(result.meter.label) == SHIFT
    assert result.on_voltage[shifted].sum() > 0.7 * shifted.sum()
    assert result.on_current[shifted].sum() < 0.1 * shifted.sum()
    bands = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "fault"]
    label = np.asarray(result.meter.label)
    assert len(bands) == 2 * len(runs_of(label != NORMAL))
    injected = {LABELS[k] for k in set(label.tolist()) - {NORMAL}}
    assert {b.get("data-kind") for b in bands} == injected
    # dots sit where the flagged readings are: left to right in time
    xs = [float(c.get("cx", "nan")) for c in on["voltage"]]
    assert xs == sorted(xs)


def test_examples_point_at_meter_days_that_hold_their_fault(run):
    checkpoint = load_checkpoint(run)
    fleet = fleet_of(checkpoint.fleet)
    rows, labels = examples(fleet, checkpoint.showcase)
    assert rows[0][1:] == [checkpoint.showcase, ALL_DAYS]
    kinds = [label.split(":")[0] for label in labels[1:]]
    assert set(kinds) == {LABELS[k] for k in set(fleet.label.tolist()) - {NORMAL}}
    for (_, device, day), kind in zip(rows[1:], kinds, strict=True):
        lo, hi = day_window(day) or (0, 0)
        k = next(i for i, d in enumerate(fleet.devices) if d.name == device)
        rows_of = (fleet.device == k) & (fleet.ts >= lo) & (fleet.ts < hi)
        assert (fleet.label[rows_of] == LABELS.index(kind)).sum() > 0, (device, day, kind)


def test_a_run_without_a_detector_says_to_run_the_smoke(tmp_path):
    with pytest.raises(DemoUnavailable, match="make smoke"):
        latest_detector_run(tmp_path / "runs")
    (tmp_path / "runs" / "ingest-power").mkdir(parents=True)
    (tmp_path / "runs" / "ingest-power" / "report.json").write_text("{}")
    with pytest.raises(DemoUnavailable, match="make smoke"):
        latest_detector_run(tmp_path / "runs")
    with pytest.raises(DemoUnavailable, match="has no detector.json.*make smoke"):
        load_checkpoint(tmp_path / "runs" / "ingest-power")


def test_without_the_demo_group_the_demo_command_says_how_to_install_it(run):
    # gradio made unimportable, as in a project set up without `make setup-demo`
    code = (
        "import runpy, sys; sys.modules['gradio'] = None; "
        f"runpy.run_module('{PACKAGE}', run_name='__main__', alter_sys=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--run", str(run)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("error: the demo needs its dependency")
    assert "make setup-demo" in done.stderr


@pytest.mark.browser
def test_the_demo_shows_a_meter_and_its_anomalies_in_a_browser(run):
    # here, not at the top: where `tests` sorts among the imports depends on the package's name
    from tests.browser import chromium, demo_server, screenshot, wait_for, wait_for_text

    with chromium() as driver, demo_server("--run", str(run)) as url:  # skips without the group
        driver.get(url)
        wait_for(driver, "#summary")
        # the page opens on a meter-day: a summary with the counts, and the chart with red dots
        first = wait_for_text(driver, "#summary", lambda t: "caught" in t and "flagged" in t)
        assert "readings from the loopback fake" in first
        from selenium.webdriver.common.by import By

        def example(prefix: str):
            buttons = driver.find_elements(By.CSS_SELECTOR, "#examples button")
            return next(b for b in buttons if b.text.startswith(prefix))

        # every day of the report's meter, then the day holding the most shifted readings
        checkpoint = load_checkpoint(run)
        days = days_of(checkpoint.fleet)
        example("every fault of").click()
        showcase = str(checkpoint.showcase)
        wait_for_text(
            driver, "#summary", lambda t: showcase in t and days[0] in t and days[-1] in t
        )
        device, day = shift_day(run)
        example("shift:").click()
        text = wait_for_text(driver, "#summary", lambda t: device in t and t.count(day) == 2)
        assert "shift" in text and "caught" in text, text
        dots = driver.find_elements(By.CSS_SELECTOR, "#chart svg circle.flag")
        assert len(dots) > 20
        assert driver.find_elements(By.CSS_SELECTOR, "#chart svg rect.fault[data-kind='shift']")
        assert "off its feeder" in wait_for(driver, "#episodes").text
        driver.set_window_size(1280, 1500)  # the whole page in the screenshot
        driver.execute_script("window.scrollTo(0, 0)")
        path = screenshot(driver, "tdengine-demo")
    assert path.stat().st_size > 20_000


@pytest.mark.browser
def test_the_space_folder_builds_the_app_on_its_own(run, tmp_path):
    pytest.importorskip("gradio", reason="the demo group is not installed: make setup-demo")
    out = tmp_path / "space"
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "space", "--run", str(run), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "run" / "detector.json").is_file() and (out / "app.py").is_file()
    # app.py run from another folder builds the app from the Space's own copy of the package
    script = (
        "import runpy, sys; app = runpy.run_path(sys.argv[1])['demo']; "
        f"print(type(app).__name__, sys.modules['{PACKAGE}.demo'].__file__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = subprocess.run(
        [sys.executable, "-I", "-c", script, str(out / "app.py")],
        capture_output=True, text=True, timeout=180, cwd=elsewhere, env=env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    kind, source = built.stdout.strip().splitlines()[-1].split(" ", 1)
    assert kind == "Blocks"
    assert Path(source).resolve() == (out / PACKAGE / "demo.py").resolve()  # the Space's copy
