"""The published RCV1 targets: every upstream model has one, and they decide ok."""

import math

import pytest

from {{ cookiecutter.package_name }} import upstream
from {{ cookiecutter.package_name }}.published import RCV1, rcv1_targets


@pytest.mark.parametrize("model", upstream.MODELS)
def test_every_upstream_model_has_a_cited_target(model):
    for mode in ("hierarchical", "flat"):
        targets = rcv1_targets(model, mode, 0.0, 0.0, "test")
        micro = targets["raw_micro_f1_vs_published"]
        assert micro.op == ">=" and 0.6 < micro.threshold < 0.85
        assert "NeuralClassifier README" in micro.source and micro.met is False


def test_thresholds_are_the_readme_rows_and_decide_met():
    hier = rcv1_targets("TextRCNN", "hierarchical", 0.8313, 0.6047, "x")
    assert [t.threshold for t in hier.values()] == [0.8313, 0.6047]
    assert all(t.met for t in hier.values())
    assert "RCNN hierarchical micro-F1 0.8313" in hier["raw_micro_f1_vs_published"].source
    flat = rcv1_targets("TextRCNN", "flat", 0.80, 0.50, "x")
    assert flat["raw_micro_f1_vs_published"].met is True  # 0.80 >= 0.7955
    assert flat["raw_macro_f1_vs_published"].met is False  # 0.50 < 0.5123
    missing = rcv1_targets("TextCNN", "hierarchical", None, math.nan, "x")
    assert not any(t.met for t in missing.values())  # nothing measured never passes
    hmcn = rcv1_targets("HMCN", "flat", 0.81, None, "x")  # HMCN runs with hierarchical false
    assert list(hmcn) == ["raw_micro_f1_vs_published"] and hmcn["raw_micro_f1_vs_published"].met
    with pytest.raises(KeyError):
        rcv1_targets("BERT", "flat", 0.9, 0.9, "x")
    assert set(RCV1) == set(upstream.MODELS)
