"""make report: figures, the README's Results section and the model card, from a tiny run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.report import make_report
from {{ cookiecutter.package_name }}.runs import RunFolder
from {{ cookiecutter.package_name }}.showcase import (
    MAX_PNG_BYTES,
    RESULTS_BEGIN,
    RESULTS_END,
    parse_results,
)

pytest.importorskip("matplotlib")


def fresh_readme(folder: Path) -> Path:
    readme = folder / "README.md"
    readme.write_text(
        f"# Project\n\n## Results\n\n{RESULTS_BEGIN}\nNo run yet.\n{RESULTS_END}\n\n## License\n",
        encoding="utf-8",
    )
    return readme


def assert_picture(path: Path) -> None:
    """A PNG of committable size that is not one flat colour."""
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert 5_000 < len(data) < MAX_PNG_BYTES, (path, len(data))
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400, (path, image.shape)
    assert image[..., :3].std() > 0.05, f"{path} is blank"
    if image.shape[-1] == 4:
        assert image[..., 3].min() == 1.0, f"{path} is transparent"


@pytest.fixture(scope="module")
def trained(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TextCNN trained for two epochs by the train command: its run folder."""
    run = tmp_path_factory.mktemp("runs") / "textcnn"
    args = ["--quiet", "train", "--data", str(small_corpus), "--epochs", "2", "--min-count", "1"]
    main([*args, "--seed", "3", "--out", str(run)])
    return run


def test_report_draws_each_figure_writes_results_and_card(trained, tmp_path):
    readme = fresh_readme(tmp_path)
    written = make_report(trained, readme, tmp_path / "figures", tmp_path / "MODEL_CARD.md")
    names = [Path(p).name for p in written["figures"]]
    assert names == [
        "learning_curve.png",
        "training_loss.png",
        "per_level_f1.png",
        "label_tree.png",
        "targets.png",
    ]
    for path in written["figures"]:
        assert_picture(Path(path))
    report: dict[str, Any] = json.loads((trained / "report.json").read_text())
    parsed = parse_results(readme)
    assert set(parsed) == set(report["targets"])
    for name, target in report["targets"].items():
        assert parsed[name]["value"] == pytest.approx(target["value"], abs=5e-4), name
        assert parsed[name]["threshold"] == target["threshold"]
        assert parsed[name]["met"] is target["met"]
    text = readme.read_text()
    assert "Run `textcnn`" in text and "seed 3" in text
    assert "![label tree by F1](figures/label_tree.png)" in text
    assert text.endswith("## License\n")  # the rest of the README is left alone
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "## Intended use" in card and "## Limitations" in card
    assert f"| `raw_micro_f1` | {report['metrics']['raw_micro_f1']:.4g} |" in card


def test_report_twice_is_report_once(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    readme = fresh_readme(tmp_path)
    assert main(["report", str(trained)]) == 0  # the command make report runs, README.md here
    first = readme.read_text()
    assert json.loads(capsys.readouterr().out)["readme_changed"] is True
    assert main(["report", str(trained)]) == 0
    assert json.loads(capsys.readouterr().out)["readme_changed"] is False
    assert readme.read_text() == first and first.count(RESULTS_BEGIN) == 1


def test_report_of_an_upstream_run_skips_what_it_has_no_numbers_for(trained, tmp_path):
    """An upstream run: upstream's per-epoch log and as-written per-level scores, no per-node
    file. Its report draws what it can and removes the previous run's label tree."""
    readme = fresh_readme(tmp_path)
    figures = tmp_path / "figures"
    make_report(trained, readme, figures, tmp_path / "MODEL_CARD.md")
    assert (figures / "label_tree.png").is_file()
    metrics = {"raw_micro_f1": 0.61, "raw_level_1_micro_f1": 0.8, "raw_level_2_micro_f1": 0.5}
    target = {"value": 0.61, "op": ">=", "threshold": 0.7717, "met": False, "source": "README [1]"}
    report = {"ok": False, "seconds": 3.0, "metrics": metrics, "targets": {"raw_vs_pub": target}}
    with RunFolder("upstream-TextCNN-hierarchical-eval", {"seed": 2019}, tmp_path / "runs") as run:
        for epoch in (1, 2, 3):
            run.log(
                epoch=epoch,
                train_micro_f1=0.3 * epoch,
                validate_micro_f1=0.25 * epoch,
                test_micro_f1=0.2 * epoch,
                train_loss=1.0 / epoch,
            )
        folder = run.finish(report)
    written = make_report(folder, readme, figures, tmp_path / "card.md")
    assert [Path(p).name for p in written["figures"]] == [
        "learning_curve.png",
        "training_loss.png",
        "per_level_f1.png",
        "targets.png",
    ]
    for path in written["figures"]:
        assert_picture(Path(path))
    assert not (figures / "label_tree.png").exists()
    assert "model_card" not in written  # an eval run trained nothing
    assert parse_results(readme)["raw_vs_pub"] == {
        "value": 0.61,
        "op": ">=",
        "threshold": 0.7717,
        "met": False,
    }


def test_report_without_a_run_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    fresh_readme(tmp_path)
    assert main(["report"]) == 1
    assert "make smoke" in capsys.readouterr().err


def test_report_into_a_readme_without_results_markers_says_so(trained, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n", encoding="utf-8")
    figures = str(tmp_path / "figures")
    assert main(["report", str(trained), "--readme", str(readme), "--figures", figures]) == 1
    assert "Results markers" in capsys.readouterr().err
    assert readme.read_text() == "# Project\n"


def prf_line(label: str, f1: float, right: int, predicted: int, gold: int) -> str:
    """One line of upstream eval.py's all_prf file."""
    return (
        f"{label}, precision: 0.5, recall: 0.5, fscore: {f1:.6f}, "
        f"right_count: {right}, predict_count: {predicted}, standard_count: {gold}"
    )


PRF = "\n".join(
    [
        "macro_average, precision: 0.5, recall: 0.25, fscore: 0.333333, ",
        prf_line("micro_average", 0.4, 3, 5, 10),
        "",
        prf_line("CCAT", 0.666667, 2, 2, 4),
        prf_line("CCAT--C15", 0.4, 1, 3, 2),
        prf_line("GCAT", 0.0, 0, 0, 4),
    ]
)


def test_report_of_an_upstream_run_colours_the_tree_by_eval_py_per_label_f1(tmp_path):
    target = {"value": 0.4, "op": ">=", "threshold": 0.7717, "met": False, "source": "README [1]"}
    metrics = {"raw_micro_f1": 0.4}
    report = {"ok": False, "seconds": 1.0, "metrics": metrics, "targets": {"t": target}}
    settings = {"seed": 2019, "upstream": {"model_name": "TextRCNN"}}
    with RunFolder("upstream-TextRCNN-hierarchical-train", settings, tmp_path / "runs") as run:
        run.path("eval_all_prf").write_text(PRF, encoding="utf-8")
        run.log(epoch=1, validate_micro_f1=0.2, train_loss=0.3)
        run.log(epoch=2, validate_micro_f1=0.4, train_loss=0.2)
        folder = run.finish(report)
    readme = fresh_readme(tmp_path)
    written = make_report(folder, readme, tmp_path / "figures", tmp_path / "MODEL_CARD.md")
    tree = tmp_path / "figures" / "label_tree.png"
    assert str(tree) in written["figures"]
    assert_picture(tree)
    card = (tmp_path / "MODEL_CARD.md").read_text()  # a train run of upstream made a model
    assert "NeuralClassifier TextRCNN" in card and "seed 2019" in card
