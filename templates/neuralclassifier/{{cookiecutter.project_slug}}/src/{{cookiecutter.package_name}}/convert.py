"""Bring your own taxonomy: turn a simple CSV into NeuralClassifier's corpus and taxonomy.

The CSV has a header row and one document per row::

    text,labels
    "Quarks and gluons at low energy",Science/Physics/Quantum
    "The striker signed for a bank",Sports/Football/Soccer;Business/Markets

``labels`` holds one or more label paths separated by ``;``; the levels of a path are separated
by ``/``. An optional ``split`` column (``train``, ``dev`` or ``test``) fixes the split of a row;
without it the rows are shuffled with a seed and split by fraction.

A text that lands in two splits (same tokens after tokenizing) is kept once: a dev or test copy
of a training text is dropped, and so is a dev copy of a test text, so held-out scores never
reward memorising training documents. The report counts what was dropped.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from . import DEFAULT_SEED
from .data import Document, tokenize, unseen_label_problems, validate_file, write_corpus
from .taxonomy import ROOT, SEP, Taxonomy, TaxonomyError, close_under_prefixes, name_problem

SPLITS = {"train": "train", "dev": "dev", "val": "dev", "validation": "dev", "test": "test"}


class ConvertError(ValueError):
    """A CSV row that cannot be converted; the message names file, line and problem."""


@dataclass(frozen=True)
class ConvertOptions:
    """How to read the CSV and split it."""

    text_column: str = "text"
    labels_column: str = "labels"
    split_column: str = "split"
    label_sep: str = ";"
    level_sep: str = "/"
    lowercase: bool = True
    ancestors: bool = True  # also list A and A--B for a document labelled A--B--C
    rename_duplicates: bool = False  # Parent_Name for a short name reused under another parent
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = DEFAULT_SEED


@dataclass
class ConvertReport:
    """What was written: file paths, documents per split, labels per level, warnings."""

    files: dict[str, Path]
    counts: dict[str, int]
    labels_per_level: list[int]
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dropped_duplicates: dict[str, int] = field(default_factory=dict)


def _label_paths(
    cell: str, opts: ConvertOptions, tax: Taxonomy, renamed: dict[str, str], where: str
) -> list[str]:
    paths = []
    for raw in cell.split(opts.label_sep):
        raw = raw.strip()
        if not raw:
            continue
        parts = [p.strip() for p in raw.split(opts.level_sep)]
        if any(not p for p in parts):
            raise ConvertError(f"{where}: label {raw!r} has an empty level")
        names: list[str] = []
        parent = ROOT
        for part in parts:
            problem = name_problem(part)
            if problem:
                raise ConvertError(f"{where}: label {raw!r}: {problem}")
            name = renamed.get(f"{parent}{SEP}{part}", part)
            known = tax.parent.get(name)
            if known is not None and known != parent:
                if not opts.rename_duplicates:
                    raise ConvertError(
                        f"{where}: label {raw!r}: node name {part!r} is already used under "
                        f"{known!r}, and NeuralClassifier needs unique short names; rename one "
                        "or pass --rename-duplicates"
                    )
                name = f"{parent}_{part}"
                renamed[f"{parent}{SEP}{part}"] = name
            try:
                tax.add(parent, name)
            except TaxonomyError as err:
                raise ConvertError(f"{where}: label {raw!r}: {err}") from None
            names.append(name)
            parent = name
        paths.append(SEP.join(names))
    if not paths:
        raise ConvertError(f"{where}: no labels")
    return paths


def convert_csv(
    csv_path: str | Path, out_dir: str | Path, opts: ConvertOptions | None = None
) -> ConvertReport:
    """Write ``train.json``, ``dev.json``, ``test.json`` and ``taxonomy.tsv`` into ``out_dir``.

    Raises ConvertError naming the CSV line for a missing column, an empty text, an empty label
    level, or a short name used under two parents.
    """
    opts = opts or ConvertOptions()
    csv_path, out = Path(csv_path), Path(out_dir)
    tax = Taxonomy()
    renamed: dict[str, str] = {}
    rows: list[tuple[str | None, Document]] = []
    csv.field_size_limit(2**31 - 1)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in (opts.text_column, opts.labels_column):
            if column not in header:
                raise ConvertError(f"{csv_path}:1: no column {column!r} in the header {header}")
        for row in reader:
            where = f"{csv_path}:{reader.line_num}"
            tokens = tokenize(row[opts.text_column] or "", opts.lowercase)
            if not tokens:
                raise ConvertError(f"{where}: the text is empty")
            paths = _label_paths(row[opts.labels_column] or "", opts, tax, renamed, where)
            labels = close_under_prefixes(paths) if opts.ancestors else set(paths)
            split = None
            if opts.split_column in header and (row[opts.split_column] or "").strip():
                value = row[opts.split_column].strip().lower()
                if value not in SPLITS:
                    raise ConvertError(f"{where}: split {value!r} is not train, dev or test")
                split = SPLITS[value]
            doc = Document(labels=tuple(sorted(labels)), tokens=tuple(tokens))
            rows.append((split, doc))
    if not rows:
        raise ConvertError(f"{csv_path}: no rows after the header")
    rng = random.Random(opts.seed)
    free = [i for i, (split, _) in enumerate(rows) if split is None]
    rng.shuffle(free)
    n_test = round(len(free) * opts.test_fraction)
    n_dev = round(len(free) * opts.dev_fraction)
    assigned = {i: "test" for i in free[:n_test]}
    assigned.update({i: "dev" for i in free[n_test : n_test + n_dev]})
    splits: dict[str, list[Document]] = {"train": [], "dev": [], "test": []}
    for i, (split, doc) in enumerate(rows):
        splits[split or assigned.get(i, "train")].append(doc)
    splits, dropped = drop_cross_split_duplicates(splits)
    if not splits["train"]:
        raise ConvertError(f"{csv_path}: no rows left for training")
    files = {name: write_corpus(out / f"{name}.json", docs) for name, docs in splits.items()}
    files["taxonomy"] = tax.write(out / "taxonomy.tsv")
    report = ConvertReport(
        files=files,
        counts={name: len(docs) for name, docs in splits.items()},
        labels_per_level=[len(tax.children(ROOT))],
        renamed=renamed,
        dropped_duplicates=dropped,
    )
    if any(dropped.values()):
        report.warnings.append(
            f"dropped {dropped['dev']} dev and {dropped['test']} test documents whose text is "
            "also in an earlier split (train, then test)"
        )
    by_level: dict[int, int] = {}
    for node in tax.nodes:
        depth = tax.path(node).count(SEP) + 1
        by_level[depth] = by_level.get(depth, 0) + 1
    report.labels_per_level = [by_level[k] for k in sorted(by_level)]
    for name in ("dev", "test"):
        if not splits[name]:
            report.warnings.append(f"{name} is empty: NeuralClassifier needs documents there")
            continue
        unseen = len(unseen_label_problems(splits["train"], splits[name], files[name]))
        if unseen:
            report.warnings.append(
                f"{unseen} {name} documents have no label seen in train; NeuralClassifier stops "
                "on them ('Label is empty'): add such rows to train or merge rare labels"
            )
    for name in ("train", "dev", "test"):
        if splits[name]:
            problems = validate_file(files[name], tax)
            if problems:  # a bug here, not in the CSV: the writer must emit valid files
                raise AssertionError(f"converter wrote an invalid file: {problems[0]}")
    return report


def drop_cross_split_duplicates(
    splits: dict[str, list[Document]],
) -> tuple[dict[str, list[Document]], dict[str, int]]:
    """Drop held-out documents whose tokens also occur in another split.

    Train keeps every document (copies inside one split leak nothing); test drops texts seen in
    train; dev drops texts seen in train or test. Returns the kept splits and how many
    documents each split lost.
    """
    seen = {doc.tokens for doc in splits["train"]}
    kept: dict[str, list[Document]] = {"train": list(splits["train"])}
    dropped = {"train": 0}
    for name in ("test", "dev"):
        kept[name] = [doc for doc in splits[name] if doc.tokens not in seen]
        dropped[name] = len(splits[name]) - len(kept[name])
        seen.update(doc.tokens for doc in kept[name])
    return {name: kept[name] for name in ("train", "dev", "test")}, dropped
