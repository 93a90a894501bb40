"""The command line end to end on small inputs: synth -> remove, the DAVIS benchmarks, errors."""

# points: 2

import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.metrics import psnr_in
from {{ cookiecutter.package_name }}.video import read_video


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def test_synth_then_remove_erases_the_object(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "clip.mp4"), "--frames", "24"]) == 0
    synth = last_json(capsys)
    out = tmp_path / "removed.mp4"
    args = ["remove", synth["video"], "--first-mask", synth["first_mask"], "--tracker", "csrt"]
    args += ["--method", "temporal-median", "-o", str(out), "--save-masks", str(tmp_path / "m")]
    assert main(args) == 0
    result = last_json(capsys)
    assert result["frames"] == 24 and result["output"] == str(out)
    assert len(list((tmp_path / "m").glob("*.png"))) == 24

    from {{ cookiecutter.package_name }}.synthetic import make_clip

    clip = make_clip(n_frames=24)
    removed, _ = read_video(out)
    before = psnr_in(clip.frames, clip.clean, clip.masks)
    # The object is gone: the hole is far closer to the clean background than before.
    assert psnr_in(removed, clip.clean, clip.masks) > before + 10


def test_remove_defaults_come_from_the_generated_config():
    from {{ cookiecutter.package_name }}.__main__ import build_parser
    from {{ cookiecutter.package_name }}.config import DEFAULT_INPAINTER, DEFAULT_TRACKER

    args = build_parser().parse_args(["remove", "in.mp4", "--bbox", "1,2,3,4"])
    assert (args.tracker, args.method) == (DEFAULT_TRACKER, DEFAULT_INPAINTER)
    assert args.masks == "tracker"


def test_smoke_and_synth_default_to_the_project_seed():
    import inspect

    from {{ cookiecutter.package_name }}.__main__ import build_parser
    from {{ cookiecutter.package_name }}.config import DEFAULT_SEED
    from {{ cookiecutter.package_name }}.smoke import run_smoke

    parser = build_parser()
    assert parser.parse_args(["smoke"]).seed == DEFAULT_SEED
    assert parser.parse_args(["synth", "x.mp4"]).seed == DEFAULT_SEED
    assert parser.parse_args(["smoke", "--seed", "5"]).seed == 5
    assert inspect.signature(run_smoke).parameters["seed"].default == DEFAULT_SEED


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bbox", "1,2,3"], "four integers"),
        ([], "exactly one of"),
        (["--bbox", "1,2,3,4", "--first-mask", "m.png"], "exactly one of"),
        (["--first-mask", "missing.png"], "no such annotation"),
    ],
)
def test_remove_bad_input_is_a_one_line_error(tmp_path, short_clip, capsys, extra, message):
    from {{ cookiecutter.package_name }}.video import write_video

    video = write_video(tmp_path / "in.mp4", short_clip.frames)
    assert main(["remove", str(video), *extra, "-o", str(tmp_path / "out.mp4")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]


def test_remove_missing_video_is_a_one_line_error(tmp_path, capsys):
    assert main(["remove", str(tmp_path / "nope.mp4"), "--bbox", "1,2,3,4"]) == 2
    assert "no such video" in capsys.readouterr().err


def check_report(report: dict[str, Any], code: int) -> None:
    """The shape every command's report has, and an exit code that agrees with it."""
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert report["ok"] == all(t["met"] for t in report["targets"].values())
    assert code == (0 if report["ok"] else 1)


def test_bench_track_on_a_davis_folder(davis_root, tmp_path, capsys):
    out, details = tmp_path / "report.json", tmp_path / "details.json"
    args = ["bench-track", "--davis-root", str(davis_root), "--trackers", "csrt,kcf,csrt"]
    run = tmp_path / "runs" / "bench-track"
    code = main([*args, "--run", str(run), "--output", str(out), "--details", str(details)])
    report = last_json(capsys)
    check_report(report, code)
    assert set(report["targets"]) == {"jf_csrt_over_static_box", "jf_csrt_vs_sam2"}
    m = report["metrics"]
    # The synthetic objects move: following them beats holding the first box still.
    assert m["JF_csrt"] > m["JF_static_box"] + 5 and m["fps_csrt"] > 0
    assert json.loads(out.read_text()) == report
    full = json.loads(details.read_text())
    assert set(full["sequences"]) == {"synth-a", "synth-b"}
    assert set(full["mean"]) == {"static_box", "static_mask", "csrt", "kcf"}
    # Every object once per method, a tracker named twice included.
    assert {v["objects"] for v in full["mean"].values()} == {2}
    # The run folder: the same report and details, one history row per sequence and method.
    assert json.loads((run / "report.json").read_text()) == report
    assert json.loads((run / "details.json").read_text()) == full
    rows = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 4 and {r["sequence"] for r in rows} == {"synth-a", "synth-b"}
    assert json.loads((run / "config.json").read_text())["trackers"] == ["csrt", "kcf"]


def test_bench_inpaint_borrowed_holes_on_a_davis_folder(davis_root, tmp_path, capsys):
    args = ["bench-inpaint", "--davis-root", str(davis_root), "--methods", "temporal-median"]
    code = main(
        [*args, "--run", str(tmp_path / "run"), "--output", str(tmp_path / "r.json")]
        + ["--details", str(tmp_path / "d.json")]
    )
    report = last_json(capsys)
    check_report(report, code)
    m = report["metrics"]
    assert m["protocol"] == "borrowed"
    # Telea is measured even if not asked; hole PSNR only: no whole-frame psnr under this name.
    assert m["hole_psnr_temporal_median"] > m["hole_psnr_telea"]
    assert not any(k.startswith("psnr_") for k in m)
    assert 0 < m["ssim_telea"] <= 1
    assert "psnr_temporal_median_vs_e2fgvi" not in report["targets"]


def test_bench_inpaint_e2fgvi_protocol_needs_its_masks(davis_root, capsys):
    args = ["bench-inpaint", "--davis-root", str(davis_root), "--protocol", "e2fgvi"]
    assert main(args) == 2
    assert "--masks-root" in capsys.readouterr().err


def test_bench_inpaint_e2fgvi_protocol_reports_against_the_published_psnr(
    davis_root, tmp_path, capsys
):
    import cv2
    import numpy as np

    for name in ("synth-a", "synth-b"):  # test masks laid out as E2FGVI releases them
        folder = tmp_path / "test_masks" / name
        folder.mkdir(parents=True)
        for t in range(24):
            mask = np.zeros((120, 160), dtype=np.uint8)
            mask[40:70, 20 + 4 * t : 50 + 4 * t] = 255
            cv2.imwrite(str(folder / f"{t:05d}.png"), mask)
    args = ["bench-inpaint", "--davis-root", str(davis_root), "--protocol", "e2fgvi"]
    args += ["--masks-root", str(tmp_path / "test_masks"), "--methods", "temporal-median"]
    code = main(
        [*args, "--run", str(tmp_path / "run"), "--output", str(tmp_path / "r.json")]
        + ["--details", str(tmp_path / "d.json")]
    )
    report = last_json(capsys)
    check_report(report, code)
    assert report["metrics"]["protocol"] == "e2fgvi"
    assert report["targets"]["psnr_temporal_median_vs_e2fgvi"]["threshold"] == 33.01
    details = json.loads((tmp_path / "d.json").read_text())
    assert set(details["sequences"]) == {"synth-a", "synth-b"}


def test_bench_unknown_tracker_is_an_error(davis_root, capsys):
    assert main(["bench-track", "--davis-root", str(davis_root), "--trackers", "siammask"]) == 2
    assert "unknown tracker" in capsys.readouterr().err
