"""Micro- and macro-F1 for hierarchical multi-label predictions, measured two ways.

**Closed** (this starter's ``micro_f1`` / ``macro_f1``, :func:`hierarchical_scores`): gold and
predicted label sets are first closed under prefixes: predicting ``A--B--C`` also predicts ``A``
and ``A--B``. So a flat classifier (leaves only) and a hierarchical one (every node) are scored on
the same footing, over every node of the tree, and a wrong leaf under the right parent still
earns the parent.

* micro-F1: from true positives, false positives and false negatives summed over all labels;
* macro-F1: the mean of per-label F1 over the labels that occur in the gold sets;
* level k: the same two numbers over the labels with k levels (``A--B`` is level 2).

**As written** (``raw_micro_f1`` / ``raw_macro_f1``, :func:`as_written_scores`): what
NeuralClassifier's ``eval.py`` reports as its overall ("all") numbers, and so what its README's
RCV1 table measures. Labels are compared as the strings the corpus writes, nothing is added:
RCV1 writes ``CCAT--C15--C152`` alone, so predicting ``CCAT--C15`` for it is one false positive
and one false negative, with no credit for ``CCAT``. Macro-F1 is upstream's: the harmonic mean
of precision and recall, each averaged over every label of the model's label map. Closed scores
are higher than as-written ones on the same predictions; never compare one with the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .taxonomy import SEP, close_under_prefixes, level


def f1(tp: int, fp: int, fn: int) -> float:
    """F1 = 2TP / (2TP + FP + FN), 0.0 when there is nothing to score."""
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 0.0


def _scores(
    tp: Counter[str], fp: Counter[str], fn: Counter[str], labels: Iterable[str]
) -> dict[str, float]:
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
) -> dict[str, Any]:
    """Scores of ``pred`` against ``gold`` (one label set per document, same order).

    Returns ``{"micro_f1", "macro_f1", "micro_precision", "micro_recall", "labels",
    "levels": {"1": {...}, "2": {...}}}`` with values rounded to 4 decimals.
    """
    tp, fp, fn = _label_counts(gold, pred)
    everything = set(tp) | set(fp) | set(fn)
    result: dict[str, Any] = dict(_scores(tp, fp, fn, everything))
    depth = max((level(x) for x in everything), default=0)
    result["levels"] = {
        str(k): _scores(tp, fp, fn, (x for x in everything if level(x) == k))
        for k in range(1, depth + 1)
    }
    return result


def _label_counts(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """True positives, false positives and false negatives of every label, the label sets
    closed under prefixes."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g_raw, p_raw in zip(gold, pred, strict=True):
        g, p = close_under_prefixes(g_raw), close_under_prefixes(p_raw)
        tp.update(g & p)
        fp.update(p - g)
        fn.update(g - p)
    return tp, fp, fn


def per_label_scores(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]
) -> dict[str, dict[str, float]]:
    """F1 of every node of the tree (label sets closed under prefixes, as ``micro_f1``).

    Returns ``{label: {"f1", "support", "tp", "fp", "fn"}}`` for every label in ``gold`` or
    ``pred``, sorted by label; ``support`` is how many gold sets hold the label. F1 rounded to 4.
    """
    tp, fp, fn = _label_counts(gold, pred)
    return {
        x: {
            "f1": round(f1(tp[x], fp[x], fn[x]), 4),
            "support": tp[x] + fn[x],
            "tp": tp[x],
            "fp": fp[x],
            "fn": fn[x],
        }
        for x in sorted(set(tp) | set(fp) | set(fn))
    }


def majority_baseline(train: Sequence[Iterable[str]], n_docs: int) -> list[set[str]]:
    """Predict the most common (closed) label set of ``train`` for each of ``n_docs`` docs."""
    counts = Counter(frozenset(close_under_prefixes(labels)) for labels in train)
    best = min(counts, key=lambda s: (-counts[s], sorted(s)))
    return [set(best) for _ in range(n_docs)]


def label_style(label_sets: Iterable[Iterable[str]]) -> str:
    """How a corpus writes its labels: ``closed`` if every set lists all ancestors, else
    ``specific`` (only the most specific paths, as RCV1 does)."""
    for labels in label_sets:
        labels = set(labels)
        if labels != close_under_prefixes(labels):
            return "specific"
    return "closed"


def as_written(labels: Iterable[str], style: str) -> set[str]:
    """A predicted label set written the way the corpus writes its labels (see label_style)."""
    closed = close_under_prefixes(labels)
    if style == "closed":
        return closed
    if style == "specific":
        return {a for a in closed if not any(b.startswith(a + SEP) for b in closed)}
    raise ValueError(f"style must be 'closed' or 'specific', not {style!r}")


def as_written_scores(
    gold: Sequence[Iterable[str]],
    pred: Sequence[Iterable[str]],
    label_map: Iterable[str] | None = None,
) -> dict[str, float]:
    """Upstream ``eval.py``'s overall numbers: labels compared exactly as written.

    ``micro_f1`` comes from true/false positives and false negatives summed over labels;
    ``macro_f1`` is 2PR / (P + R) of precision P and recall R averaged over ``label_map`` (the
    labels the model can predict; a label never predicted has precision 0, one never in gold
    recall 0), as NeuralClassifier computes it. ``label_map`` defaults to every label seen in
    ``gold`` or ``pred``. Values are rounded to 4 decimals.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold label sets but {len(pred)} predictions")
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g_raw, p_raw in zip(gold, pred, strict=True):
        g, p = set(g_raw), set(p_raw)
        tp.update(g & p)
        fp.update(p - g)
        fn.update(g - p)
    labels = set(label_map) if label_map is not None else set(tp) | set(fp) | set(fn)
    stp, sfp, sfn = (sum(c.values()) for c in (tp, fp, fn))
    precision = [tp[x] / (tp[x] + fp[x]) if tp[x] + fp[x] else 0.0 for x in labels]
    recall = [tp[x] / (tp[x] + fn[x]) if tp[x] + fn[x] else 0.0 for x in labels]
    macro_p = sum(precision) / len(labels) if labels else 0.0
    macro_r = sum(recall) / len(labels) if labels else 0.0
    macro = 2 * macro_p * macro_r / (macro_p + macro_r) if macro_p + macro_r else 0.0
    return {"micro_f1": round(f1(stp, sfp, sfn), 4), "macro_f1": round(macro, 4)}


def score_metrics(
    prefix: str,
    gold: Sequence[Iterable[str]],
    pred: Sequence[Iterable[str]],
    style: str,
    label_map: Iterable[str],
) -> dict[str, float]:
    """Closed and as-written scores of ``pred`` as flat metric names starting with ``prefix``.

    ``micro_f1``, ``macro_f1`` and ``level_<k>_micro_f1`` are closed (this starter's measure);
    ``raw_micro_f1`` and ``raw_macro_f1`` are as written (NeuralClassifier's), with the
    prediction written in the corpus's ``style`` and macro-F1 averaged over ``label_map``.
    """
    closed = hierarchical_scores(gold, pred)
    raw = as_written_scores(gold, [as_written(p, style) for p in pred], label_map)
    out = {
        f"{prefix}micro_f1": float(closed["micro_f1"]),
        f"{prefix}macro_f1": float(closed["macro_f1"]),
        f"{prefix}raw_micro_f1": raw["micro_f1"],
        f"{prefix}raw_macro_f1": raw["macro_f1"],
    }
    levels = closed["levels"]
    assert isinstance(levels, dict)
    for k, level_scores in levels.items():
        out[f"{prefix}level_{k}_micro_f1"] = level_scores["micro_f1"]
    return out
