"""Rehearsal of the real run (README: Real run), offline and small.

A tiny DAVIS 2017 written in the official format (``JPEGImages/480p/<seq>/00000.jpg``, 8-bit
palette PNGs with the DAVIS palette in ``Annotations/480p/<seq>/``, ``ImageSets/2017/*.txt``),
zipped as the official archive is (every member under ``DAVIS/``), goes through the real
commands in the order ``make run`` and the README give them: ``fetch-davis --url file://...``
unpacks it into ``data/DAVIS``; ``bench-track`` and ``bench-inpaint`` (borrowed holes, and
E2FGVI's protocol with test masks in the authors' layout) read it with the loading code of the
real run; ``remove`` erases an object from a sequence folder. Each benchmark ends in the report
shape, whose published targets must be the README's.
"""

# points: 1

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.synthetic import make_clip
from {{ cookiecutter.package_name }}.video import read_annotation

pytestmark = pytest.mark.rehearsal

README = Path(__file__).resolve().parents[1] / "README.md"
FRAMES, HEIGHT, WIDTH = 8, 96, 128  # 480p in name and layout; tiny in pixels
SEQUENCES = {"rehearse-a": (11, 0), "rehearse-b": (12, 1)}  # name: (seed, scene)


def write_tiny_davis(root: Path, palette_png: Callable[[Path, np.ndarray], None]) -> None:
    for name, (seed, scene) in SEQUENCES.items():
        clip = make_clip(seed, scene, n_frames=24, height=HEIGHT, width=WIDTH)  # 24: the least
        images = root / "JPEGImages" / "480p" / name
        annotations = root / "Annotations" / "480p" / name
        images.mkdir(parents=True)
        annotations.mkdir(parents=True)
        for t, (frame, mask) in enumerate(zip(clip.frames[:FRAMES], clip.masks, strict=False)):
            cv2.imwrite(str(images / f"{t:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
            labels = mask.astype(np.uint8)
            labels[:2, :] = 255  # a void strip, as DAVIS marks uncertain pixels
            palette_png(annotations / f"{t:05d}.png", labels)
    sets = root / "ImageSets" / "2017"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("rehearse-a\n")
    (sets / "val.txt").write_text("".join(f"{name}\n" for name in SEQUENCES))


def write_test_masks(root: Path) -> None:
    """E2FGVI's released DAVIS test masks: ``<seq>/00000.png, ...``, white hole on black."""
    for name in SEQUENCES:
        folder = root / name
        folder.mkdir(parents=True)
        for t in range(FRAMES):
            mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
            mask[30:60, 10 + 6 * t : 40 + 6 * t] = 255
            cv2.imwrite(str(folder / f"{t:05d}.png"), mask)


def published_targets() -> dict[str, float]:
    """The README's Success criteria: command -> the bold published number of its row."""
    rows = [line for line in README.read_text().splitlines() if line.startswith("| ")]
    found = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith(("Segmentation", "Fill")):
            continue
        command = re.search(r"`([^`]+)`", cells[0])
        number = re.match(r"\*\*([\d.]+)\*\*", cells[2])
        if command and number:
            found[command.group(1)] = float(number.group(1))
    return found


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(args)
    last: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return code, last


def check_report(code: int, report: dict[str, Any], saved: Path) -> None:
    """The report shape of every benchmark: exit code from ``ok``, numbers finite, saved."""
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert code == (0 if report["ok"] else 1)
    assert report["ok"] == all(t["met"] for t in report["targets"].values())
    for target in report["targets"].values():
        assert set(target) == {"value", "op", "threshold", "met", "source"}
        assert isinstance(target["value"], float) and target["source"]
    assert json.loads(saved.read_text()) == report
    # The run folder around it (runs.RunFolder): history, config and environment too.
    for name in ("history.jsonl", "config.json", "environment.json", "details.json"):
        assert (saved.parent / name).is_file(), name
    assert (saved.parent / "history.jsonl").read_text().strip()


def test_real_run_rehearsed_on_a_tiny_davis(tmp_path, monkeypatch, capsys, palette_png, davis_zip):
    monkeypatch.chdir(tmp_path)  # the commands' default paths: data/DAVIS, runs/<command>/
    write_tiny_davis(tmp_path / "upstream" / "DAVIS", palette_png)
    url = davis_zip(tmp_path / "upstream" / "DAVIS", tmp_path / "DAVIS-2017-trainval-480p.zip")
    published = published_targets()
    assert published == {
        "bench-track": 90.9,
        "bench-inpaint --protocol e2fgvi": 33.01,
    }

    # fetch-davis: downloads (file://), unpacks beside data/DAVIS, checks the layout.
    code, fetched = run(["fetch-davis", "--url", url], capsys)
    assert code == 0
    assert fetched == {
        "davis_root": str(Path("data/DAVIS")),
        "sequences": {"train": 1, "val": 2},
        "downloaded": True,
    }
    root = Path("data/DAVIS")
    assert sorted(p.name for p in root.parent.iterdir()) == ["DAVIS"]  # no archive, no partial
    # The palette PNGs survive the zip and are read back as object ids, void included.
    labels = read_annotation(root / "Annotations" / "480p" / "rehearse-a" / "00000.png")
    assert set(np.unique(labels)) >= {0, 1, 255}

    # bench-track, exactly as `make run` calls it.
    code, report = run(["bench-track", "--davis-root", "data/DAVIS"], capsys)
    check_report(code, report, Path("runs/bench-track/report.json"))
    tracker = "{{ cookiecutter.default_tracker }}"
    vs_sam2 = report["targets"][f"jf_{tracker}_vs_sam2"]
    assert vs_sam2["threshold"] == published["bench-track"] and vs_sam2["op"] == ">="
    assert report["metrics"]["objects"] == 2
    details = json.loads(Path("runs/bench-track/details.json").read_text())
    assert set(details["sequences"]) == set(SEQUENCES)

    # bench-inpaint with borrowed holes (`make run`): its own check, no published number, and
    # its hole PSNR never under the published metric's name.
    code, report = run(["bench-inpaint", "--davis-root", "data/DAVIS"], capsys)
    check_report(code, report, Path("runs/bench-inpaint/report.json"))
    assert report["metrics"]["protocol"] == "borrowed"
    assert not any(k.startswith("psnr_") for k in report["metrics"])
    assert not any(t["source"].startswith("Li et al.") for t in report["targets"].values())

    # bench-inpaint under E2FGVI's protocol, test masks laid out as the authors release them.
    write_test_masks(Path("data/test_masks/davis/test_masks"))
    args = ["bench-inpaint", "--davis-root", "data/DAVIS", "--protocol", "e2fgvi"]
    args += ["--masks-root", "data/test_masks/davis/test_masks"]
    args += ["--methods", "telea,temporal-median", "--candidate", "temporal-median"]
    args += ["--run", "runs/bench-inpaint-e2fgvi"]
    code, report = run(args, capsys)
    check_report(code, report, Path("runs/bench-inpaint-e2fgvi/report.json"))
    vs_e2fgvi = report["targets"]["psnr_temporal_median_vs_e2fgvi"]
    assert vs_e2fgvi["threshold"] == published["bench-inpaint --protocol e2fgvi"]

    # make report RUN=runs/bench-track: the targets chart and a Results section of its numbers.
    from {{ cookiecutter.package_name }}.showcase import RESULTS_BEGIN, RESULTS_END, parse_results

    Path("README.md").write_text(f"# x\n\n{RESULTS_BEGIN}\n{RESULTS_END}\n")
    code, drawn = run(["report", "runs/bench-track"], capsys)
    assert code == 0 and drawn["figures"] == [str(Path("figures/targets.png"))]
    shown = parse_results(Path("README.md"))
    track = json.loads(Path("runs/bench-track/report.json").read_text())
    assert {name: row["met"] for name, row in shown.items()} == {
        name: t["met"] for name, t in track["targets"].items()
    }

    # remove on a DAVIS sequence folder, the first box from the first annotation.
    args = ["remove", "data/DAVIS/JPEGImages/480p/rehearse-a"]
    args += ["--first-mask", "data/DAVIS/Annotations/480p/rehearse-a/00000.png"]
    args += ["--object-id", "1", "--method", "telea", "-o", "runs/rehearse-a_removed.mp4"]
    code, removed = run(args, capsys)
    assert code == 0 and removed["frames"] == FRAMES
    assert Path("runs/rehearse-a_removed.mp4").stat().st_size > 0

    # A second fetch finds the folder complete and downloads nothing.
    code, fetched = run(["fetch-davis", "--url", url], capsys)
    assert code == 0 and fetched["downloaded"] is False
