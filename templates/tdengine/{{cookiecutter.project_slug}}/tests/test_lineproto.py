# points: 12
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.lineproto import (
    FieldValue,
    escape_key,
    escape_measurement,
    format_field,
    format_line,
    parse_line,
    readings_to_lines,
)


def test_escaping_follows_the_schemaless_rules():
    assert escape_measurement("my meters,v2") == "my\\ meters\\,v2"
    assert escape_measurement("a=b") == "a=b"  # '=' needs no escape in a measurement
    assert escape_key("San Jose,CA=1") == "San\\ Jose\\,CA\\=1"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5f64"),
        (219.07, "219.07f64"),
        (3, "3i64"),
        (True, "true"),
        (False, "false"),
        ('say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
    ],
)
def test_field_values_are_typed(value, text):
    assert format_field(value) == text


@pytest.mark.parametrize("bad", ["", "two\nlines", "ends with\\"])
def test_names_that_cannot_be_escaped_are_refused(bad):
    with pytest.raises(ValueError):
        escape_key(bad)


def test_unsupported_field_type_is_refused():
    with pytest.raises(TypeError):
        format_field(None)  # type: ignore[arg-type]  # the wrong type is what is tested
    with pytest.raises(ValueError):
        format_line("m", {"a": "b"}, {}, 0)


def test_format_then_parse_round_trips_awkward_text():
    tags = {"location": "San Jose, CA", "k=ey": "v=al", "group id": "2"}
    fields: dict[str, FieldValue] = {
        "current": 10.25,
        "count": 7,
        "ok": True,
        "note": 'a "quoted", spaced = note',
    }
    line = format_line("smart meters", tags, fields, 1_735_689_600_000)
    assert "\n" not in line
    assert parse_line(line) == ("smart meters", tags, fields, 1_735_689_600_000)


def test_readings_become_one_exact_line_each(small_fleet):
    lines = readings_to_lines(small_fleet)
    assert len(lines) == len(small_fleet)
    d = small_fleet.devices[0]
    expected = (
        f"meters,device={d.name},location={d.location},groupid={d.groupid} "
        f"current={float(small_fleet.current[0])!r}f64,voltage={float(small_fleet.voltage[0])!r}f64,"
        f"phase={float(small_fleet.phase[0])!r}f64 {int(small_fleet.ts[0])}"
    )
    assert lines[0] == expected
    parsed = [parse_line(line) for line in lines]
    assert np.array_equal([p[3] for p in parsed], small_fleet.ts)
    assert np.array_equal([p[2]["voltage"] for p in parsed], small_fleet.voltage)
    assert {p[1]["device"] for p in parsed} == {d.name for d in small_fleet.devices}


@pytest.mark.parametrize("bad", ["meters", "meters current=1f64", "meters,x current=1f64 5"])
def test_malformed_lines_are_refused(bad):
    with pytest.raises(ValueError):
        parse_line(bad)
