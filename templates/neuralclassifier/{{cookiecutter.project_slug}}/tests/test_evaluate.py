"""Micro/macro-F1, overall and per level, checked against numbers worked out by hand."""

import pytest

from {{ cookiecutter.package_name }}.evaluate import (
    f1,
    hierarchical_scores,
    majority_baseline,
)


def test_f1():
    assert f1(0, 0, 0) == 0.0
    assert f1(2, 1, 1) == pytest.approx(2 / 3)


def test_perfect_predictions():
    gold = [["A--B--C"], ["D"]]
    scores = hierarchical_scores(gold, gold)
    assert scores["micro_f1"] == 1.0 and scores["macro_f1"] == 1.0
    assert set(scores["levels"]) == {"1", "2", "3"}


def test_hand_computed_example():
    # gold closes to {A, A--B} and {D}; pred closes to {A, A--C} and {D}
    scores = hierarchical_scores([["A--B"], ["D"]], [["A--C"], ["D"]])
    # TP: A, D = 2; FP: A--C = 1; FN: A--B = 1 -> micro-F1 = 4 / 6
    assert scores["micro_f1"] == pytest.approx(0.6667, abs=1e-4)
    # macro over gold labels A, D, A--B: F1 = 1, 1, 0
    assert scores["macro_f1"] == pytest.approx(0.6667, abs=1e-4)
    assert scores["levels"]["1"]["micro_f1"] == 1.0
    assert scores["levels"]["2"]["micro_f1"] == 0.0


def test_predicting_a_leaf_implies_its_parents():
    scores = hierarchical_scores([["A", "A--B"]], [["A--B"]])
    assert scores["micro_f1"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 gold label sets but 1 predictions"):
        hierarchical_scores([["A"], ["B"]], [["A"]])


def test_majority_baseline():
    pred = majority_baseline([["A--B"], ["A--B"], ["C"]], 2)
    assert pred == [{"A", "A--B"}, {"A", "A--B"}]
