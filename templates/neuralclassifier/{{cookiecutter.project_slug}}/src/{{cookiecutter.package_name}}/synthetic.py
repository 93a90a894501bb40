"""A synthetic hierarchical corpus in NeuralClassifier's format, made offline from a seed.

Every node of a fixed three-level news taxonomy owns a few made-up topic words. A document
carries one or two label paths; most of its tokens are filler words shared by all classes, the
rest are topic words of the nodes on its paths, with some words of unrelated nodes mixed in as
noise. Deeper levels get fewer telling words, so level 3 is harder than level 1, as in RCV1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from . import DEFAULT_SEED
from .data import Document, write_corpus
from .taxonomy import ROOT, SEP, Taxonomy

TREE: dict[str, dict[str, list[str]]] = {
    "Science": {
        "Physics": ["Optics", "Quantum"],
        "Biology": ["Genetics", "Ecology"],
        "Chemistry": [],
    },
    "Sports": {"Football": ["Soccer", "Rugby"], "Tennis": [], "Cycling": []},
    "Business": {"Markets": ["Stocks", "Bonds"], "Industry": [], "Startups": []},
    "Arts": {"Music": ["Jazz", "Opera"], "Film": [], "Literature": []},
}

_ONSETS = "b c d f g h j k l m n p r s t v w z br dr kr pl st tr".split()
_VOWELS = "a e i o u ai ou".split()


def synthetic_taxonomy() -> Taxonomy:
    """The fixed 26-node, three-level taxonomy of the synthetic corpus."""
    tax = Taxonomy()
    for top, mids in TREE.items():
        tax.add(ROOT, top)
        for mid, leaves in mids.items():
            tax.add(top, mid)
            for leaf in leaves:
                tax.add(mid, leaf)
    return tax


def _words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` new pronounceable made-up words (two or three syllables)."""
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.choice((2, 3))))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


@dataclass(frozen=True)
class SyntheticSpec:
    """Sizes and difficulty of the synthetic corpus."""

    n_train: int = 1500
    n_dev: int = 300
    n_test: int = 600
    filler_words: int = 400
    words_per_node: int = 4
    filler_rate: float = 0.5  # share of tokens that carry no label information
    noise_rate: float = 0.05  # share of topic tokens taken from a random unrelated node
    two_label_rate: float = 0.3  # documents with a second label path from another branch
    min_len: int = 20
    max_len: int = 50


def make_corpus(
    seed: int = DEFAULT_SEED, spec: SyntheticSpec | None = None
) -> dict[str, list[Document]]:
    """Train, dev and test documents, identical for the same seed and spec.

    The seed picks the made-up words of every node and draws every document, so two seeds give
    two different corpora of the same size and difficulty.
    """
    spec = spec or SyntheticSpec()
    rng = random.Random(seed)
    tax = synthetic_taxonomy()
    taken: set[str] = set()
    filler = _words(rng, spec.filler_words, taken)
    topic = {node: _words(rng, spec.words_per_node, taken) for node in tax.nodes}
    nodes = tax.nodes
    # Leaves are drawn twice as often as inner nodes; an inner-node label (``Science--Physics``)
    # means the document is about the topic in general, like RCV1 documents labelled ``CCAT``.
    weights = [1 if tax.children(n) else 2 for n in nodes]

    def one_doc() -> Document:
        first = rng.choices(nodes, weights)[0]
        chosen = [first]
        if rng.random() < spec.two_label_rate:
            top = tax.path(first).split(SEP)[0]
            others = [n for n in nodes if tax.path(n).split(SEP)[0] != top]
            chosen.append(rng.choice(others))
        paths = [tax.path(n).split(SEP) for n in chosen]
        tokens = []
        for _ in range(rng.randint(spec.min_len, spec.max_len)):
            if rng.random() < spec.filler_rate:
                tokens.append(rng.choice(filler))
            elif rng.random() < spec.noise_rate:
                tokens.append(rng.choice(topic[rng.choice(nodes)]))
            else:
                tokens.append(rng.choice(topic[rng.choice(rng.choice(paths))]))
        labels = sorted({SEP.join(p[: i + 1]) for p in paths for i in range(len(p))})
        return Document(labels=tuple(labels), tokens=tuple(tokens))

    return {
        "train": [one_doc() for _ in range(spec.n_train)],
        "dev": [one_doc() for _ in range(spec.n_dev)],
        "test": [one_doc() for _ in range(spec.n_test)],
    }


def write_synthetic(
    out_dir: str | Path, seed: int = DEFAULT_SEED, spec: SyntheticSpec | None = None
) -> Path:
    """Write ``train.json``, ``dev.json``, ``test.json`` and ``taxonomy.tsv`` into ``out_dir``."""
    out = Path(out_dir)
    for split, docs in make_corpus(seed, spec).items():
        write_corpus(out / f"{split}.json", docs)
    synthetic_taxonomy().write(out / "taxonomy.tsv")
    return out
