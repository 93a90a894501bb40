"""The cheap baseline every run measures beside the hybrid: logistic regression on raw pixels."""

from __future__ import annotations

from dataclasses import dataclass

from .data import Split

# Inverse regularisation strengths tried; the one with the best dev accuracy is kept.
LOGREG_C = (0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class BaselineResult:
    """Dev and test accuracy of a baseline, with the setting chosen on the dev split."""

    name: str
    dev_accuracy: float
    test_accuracy: float
    setting: float


def logistic_regression(split: Split, grid: tuple[float, ...] = LOGREG_C) -> BaselineResult:
    """Multinomial logistic regression on the raw pixels, ``C`` chosen on the dev split.

    It is fitted on the training split only and scored once on the test split with the ``C``
    whose dev accuracy is best (the smallest ``C``, the strongest regularisation, on a tie).
    """
    from sklearn.linear_model import LogisticRegression

    best: tuple[float, float, LogisticRegression] | None = None
    for c in sorted(grid):
        model = LogisticRegression(C=c, max_iter=2000).fit(split.x_train, split.y_train)
        dev = float(model.score(split.x_dev, split.y_dev))
        if best is None or dev > best[0]:
            best = (dev, c, model)
    if best is None:
        raise ValueError("the grid of C values is empty")
    dev, c, model = best
    return BaselineResult("logreg", dev, float(model.score(split.x_test, split.y_test)), c)
