"""NeuralClassifier's JSON-lines corpus format: reading, writing and validating it.

One document per line::

    {"doc_label": ["CCAT--C15--C152"], "doc_token": ["oil", "giant"], "doc_keyword": [],
     "doc_topic": []}

``doc_label`` holds full label paths (short node names joined by ``--``); NeuralClassifier reads
all four keys, so ``doc_keyword`` and ``doc_topic`` must be present even when empty.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .taxonomy import ROOT, SEP, Taxonomy, close_under_prefixes, level

KEYS = ("doc_label", "doc_token", "doc_keyword", "doc_topic")
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Split text into word tokens (Unicode letters, digits and underscores)."""
    return _TOKEN.findall(text.lower() if lowercase else text)


@dataclass(frozen=True)
class Document:
    """One labelled document: label paths and tokens (keywords and topics are kept as given)."""

    labels: tuple[str, ...]
    tokens: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The document as one line of NeuralClassifier JSON (keys in upstream's order)."""
        record = {
            "doc_label": list(self.labels),
            "doc_token": list(self.tokens),
            "doc_keyword": list(self.keywords),
            "doc_topic": list(self.topics),
        }
        return json.dumps(record, ensure_ascii=False)


@dataclass(frozen=True)
class Problem:
    """A format problem at one line of one file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FormatError(ValueError):
    """Raised when a corpus file breaks the format; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], shown: int = 10) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:shown]]
        if len(self.problems) > shown:
            lines.append(f"... and {len(self.problems) - shown} more problems")
        super().__init__("\n".join(lines))


def record_problems(record: object, taxonomy: Taxonomy | None = None) -> list[str]:
    """Every reason why ``record`` (one parsed JSON line) is not a valid document."""
    if not isinstance(record, dict):
        return [f"expected a JSON object, got {type(record).__name__}"]
    problems = []
    for key in KEYS:
        if key not in record:
            problems.append(f"missing key {key!r} (NeuralClassifier reads it; write [] if empty)")
        elif not isinstance(record[key], list) or not all(
            isinstance(item, str) for item in record[key]
        ):
            problems.append(f"{key!r} must be a list of strings")
    if problems:
        return problems
    labels, tokens = record["doc_label"], record["doc_token"]
    if not labels:
        problems.append("'doc_label' is empty: every document needs at least one label")
    if not tokens:
        problems.append("'doc_token' is empty: the document has no text")
    for label in sorted({x for x in labels if labels.count(x) > 1}):
        problems.append(f"label {label!r} is listed twice")
    for label in labels:
        if taxonomy is not None:
            problem = taxonomy.label_problem(label)
        elif label != label.strip() or any(not part for part in label.split(SEP)):
            problem = f"label {label!r} has an empty level: separate levels with exactly {SEP!r}"
        else:
            problem = None
        if problem:
            problems.append(problem)
    return problems


def validate_file(path: str | Path, taxonomy: Taxonomy | None = None) -> list[Problem]:
    """Check one corpus file line by line; return all problems (an empty list means valid).

    Without a taxonomy the labels are still checked for shape, and a short node name used under
    two different parents is reported (NeuralClassifier needs unique short names).
    """
    path = Path(path)
    problems: list[Problem] = []
    parent_of: dict[str, tuple[str, int]] = {}
    count = 0
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                problems.append(Problem(str(path), lineno, "empty line"))
                continue
            count += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(Problem(str(path), lineno, f"not valid JSON ({err.msg})"))
                continue
            messages = record_problems(record, taxonomy)
            problems.extend(Problem(str(path), lineno, m) for m in messages)
            if taxonomy is None and not messages:
                for label in record["doc_label"]:
                    parts = label.split(SEP)
                    for depth, name in enumerate(parts):
                        parent = parts[depth - 1] if depth else ROOT
                        first = parent_of.setdefault(name, (parent, lineno))
                        if first[0] != parent:
                            problems.append(
                                Problem(
                                    str(path),
                                    lineno,
                                    f"node name {name!r} is under {parent!r} here but under "
                                    f"{first[0]!r} at line {first[1]}; short names must be unique",
                                )
                            )
                            parent_of[name] = (parent, lineno)
    if count == 0:
        problems.append(Problem(str(path), 0, "the file holds no documents"))
    return problems


def read_corpus(path: str | Path, taxonomy: Taxonomy | None = None) -> list[Document]:
    """Read a corpus file; raise FormatError listing file, line and problem if it is invalid."""
    problems = validate_file(path, taxonomy)
    if problems:
        raise FormatError(problems)
    docs = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            docs.append(
                Document(
                    labels=tuple(record["doc_label"]),
                    tokens=tuple(record["doc_token"]),
                    keywords=tuple(record["doc_keyword"]),
                    topics=tuple(record["doc_topic"]),
                )
            )
    return docs


def write_corpus(path: str | Path, docs: Iterable[Document]) -> Path:
    """Write documents as JSON lines (UTF-8, one document per line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(doc.to_json() + "\n")
    return path


def unseen_label_problems(
    train: Sequence[Document], docs: Sequence[Document], path: str | Path
) -> list[Problem]:
    """Lines of ``path`` (whose documents are ``docs``) with no label that occurs in ``train``.

    NeuralClassifier builds its label map from the training files only and stops with
    ``AssertionError: Label is empty`` on such a line of the dev or test file.
    """
    known = {label for doc in train for label in doc.labels}
    return [
        Problem(str(path), lineno, f"none of the labels {list(doc.labels)} occurs in train")
        for lineno, doc in enumerate(docs, start=1)
        if not known.intersection(doc.labels)
    ]


def leaf_labels(labels: Iterable[str]) -> set[str]:
    """The most specific labels: those that are no other label's ancestor."""
    closed = close_under_prefixes(labels)
    return {a for a in closed if not any(b.startswith(a + SEP) for b in closed)}


class Vocab:
    """Token ids: 0 is padding, 1 is unknown, then tokens by falling count (ties by name)."""

    PAD, UNK = 0, 1

    def __init__(self, tokens: Sequence[str]) -> None:
        self.itos = ["<pad>", "<unk>", *tokens]
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}

    @classmethod
    def build(cls, docs: Iterable[Document], min_count: int = 1, max_size: int = 50_000) -> Vocab:
        """Count tokens of ``docs``; keep those seen ``min_count`` times, ``max_size`` at most."""
        counts = Counter(tok for doc in docs for tok in doc.tokens)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t)
        )
        return cls(kept[:max_size])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str], max_len: int) -> list[int]:
        """Token ids of the first ``max_len`` tokens (unknown tokens map to 1)."""
        return [self.stoi.get(tok, self.UNK) for tok in tokens[:max_len]]


class LabelSpace:
    """The labels a model predicts, ordered by level then name, with their ids."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.labels = sorted(set(labels), key=lambda x: (level(x), x))
        self.index = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def for_docs(cls, docs: Iterable[Document], mode: str) -> LabelSpace:
        """All nodes (``hierarchical``) or only the most specific labels (``flat``) of ``docs``."""
        return cls(label for doc in docs for label in targets(doc.labels, mode))

    def __len__(self) -> int:
        return len(self.labels)

    def parent_child_pairs(self) -> list[tuple[int, int]]:
        """(parent id, child id) for every edge whose two ends are both in the space."""
        pairs = []
        for label, child in self.index.items():
            if SEP in label:
                parent = self.index.get(label.rsplit(SEP, 1)[0])
                if parent is not None:
                    pairs.append((parent, child))
        return pairs


def targets(labels: Iterable[str], mode: str) -> set[str]:
    """What a model learns for one document: every node on its paths, or only the leaves.

    ``hierarchical``: the labels closed under prefixes (``A``, ``A--B``, ``A--B--C``).
    ``flat``: only the most specific labels (``A--B--C``), as a flat classifier sees them.
    """
    if mode == "hierarchical":
        return close_under_prefixes(labels)
    if mode == "flat":
        return leaf_labels(labels)
    raise ValueError(f"mode must be 'hierarchical' or 'flat', not {mode!r}")
