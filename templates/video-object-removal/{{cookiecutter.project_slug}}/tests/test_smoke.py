"""The smoke run reaches every target, and its report has the agreed shape."""

# points: 2

import json

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.smoke import TARGETS, run_smoke


def test_smoke_reaches_its_targets(tmp_path):
    report = run_smoke(out_dir=tmp_path)
    m = report["metrics"]
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    assert report["targets"] == TARGETS
    assert report["ok"], {k: m[k] for k in TARGETS}
    # The quality signal, stated plainly.
    assert m["iou_csrt"] >= 0.8
    assert m["psnr_hole_telea"] > m["psnr_hole_unfilled"] + 5
    assert m["psnr_hole_temporal_median"] > m["psnr_hole_telea"] + 3
    assert m["flicker_temporal_median"] < 0.7 * m["flicker_telea"]
    assert (tmp_path / "removed_temporal_median.mp4").stat().st_size > 0


def test_smoke_command_prints_one_json_line(tmp_path, capsys):
    assert main(["smoke", "--out", str(tmp_path), "--frames", "24"]) in (0, 1)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    report = json.loads(last)
    assert isinstance(report["ok"], bool) and report["seconds"] > 0
