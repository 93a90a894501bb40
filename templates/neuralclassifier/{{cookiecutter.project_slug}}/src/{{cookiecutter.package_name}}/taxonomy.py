"""The label hierarchy in NeuralClassifier's taxonomy format.

A taxonomy file has one tab-separated line per parent: ``parent<TAB>child<TAB>child...``. The
first line starts with ``Root`` and lists the top-level nodes. Node names are short (``C15``,
``Physics``) and unique over the whole tree; a document's label is the full path of short names
joined by ``--`` (``CCAT--C15--C152``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SEP = "--"
ROOT = "Root"


class TaxonomyError(ValueError):
    """A taxonomy that NeuralClassifier would misread; the message names file, line and problem."""


def prefixes(label: str) -> list[str]:
    """Every ancestor path of ``label`` and the label itself, shortest first.

    >>> prefixes("A--B--C")
    ['A', 'A--B', 'A--B--C']
    """
    parts = label.split(SEP)
    return [SEP.join(parts[: i + 1]) for i in range(len(parts))]


def close_under_prefixes(labels: Iterable[str]) -> set[str]:
    """The set of labels plus all their ancestors (a prediction of ``A--B`` implies ``A``)."""
    out: set[str] = set()
    for label in labels:
        out.update(prefixes(label))
    return out


def level(label: str) -> int:
    """Depth of a label path: 1 for a top-level node, 2 for its children, and so on."""
    return label.count(SEP) + 1


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a node name, or None when it can."""
    if not name:
        return "empty node name"
    if name != name.strip():
        return f"node name {name!r} has leading or trailing spaces"
    if SEP in name:
        return f"node name {name!r} contains the level separator {SEP!r}"
    if "\t" in name or "\n" in name:
        return f"node name {name!r} contains a tab or newline"
    if name == ROOT:
        return f"{ROOT!r} is reserved for the top of the tree"
    return None


@dataclass
class Taxonomy:
    """A tree of short node names under ``Root``; ``parent`` maps each node to its parent."""

    parent: dict[str, str] = field(default_factory=dict)

    @property
    def nodes(self) -> list[str]:
        """All node names, in insertion order (parents before children)."""
        return list(self.parent)

    def children(self, name: str) -> list[str]:
        """The direct children of ``name`` (``Root`` for the top level), in insertion order."""
        return [child for child, par in self.parent.items() if par == name]

    def add(self, parent: str, child: str) -> None:
        """Add ``child`` under ``parent``; raise TaxonomyError if the names break the rules."""
        problem = name_problem(child)
        if problem:
            raise TaxonomyError(problem)
        if parent != ROOT and parent not in self.parent:
            raise TaxonomyError(f"parent {parent!r} of {child!r} is not in the taxonomy")
        known = self.parent.get(child)
        if known is not None and known != parent:
            raise TaxonomyError(
                f"node name {child!r} is used twice (under {known!r} and under {parent!r}); "
                "NeuralClassifier needs unique short names"
            )
        self.parent[child] = parent

    def path(self, name: str) -> str:
        """The full label path of a node, e.g. ``path("C152") == "CCAT--C15--C152"``."""
        parts = [name]
        while self.parent[parts[-1]] != ROOT:
            parts.append(self.parent[parts[-1]])
        return SEP.join(reversed(parts))

    def label_problem(self, label: object) -> str | None:
        """Why ``label`` is not a valid path in this tree, or None when it is.

        A valid label is a full path from a top-level node down, short names joined by ``--``
        (``CCAT--C15--C152``). The reason names the first problem found, in this order: the label
        is "not a non-empty string"; has "leading or trailing spaces"; has "an empty level"
        (``A----B``, ``A--``); a node "is not in the taxonomy" (adding "levels are joined by '--',
        not '/'" when the node holds ``/``, ``>``, ``|``, a backslash, ``.`` or ``-``); a node "is
        a child of 'P' in the taxonomy, not of 'Q'" (Q is the node before it, ``'Root'`` first).
        """
        # >>> assignment: None for a valid Root-to-node path, else the reason
        if not isinstance(label, str) or not label:
            return f"label {label!r} is not a non-empty string"
        if label != label.strip():
            return f"label {label!r} has leading or trailing spaces"
        parts = label.split(SEP)
        if any(not part for part in parts):
            return f"label {label!r} has an empty level: separate levels with exactly {SEP!r}"
        expected = ROOT
        for depth, part in enumerate(parts, start=1):
            if part not in self.parent:
                hint = ""
                for other in ("/", ">", "|", "\\", ".", "-"):
                    if other in part:
                        hint = f" (levels are joined by {SEP!r}, not {other!r})"
                        break
                return (
                    f"label {label!r}: node {part!r} (level {depth}) is not in the taxonomy{hint}"
                )
            if self.parent[part] != expected:
                return (
                    f"label {label!r}: node {part!r} is a child of {self.parent[part]!r} in the "
                    f"taxonomy, not of {expected!r}"
                )
            expected = part
        return None
        # <<< assignment

    @classmethod
    def from_labels(cls, labels: Iterable[str]) -> Taxonomy:
        """Build the smallest taxonomy that holds every label path (raises TaxonomyError)."""
        tax = cls()
        for label in labels:
            parts = label.split(SEP)
            for depth, part in enumerate(parts):
                tax.add(parts[depth - 1] if depth else ROOT, part)
        return tax

    @classmethod
    def read(cls, path: str | Path) -> Taxonomy:
        """Read a taxonomy file; raise TaxonomyError naming file and line for any bad line.

        Lines may come in any order, but every parent other than ``Root`` must be listed as
        somebody's child, every name may have one parent only, and the tree has no cycles.
        """
        path = Path(path)
        with path.open(encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        if not lines or lines[0].split("\t")[0] != ROOT:
            raise TaxonomyError(f"{path}:1: the first line must start with {ROOT!r}<TAB>")
        parent_of: dict[str, str] = {}
        line_of: dict[str, int] = {}
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            parent, *children = line.split("\t")
            if parent in line_of:
                raise TaxonomyError(
                    f"{where}: parent {parent!r} already has a line ({path}:{line_of[parent]})"
                )
            line_of[parent] = lineno
            if not children:
                raise TaxonomyError(f"{where}: parent {parent!r} lists no children (tab-separated)")
            for child in children:
                problem = name_problem(child)
                if problem:
                    raise TaxonomyError(f"{where}: {problem}")
                if child in parent_of:
                    raise TaxonomyError(
                        f"{where}: node name {child!r} is used twice (under {parent_of[child]!r} "
                        f"and under {parent!r}); NeuralClassifier needs unique short names"
                    )
                parent_of[child] = parent
        for parent, lineno in line_of.items():
            if parent != ROOT and parent not in parent_of:
                raise TaxonomyError(
                    f"{path}:{lineno}: parent {parent!r} is not a child of {ROOT!r} or of any node"
                )
        kids: dict[str, list[str]] = {}
        for child, par in parent_of.items():
            kids.setdefault(par, []).append(child)
        tax = cls()
        pending = [ROOT]
        while pending:  # depth-first from Root: parents always land before their children
            node = pending.pop()
            for child in kids.get(node, []):
                tax.parent[child] = node
            pending.extend(reversed(kids.get(node, [])))
        unreachable = [name for name in parent_of if name not in tax.parent]
        if unreachable:
            raise TaxonomyError(
                f"{path}:{line_of.get(parent_of[unreachable[0]], 1)}: node "
                f"{unreachable[0]!r} is not reachable from {ROOT!r} (a cycle?)"
            )
        return tax

    def write(self, path: str | Path) -> Path:
        """Write the tree as NeuralClassifier reads it: ``Root`` first, then parents in order."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        kids: dict[str, list[str]] = {}
        for child, parent in self.parent.items():
            kids.setdefault(parent, []).append(child)
        lines = [
            "\t".join([parent, *kids[parent]]) for parent in [ROOT, *self.nodes] if parent in kids
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def depth(self) -> int:
        """Number of levels below Root (0 for an empty tree)."""
        return max((level(self.path(n)) for n in self.parent), default=0)
