"""CSV to NeuralClassifier format: splits, taxonomy, and errors that name the CSV line."""

import csv
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.convert import (
    ConvertError,
    ConvertOptions,
    convert_csv,
)
from {{ cookiecutter.package_name }}.data import read_corpus, validate_file
from {{ cookiecutter.package_name }}.taxonomy import Taxonomy

BASE = [
    ("Quarks and gluons at low energy", "Science/Physics/Quantum"),
    ("Lenses bend light", "Science/Physics/Optics"),
    ("The striker signed for a bank", "Sports/Football;Business/Markets"),
    ("Bonds rallied on Friday", "Business/Markets/Bonds"),
    ("A new opera opens", "Arts/Music/Opera"),
]
ROWS = [(f"{text}, part {i}", labels) for i in range(4) for text, labels in BASE]  # all distinct


def write_csv(path: Path, rows, header=("text", "labels")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_convert_writes_valid_files(tmp_path):
    src = write_csv(tmp_path / "in.csv", ROWS)
    report = convert_csv(src, tmp_path / "out", ConvertOptions(seed=0))  # the split of seed 0
    tax = Taxonomy.read(report.files["taxonomy"])
    assert tax.path("Quantum") == "Science--Physics--Quantum"
    assert report.labels_per_level == [4, 4, 4]
    assert sum(report.counts.values()) == len(ROWS)
    assert report.counts == {"train": 16, "dev": 2, "test": 2}
    assert report.dropped_duplicates == {"train": 0, "dev": 0, "test": 0}
    for split in ("train", "dev", "test"):
        assert validate_file(report.files[split], tax) == []
    docs = read_corpus(report.files["train"], tax)
    mixed = next(d for d in docs if "striker" in d.tokens)
    assert set(mixed.labels) == {"Sports", "Sports--Football", "Business", "Business--Markets"}


def test_convert_is_deterministic(tmp_path):
    src = write_csv(tmp_path / "in.csv", ROWS)
    a = convert_csv(src, tmp_path / "a")
    b = convert_csv(src, tmp_path / "b")
    for split in ("train", "dev", "test", "taxonomy"):
        assert a.files[split].read_bytes() == b.files[split].read_bytes()


def test_split_column_and_no_ancestors(tmp_path):
    rows = [("alpha beta", "X/Y", "train"), ("gamma", "X/Z", "validation"), ("delta", "X", "test")]
    src = write_csv(tmp_path / "in.csv", rows, header=("text", "labels", "split"))
    report = convert_csv(src, tmp_path / "out", ConvertOptions(ancestors=False))
    assert report.counts == {"train": 1, "dev": 1, "test": 1}
    assert read_corpus(report.files["dev"])[0].labels == ("X--Z",)


def test_reused_short_name_is_an_error_or_renamed(tmp_path):
    rows = [("one", "Arts/Pop"), ("two", "Sports/Pop"), ("three", "Arts/Pop")]
    src = write_csv(tmp_path / "in.csv", rows)
    with pytest.raises(ConvertError, match=r"in\.csv:3: .*'Pop' is already used under 'Arts'"):
        convert_csv(src, tmp_path / "out")
    report = convert_csv(src, tmp_path / "out", ConvertOptions(rename_duplicates=True))
    assert report.renamed == {"Sports--Pop": "Sports_Pop"}
    assert Taxonomy.read(report.files["taxonomy"]).path("Sports_Pop") == "Sports--Sports_Pop"


@pytest.mark.parametrize(
    ("rows", "header", "words"),
    [
        ([("text", "A/B")], ("body", "labels"), r"in\.csv:1: no column 'text'"),
        ([("ok", "A"), ("", "A/B")], ("text", "labels"), r"in\.csv:3: the text is empty"),
        ([("ok", "A//B")], ("text", "labels"), r"in\.csv:2: label 'A//B' has an empty level"),
        ([("ok", "")], ("text", "labels"), r"in\.csv:2: no labels"),
        ([("ok", "A--B/C")], ("text", "labels"), r"in\.csv:2: .*level separator"),
        ([("ok", "A", "holdout")], ("text", "labels", "split"), r"in\.csv:2: split 'holdout'"),
    ],
)
def test_bad_rows_name_the_line(tmp_path, rows, header, words):
    src = write_csv(tmp_path / "in.csv", rows, header=header)
    with pytest.raises(ConvertError, match=words):
        convert_csv(src, tmp_path / "out")


def test_dev_labels_unseen_in_train_are_reported(tmp_path):
    rows = [("a", "X/Y", "train"), ("b", "Q/R", "dev"), ("c", "X/Y", "test")]
    src = write_csv(tmp_path / "in.csv", rows, header=("text", "labels", "split"))
    report = convert_csv(src, tmp_path / "out")
    assert any("1 dev documents have no label seen in train" in w for w in report.warnings)


def test_a_text_in_two_splits_is_kept_once_and_counted(tmp_path):
    rows = [
        ("The same story", "A/B", "train"),
        ("the same story!", "A/B", "test"),  # the same tokens once lowercased: dropped
        ("the same story", "A/C", "dev"),  # in train: dropped
        ("fresh text", "A/B", "test"),
        ("other text", "A/B", "test"),
        ("Other text.", "A/B", "dev"),  # in test: dropped
        ("novel words", "A/B", "dev"),
        ("The same story", "A/B", "train"),  # a copy inside train leaks nothing: kept
    ]
    src = write_csv(tmp_path / "in.csv", rows, header=("text", "labels", "split"))
    report = convert_csv(src, tmp_path / "out")
    assert report.dropped_duplicates == {"train": 0, "dev": 2, "test": 1}
    assert report.counts == {"train": 2, "dev": 1, "test": 2}
    assert any("dropped 2 dev and 1 test documents" in w for w in report.warnings)
    tokens = {
        split: {d.tokens for d in read_corpus(report.files[split])}
        for split in ("train", "dev", "test")
    }
    assert not tokens["train"] & tokens["dev"]
    assert not tokens["train"] & tokens["test"]
    assert not tokens["dev"] & tokens["test"]
