"""The command line: exit codes, messages on stdout/stderr, and files it writes."""

import csv
import json

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


def test_convert_then_train_then_predict(tmp_path, capsys):
    rows = [("quantum gluon quark", "Science/Physics"), ("goal striker pitch", "Sports/Football")]
    with (tmp_path / "in.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "labels"])
        writer.writerows(rows * 20)
    convert = ["convert", str(tmp_path / "in.csv"), "--out", str(tmp_path / "data"), "--seed", "0"]
    assert main(convert) == 0
    assert json.loads(capsys.readouterr().out)["documents"]["train"] == 32
    args = [
        "train",
        "--data",
        str(tmp_path / "data"),
        "--epochs",
        "3",
        "--min-count",
        "1",
        "--seed",
        "0",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test"]["micro_f1"] > 0.5
    model = str(tmp_path / "run" / "model.pt")
    assert main(["predict", "--model", model, "--text", "the striker scored a goal"]) == 0
    assert "Sports" in json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--model", model, "--test", str(tmp_path / "data" / "test.json")]) == 0
    assert "micro_f1" in json.loads(capsys.readouterr().out)


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
