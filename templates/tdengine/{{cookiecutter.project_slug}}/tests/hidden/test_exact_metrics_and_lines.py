"""Instructor tests (hidden from students): precision / recall / F1 and the line builder, exactly.

Self-contained (no conftest fixtures): the grader runs them from outside the student's tests/.
"""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.evaluate import precision_recall_f1
from {{ cookiecutter.package_name }}.lineproto import format_line, parse_line


def test_precision_recall_f1_exact_values_and_zero_denominators():
    m = precision_recall_f1(np.array([1, 0, 0, 0], bool), np.array([1, 1, 1, 0], bool))
    assert m == {"precision": 1.0, "recall": 0.3333, "f1": 0.5, "tp": 1, "fp": 0, "fn": 2}
    assert all(type(m[k]) is int for k in ("tp", "fp", "fn"))
    assert all(type(m[k]) is float for k in ("precision", "recall", "f1"))
    m = precision_recall_f1(np.array([1, 1, 0, 1, 0, 1]), np.array([1, 0, 0, 1, 1, 0]))
    assert m == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714, "tp": 2, "fp": 2, "fn": 1}
    m = precision_recall_f1(np.array([1, 1, 1, 0], bool), np.array([1, 1, 0, 1], bool))
    assert m == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "tp": 2, "fp": 1, "fn": 1}
    # nothing flagged, nothing true, or nothing right: 0.0 rather than a ZeroDivisionError / nan
    none_flagged = precision_recall_f1(np.zeros(4, bool), np.array([0, 1, 1, 0], bool))
    assert none_flagged == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 2}
    all_wrong = precision_recall_f1(np.ones(3, bool), np.zeros(3, bool))
    assert all_wrong == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 3, "fn": 0}
    perfect = precision_recall_f1([True, False, True], [True, False, True])
    assert (perfect["precision"], perfect["recall"], perfect["f1"]) == (1.0, 1.0, 1.0)
    assert precision_recall_f1(np.array([], bool), np.array([], bool))["f1"] == 0.0


def test_format_line_exact_text_escaping_and_refusals():
    assert format_line("m", {}, {"f": 1.5}, 10) == "m f=1.5f64 10"
    line = format_line(
        "my m,x=y",
        {"k y": "a,b=c", "groupid": 2},
        {"on": True, "n": 3, "v": 219.07, "s": 'x "y" \\'},
        np.int64(1_735_689_600_000),
    )
    assert line == (
        "my\\ m\\,x=y,k\\ y=a\\,b\\=c,groupid=2 "
        'on=true,n=3i64,v=219.07f64,s="x \\"y\\" \\\\" 1735689600000'
    )
    assert parse_line(line) == (
        "my m,x=y",
        {"k y": "a,b=c", "groupid": "2"},
        {"on": True, "n": 3, "v": 219.07, "s": 'x "y" \\'},
        1_735_689_600_000,
    )
    with pytest.raises(ValueError):
        format_line("m", {"a": "b"}, {}, 0)
    with pytest.raises(ValueError):
        format_line("m", {"a": "two\nlines"}, {"f": 1.0}, 0)
    with pytest.raises(ValueError):
        format_line("", {}, {"f": 1.0}, 0)
    with pytest.raises(TypeError):
        format_line("m", {}, {"f": None}, 0)  # type: ignore[dict-item]  # the refusal is tested


def test_format_line_escapes_field_keys_like_tag_keys():
    fields = {"my field,x=1": 2.5, "plain": 1}
    line = format_line("m", {}, fields, 7)
    assert line == "m my\\ field\\,x\\=1=2.5f64,plain=1i64 7"
    assert parse_line(line) == ("m", {}, fields, 7)
    with pytest.raises(ValueError):
        format_line("m", {}, {"two\nlines": 1.0}, 0)
    with pytest.raises(ValueError):
        format_line("m", {}, {"": 1.0}, 0)
