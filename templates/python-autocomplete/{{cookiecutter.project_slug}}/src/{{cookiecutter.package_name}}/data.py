"""Where the text comes from: folders of ``.py`` files, a train/dev/test split, and batches.

The split is decided per file by a hash of the seed and its path inside its folder, so a file
stays on the same side when files are added or removed; another seed gives another split
(instructors give each student their own). ``train`` is what the model learns from, ``dev``
is where choices are made (steps, learning rate, margins), ``test`` is the number reported.

Held-out text must share nothing with training: generated files and data tables are left out
of every side, and a held-out file that is a near-duplicate of the training text is left out
of its side (see ``exclusion_reason`` and ``load_corpus``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import sysconfig
import tokenize
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .tokenizer import PLACEHOLDERS, Token, TokenizeError, tokenize_source

log = logging.getLogger(__name__)

# The seed chosen when the project was generated: the data split, the sampled text, the
# initial weights (`smoke` and `train --seed` default to it).
DEFAULT_SEED = {{ cookiecutter.seed|int }}

# Never training text: caches, environments, installed packages, build output.
SKIPPED_FOLDERS = frozenset(
    {"__pycache__", "site-packages", "dist-packages", "node_modules", "venv", "build", "dist"}
)
# The standard library's own test suites hold deliberately broken and Python 2 files, and are
# missing from some Linux packages: leave them out so every machine sees the same modules.
STDLIB_SKIPPED_FOLDERS = frozenset({"test", "tests", "idle_test"})

SPLITS = ("train", "dev", "test")
DEV_FRACTION = 0.1
TEST_FRACTION = 0.1

# What is no fair text to learn from or be judged on (see `exclusion_reason`, `load_corpus`).
HEADER_LINES = 5
GENERATED = re.compile(
    r"@generated|auto-?generated|automatically generated|do not edit"
    r"|generated (?:by|from|with)\b.*\w\.py\b",  # "generated from ... with gencodec.py"
    re.IGNORECASE,
)
DATA_TABLE_SHARE = 0.45
DATA_TABLE_MIN_TOKENS = 200
SHINGLE_SIZE = 12
NEAR_DUPLICATE_SHARE = 0.5


class DataError(ValueError):
    """The data cannot be used: a missing path, a folder without ``.py`` files, too little text."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A ``.py`` file; ``name`` is its path inside the folder it was found in (POSIX style)."""

    path: Path
    name: str


def stdlib_root() -> Path:
    """The folder of this Python's standard library: training text that is always offline."""
    return Path(sysconfig.get_paths()["stdlib"])


def find_python_files(
    roots: Sequence[Path] | None = None, *, max_depth: int | None = None
) -> list[SourceFile]:
    """Every ``.py`` file under ``roots`` (default: the standard library), sorted by path.

    A root may be a folder or a single ``.py`` file. Hidden folders and ``SKIPPED_FOLDERS``
    are not entered; ``max_depth=0`` keeps only the files directly in each root. Raises
    ``DataError`` for a root that does not exist or that holds no ``.py`` file.
    """
    if not roots:
        roots = [stdlib_root()]
    found: list[SourceFile] = []
    for root in roots:
        root = Path(root).expanduser()
        if not root.exists():
            raise DataError(f"data path does not exist: {root}")
        if root.is_file():
            if root.suffix != ".py":
                raise DataError(f"not a .py file: {root}")
            found.append(SourceFile(root, root.name))
            continue
        skipped = SKIPPED_FOLDERS | (STDLIB_SKIPPED_FOLDERS if root == stdlib_root() else set())
        files = list(_walk(root, skipped, max_depth))
        if not files:
            not_searched = ", ".join(["hidden folders", *sorted(skipped)])
            raise DataError(f"no .py files under {root} (not searched: {not_searched})")
        found.extend(files)
    return sorted(found, key=lambda source: (source.name, str(source.path)))


def _walk(root: Path, skipped: frozenset[str], max_depth: int | None) -> Iterator[SourceFile]:
    for folder, subfolders, files in os.walk(root):  # does not follow symlinked folders
        depth = len(Path(folder).relative_to(root).parts)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in skipped
            and (max_depth is None or depth < max_depth)
        )
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(folder) / name
                yield SourceFile(path, path.relative_to(root).as_posix())


def split_of(name: str, *, dev_fraction: float, test_fraction: float, seed: int = 0) -> str:
    """The side (``"train"``, ``"dev"`` or ``"test"``) of the file called ``name``, for ``seed``.

    A hash of the seed and the name gives each file a number in [0, 1): below
    ``test_fraction`` is test, the next ``dev_fraction`` is dev, the rest is train. A file keeps
    its side when other files come and go.
    """
    key = f"{seed}:{name}" if seed else name  # seed 0: the plain path, as before seeds
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    place = int.from_bytes(digest[:8], "big") / 2**64
    if place < test_fraction:
        return "test"
    return "dev" if place < test_fraction + dev_fraction else "train"


@dataclass(frozen=True)
class FileSplit:
    """Files by side: ``train`` to learn from, ``dev`` to make choices on, ``test`` to report."""

    train: list[SourceFile]
    dev: list[SourceFile]
    test: list[SourceFile]

    def side(self, name: str) -> list[SourceFile]:
        """The files of side ``name`` (one of ``SPLITS``)."""
        if name not in SPLITS:
            raise ValueError(f"no split {name!r}: use one of {', '.join(SPLITS)}")
        files: list[SourceFile] = getattr(self, name)
        return files


def split_files(
    files: Sequence[SourceFile],
    *,
    dev_fraction: float = DEV_FRACTION,
    test_fraction: float = TEST_FRACTION,
    seed: int = 0,
) -> FileSplit:
    """Split files into train, dev and test by ``split_of``; every side gets at least one file.

    Raises ``DataError`` for fewer than three files: a model needs text to learn from, text to
    make choices on, and text to be judged on.
    """
    if len(files) < len(SPLITS):
        raise DataError(
            f"need at least {len(SPLITS)} .py files for a train/dev/test split, got {len(files)}"
        )
    sides: dict[str, list[SourceFile]] = {name: [] for name in SPLITS}
    for source in files:
        side = split_of(
            source.name, dev_fraction=dev_fraction, test_fraction=test_fraction, seed=seed
        )
        sides[side].append(source)
    for name in SPLITS:  # a tiny folder may leave a side empty: lend it a file from the largest
        if not sides[name]:
            largest = max(SPLITS, key=lambda other: len(sides[other]))
            sides[name].append(sides[largest].pop())
    return FileSplit(sides["train"], sides["dev"], sides["test"])


def exclusion_reason(text: str, tokens: Sequence[Token]) -> str | None:
    """Why a file is no fair training or test text (``None`` when it is).

    - ``"generated"``: its first lines say a tool wrote it (``Auto-generated by``, ``DO NOT
      EDIT``, ``generated from ... with gencodec.py``): nobody types it, and the stdlib's 60-odd
      generated codecs (``encodings/cp*.py``) are near copies of each other.
    - ``"data table"``: at least ``DATA_TABLE_SHARE`` of its tokens are literals (the
      stdlib's ``_sysconfigdata_*``, ``html/entities.py``): a long ``<str> : <str> ,`` run is
      trivial to predict and would flatter every model.
    """
    header = "\n".join(text.splitlines()[:HEADER_LINES])
    if GENERATED.search(header):
        return "generated"
    literals = sum(token.text in PLACEHOLDERS for token in tokens)
    if len(tokens) >= DATA_TABLE_MIN_TOKENS and literals >= DATA_TABLE_SHARE * len(tokens):
        return "data table"
    return None


def shingles(texts: Sequence[str], size: int = SHINGLE_SIZE) -> set[int]:
    """Hashes of every run of ``size`` consecutive tokens (within one process: compare, never
    store them)."""
    return {hash(tuple(texts[start : start + size])) for start in range(len(texts) - size + 1)}


def copied_share(texts: Sequence[str], seen: set[int], size: int = SHINGLE_SIZE) -> float:
    """Share of the ``size``-token runs of ``texts`` that occur in ``seen`` (0 when too short)."""
    own = shingles(texts, size)
    return len(own & seen) / len(own) if own else 0.0


@dataclass
class Corpus:
    """Tokenized files: ``tokens`` is their concatenation, ``files`` the names used.

    ``skipped`` did not tokenize; ``excluded`` maps a file left out on purpose to the reason
    (``exclusion_reason``, or ``"near-duplicate"`` of the training text).
    """

    tokens: list[Token] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


def load_corpus(
    files: Sequence[SourceFile],
    *,
    max_tokens: int | None = None,
    seed: int = 0,
    seen: set[int] | None = None,
) -> Corpus:
    """Tokenize ``files`` in a seeded random order, up to ``max_tokens`` tokens.

    Files that do not tokenize (Python 2, syntax errors, bad encodings) are skipped and listed
    in ``Corpus.skipped``; generated files and data tables are left out (``exclusion_reason``),
    and so, when ``seen`` holds the shingles of the training text, is every file that shares
    at least ``NEAR_DUPLICATE_SHARE`` of its token runs with it. The order is shuffled so that
    a token cap samples the whole folder rather than its first letters.
    """
    order = list(files)
    random.Random(seed).shuffle(order)
    corpus = Corpus()
    for source in order:
        if max_tokens is not None and len(corpus.tokens) >= max_tokens:
            break
        try:
            text = _read(source.path)
            tokens = tokenize_source(text)
        except (OSError, UnicodeDecodeError, SyntaxError, TokenizeError) as error:
            log.warning("skipped %s: %s", source.path, error)
            corpus.skipped.append(source.name)
            continue
        reason = exclusion_reason(text, tokens)
        if reason is None and seen is not None:
            texts = [token.text for token in tokens]
            if copied_share(texts, seen) >= NEAR_DUPLICATE_SHARE:
                reason = "near-duplicate"
        if reason is not None:
            corpus.excluded[source.name] = reason
            continue
        corpus.tokens.extend(tokens)
        corpus.files.append(source.name)
    if max_tokens is not None:
        del corpus.tokens[max_tokens:]
    return corpus


def _read(path: Path) -> str:
    with tokenize.open(path) as handle:  # honours the PEP 263 coding cookie
        return handle.read()


def read_source(path: Path) -> str:
    """The text of one ``.py`` file as Python reads it (coding cookie, BOM); ``DataError`` when
    it is missing or not in its declared encoding (UTF-8 without a cookie)."""
    if not Path(path).is_file():
        raise DataError(f"no such file: {path}")
    try:
        return _read(Path(path))
    except (UnicodeDecodeError, SyntaxError) as error:  # a bad cookie is a SyntaxError
        raise DataError(
            f"{path} is not text in its declared encoding (UTF-8 unless a coding cookie says"
            f" otherwise): {error}"
        ) from error


def batchify(
    ids: Sequence[int] | torch.Tensor, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a token stream into ``batch_size`` contiguous rows: (inputs, targets), each [B, L].

    ``targets[b, t]`` is the token after ``inputs[b, t]``; every stream position but the
    first is a target once (the last ``len % B`` tokens are dropped).
    """
    stream = torch.as_tensor(ids, dtype=torch.long)
    length = (len(stream) - 1) // batch_size
    if length < 1:
        raise DataError(f"{len(stream)} tokens are too few for {batch_size} rows")
    starts = torch.arange(batch_size) * length
    index = starts[:, None] + torch.arange(length + 1)[None, :]
    rows = stream[index]
    return rows[:, :-1], rows[:, 1:]


def windows(
    inputs: torch.Tensor, targets: torch.Tensor, seq_len: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive [B, seq_len] slices of ``batchify`` rows (the last one may be shorter)."""
    for start in range(0, inputs.shape[1], seq_len):
        yield inputs[:, start : start + seq_len], targets[:, start : start + seq_len]


def load_split(
    roots: Sequence[Path] | None = None,
    *,
    split: str = "test",
    dev_fraction: float = DEV_FRACTION,
    test_fraction: float = TEST_FRACTION,
    max_depth: int | None = None,
    max_train_tokens: int | None = None,
    max_heldout_tokens: int | None = None,
    seed: int = 0,
) -> tuple[Corpus, Corpus]:
    """The tokenized training text and the held-out side ``split`` (``"dev"`` or ``"test"``).

    Held-out files that are near-duplicates of the training text are left out (see
    ``load_corpus``), so the held-out side depends on ``max_train_tokens`` too: evaluate with
    the settings the model was trained with. Raises ``DataError`` when a root is missing or
    empty, or when a side ends up with no tokens.
    """
    if split not in ("dev", "test"):
        raise ValueError(f"held-out split must be 'dev' or 'test', got {split!r}")
    sides = split_files(
        find_python_files(roots, max_depth=max_depth),
        dev_fraction=dev_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
    train = load_corpus(sides.train, max_tokens=max_train_tokens, seed=seed)
    seen = shingles([token.text for token in train.tokens])
    heldout = load_corpus(sides.side(split), max_tokens=max_heldout_tokens, seed=seed, seen=seen)
    for side, corpus in (("train", train), (split, heldout)):
        if len(corpus.tokens) < 2:
            raise DataError(
                f"the {side} files hold no Python that tokenizes"
                f" ({len(corpus.skipped)} skipped, {len(corpus.excluded)} excluded)"
            )
    log.info(
        "data: %d train files (%d tokens), %d %s files (%d tokens); left out: %s",
        len(train.files),
        len(train.tokens),
        len(heldout.files),
        split,
        len(heldout.tokens),
        _left_out(train, heldout),
    )
    return train, heldout


def _left_out(*corpora: Corpus) -> str:
    reasons: Counter[str] = Counter()
    for corpus in corpora:
        reasons.update(corpus.excluded.values())
        reasons["did not tokenize"] += len(corpus.skipped)
    return (
        ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()) if count)
        or "none"
    )
