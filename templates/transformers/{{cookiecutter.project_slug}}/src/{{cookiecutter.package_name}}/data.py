"""Sentences and labels: a synthetic sentiment grammar (offline) and SST-2 (real run).

Labels follow SST-2: 0 is negative, 1 is positive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import StarterError

LABELS = ("NEGATIVE", "POSITIVE")

SUBJECTS = (
    "the movie", "the film", "this story", "the plot", "the acting", "the cast",
    "the script", "the ending", "the soundtrack", "the dialogue", "the director", "the visuals",
)
LINKS = ("was", "is", "felt", "seemed", "looked")
INTENSIFIERS = ("", "really", "very", "quite", "truly", "so", "rather", "incredibly")
POSITIVE_ADJECTIVES = (
    "good", "great", "wonderful", "brilliant", "charming", "delightful",
    "moving", "funny", "clever", "gripping", "beautiful", "superb",
)
NEGATIVE_ADJECTIVES = (
    "bad", "awful", "boring", "dull", "terrible", "clumsy",
    "tedious", "bland", "messy", "painful", "lifeless", "weak",
)
# (past tense, base form): "i loved the plot" / "i did not love the plot"
POSITIVE_VERBS = (
    ("loved", "love"), ("liked", "like"), ("enjoyed", "enjoy"),
    ("adored", "adore"), ("admired", "admire"),
)
NEGATIVE_VERBS = (
    ("hated", "hate"), ("disliked", "dislike"), ("regretted", "regret"),
    ("resented", "resent"), ("dreaded", "dread"),
)
OPENERS = ("", "honestly", "overall", "in the end", "to be fair", "frankly")
CLOSERS = ("", "overall", "to me", "from start to finish", "at times", "for the most part")
FUNCTION_WORDS = ("i", "did", "not", "but")

KINDS = ("plain", "negated", "contrast")


@dataclass(frozen=True)
class Example:
    """One labelled sentence; `kind` says which rule of the grammar decides its label."""

    text: str
    label: int
    kind: str


def grammar_words() -> list[str]:
    """Every word the grammar can produce, sorted and unique (the smoke model's vocabulary)."""
    phrases = [
        *SUBJECTS, *LINKS, *INTENSIFIERS, *POSITIVE_ADJECTIVES, *NEGATIVE_ADJECTIVES,
        *(word for pair in POSITIVE_VERBS + NEGATIVE_VERBS for word in pair),
        *OPENERS, *CLOSERS, *FUNCTION_WORDS,
    ]
    return sorted({word for phrase in phrases for word in phrase.split()})


def _clause(rng: random.Random, negated: bool) -> tuple[str, int]:
    """A clause and its polarity (1 positive, 0 negative) after negation."""
    positive = rng.random() < 0.5
    subject = rng.choice(SUBJECTS)
    if rng.random() < 0.6:
        adjective = rng.choice(POSITIVE_ADJECTIVES if positive else NEGATIVE_ADJECTIVES)
        words = [subject, rng.choice(LINKS), "not" if negated else "", rng.choice(INTENSIFIERS),
                 adjective]
    else:
        past, base = rng.choice(POSITIVE_VERBS if positive else NEGATIVE_VERBS)
        words = ["i", "did not", base, subject] if negated else ["i", past, subject]
    text = " ".join(word for word in words if word)
    return text, int(positive != negated)


def _sentence(rng: random.Random, kind: str) -> Example:
    if kind == "contrast":
        # "X but Y": the clause after "but" decides; the clauses disagree, so order matters.
        first, first_label = _clause(rng, negated=rng.random() < 0.5)
        while True:
            second, label = _clause(rng, negated=rng.random() < 0.5)
            if label != first_label:
                break
        body = f"{first} but {second}"
    else:
        body, label = _clause(rng, negated=kind == "negated")
    text = " ".join(part for part in (rng.choice(OPENERS), body, rng.choice(CLOSERS)) if part)
    return Example(text=text, label=label, kind=kind)


def synthetic_sentiment(n: int, seed: int = 0) -> list[Example]:
    """`n` distinct labelled sentences from the grammar, the same for the same seed.

    A third are plain ("the plot was very clever"), a third negated ("i did not enjoy the cast"),
    a third contrasts ("the cast was dull but i loved the ending"), so a bag of words is not enough.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    rng = random.Random(seed)
    seen: set[str] = set()
    examples: list[Example] = []
    attempts = 0
    while len(examples) < n:
        attempts += 1
        if attempts > 50 * n:
            raise ValueError(f"the grammar cannot make {n} distinct sentences")
        example = _sentence(rng, KINDS[len(examples) % len(KINDS)])
        if example.text not in seen:
            seen.add(example.text)
            examples.append(example)
    rng.shuffle(examples)
    return examples


def split_examples(
    examples: list[Example], test_fraction: float = 0.2
) -> tuple[list[Example], list[Example]]:
    """Split into (train, test) with no sentence in both; the last `test_fraction` is the test."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n_test = max(1, round(len(examples) * test_fraction))
    if n_test >= len(examples):
        raise ValueError(f"need at least 2 examples to split, got {len(examples)}")
    return examples[:-n_test], examples[-n_test:]


def keyword_baseline(text: str) -> int:
    """The label a bag-of-words rule gives: more positive than negative words means positive.

    It ignores word order, so negation and "but" defeat it: the bar the model has to clear.
    """
    positive = {*POSITIVE_ADJECTIVES, *(w for pair in POSITIVE_VERBS for w in pair)}
    negative = {*NEGATIVE_ADJECTIVES, *(w for pair in NEGATIVE_VERBS for w in pair)}
    words = text.lower().split()
    score = sum(w in positive for w in words) - sum(w in negative for w in words)
    return int(score >= 0)


def load_sst2(split: str, limit: int | None = None, seed: int = 0) -> tuple[list[str], list[int]]:
    """SST-2 sentences and labels from the Hugging Face hub (`stanfordnlp/sst2`).

    `split` is "train" (67,349 phrases) or "validation" (872 sentences; the test split has no
    labels). `limit` keeps a seeded random subset. Needs the `real` extra and, the first time,
    network access; later runs read the local cache (also with HF_HUB_OFFLINE=1).
    """
    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    try:
        import datasets
    except ImportError as err:
        raise StarterError(
            "the real run needs the 'datasets' package: pip install -e '.[real]'"
        ) from err
    try:
        table = datasets.load_dataset("stanfordnlp/sst2", split=split)
    except Exception as err:  # offline without a cache, network errors, hub errors
        raise StarterError(
            f"could not load SST-2 ({split}): {err}. Run `python -m {__package__} download` once "
            "with network access (and HF_HUB_OFFLINE unset)."
        ) from err
    if limit is not None and limit < len(table):
        table = table.shuffle(seed=seed).select(range(limit))
    return list(table["sentence"]), [int(label) for label in table["label"]]
