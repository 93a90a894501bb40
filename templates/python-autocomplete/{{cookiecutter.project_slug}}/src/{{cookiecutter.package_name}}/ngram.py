"""The baseline to beat: an n-gram model (4-gram by default) that ranks next tokens by counts.

For a context it lists the tokens seen after the last ``order - 1`` tokens, most frequent
first, then those seen after the last ``order - 2``, and so on down to the overall most
frequent tokens. No smoothing, no training beyond counting: seconds on the whole stdlib.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from .vocab import SPECIALS


class NGramModel:
    """Ranks next-token ids from counts of the ``order - 1`` tokens before them."""

    def __init__(self, order: int = 4, max_candidates: int = 64) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        self.order = order
        self.max_candidates = max_candidates
        # followers[n][context of n ids] = ids seen next, most frequent first
        self.followers: list[dict[tuple[int, ...], tuple[int, ...]]] = []

    def fit(self, ids: Sequence[int]) -> NGramModel:
        """Count every n-gram of the id stream ``ids``; returns the model itself."""
        excluded = set(range(len(SPECIALS)))  # <pad> and <unk> are never suggested
        counts: list[defaultdict[tuple[int, ...], Counter[int]]] = [
            defaultdict(Counter) for _ in range(self.order)
        ]
        for position, target in enumerate(ids):
            if target in excluded:
                continue
            for n in range(min(self.order, position + 1)):
                counts[n][tuple(ids[position - n : position])][target] += 1
        self.followers = [
            {
                context: tuple(
                    token
                    for token, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[
                        : self.max_candidates
                    ]
                )
                for context, counter in table.items()
            }
            for table in counts
        ]
        return self

    def rank(self, context: Sequence[int], k: int | None = None) -> list[int]:
        """Up to ``k`` (default ``max_candidates``) next-token ids, most likely first."""
        if not self.followers:
            raise RuntimeError("call fit() before rank()")
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
