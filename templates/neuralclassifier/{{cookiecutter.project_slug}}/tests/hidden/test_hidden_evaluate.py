"""Instructor tests for the micro/macro-F1 per level: every number of a worked example."""

from {{ cookiecutter.package_name }}.evaluate import hierarchical_scores


def test_every_score_of_a_worked_example():
    gold = [["A--B--C"], ["A--D"], ["E"], ["E--F"]]
    pred = [["A--B"], ["A--D", "E"], [], ["G"]]
    # closed: TP A (x2), A--B, A--D; FP E, G; FN A--B--C, E (x2), E--F
    scores = hierarchical_scores(gold, pred)
    overall = {k: v for k, v in scores.items() if k != "levels"}
    # micro: 2*4 / (2*4 + 2 + 4); macro over the 6 gold labels: A, A--B, A--D = 1, the rest 0;
    # G never occurs in gold and does not count in macro-F1
    assert overall == {
        "micro_f1": 0.5714,
        "macro_f1": 0.5,
        "micro_precision": 0.6667,
        "micro_recall": 0.5,
        "labels": 6,
    }
    assert scores["levels"] == {
        "1": {  # A, E, G
            "micro_f1": 0.5,
            "macro_f1": 0.5,
            "micro_precision": 0.5,
            "micro_recall": 0.5,
            "labels": 2,
        },
        "2": {  # A--B, A--D, E--F
            "micro_f1": 0.8,
            "macro_f1": 0.6667,
            "micro_precision": 1.0,
            "micro_recall": 0.6667,
            "labels": 3,
        },
        "3": {  # A--B--C: missed, nothing predicted
            "micro_f1": 0.0,
            "macro_f1": 0.0,
            "micro_precision": 0.0,
            "micro_recall": 0.0,
            "labels": 1,
        },
    }


def test_levels_without_gold_labels_and_empty_input():
    scores = hierarchical_scores([["A"], ["A"]], [["B--C"], ["A"]])
    assert scores["levels"]["1"] == {
        "micro_f1": 0.5,  # TP A, FP B, FN A: 2 / (2 + 1 + 1)
        "macro_f1": 0.6667,  # only A is a gold label (B is not): F1(A) = 2 / 3
        "micro_precision": 0.5,
        "micro_recall": 0.5,
        "labels": 1,
    }
    assert scores["levels"]["2"] == {  # only a false positive: nothing to recall
        "micro_f1": 0.0,
        "macro_f1": 0.0,
        "micro_precision": 0.0,
        "micro_recall": 0.0,
        "labels": 0,
    }
    empty = hierarchical_scores([], [])
    assert empty["micro_f1"] == 0.0 and empty["macro_f1"] == 0.0 and empty["levels"] == {}
