"""Micro/macro-F1, overall and per level, checked against numbers worked out by hand."""

import pytest

from {{ cookiecutter.package_name }}.evaluate import (
    as_written,
    as_written_scores,
    f1,
    hierarchical_scores,
    label_style,
    majority_baseline,
    per_label_scores,
    score_metrics,
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


def test_as_written_scores_compare_labels_as_strings():
    # RCV1 writes only the leaf path; predicting its parent earns nothing as written ...
    gold, pred = [["A--B--C"], ["D"]], [["A--B"], ["D"]]
    raw = as_written_scores(gold, pred)
    assert raw["micro_f1"] == pytest.approx(0.5)  # TP D; FP A--B; FN A--B--C: 2 / 4
    # ... but closed under prefixes A and A--B are right: 2 * 3 / (2 * 3 + 0 + 1)
    assert hierarchical_scores(gold, pred)["micro_f1"] == pytest.approx(0.8571, abs=1e-4)


def test_as_written_macro_is_upstreams_harmonic_mean_over_the_label_map():
    gold, pred = [["X"], ["Y"]], [["X"], ["X"]]
    # over X, Y: precision (0.5 + 0) / 2, recall (1 + 0) / 2 -> 2PR / (P + R) = 1/3
    assert as_written_scores(gold, pred)["macro_f1"] == pytest.approx(0.3333, abs=1e-4)
    # a label the model knows but never predicts, absent from gold, still counts (P = R = 0)
    wider = as_written_scores(gold, pred, label_map=["X", "Y", "Z"])
    assert wider["macro_f1"] == pytest.approx(0.2222, abs=1e-4)
    with pytest.raises(ValueError, match="1 predictions"):
        as_written_scores(gold, pred[:1])


def test_predictions_are_written_like_the_corpus():
    assert label_style([["A", "A--B"], ["C"]]) == "closed"
    assert label_style([["A--B"], ["C"]]) == "specific"
    assert as_written({"A", "A--B", "C"}, "specific") == {"A--B", "C"}
    assert as_written({"A--B"}, "closed") == {"A", "A--B"}
    with pytest.raises(ValueError, match="style"):
        as_written({"A"}, "tree")


def test_score_metrics_names_closed_and_raw_apart():
    m = score_metrics("x_", [["A--B"]], [{"A", "A--B"}], "specific", ["A--B"])
    assert m["x_micro_f1"] == 1.0 and m["x_raw_micro_f1"] == 1.0
    m = score_metrics("", [["A--B"]], [{"A"}], "specific", ["A--B"])
    assert m["micro_f1"] == pytest.approx(0.6667, abs=1e-4) and m["raw_micro_f1"] == 0.0
    assert m["level_1_micro_f1"] == 1.0 and m["level_2_micro_f1"] == 0.0


def test_per_node_f1_closes_labels_under_their_ancestors():
    gold = [["A--B"], ["A--C"], ["D"]]
    pred = [["A--B"], ["A--B"], []]
    nodes = per_label_scores(gold, pred)
    assert set(nodes) == {"A", "A--B", "A--C", "D"}
    assert nodes["A"] == {"f1": 1.0, "support": 2, "tp": 2, "fp": 0, "fn": 0}
    assert nodes["A--B"]["f1"] == pytest.approx(2 / 3, abs=1e-4)  # 1 TP, 1 FP
    assert nodes["A--C"]["f1"] == 0.0 and nodes["D"]["support"] == 1
    with pytest.raises(ValueError):
        per_label_scores(gold, pred[:2])
