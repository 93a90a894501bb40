"""The command line end to end on small inputs: synth -> remove, the DAVIS benchmarks, errors."""

# points: 2

import json

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.metrics import psnr_in
from {{ cookiecutter.package_name }}.video import read_video


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


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
    # About +20 dB; +10 to +12 on the seeds where CSRT's box shrinks on this short clip.
    assert psnr_in(removed, clip.clean, clip.masks) > before + 5


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


def test_bench_track_on_a_davis_folder(davis_root, tmp_path, capsys):
    out = tmp_path / "track.json"
    assert main(["bench-track", "--davis-root", str(davis_root), "--output", str(out)]) == 0
    mean = last_json(capsys)
    assert set(mean) == {"static", "csrt", "kcf", "mil"}
    assert mean["csrt"]["iou"] > mean["static"]["iou"] and mean["csrt"]["fps"] > 0
    full = json.loads(out.read_text())
    assert set(full["sequences"]) == {"synth-a", "synth-b"}


def test_bench_inpaint_on_a_davis_folder(davis_root, tmp_path, capsys):
    out = tmp_path / "inpaint.json"
    args = [
        "bench-inpaint",
        "--davis-root",
        str(davis_root),
        "--methods",
        "telea,temporal-median",
        "--output",
        str(out),
    ]
    assert main(args) == 0
    mean = last_json(capsys)
    assert set(mean) == {"telea", "temporal-median"}
    assert mean["temporal-median"]["psnr"] > mean["telea"]["psnr"]
    assert 0 < mean["telea"]["ssim"] <= 1


def test_bench_unknown_tracker_is_an_error(davis_root, capsys):
    assert main(["bench-track", "--davis-root", str(davis_root), "--trackers", "siammask"]) == 2
    assert "unknown tracker" in capsys.readouterr().err
