"""Sentences and labels: a synthetic sentiment grammar (offline) and SST-2 (real run).

Labels follow SST-2: 0 is negative, 1 is positive.

The grammar's held-out sentences share nothing with its training sentences that could be
memorised: every clause is built around a *key*, a (subject, polarity word) pair such as
("the plot", "clever") or ("the cast", "love"), and each key belongs to exactly one split
(train, dev or test). A test sentence therefore never repeats a training sentence, a training
core, or even a training clause with another intensifier or negation: it pairs subjects and
polarity words the model never saw together.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import StarterError

LABELS = ("NEGATIVE", "POSITIVE")

SUBJECTS = (
    "the movie",
    "the film",
    "this story",
    "the plot",
    "the acting",
    "the cast",
    "the script",
    "the ending",
    "the soundtrack",
    "the dialogue",
    "the director",
    "the visuals",
)
LINKS = ("was", "is", "felt", "seemed", "looked")
INTENSIFIERS = ("", "really", "very", "quite", "truly", "so", "rather", "incredibly")
POSITIVE_ADJECTIVES = (
    "good",
    "great",
    "wonderful",
    "brilliant",
    "charming",
    "delightful",
    "moving",
    "funny",
    "clever",
    "gripping",
    "beautiful",
    "superb",
)
NEGATIVE_ADJECTIVES = (
    "bad",
    "awful",
    "boring",
    "dull",
    "terrible",
    "clumsy",
    "tedious",
    "bland",
    "messy",
    "painful",
    "lifeless",
    "weak",
)
# (past tense, base form): "i loved the plot" / "i did not love the plot"
POSITIVE_VERBS = (
    ("loved", "love"),
    ("liked", "like"),
    ("enjoyed", "enjoy"),
    ("adored", "adore"),
    ("admired", "admire"),
)
NEGATIVE_VERBS = (
    ("hated", "hate"),
    ("disliked", "dislike"),
    ("regretted", "regret"),
    ("resented", "resent"),
    ("dreaded", "dread"),
)
OPENERS = ("", "honestly", "overall", "in the end", "to be fair", "frankly")
CLOSERS = ("", "overall", "to me", "from start to finish", "at times", "for the most part")
FUNCTION_WORDS = ("i", "did", "not", "but")

KINDS = ("plain", "negated", "contrast")
SPLITS = ("train", "dev", "test")
# The share of each group of keys (adjective or verb, positive or negative) in each split.
SPLIT_FRACTIONS = {"train": 0.8, "dev": 0.1, "test": 0.1}


@dataclass(frozen=True)
class Example:
    """One labelled sentence.

    `kind` says which rule of the grammar decides its label; `clauses` are its clauses without
    opener and closer (two for a contrast), and `keys` the (subject, polarity word) pair of each.
    """

    text: str
    label: int
    kind: str
    clauses: tuple[str, ...] = ()
    keys: tuple[tuple[str, str], ...] = ()

    @property
    def core(self) -> str:
        """The sentence without its opener and closer: what decides the label."""
        return " but ".join(self.clauses)


@dataclass(frozen=True)
class _Keys:
    """The keys one split may use, by kind of clause and polarity."""

    adjectives: tuple[tuple[str, str], ...]  # (subject, adjective), positive then negative
    verbs: tuple[tuple[str, str], ...]  # (subject, verb base form)
    positive: frozenset[str]  # the polarity words that are positive


def grammar_words() -> list[str]:
    """Every word the grammar can produce, sorted and unique (the smoke model's vocabulary)."""
    phrases = [
        *SUBJECTS,
        *LINKS,
        *INTENSIFIERS,
        *POSITIVE_ADJECTIVES,
        *NEGATIVE_ADJECTIVES,
        *(word for pair in POSITIVE_VERBS + NEGATIVE_VERBS for word in pair),
        *OPENERS,
        *CLOSERS,
        *FUNCTION_WORDS,
    ]
    return sorted({word for phrase in phrases for word in phrase.split()})


def _stable_order(items: Sequence[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    """`items` in a seeded order that is the same on every machine and Python process.

    (Python's own `hash` of a string changes from one process to the next.)
    """

    def digest(item: tuple[str, str]) -> bytes:
        return hashlib.blake2b(f"{seed}|{item[0]}|{item[1]}".encode(), digest_size=8).digest()

    return sorted(items, key=digest)


def key_splits(seed: int = 0) -> dict[tuple[str, str], str]:
    """Which split each (subject, polarity word) key belongs to, for this seed.

    Each of the four groups (positive and negative adjectives, positive and negative verbs) is
    cut by SPLIT_FRACTIONS, so every split has keys of every group.
    """
    groups = [
        [(s, a) for s in SUBJECTS for a in POSITIVE_ADJECTIVES],
        [(s, a) for s in SUBJECTS for a in NEGATIVE_ADJECTIVES],
        [(s, base) for s in SUBJECTS for _, base in POSITIVE_VERBS],
        [(s, base) for s in SUBJECTS for _, base in NEGATIVE_VERBS],
    ]
    owner: dict[tuple[str, str], str] = {}
    for group in groups:
        ordered = _stable_order(group, seed)
        n_test = max(1, round(len(group) * SPLIT_FRACTIONS["test"]))
        n_dev = max(1, round(len(group) * SPLIT_FRACTIONS["dev"]))
        for i, key in enumerate(ordered):
            owner[key] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    return owner


def _keys(seed: int, split: str | None) -> _Keys:
    owner = key_splits(seed)
    chosen = [key for key, side in owner.items() if split is None or side == split]
    adjectives = {*POSITIVE_ADJECTIVES, *NEGATIVE_ADJECTIVES}
    positive = {*POSITIVE_ADJECTIVES, *(base for _, base in POSITIVE_VERBS)}
    return _Keys(
        adjectives=tuple(k for k in chosen if k[1] in adjectives),
        verbs=tuple(k for k in chosen if k[1] not in adjectives),
        positive=frozenset(positive),
    )


_PAST = {base: past for past, base in POSITIVE_VERBS + NEGATIVE_VERBS}


def _clause(rng: random.Random, keys: _Keys, negated: bool) -> tuple[str, int, tuple[str, str]]:
    """A clause, its polarity after negation (1 positive, 0 negative), and its key."""
    positive = rng.random() < 0.5
    use_adjective = rng.random() < 0.6
    pool = keys.adjectives if use_adjective else keys.verbs
    pool = tuple(k for k in pool if (k[1] in keys.positive) == positive)
    subject, word = rng.choice(pool)
    if use_adjective:
        words = [
            subject,
            rng.choice(LINKS),
            "not" if negated else "",
            rng.choice(INTENSIFIERS),
            word,
        ]
    else:
        words = ["i", "did not", word, subject] if negated else ["i", _PAST[word], subject]
    text = " ".join(w for w in words if w)
    return text, int(positive != negated), (subject, word)


def _sentence(rng: random.Random, keys: _Keys, kind: str) -> Example:
    clauses: tuple[str, ...]
    key_pair: tuple[tuple[str, str], ...]
    if kind == "contrast":
        # "X but Y": the clause after "but" decides; the clauses disagree, so order matters.
        first, first_label, first_key = _clause(rng, keys, negated=rng.random() < 0.5)
        while True:
            second, label, second_key = _clause(rng, keys, negated=rng.random() < 0.5)
            if label != first_label:
                break
        clauses, key_pair = (first, second), (first_key, second_key)
    else:
        body, label, key = _clause(rng, keys, negated=kind == "negated")
        clauses, key_pair = (body,), (key,)
    core = " but ".join(clauses)
    text = " ".join(part for part in (rng.choice(OPENERS), core, rng.choice(CLOSERS)) if part)
    return Example(text=text, label=label, kind=kind, clauses=clauses, keys=key_pair)


def synthetic_sentiment(
    n: int, seed: int = 0, split: str | None = None, draw: int = 0
) -> list[Example]:
    """`n` distinct labelled sentences from the grammar, the same for the same arguments.

    A third are plain ("the plot was very clever"), a third negated ("i did not enjoy the cast"),
    a third contrasts ("the cast was dull but i loved the ending"), so a bag of words is not
    enough. With `split`, every clause uses a key of that split only (see `key_splits`);
    without it, any key. `draw` picks another sample from the same split.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, got {split!r}")
    keys = _keys(seed, split)
    rng = random.Random(f"{seed}|{split}|{draw}")
    seen: set[str] = set()
    examples: list[Example] = []
    attempts = 0
    while len(examples) < n:
        attempts += 1
        if attempts > 50 * n:
            raise ValueError(f"the grammar cannot make {n} distinct sentences")
        example = _sentence(rng, keys, KINDS[len(examples) % len(KINDS)])
        if example.text not in seen:
            seen.add(example.text)
            examples.append(example)
    rng.shuffle(examples)
    return examples


def grammar_splits(
    n_train: int, n_dev: int, n_test: int, seed: int = 0
) -> dict[str, list[Example]]:
    """Train, dev and test sentences whose keys (and so clauses and cores) never cross splits.

    Train fits the model, dev makes every choice (the epoch kept, the baseline's penalty), and
    test gives the reported numbers.
    """
    sizes = {"train": n_train, "dev": n_dev, "test": n_test}
    return {
        split: synthetic_sentiment(size, seed=seed, split=split) for split, size in sizes.items()
    }


def keyword_baseline(text: str) -> int:
    """The label a word-counting rule gives: more positive than negative words means positive.

    It ignores word order, so negation and "but" defeat it.
    """
    positive = {*POSITIVE_ADJECTIVES, *(w for pair in POSITIVE_VERBS for w in pair)}
    negative = {*NEGATIVE_ADJECTIVES, *(w for pair in NEGATIVE_VERBS for w in pair)}
    words = text.lower().split()
    score = sum(w in positive for w in words) - sum(w in negative for w in words)
    return int(score >= 0)


# Where the real run reads SST-2: a hub dataset id, or a local folder in the same layout (the
# `data/<split>-*.parquet` files of the hub repository, e.g. a copy made with
# `huggingface-cli download stanfordnlp/sst2 --repo-type dataset --local-dir DIR`). `--data`
# overrides it, then the SST2_DATA environment variable.
SST2_DATASET = "stanfordnlp/sst2"
SST2_ENV = "SST2_DATA"


def sst2_source(data: str | None = None) -> str:
    """The SST-2 source the real run reads: `data`, else $SST2_DATA, else the hub dataset."""
    return data or os.environ.get(SST2_ENV) or SST2_DATASET


def load_sst2(
    split: str, limit: int | None = None, seed: int = 0, data: str | None = None
) -> tuple[list[str], list[int]]:
    """SST-2 sentences and labels, through `datasets.load_dataset` (`sst2_source(data)`).

    `split` is "train" (67,349 phrases) or "validation" (872 sentences; the test split has no
    labels). `limit` keeps a seeded random subset. From the hub the first time needs network
    access; later runs read the local cache (also with HF_HUB_OFFLINE=1). A local folder in the
    hub's layout is read by the same call, offline.
    """
    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    source = sst2_source(data)
    try:
        import datasets
    except ImportError as err:
        raise StarterError("the real run needs the 'datasets' package: run `make setup`") from err
    try:
        table = datasets.load_dataset(source, split=split)
    except Exception as err:  # offline without a cache, network errors, hub errors
        raise StarterError(
            f"could not load SST-2 ({split}) from {source}: {err}. Run `python -m "
            f"{__package__} download` once with network access (and HF_HUB_OFFLINE unset), "
            f"or point --data (or ${SST2_ENV}) at a local copy."
        ) from err
    missing = {"sentence", "label"} - set(table.column_names)
    if missing:
        raise StarterError(f"{source} ({split}) has no {', '.join(sorted(missing))} column")
    if limit is not None and limit < len(table):
        table = table.shuffle(seed=seed).select(range(limit))
    return list(table["sentence"]), [int(label) for label in table["label"]]
