"""Micro- and macro-F1 for hierarchical multi-label predictions, overall and per level.

Gold and predicted label sets are first closed under prefixes: predicting ``A--B--C`` also
predicts ``A`` and ``A--B``. So a flat classifier (leaves only) and a hierarchical one (every
node) are scored on the same footing, over every node of the tree.

* micro-F1: from true positives, false positives and false negatives summed over all labels;
* macro-F1: the mean of per-label F1 over the labels that occur in the gold sets;
* level k: the same two numbers over the labels with k levels (``A--B`` is level 2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .taxonomy import close_under_prefixes, level


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 = 2TP / (2TP + FP + FN), 0.0 when there is nothing to score."""
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 0.0


def _scores(tp: Counter, fp: Counter, fn: Counter, labels: Iterable[str]) -> dict[str, float]:
    """Scores over ``labels`` from per-label counts of true/false positives and false negatives.

    ``micro_f1``: :func:`f1` of the counts summed over ``labels``; ``macro_f1``: the mean of the
    per-label F1 over the labels that occur in the gold sets (``tp + fn > 0``), 0.0 if none does;
    ``micro_precision`` and ``micro_recall`` of the summed counts (0.0 when undefined);
    ``labels``: how many labels occur in the gold sets. Floats are rounded to 4 decimals.
    """
    # >>> assignment: micro-F1 of summed counts, macro-F1 mean over gold labels
    labels = list(labels)
    stp, sfp, sfn = (sum(c[x] for x in labels) for c in (tp, fp, fn))
    gold_labels = [x for x in labels if tp[x] + fn[x] > 0]
    macro = (
        sum(f1(tp[x], fp[x], fn[x]) for x in gold_labels) / len(gold_labels) if gold_labels else 0.0
    )
    return {
        "micro_f1": round(f1(stp, sfp, sfn), 4),
        "macro_f1": round(macro, 4),
        "micro_precision": round(stp / (stp + sfp), 4) if stp + sfp else 0.0,
        "micro_recall": round(stp / (stp + sfn), 4) if stp + sfn else 0.0,
        "labels": len(gold_labels),
    }
    # <<< assignment


def hierarchical_scores(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]
) -> dict[str, object]:
    """Scores of ``pred`` against ``gold`` (one label set per document, same order).

    Returns ``{"micro_f1", "macro_f1", "micro_precision", "micro_recall", "labels",
    "levels": {"1": {...}, "2": {...}}}`` with values rounded to 4 decimals.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for g_raw, p_raw in zip(gold, pred, strict=True):
        g, p = close_under_prefixes(g_raw), close_under_prefixes(p_raw)
        tp.update(g & p)
        fp.update(p - g)
        fn.update(g - p)
    everything = set(tp) | set(fp) | set(fn)
    result: dict[str, object] = dict(_scores(tp, fp, fn, everything))
    depth = max((level(x) for x in everything), default=0)
    result["levels"] = {
        str(k): _scores(tp, fp, fn, (x for x in everything if level(x) == k))
        for k in range(1, depth + 1)
    }
    return result


def majority_baseline(train: Sequence[Iterable[str]], n_docs: int) -> list[set[str]]:
    """Predict the most common (closed) label set of ``train`` for each of ``n_docs`` docs."""
    counts = Counter(frozenset(close_under_prefixes(labels)) for labels in train)
    best = min(counts, key=lambda s: (-counts[s], sorted(s)))
    return [set(best) for _ in range(n_docs)]
