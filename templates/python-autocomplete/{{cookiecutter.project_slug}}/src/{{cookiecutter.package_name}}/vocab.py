"""The vocabulary: the most frequent tokens of the training files, plus ``<pad>`` and ``<unk>``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

PAD = "<pad>"
UNK = "<unk>"
SPECIALS = (PAD, UNK)
FORMAT = "python-autocomplete-vocab/1"


class Vocabulary:
    """A fixed mapping between tokens and ids; ``<pad>`` is id 0 and ``<unk>`` id 1.

    Tokens outside the vocabulary encode as ``<unk>``: the model can predict that a rare name
    comes, never which one.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}, got {tuple(tokens[:2])}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary holds each token once")
        self.tokens: list[str] = list(tokens)
        self._ids = {token: index for index, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, streams: Iterable[Iterable[str]], max_size: int) -> Vocabulary:
        """The ``max_size - 2`` most frequent tokens of ``streams`` (ties broken by the token)."""
        if max_size <= len(SPECIALS):
            raise ValueError(f"max_size must exceed {len(SPECIALS)}, got {max_size}")
        counts: Counter[str] = Counter()
        for stream in streams:
            counts.update(stream)
        for special in SPECIALS:
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([*SPECIALS, *(token for token, _ in ranked[: max_size - len(SPECIALS)])])

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(tuple(self.tokens))

    def id(self, token: str) -> int:
        """The id of ``token``, or the ``<unk>`` id."""
        return self._ids.get(token, self.unk_id)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self._ids.get(token, self.unk_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[index] for index in ids]

    def to_dict(self) -> dict[str, object]:
        return {"format": FORMAT, "tokens": self.tokens}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Vocabulary:
        if data.get("format") != FORMAT or not isinstance(data.get("tokens"), list):
            raise ValueError(f"not a vocabulary in format {FORMAT!r}")
        return cls(data["tokens"])  # type: ignore[arg-type]

    def save(self, path: Path) -> None:
        """Write the vocabulary as JSON; ``Vocabulary.load`` reads it back equal."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=0) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
