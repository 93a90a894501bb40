"""The taxonomy file: reading, writing, and clear errors for what NeuralClassifier misreads."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.taxonomy import (
    Taxonomy,
    TaxonomyError,
    close_under_prefixes,
    level,
    prefixes,
)

RCV1_LIKE = "Root\tCCAT\tECAT\nCCAT\tC15\tC17\nC15\tC151\tC152\nECAT\tE12\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.taxonomy"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_builds_full_paths(tmp_path):
    tax = Taxonomy.read(write(tmp_path, RCV1_LIKE))
    assert tax.path("C152") == "CCAT--C15--C152"
    assert tax.children("Root") == ["CCAT", "ECAT"]
    assert tax.depth() == 3
    assert len(tax.nodes) == 7


def test_write_then_read_round_trip(tmp_path):
    tax = Taxonomy.read(write(tmp_path, RCV1_LIKE))
    again = Taxonomy.read(tax.write(tmp_path / "copy.tsv"))
    assert again.parent == tax.parent
    assert (tmp_path / "copy.tsv").read_text(encoding="utf-8").startswith("Root\tCCAT\tECAT\n")


def test_lines_in_any_order(tmp_path):
    tax = Taxonomy.read(write(tmp_path, "Root\tA\nB\tC\nA\tB\n"))
    assert tax.path("C") == "A--B--C"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("CCAT\tC15\n", 1, "must start with 'Root'"),
        ("Root\tA\tB\nA\tX\nB\tX\n", 3, "used twice"),
        ("Root\tA\nA\n", 2, "lists no children"),
        ("Root\tA\nZ\tY\n", 2, "not a child of 'Root' or of any node"),
        ("Root\tA\nA\tB--C\n", 2, "level separator"),
        ("Root\tA\nA\tB\nA\tC\n", 3, "already has a line"),
    ],
)
def test_bad_taxonomy_names_file_line_and_problem(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(TaxonomyError) as err:
        Taxonomy.read(path)
    assert f"{path}:{line}:" in str(err.value)
    assert words in str(err.value)


def test_label_problems(tmp_path):
    tax = Taxonomy.read(write(tmp_path, RCV1_LIKE))
    assert tax.label_problem("CCAT--C15--C152") is None
    assert tax.label_problem("CCAT") is None
    assert "not in the taxonomy" in problem(tax, "CCAT--C99")
    assert "not '/'" in problem(tax, "CCAT/C15")
    assert "child of 'CCAT'" in problem(tax, "ECAT--C15")
    assert "empty level" in problem(tax, "CCAT----C15")
    assert "empty level" in problem(tax, "CCAT--")
    assert "child of 'C15'" in problem(tax, "C152")  # a short name alone is not a path


def problem(tax: Taxonomy, label: str) -> str:
    reason = tax.label_problem(label)
    assert reason is not None, label
    return reason


def test_from_labels_rejects_reused_short_names():
    assert Taxonomy.from_labels(["A--B", "A--C--D"]).path("D") == "A--C--D"
    with pytest.raises(TaxonomyError, match="used twice"):
        Taxonomy.from_labels(["A--X", "B--X"])


def test_prefix_helpers():
    assert prefixes("A--B--C") == ["A", "A--B", "A--B--C"]
    assert close_under_prefixes(["A--B", "C"]) == {"A", "A--B", "C"}
    assert level("A") == 1 and level("A--B--C") == 3
