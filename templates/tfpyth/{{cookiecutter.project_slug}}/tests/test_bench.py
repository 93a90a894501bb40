"""The interop benchmark, at tiny sizes only (the full 1 KB - 256 MB run is `make bench`)."""
# points: 5

import csv
import importlib.util
from dataclasses import fields

import pytest

from {{ cookiecutter.package_name }}.bench import (
    BenchRow,
    human_size,
    run_benchmark,
    summarize,
    write_csv,
    write_plot,
)

TINY = (1024, 4096)


@pytest.fixture(scope="module")
def rows() -> list[BenchRow]:
    return run_benchmark(TINY, min_seconds=0.001, max_repeats=20)


def test_every_size_direction_and_method_is_timed(rows):
    keys = {(r.size_bytes, r.direction, r.method) for r in rows}
    assert len(rows) == len(keys) == 8
    assert all(r.median_seconds > 0 and 3 <= r.repeats <= 20 for r in rows)


def test_memory_sharing_is_measured_not_assumed(rows):
    for row in rows:
        assert row.shares_memory == (row.method == "dlpack"), row


def test_csv_has_a_header_and_one_line_per_row(rows, tmp_path):
    path = write_csv(rows, tmp_path / "out" / "bench.csv")
    with path.open() as handle:
        read = list(csv.DictReader(handle))
    assert len(read) == len(rows)
    assert list(read[0]) == [f.name for f in fields(BenchRow)]
    assert read[0]["direction"] in {"torch->tf", "tf->torch"}


def test_plot_is_written_when_matplotlib_is_installed(rows, tmp_path):
    path = write_plot(rows, tmp_path / "bench.png")
    if importlib.util.find_spec("matplotlib") is None:
        assert path is None
    else:
        assert path is not None
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_reports_speedups(rows):
    summary = summarize(rows)
    assert summary["largest_bytes"] == 4096
    assert summary["torch_to_tf_dlpack_shares_memory"] is True
    assert summary["tf_to_torch_speedup"] > 0


def test_human_size():
    assert [human_size(s) for s in (512, 1024, 4096 * 1024, 256 * 1024**2)] == [
        "512 B",
        "1 KB",
        "4 MB",
        "256 MB",
    ]


@pytest.mark.parametrize("sizes", [(), (0,), (1023,)])
def test_bad_sizes_are_rejected(sizes):
    with pytest.raises(ValueError, match="multiples of 4"):
        run_benchmark(sizes)
