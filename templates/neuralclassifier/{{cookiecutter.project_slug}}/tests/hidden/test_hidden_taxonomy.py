"""Instructor tests for ``Taxonomy.label_problem``: every rule, and which problem comes first."""

import pytest

from {{ cookiecutter.package_name }}.taxonomy import Taxonomy

TAX = Taxonomy.from_labels(["Sci--Phys--Optics", "Sci--Bio", "Art--Film"])


@pytest.mark.parametrize("label", ["Sci", "Sci--Phys", "Sci--Phys--Optics", "Art--Film"])
def test_valid_paths(label):
    assert TAX.label_problem(label) is None


@pytest.mark.parametrize(
    ("label", "words", "absent"),
    [
        (None, "is not a non-empty string", None),
        (7, "is not a non-empty string", None),
        ("", "is not a non-empty string", None),
        (" Sci", "leading or trailing spaces", None),
        (" Sci--", "leading or trailing spaces", "empty level"),  # the first problem wins
        ("Sci--", "empty level", None),
        ("--Sci", "empty level", None),
        ("Sci----Phys", "empty level", None),
        ("Sci--Chem", "is not in the taxonomy", "joined by"),
        ("Sci/Phys", "levels are joined by '--', not '/'", None),
        ("Sci>Phys", "not '>'", None),
        ("Sci|Phys", "not '|'", None),
        ("Sci\\Phys", "not '\\\\'", None),
        ("Sci.Phys", "not '.'", None),
        ("Sci-Phys", "not '-'", None),
        ("Phys", "is a child of 'Sci' in the taxonomy, not of 'Root'", None),
        ("Sci--Optics", "is a child of 'Phys' in the taxonomy, not of 'Sci'", None),
        ("Art--Phys--Optics", "'Phys' is a child of 'Sci' in the taxonomy, not of 'Art'", None),
        ("Sci--Chem--Film", "'Chem'", "child of"),  # the unknown node comes first
    ],
)
def test_each_problem_is_named(label, words, absent):
    problem = TAX.label_problem(label)
    assert problem is not None and words in problem, problem
    if absent is not None:
        assert absent not in problem, problem
