"""InfluxDB line protocol, as TDengine's schemaless writer reads it.

    meters,device=d0001,location=SanJose,groupid=2 current=10.3f64,phase=0.31f64 1735689600000

Escaping (TDengine schemaless docs): in the measurement a comma or a space is escaped with a
backslash; in tag keys, tag values and field keys a comma, an equals sign or a space; in string
field values a double quote or a backslash. Newlines cannot be escaped and are rejected.
Tags always become NCHAR tags; `f64` fields become DOUBLE columns; the timestamp column of a
super table created this way is named `_ts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .data import Readings

FieldValue = float | int | bool | str


def _check(text: str, what: str) -> str:
    if not text:
        raise ValueError(f"{what} must not be empty")
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain a newline: {text!r}")
    if text.endswith("\\"):
        raise ValueError(f"{what} must not end with a backslash: {text!r}")
    return text


def escape_measurement(name: str) -> str:
    """The measurement (super table) name with commas and spaces escaped."""
    return _check(name, "measurement").replace(",", "\\,").replace(" ", "\\ ")


def escape_key(text: str) -> str:
    """A tag key, tag value or field key with commas, equals signs and spaces escaped."""
    return (
        _check(text, "key or tag value").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")
    )


def format_field(value: FieldValue) -> str:
    """A field value: float -> `1.5f64`, int -> `3i64`, bool -> `true`, str -> `"quoted"`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i64"
    if isinstance(value, float):
        return f"{value!r}f64"
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ValueError(f"string field must not contain a newline: {value!r}")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"unsupported field type {type(value).__name__}")


def format_line(
    measurement: str,
    tags: Mapping[str, object],
    fields: Mapping[str, FieldValue],
    ts_ms: int | np.integer[Any],
) -> str:
    """One line: `measurement,tag=v,... field=v,... timestamp` (timestamp in milliseconds).

    The measurement goes through `escape_measurement`; tag keys, tag values (as str) and field
    keys through `escape_key`; field values through `format_field`. No tags: no comma after the
    measurement. No fields: ValueError.
    """
    # >>> assignment: escape the measurement, tags and field keys; format_field
    if not fields:
        raise ValueError("a line needs at least one field")
    head = escape_measurement(measurement)
    if tags:
        head += "," + ",".join(f"{escape_key(k)}={escape_key(str(v))}" for k, v in tags.items())
    body = ",".join(f"{escape_key(k)}={format_field(v)}" for k, v in fields.items())
    return f"{head} {body} {int(ts_ms)}"
    # <<< assignment


def readings_to_lines(
    readings: Readings, measurement: str = "meters", rows: slice | None = None
) -> list[str]:
    """Readings as lines (all, or the `rows` slice): tags device, location, groupid; fields
    current, voltage, phase; millisecond timestamps."""
    rows = rows or slice(None)
    heads = [
        escape_measurement(measurement)
        + ",".join(
            [
                "",
                f"device={escape_key(d.name)}",
                f"location={escape_key(d.location)}",
                f"groupid={escape_key(str(d.groupid))}",
            ]
        )
        for d in readings.devices
    ]
    columns = zip(
        readings.device[rows].tolist(),
        readings.ts[rows].tolist(),
        readings.current[rows].tolist(),
        readings.voltage[rows].tolist(),
        readings.phase[rows].tolist(),
        strict=True,
    )
    return [
        f"{heads[d]} current={c!r}f64,voltage={v!r}f64,phase={p!r}f64 {t}"
        for d, t, c, v, p in columns
    ]


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped by a backslash and not inside double quotes."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _parse_field(raw: str) -> FieldValue:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return _unescape(raw[1:-1])
    if raw in ("true", "t", "T", "True", "TRUE"):
        return True
    if raw in ("false", "f", "F", "False", "FALSE"):
        return False
    if raw.endswith("i64"):
        return int(raw[:-3])
    if raw.endswith("f64"):
        return float(raw[:-3])
    return float(raw)


def parse_line(line: str) -> tuple[str, dict[str, str], dict[str, FieldValue], int]:
    """Inverse of `format_line`: (measurement, tags, fields, timestamp). ValueError if malformed."""
    sections = _split_unescaped(line.strip(), " ")
    if len(sections) != 3:
        raise ValueError(f"expected 'measurement[,tags] fields timestamp', got {line!r}")
    head, body, ts = sections
    head_parts = _split_unescaped(head, ",")
    measurement = _unescape(head_parts[0])
    tags: dict[str, str] = {}
    for part in head_parts[1:]:
        key, raw = _pair(part)
        tags[key] = _unescape(raw)
    fields: dict[str, FieldValue] = {}
    for part in _split_unescaped(body, ","):
        key, raw = _pair(part)
        fields[key] = _parse_field(raw)
    if not measurement or not fields:
        raise ValueError(f"line has no measurement or no fields: {line!r}")
    return measurement, tags, fields, int(ts)


def _pair(part: str) -> tuple[str, str]:
    """`key=value` -> (unescaped key, raw value)."""
    pieces = _split_unescaped(part, "=")
    if len(pieces) < 2 or not pieces[0]:
        raise ValueError(f"expected key=value, got {part!r}")
    return _unescape(pieces[0]), "=".join(pieces[1:])
