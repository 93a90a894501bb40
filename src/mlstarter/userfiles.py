"""Files the user hands in (rosters, answers files, `.mlstarter.yml` records), read strictly.

- a size limit, checked while reading, so a huge or endless file is refused before it costs memory;
- UTF-8 text, or a clear error;
- YAML scalars stay text exactly as written: `0012`, `No`, `yes`, `3.10`, `1:30` and `0x1F` are
  strings, never an octal number, a boolean or a sexagesimal time;
- YAML anchors, aliases, merge keys (`<<`), explicit tags (`!!int`), duplicate keys and deep
  nesting are refused, so a small file cannot expand into gigabytes;
- JSON (a `.json` file) keeps its numbers as written too (`3.10` stays `"3.10"`).

Every problem is a `UsageError` naming the file and, where known, the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mlstarter.errors import UsageError

KIB = 1024
MAX_ANSWERS_BYTES = 256 * KIB
MAX_ROSTER_BYTES = 4 * KIB * KIB
MAX_DEPTH = 16
STR_TAG = "tag:yaml.org,2002:str"
ALLOWED_TAGS = {STR_TAG, "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}


class StrictYamlError(yaml.YAMLError):
    """A YAML feature mlstarter refuses, at a line of the file."""

    def __init__(self, problem: str, mark: Any) -> None:  # yaml.error.Mark or the C Mark
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def read_text(path: Path, limit: int, what: str) -> str:
    """The UTF-8 text of `path` (a BOM is dropped); at most `limit` bytes are read."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except IsADirectoryError:
        raise UsageError(f"{what} {path}: is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:  # an embedded NUL in the path
        raise UsageError(f"{what} {path}: not a usable path ({exc})") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path}: larger than the limit of {limit // KIB} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{what} {path}: line {line} is not UTF-8 text") from None


class _TextLoader(yaml.SafeLoader):
    """PyYAML's safe loader with every plain scalar resolved as a string, and no expansion."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise StrictYamlError(
                f"aliases (*{event.anchor}) are not allowed: write the value out", event.start_mark
            )
        if getattr(event, "anchor", None):
            raise StrictYamlError(
                f"anchors (&{event.anchor}) are not allowed: write the value out", event.start_mark
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in ALLOWED_TAGS:
            short = tag.replace("tag:yaml.org,2002:", "!!")
            raise StrictYamlError(
                f"explicit tags ({short}) are not allowed: write the value as plain text",
                event.start_mark,
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise StrictYamlError(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise StrictYamlError("a key must be a plain name", key_node.start_mark)
            if key_node.value == "<<" and key_node.style is None:
                raise StrictYamlError("merge keys (<<) are not allowed", key_node.start_mark)
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise StrictYamlError(
                    f"'{key_node.value}' is given twice (lines {seen[key_node.value]} and {line})",
                    key_node.start_mark,
                )
            seen[key_node.value] = line
        return super().construct_mapping(node, deep)


def load_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML document, and its node tree (for line numbers); text stays text."""
    loader = _TextLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise UsageError(f"{where}:{line} {problem}") from None
    except RecursionError:
        raise UsageError(f"{where}: nested too deeply") from None
    finally:
        loader.dispose()
    return data, node


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"'{key}' is given twice")
        data[key] = value
    return data


def load_json(text: str, where: str) -> Any:
    """The data of a JSON document; numbers stay text as written (`3.10` is `"3.10"`)."""
    try:
        return json.loads(
            text,
            parse_int=str,
            parse_float=str,
            parse_constant=str,
            object_pairs_hook=_refuse_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None
    except RecursionError:
        raise UsageError(f"{where}: nested too deeply") from None


def load_data_file(path: Path, limit: int, what: str) -> Any:
    """A YAML or JSON file (by its suffix; YAML also reads most JSON) as plain data."""
    text = read_text(path, limit, what)
    where = f"{what} {path}"
    if path.suffix.lower() == ".json":
        return load_json(text, where)
    return load_yaml(text, where)[0]
