"""The bag-of-n-grams baseline: logistic regression on the unigrams and bigrams of a sentence.

It sees which words and which adjacent word pairs occur, not where: the strongest cheap model a
sentiment classifier has to beat. Written in PyTorch (full-batch L-BFGS), so it needs no other
dependency; its L2 penalty is chosen on the dev split, never on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

# L2 penalties tried on the dev split (per example, on the mean log-loss).
PENALTIES = (1e-4, 1e-3, 1e-2, 1e-1)


def ngrams(text: str) -> list[str]:
    """The unigrams and bigrams of a lowercased, whitespace-split sentence."""
    words = text.lower().split()
    return [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]


@dataclass(frozen=True)
class Bags:
    """Sentences as bags of n-gram ids: sentence `rows[i]` contains n-gram `columns[i]`.

    A sentence holds about 20 of the ~800 n-grams, so this sparse form makes every product
    about 40 times cheaper than a dense matrix.
    """

    rows: torch.Tensor
    columns: torch.Tensor
    n_sentences: int

    def logits(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """`bias` + the sum of `weight` over each sentence's n-grams (differentiable)."""
        summed = torch.zeros(self.n_sentences).index_add(0, self.rows, weight[self.columns])
        return summed + bias


def bags(texts: Sequence[str], vocabulary: dict[str, int]) -> Bags:
    """Each text as the set of its n-grams found in `vocabulary` (unknown ones are dropped)."""
    rows: list[int] = []
    columns: list[int] = []
    for row, text in enumerate(texts):
        present = sorted({vocabulary[g] for g in ngrams(text) if g in vocabulary})
        rows.extend([row] * len(present))
        columns.extend(present)
    return Bags(
        torch.tensor(rows, dtype=torch.long), torch.tensor(columns, dtype=torch.long), len(texts)
    )


@dataclass
class BagOfNgrams:
    """A fitted bag-of-n-grams logistic regression: `predict` labels new sentences.

    Only n-grams seen in training get a weight; unseen ones are ignored, as in any bag of words.
    """

    vocabulary: dict[str, int]
    weight: torch.Tensor
    bias: torch.Tensor
    penalty: float

    def predict(self, texts: Sequence[str]) -> list[int]:
        """Label 1 where the fitted model gives probability > 0.5, else 0."""
        if not texts:
            raise ValueError("no texts to classify")
        logits = bags(texts, self.vocabulary).logits(self.weight, self.bias)
        return [int(value > 0) for value in logits.tolist()]


def _fit(
    x: Bags, y: torch.Tensor, n_features: int, penalty: float, max_iter: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise the mean log-loss + penalty / 2 * |weight|^2 by full-batch L-BFGS from zeros."""
    weight = torch.zeros(n_features, requires_grad=True)
    bias = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x.logits(weight, bias), y)
        loss = loss + 0.5 * penalty * weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def fit_bag_of_ngrams(
    train_texts: Sequence[str],
    train_labels: Sequence[int],
    dev_texts: Sequence[str],
    dev_labels: Sequence[int],
    penalties: Sequence[float] = PENALTIES,
    max_iter: int = 200,
) -> BagOfNgrams:
    """Fit one logistic regression per penalty on train; keep the most accurate on dev.

    Ties go to the larger penalty (the simpler model). Deterministic: L-BFGS from zeros.
    """
    if not penalties:
        raise ValueError("give at least one penalty to try")
    if not train_texts or not dev_texts:
        raise ValueError("the baseline needs training and dev sentences")
    if len(train_texts) != len(train_labels) or len(dev_texts) != len(dev_labels):
        raise ValueError("every sentence needs exactly one label")
    grams = sorted({g for text in train_texts for g in ngrams(text)})
    vocabulary = {g: i for i, g in enumerate(grams)}
    x, x_dev = bags(train_texts, vocabulary), bags(dev_texts, vocabulary)
    y = torch.tensor(train_labels, dtype=torch.float32)
    y_dev = torch.tensor(dev_labels)
    best: BagOfNgrams | None = None
    best_accuracy = -1.0
    for penalty in sorted(penalties, reverse=True):
        weight, bias = _fit(x, y, len(vocabulary), penalty, max_iter)
        predictions = (x_dev.logits(weight, bias) > 0).long()
        accuracy = float((predictions == y_dev).float().mean())
        if accuracy > best_accuracy:
            best, best_accuracy = BagOfNgrams(vocabulary, weight, bias, penalty), accuracy
    if best is None:  # unreachable: penalties is not empty
        raise ValueError("no model was fitted")
    return best
