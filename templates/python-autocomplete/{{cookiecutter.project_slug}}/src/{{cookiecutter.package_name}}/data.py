"""Where the text comes from: folders of ``.py`` files, a file-level split, and batches.

The split is decided per file by a hash of the seed and its path inside its folder, so a file
stays on the same side when files are added or removed, and no held-out file ever leaks into
training; another seed gives another split (instructors give each student their own).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import sysconfig
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .tokenizer import Token, TokenizeError, tokenize_file

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


def is_heldout(name: str, fraction: float, seed: int = 0) -> bool:
    """Whether the file called ``name`` belongs to the held-out split of ``seed`` (stable
    across runs)."""
    key = f"{seed}:{name}" if seed else name  # seed 0: the plain path, as before seeds
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_files(
    files: Sequence[SourceFile], heldout_fraction: float = 0.1, seed: int = 0
) -> tuple[list[SourceFile], list[SourceFile]]:
    """Split files into (train, held-out) by ``is_heldout``; both sides get at least one file.

    Raises ``DataError`` for fewer than two files: a model needs text to learn from and text
    to be judged on.
    """
    if len(files) < 2:
        raise DataError(f"need at least 2 .py files for a train/held-out split, got {len(files)}")
    train = [source for source in files if not is_heldout(source.name, heldout_fraction, seed)]
    heldout = [source for source in files if is_heldout(source.name, heldout_fraction, seed)]
    if not heldout:
        heldout.append(train.pop())
    if not train:
        train.append(heldout.pop(0))
    return train, heldout


@dataclass
class Corpus:
    """Tokenized files: ``tokens`` is their concatenation, ``files`` the names used."""

    tokens: list[Token] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def load_corpus(
    files: Sequence[SourceFile], *, max_tokens: int | None = None, seed: int = 0
) -> Corpus:
    """Tokenize ``files`` in a seeded random order, up to ``max_tokens`` tokens.

    Files that do not tokenize (Python 2, syntax errors, bad encodings) are skipped and
    listed in ``Corpus.skipped``. The order is shuffled so a token cap samples the whole
    folder rather than its first letters.
    """
    order = list(files)
    random.Random(seed).shuffle(order)
    corpus = Corpus()
    for source in order:
        if max_tokens is not None and len(corpus.tokens) >= max_tokens:
            break
        try:
            tokens = tokenize_file(source.path)
        except TokenizeError as error:
            log.warning("skipped %s", error)
            corpus.skipped.append(source.name)
            continue
        corpus.tokens.extend(tokens)
        corpus.files.append(source.name)
    if max_tokens is not None:
        del corpus.tokens[max_tokens:]
    return corpus


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
    heldout_fraction: float = 0.1,
    max_depth: int | None = None,
    max_train_tokens: int | None = None,
    max_heldout_tokens: int | None = None,
    load_train: bool = True,
    seed: int = 0,
) -> tuple[Corpus, Corpus]:
    """The tokenized (train, held-out) corpora of the ``.py`` files under ``roots``.

    With ``load_train=False`` the train corpus comes back empty (evaluation alone needs only
    the held-out files). Raises ``DataError`` when a root is missing or empty, or when a side
    ends up with no tokens (every file failed to tokenize).
    """
    train_files, heldout_files = split_files(
        find_python_files(roots, max_depth=max_depth), heldout_fraction, seed
    )
    train = Corpus()
    if load_train:
        train = load_corpus(train_files, max_tokens=max_train_tokens, seed=seed)
    heldout = load_corpus(heldout_files, max_tokens=max_heldout_tokens, seed=seed)
    for side, corpus in (("train", train), ("held-out", heldout)):
        if len(corpus.tokens) < 2 and (load_train or corpus is heldout):
            raise DataError(
                f"the {side} files hold no Python that tokenizes ({len(corpus.skipped)} skipped)"
            )
    log.info(
        "data: %d train files (%d tokens), %d held-out files (%d tokens), %d skipped",
        len(train.files),
        len(train.tokens),
        len(heldout.files),
        len(heldout.tokens),
        len(train.skipped) + len(heldout.skipped),
    )
    return train, heldout
