"""The command line: exit codes, messages on stdout/stderr, and files it writes."""

import csv
import json
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import DEFAULT_SEED
from {{ cookiecutter.package_name }}.__main__ import build_parser, main


def test_validate_ok_and_bad(small_corpus, tmp_path, capsys):
    tax = str(small_corpus / "taxonomy.tsv")
    assert main(["validate", str(small_corpus / "dev.json"), "--taxonomy", tax]) == 0
    assert "ok, 100 documents" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"doc_label": ["Science/Physics"], "doc_token": ["x"]}\n', encoding="utf-8")
    assert main(["validate", str(bad), "--taxonomy", tax]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:1: missing key 'doc_keyword'" in out


def test_bad_taxonomy_is_reported_not_raised(small_corpus, tmp_path, capsys):
    (tmp_path / "t.tsv").write_text("A\tB\n", encoding="utf-8")
    assert (
        main(["validate", str(small_corpus / "dev.json"), "--taxonomy", str(tmp_path / "t.tsv")])
        == 1
    )
    assert "must start with 'Root'" in capsys.readouterr().err


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return report


def test_convert_then_train_then_evaluate_against_the_readme_target(tmp_path, capsys):
    rows = [
        row
        for i in range(20)
        for row in (
            (f"quantum gluon quark {i}", "Science/Physics"),
            (f"goal striker {i}", "Sports"),
        )
    ]
    with (tmp_path / "in.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "labels"])
        writer.writerows(rows)
    convert = ["convert", str(tmp_path / "in.csv"), "--out", str(tmp_path / "data"), "--seed", "0"]
    assert main(convert) == 0
    converted = json.loads(capsys.readouterr().out)
    assert converted["documents"]["train"] == 32
    assert converted["dropped_duplicates"] == {"train": 0, "dev": 0, "test": 0}
    run = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "data"), "--epochs", "3", "--min-count", "1"]
    code = main([*args, "--seed", "0", "--out", str(run)])
    report = last_json(capsys)
    assert set(report) == {"ok", "seconds", "metrics", "targets"}
    target = report["targets"]["raw_micro_f1_vs_published"]
    assert target["threshold"] == 0.7717 and "TextCNN hierarchical" in target["source"]
    assert target["value"] == report["metrics"]["raw_micro_f1"] == 1.0  # an easy corpus
    assert code == 0 and report["ok"] is True
    assert json.loads((run / "report.json").read_text())["targets"] == report["targets"]
    model = str(run / "model.pt")
    assert main(["predict", "--model", model, "--text", "the striker scored a goal"]) == 0
    assert "Sports" in json.loads(capsys.readouterr().out)
    # The same model scored on documents whose labels it cannot know misses the target: exit 1.
    swapped = tmp_path / "swapped.json"
    lines = (tmp_path / "data" / "test.json").read_text(encoding="utf-8").splitlines()
    flip = {"Sports": ["Science", "Science--Physics"], "Science": ["Sports"]}
    records = [json.loads(line) for line in lines]
    for record in records:
        record["doc_label"] = flip[record["doc_label"][0]]
    swapped.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    scored = tmp_path / "scored"
    evaluate = ["evaluate", "--model", model, "--test", str(swapped), "--out", str(scored)]
    assert main([*evaluate, "--taxonomy", str(tmp_path / "data" / "taxonomy.tsv")]) == 1
    report = last_json(capsys)
    assert report["ok"] is False and report["metrics"]["raw_micro_f1"] == 0.0
    # Both commands keep a run folder: the report, the config with its seed, per-node scores.
    for folder, command in ((run, "train"), (scored, "evaluate")):
        config = json.loads((folder / "config.json").read_text())
        assert config["command"] == command and config["seed"] == 0, folder
        assert (folder / "environment.json").is_file() and (folder / "per_node_f1.json").is_file()
    assert len((run / "history.jsonl").read_text().splitlines()) == 3  # one row per epoch
    assert json.loads((scored / "report.json").read_text()) == report


def test_baseline_and_ablation_end_with_reports(small_corpus, capsys, tmp_path):
    data = ["--data", str(small_corpus)]
    baseline = ["baseline", *data, "--c", "10", "--ngram", "2", "--out", str(tmp_path / "b")]
    assert main(baseline) == 0
    report = last_json(capsys)
    target = report["targets"]["micro_f1_over_majority"]
    assert target["source"] == "baseline:majority_micro_f1 + 0.05" and target["met"] is True
    assert report["metrics"]["ngram"] == 2
    assert json.loads((tmp_path / "b" / "report.json").read_text()) == report
    ablation = ["ablation", *data, "--seeds", "0", "--epochs", "1", "--min-count", "1"]
    code = main([*ablation, "--out", str(tmp_path / "a")])
    report = last_json(capsys)
    assert set(report["targets"]) == {
        "flat_raw_micro_f1_vs_published",
        "flat_raw_macro_f1_vs_published",
        "hierarchical_raw_micro_f1_vs_published",
        "hierarchical_raw_macro_f1_vs_published",
    }
    assert report["targets"]["flat_raw_micro_f1_vs_published"]["threshold"] == 0.7367
    assert code == (0 if report["ok"] else 1)
    history = (tmp_path / "a" / "history.jsonl").read_text().splitlines()
    assert [json.loads(row)["mode"] for row in history] == ["flat", "hierarchical"]


def test_upstream_config_command(small_corpus, tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "upstream",
        "config",
        "--data",
        str(small_corpus),
        "--model",
        "HMCN",
        "--run-dir",
        str(run),
    ]
    assert main(args) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model_name"] == "HMCN" and config["task_info"]["hierarchical"] is False
    assert (
        main(
            [
                "upstream",
                "config",
                "--data",
                str(small_corpus),
                "--epochs",
                "1",
                "--run-dir",
                str(run),
            ]
        )
        == 1
    )
    assert "at least 2 epochs" in capsys.readouterr().err


def test_missing_data_argument_is_explained(capsys):
    try:
        main(["train"])
    except SystemExit as exc:
        assert "pass --data, --rcv1 or --train" in str(exc)
    else:
        raise AssertionError("train without data should stop")


@pytest.mark.parametrize(
    "argv",
    [["smoke"], ["synth"], ["convert", "x.csv", "--out", "d"], ["train", "--data", "d"]],
)
def test_seed_defaults_to_the_project_seed(argv):
    assert build_parser().parse_args(argv).seed == DEFAULT_SEED
    assert build_parser().parse_args([*argv, "--seed", "42"]).seed == 42
