"""The baselines to beat: n-gram models that rank next tokens by counts.

The smoke run and the real run measure three of them beside the LSTM, on the same held-out
tokens: the unigram (``order=1``: the most frequent tokens, whatever came before), the bigram
(``order=2``: what followed the previous token) and the 4-gram (the last three tokens, backing
off to shorter contexts). No training beyond counting: seconds on the whole stdlib.

For a context the model lists the tokens seen after the last ``order - 1`` tokens, most
frequent first, then those seen after the last ``order - 2``, and so on down to the overall
most frequent tokens. For a held-out loss comparable with the LSTM's, it also gives
probabilities: each order is interpolated with the one below by Witten-Bell smoothing (Witten
and Bell 1991; Chen and Goodman 1998), down to a uniform distribution over the vocabulary, so
no token has probability zero.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from .vocab import SPECIALS

BASELINE_ORDERS = {"unigram": 1, "bigram": 2, "fourgram": 4}


class NGramModel:
    """Ranks next-token ids from counts of the ``order - 1`` tokens before them."""

    def __init__(self, order: int = 4, max_candidates: int = 64) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        self.order = order
        self.max_candidates = max_candidates
        # counts[n][context of n ids] = how often each id followed it
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = []
        # sizes[n][context] = (times seen with a next id, distinct next ids): Witten-Bell's c, t
        self.sizes: list[dict[tuple[int, ...], tuple[int, int]]] = []
        # followers[n][context of n ids] = ids seen next, most frequent first (no specials)
        self.followers: list[dict[tuple[int, ...], tuple[int, ...]]] = []

    def fit(self, ids: Sequence[int]) -> NGramModel:
        """Count every n-gram of the id stream ``ids``; returns the model itself."""
        ids = list(ids)
        counts: list[defaultdict[tuple[int, ...], Counter[int]]] = []
        for n in range(self.order):
            # every (n + 1)-gram at once (counted in C), then grouped by its first n ids
            grams = Counter(zip(*(ids[offset:] for offset in range(n + 1)), strict=False))
            table: defaultdict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
            for gram, count in grams.items():
                table[gram[:-1]][gram[-1]] = count
            counts.append(table)
        self.counts = [dict(table) for table in counts]
        self.sizes = [
            {context: (counter.total(), len(counter)) for context, counter in table.items()}
            for table in self.counts
        ]
        excluded = set(range(len(SPECIALS)))  # <pad> and <unk> are never suggested
        self.followers = [
            {
                context: tuple(
                    token
                    for token, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
                    if token not in excluded
                )[: self.max_candidates]
                for context, counter in table.items()
            }
            for table in self.counts
        ]
        return self

    def with_order(self, order: int) -> NGramModel:
        """The same counts read as a lower-order model (a bigram from a fitted 4-gram): the
        counts of the shorter contexts do not depend on the order they were counted for."""
        self._check_fitted()
        if not 1 <= order <= self.order:
            raise ValueError(f"order must be between 1 and {self.order}, got {order}")
        lower = NGramModel(order, self.max_candidates)
        lower.counts = self.counts[:order]
        lower.sizes = self.sizes[:order]
        lower.followers = self.followers[:order]
        return lower

    def rank(self, context: Sequence[int], k: int | None = None) -> list[int]:
        """Up to ``k`` (default ``max_candidates``) next-token ids, most likely first."""
        self._check_fitted()
        k = k or self.max_candidates
        ranked: list[int] = []
        seen: set[int] = set()
        for n in range(min(self.order - 1, len(context)), -1, -1):
            key = tuple(context[len(context) - n :]) if n else ()
            for token in self.followers[n].get(key, ()):
                if token not in seen:
                    seen.add(token)
                    ranked.append(token)
                    if len(ranked) == k:
                        return ranked
        return ranked

    def probability(self, context: Sequence[int], target: int, vocab_size: int) -> float:
        """P(``target`` | the last ``order - 1`` ids of ``context``), Witten-Bell interpolated.

        At each order, with ``c`` the count of the context, ``t`` the number of distinct ids
        seen after it and ``c(w)`` the count of ``target`` after it:
        ``P(w) = (c(w) + t * P_lower(w)) / (c + t)``; an unseen context passes ``P_lower`` on.
        The lowest level is uniform over ``vocab_size`` ids.
        """
        self._check_fitted()
        probability = 1.0 / vocab_size
        for n in range(min(self.order - 1, len(context)) + 1):
            key = tuple(context[len(context) - n :]) if n else ()
            size = self.sizes[n].get(key)
            if size is None:
                break  # a longer context that ends the same was never seen either
            total, distinct = size
            seen = self.counts[n][key].get(target, 0)
            probability = (seen + distinct * probability) / (total + distinct)
        return probability

    def cross_entropy(self, ids: Sequence[int], vocab_size: int) -> float:
        """Mean negative log-probability (nats) of ``ids[1:]``, each given the ids before it."""
        total = 0.0
        for position in range(1, len(ids)):
            context = ids[max(0, position - self.order + 1) : position]
            total -= math.log(self.probability(context, ids[position], vocab_size))
        return total / max(1, len(ids) - 1)

    def _check_fitted(self) -> None:
        if not self.followers:
            raise RuntimeError("call fit() before rank() or probability()")


def fit_baselines(ids: Sequence[int]) -> dict[str, NGramModel]:
    """The unigram, bigram and 4-gram of ``ids``, by their names in ``BASELINE_ORDERS``."""
    full = NGramModel(max(BASELINE_ORDERS.values())).fit(ids)
    return {name: full.with_order(order) for name, order in BASELINE_ORDERS.items()}
