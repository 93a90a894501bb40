"""A synthetic hierarchical corpus in NeuralClassifier's format, made offline from a seed.

The label path of a document is written in its phrases, and only the top level can be read
from a bag of words:

* **top level** (``Science``): topic words of the top node, scattered through the text;
* **second level** (``Science--Physics``): which of the top node's two actors comes *first* in
  the phrase ``<actor> <any word> <actor>`` (``acme sold globex`` is not ``globex sold acme``);
* **third level** (``Science--Physics--Optics``): which of the top node's two aspect words is
  *not* negated; the other stands in ``not <any word> <aspect>``.

Both actors and both aspects are always present, so a bag of words sees the same words for
sibling labels. The word between the two ends of a phrase is an ordinary filler word, so the
neighbours of every actor, aspect and ``not`` are filler words in every order: a bag of
bigrams is as blind as a bag of words. A model must read a window of three tokens. Labels are
written as the most specific paths (``Science--Physics--Optics``), as in RCV1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from . import DEFAULT_SEED
from .data import Document, write_corpus
from .taxonomy import ROOT, SEP, Taxonomy

# Every top node has two middle nodes and every middle node two leaves: the phrase of a level
# picks one of two siblings, so a model that cannot read the phrase is left with a coin toss.
TREE: dict[str, dict[str, list[str]]] = {
    "Science": {"Physics": ["Optics", "Quantum"], "Biology": ["Genetics", "Ecology"]},
    "Sports": {"Football": ["Soccer", "Rugby"], "Racing": ["Cycling", "Sailing"]},
    "Business": {"Markets": ["Stocks", "Bonds"], "Industry": ["Energy", "Retail"]},
    "Arts": {"Music": ["Jazz", "Opera"], "Film": ["Drama", "Comedy"]},
}
NEGATION = "not"

_ONSETS = "b c d f g h j k l m n p r s t v w z br dr kr pl st tr".split()
_VOWELS = "a e i o u ai ou".split()


def synthetic_taxonomy() -> Taxonomy:
    """The fixed 28-node, three-level taxonomy of the synthetic corpus."""
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

    n_train: int = 1200
    n_dev: int = 300
    n_test: int = 600
    filler_words: int = 300
    topic_words: int = 6  # per top node
    topic_mentions: tuple[int, int] = (2, 4)  # topic words per label path
    noise_rate: float = 0.3  # chance of one topic word of an unrelated top node
    two_label_rate: float = 0.25  # documents with a second label path from another branch
    min_len: int = 16
    max_len: int = 32


@dataclass(frozen=True)
class _Lexicon:
    filler: list[str]
    topic: dict[str, list[str]]  # top node -> topic words
    actor: dict[str, str]  # middle node -> its actor word
    aspect: dict[str, str]  # leaf -> its aspect word (shared by the leaves at the same index)


def _lexicon(rng: random.Random, spec: SyntheticSpec) -> _Lexicon:
    taken = {NEGATION}
    filler = _words(rng, spec.filler_words, taken)
    topic, actor, aspect = {}, {}, {}
    for top, mids in TREE.items():
        topic[top] = _words(rng, spec.topic_words, taken)
        actors = _words(rng, len(mids), taken)
        aspects = _words(rng, 2, taken)
        for i, (mid, leaves) in enumerate(mids.items()):
            actor[mid] = actors[i]
            for j, leaf in enumerate(leaves):
                aspect[leaf] = aspects[j]
    return _Lexicon(filler, topic, actor, aspect)


def _phrases(
    path: list[str], lex: _Lexicon, rng: random.Random, spec: SyntheticSpec
) -> list[list[str]]:
    """The token groups that say ``path``: single topic words, then the order/negation phrases."""
    top = path[0]
    groups: list[list[str]] = [
        [rng.choice(lex.topic[top])] for _ in range(rng.randint(*spec.topic_mentions))
    ]
    mids = list(TREE[top])
    if len(path) >= 2:
        # Both actors of the top node appear; the one that comes first names the middle node.
        first = lex.actor[path[1]]
        other = next(lex.actor[m] for m in mids if m != path[1])
        groups.append([first, rng.choice(lex.filler), other])
    if len(path) == 3:
        # Both aspect words appear; the negated one is the leaf the document is *not* about.
        leaves = TREE[top][path[1]]
        wrong = next(leaf for leaf in leaves if leaf != path[2])
        groups.append([lex.aspect[path[2]]])
        groups.append([NEGATION, rng.choice(lex.filler), lex.aspect[wrong]])
    return groups


def make_corpus(
    seed: int = DEFAULT_SEED, spec: SyntheticSpec | None = None
) -> dict[str, list[Document]]:
    """Train, dev and test documents, identical for the same seed and spec.

    The seed picks the made-up words and draws every document, so two seeds give two different
    corpora of the same size and difficulty. No document occurs in two splits.
    """
    spec = spec or SyntheticSpec()
    rng = random.Random(seed)
    tax = synthetic_taxonomy()
    lex = _lexicon(rng, spec)
    nodes = tax.nodes
    # Leaves are drawn twice as often as inner nodes; an inner-node label (``Science--Physics``)
    # means the document is about the topic in general, like RCV1 documents labelled ``CCAT``.
    weights = [1 if tax.children(n) else 2 for n in nodes]
    tops = list(TREE)

    def one_doc() -> Document:
        first = rng.choices(nodes, weights)[0]
        paths = [tax.path(first).split(SEP)]
        if rng.random() < spec.two_label_rate:
            others = [n for n in nodes if tax.path(n).split(SEP)[0] != paths[0][0]]
            paths.append(tax.path(rng.choice(others)).split(SEP))
        groups = [g for p in paths for g in _phrases(p, lex, rng, spec)]
        if rng.random() < spec.noise_rate:
            stray = rng.choice([t for t in tops if all(p[0] != t for p in paths)])
            groups.append([rng.choice(lex.topic[stray])])
        rng.shuffle(groups)
        n_filler = max(rng.randint(spec.min_len, spec.max_len) - sum(map(len, groups)), 0)
        # Groups go between filler words, never next to each other: every group is framed by
        # filler words, so what stands beside an actor or an aspect tells nothing.
        slots = sorted(rng.sample(range(n_filler + 1), min(len(groups), n_filler + 1)))
        if len(slots) < len(groups):  # a very short document: pad with filler
            n_filler = len(groups)
            slots = list(range(len(groups)))
        tokens: list[str] = []
        g = 0
        for position in range(n_filler + 1):
            while g < len(groups) and slots[g] == position:
                tokens.extend(groups[g])
                tokens.append(rng.choice(lex.filler))
                g += 1
            if position < n_filler:
                tokens.append(rng.choice(lex.filler))
        labels = sorted(SEP.join(p) for p in paths)
        return Document(labels=tuple(labels), tokens=tuple(tokens))

    seen: set[tuple[str, ...]] = set()

    def split(n: int) -> list[Document]:
        docs: list[Document] = []
        while len(docs) < n:
            doc = one_doc()
            if doc.tokens not in seen:  # no text is in two splits (or twice in one)
                seen.add(doc.tokens)
                docs.append(doc)
        return docs

    return {"train": split(spec.n_train), "dev": split(spec.n_dev), "test": split(spec.n_test)}


def write_synthetic(
    out_dir: str | Path, seed: int = DEFAULT_SEED, spec: SyntheticSpec | None = None
) -> Path:
    """Write ``train.json``, ``dev.json``, ``test.json`` and ``taxonomy.tsv`` into ``out_dir``."""
    out = Path(out_dir)
    for name, docs in make_corpus(seed, spec).items():
        write_corpus(out / f"{name}.json", docs)
    synthetic_taxonomy().write(out / "taxonomy.tsv")
    return out


def node_words(seed: int = DEFAULT_SEED, spec: SyntheticSpec | None = None) -> dict[str, str]:
    """How the corpus of ``seed`` writes each label path, for a person writing a text of their own.

    A top node: any of its topic words; a middle node: its actor before its sibling's actor, one
    word between; a leaf: its aspect word, with its sibling's aspect negated (``not <word> x``).
    """
    lex = _lexicon(random.Random(seed), spec or SyntheticSpec())  # make_corpus draws it first
    out: dict[str, str] = {}
    for top, mids in TREE.items():
        out[top] = "any of " + ", ".join(lex.topic[top])
        for mid, leaves in mids.items():
            other = next(lex.actor[m] for m in mids if m != mid)
            out[SEP.join((top, mid))] = f"{lex.actor[mid]} <word> {other}"
            for leaf in leaves:
                wrong = next(x for x in leaves if x != leaf)
                out[SEP.join((top, mid, leaf))] = (
                    f"{lex.aspect[leaf]}, and {NEGATION} <word> {lex.aspect[wrong]}"
                )
    return out
