"""`make report` on a tiny fabricated run: every figure, the README's Results, the model card."""
# points: 0

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import experiment
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.runs import RunFolder
from {{ cookiecutter.package_name }}.showcase import MAX_PNG_BYTES, parse_results
from {{ cookiecutter.package_name }}.targets import build_report

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def check_png(path: Path) -> None:
    """A valid PNG, small enough to commit, big enough to hold a chart, opaque and not blank."""
    import matplotlib.image

    data = path.read_bytes()
    assert data.startswith(PNG), path
    assert 10_000 < len(data) < MAX_PNG_BYTES, (path, len(data))
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400, (path, pixels.shape)
    assert pixels[..., :3].std() > 0.05, f"{path} looks blank"
    if pixels.shape[-1] == 4:
        assert pixels[..., 3].min() == 1.0, "opaque background"


def tiny_smoke(root: Path) -> Path:
    """A smoke run folder as `make smoke` leaves it, with made-up numbers (no training)."""
    metrics: dict[str, Any] = {
        "dlpack_test_accuracy": 0.95,
        "tfpyth_test_accuracy": 0.95,
        "frozen_extractor_test_accuracy": 0.5,
        "logreg_test_accuracy": 0.96,
        "dlpack_gradient_digits": 8.5,
        "tfpyth_gradient_digits": 8.1,
        "step_loss_max_abs_diff": 0.0,
        "tfpyth_checkpoint_via_dlpack_agreement": 1.0,
        "bench_torch_to_tf_speedup": 900.0,
    }
    report = build_report(metrics, experiment.smoke_targets(metrics), 0.0)
    config = {"command": "smoke", "seed": 7, **experiment.smoke_config(seed=7).to_dict()}
    with RunFolder("smoke", config, root=root) as run:
        curves = {
            "dlpack": [2.3 * 0.9**i for i in range(30)],
            "tfpyth": [2.3 * 0.9**i for i in range(30)],
            "frozen_extractor": [2.3 * 0.97**i for i in range(30)],
        }
        for row in experiment.step_history(curves, steps_per_epoch=10):
            run.log(**row)
        lines = ["size_bytes,direction,method,median_seconds,repeats,shares_memory"]
        for size in (4096, 65536, 1048576):
            for direction in ("torch->tf", "tf->torch"):
                lines.append(f"{size},{direction},numpy,{size * 1e-10 + 1e-6},10,False")
                lines.append(f"{size},{direction},dlpack,4e-06,10,True")
        run.path("bench.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return run.finish(report)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this project's README and a tiny smoke run folder, in the test's own folder."""
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    tiny_smoke(tmp_path / "runs")
    return tmp_path


def test_report_draws_every_figure_and_writes_results(project: Path) -> None:
    assert main(["report"]) == 0
    names = {p.name for p in (project / "figures").iterdir()}
    assert names == {"targets.png", "bridges_loss.png", "bench.png"}
    for name in names:
        check_png(project / "figures" / name)
    readme = project / "README.md"
    report = json.loads((project / "runs/smoke/report.json").read_text("utf-8"))
    parsed = parse_results(readme)
    assert set(parsed) == set(report["targets"])
    for name, target in report["targets"].items():
        assert parsed[name]["met"] is target["met"]
        assert parsed[name]["value"] == pytest.approx(target["value"], rel=1e-3, abs=1e-9)
        assert parsed[name]["threshold"] == pytest.approx(target["threshold"], rel=1e-3)
    text = readme.read_text("utf-8")
    assert "seed 7" in text and "](figures/bridges_loss.png)" in text
    assert "No run yet" not in text
    card = (project / "MODEL_CARD.md").read_text("utf-8")
    assert "## Intended use" in card and "| `dlpack_test_accuracy` | 0.95 |" in card


def test_report_twice_is_report_once(project: Path) -> None:
    assert main(["report"]) == 0
    first = (project / "README.md").read_text("utf-8")
    assert main(["report", "runs/smoke"]) == 0
    assert (project / "README.md").read_text("utf-8") == first
    assert first.count("<!-- results:begin") == 1


def test_report_without_a_run_says_what_to_do(tmp_path: Path, caplog) -> None:
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    assert main(["report"]) == 1
    assert "make smoke" in caplog.text
