"""The targets each command checks: the thresholds, the comparison, and where each comes from.

`train` and `evaluate` cannot run for real in the tests (a real run takes minutes to hours),
so the code that builds their report is checked here, on metrics either side of each line.
"""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.criteria import (
    REAL_TOP1_MARGIN,
    SMOKE_LOSS_MARGIN,
    SMOKE_TOP1_MARGIN,
    UPSTREAM_CITATION,
    real_run_targets,
    smoke_targets,
)
from {{ cookiecutter.package_name }}.targets import build_report

SMOKE_OK = {"top1": 0.47, "bigram_top1": 0.33, "loss": 2.6, "bigram_loss": 3.0}
REAL_OK = {"keystrokes_saved": 0.31, "top1": 0.60, "fourgram_top1": 0.53}


def test_the_smoke_needs_the_margins_over_the_bigram_of_the_same_run():
    report = build_report(SMOKE_OK, smoke_targets(SMOKE_OK), started=0.0)
    assert report["ok"] is True
    top1 = report["targets"]["top1_over_bigram"]
    assert top1["threshold"] == pytest.approx(0.33 + SMOKE_TOP1_MARGIN)
    assert top1["source"] == f"baseline:bigram_top1 + {SMOKE_TOP1_MARGIN:g}"
    loss = report["targets"]["loss_under_bigram"]
    assert (loss["op"], loss["threshold"]) == ("<=", pytest.approx(3.0 - SMOKE_LOSS_MARGIN))


@pytest.mark.parametrize(
    ("changed", "missed"),
    [
        # a bigram-like model: its top-1 reaches the bigram's, not the margin above it
        ({"top1": 0.33 + SMOKE_TOP1_MARGIN - 0.001}, "top1_over_bigram"),
        ({"loss": 3.0 - SMOKE_LOSS_MARGIN + 0.001}, "loss_under_bigram"),
        ({"loss": float("nan")}, "loss_under_bigram"),  # a diverged run never passes
    ],
)
def test_the_smoke_fails_just_below_a_margin(changed, missed):
    metrics = {**SMOKE_OK, **changed}
    report = build_report(metrics, smoke_targets(metrics), started=0.0)
    assert report["ok"] is False
    assert [name for name, t in report["targets"].items() if not t["met"]] == [missed]


def test_the_real_run_checks_the_published_keystrokes_and_the_4_gram():
    report = build_report(REAL_OK, real_run_targets(REAL_OK), started=0.0)
    assert report["ok"] is True
    keystrokes = report["targets"]["keystrokes_saved"]
    assert (keystrokes["op"], keystrokes["threshold"]) == (">=", 0.30)
    assert keystrokes["source"] == UPSTREAM_CITATION
    assert "lab-ml/python_autocomplete" in UPSTREAM_CITATION and "30%" in UPSTREAM_CITATION
    top1 = report["targets"]["top1_over_fourgram"]
    assert top1["threshold"] == pytest.approx(0.53 + REAL_TOP1_MARGIN)
    assert top1["source"].startswith("baseline:fourgram_top1")


@pytest.mark.parametrize(
    ("changed", "missed"),
    [
        ({"keystrokes_saved": 0.299}, "keystrokes_saved"),
        ({"top1": 0.53 + REAL_TOP1_MARGIN - 0.001}, "top1_over_fourgram"),
    ],
)
def test_the_real_run_fails_when_either_target_is_missed(changed, missed):
    metrics = {**REAL_OK, **changed}
    report = build_report(metrics, real_run_targets(metrics), started=0.0)
    assert report["ok"] is False
    assert [name for name, t in report["targets"].items() if not t["met"]] == [missed]
