# points: 20
"""The smoke run proves something only if it can fail. These tests run it as `make smoke` does,
then break it on purpose through its own code path (`smoke --detector / --forecaster`, or a
factory in the model's place) and check that the targets the breakage should miss are missed
and the run exits 1."""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import pipeline
from {{ cookiecutter.package_name }}.__main__ import main
from {{ cookiecutter.package_name }}.connect import QueryError
from {{ cookiecutter.package_name }}.data import DEFAULT_SEED, FleetConfig
from {{ cookiecutter.package_name }}.detect import MeterSeries, ScoreDetector
from {{ cookiecutter.package_name }}.targets import emit

DETECTION = {
    "f1_over_union",
    "f1_over_static_threshold",
    "f1_over_stuck_rule",
    "f1_over_own_history",
    "calibration_recall_over_own_history",
}
# A reduced smoke for the breakages (same code path and targets, two fifths of the rows): a broken
# part misses its targets by construction (it equals the baseline it must beat) or by far more
# than the smaller fleet moves them.
REDUCED = ["--devices", "8", "--days", "3"]


@pytest.fixture(scope="module")
def smoke_report() -> dict[str, Any]:
    """The smoke run exactly as `make smoke` runs it: the project's seed, default size."""
    return pipeline.smoke(seed=DEFAULT_SEED)


def missed(report: dict[str, Any]) -> set[str]:
    return {name for name, t in report["targets"].items() if not t["met"]}


def run_smoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """`python -m ... smoke ARGS` in-process: (exit code, the report on the last stdout line).
    Its run folder goes to a scratch folder, never the project's runs/."""
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        code = main(["smoke", *REDUCED, *args])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return code, report


def test_smoke_meets_every_target(smoke_report):
    assert smoke_report["ok"], {k: v for k, v in smoke_report["targets"].items() if not v["met"]}
    assert set(smoke_report["targets"]) == {
        "rows_stored",
        *DETECTION,
        "forecast_mae_vs_seasonal_naive",
    }
    m = smoke_report["metrics"]
    assert m["rows_stored"] == m["rows_generated"] == m["readings_scored"]
    # settings were chosen on other seeds than the one scored
    assert DEFAULT_SEED not in m["dev_seeds"] and len(m["dev_seeds"]) >= 2
    # every fault kind occurs, and the model finds most of each
    assert all(m["label_counts"][k] > 0 for k in ("spike", "stuck", "drop", "shift", "drift"))
    assert min(m["recall_by_kind"]["model"].values()) > 0.5


def test_no_trivial_rule_reaches_the_model(smoke_report):
    """The faults are built so that the best trivial rules, tuned on the dev fleets, stay far
    from the model: frozen meters still jitter (exact repeats find none), and calibration
    faults sit inside any static band."""
    m = smoke_report["metrics"]
    assert m["settings"]["stuck_rule"]["quanta"] > 0  # exact repeats alone found nothing worth it
    assert m["recall_by_kind"]["static_threshold"]["stuck"] < 0.2
    assert m["recall_by_kind"]["stuck_rule"]["shift"] < 0.2
    assert m["union_calibration_recall"] < 0.75
    assert m["own_history_calibration_recall"] < 0.75  # without the feeder, most are missed


@pytest.mark.parametrize(
    ("args", "must_miss"),
    [
        (["--detector", "stuck-rule"], DETECTION),
        (["--detector", "static-threshold"], {"f1_over_static_threshold", "f1_over_union"}),
        (["--detector", "union"], {"f1_over_union"}),
        (
            ["--detector", "own-history"],
            {"f1_over_own_history", "calibration_recall_over_own_history"},
        ),
        (["--forecaster", "seasonal-naive"], {"forecast_mae_vs_seasonal_naive"}),
        (["--forecaster", "last-day-mean"], {"forecast_mae_vs_seasonal_naive"}),
    ],
    ids=["stuck-rule", "static-threshold", "union", "no-feeder-context", "seasonal-naive", "flat"],
)
def test_a_broken_part_makes_the_smoke_exit_1(capsys, args, must_miss):
    code, report = run_smoke(capsys, *args)
    assert code == 1
    assert report["ok"] is False
    assert must_miss <= missed(report), report["targets"]
    assert report["targets"]["rows_stored"]["met"], "it must fail for the breakage, not the run"


class FlagEverything:
    """A detector that calls every reading a fault."""

    name = "flag_everything"

    def fit(self, dev: list[MeterSeries]) -> FlagEverything:
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        return np.ones(meter.ts.shape[0], dtype=bool)

    def settings(self) -> dict[str, Any]:
        return {}


class RandomFlags(FlagEverything):
    """A detector that never learns: flags readings at random, at the dev fleets' fault rate."""

    name = "random_flags"
    rate = 0.0

    def fit(self, dev: Sequence[MeterSeries]) -> RandomFlags:
        self.rate = float(np.mean(np.concatenate([m.truth() for m in dev])))
        return self

    def flags(self, meter: MeterSeries) -> np.ndarray:
        rng = np.random.default_rng(0)
        return rng.random(len(meter.ts)) < self.rate


class OnlyFlatView(ScoreDetector):
    """The model with its point and level views removed (only the frozen-meter check left)."""

    def fit(self, dev: Sequence[MeterSeries]) -> OnlyFlatView:
        super().fit(dev)
        self.point_z = self.level_z = math.inf
        return self


@pytest.mark.parametrize(
    ("factory", "must_miss"),
    [
        (FlagEverything, DETECTION - {"calibration_recall_over_own_history"}),  # recall 1, F1 low
        (RandomFlags, DETECTION),
        (OnlyFlatView, DETECTION),
    ],
    ids=["flag-everything", "random-flags", "only-the-flat-view"],
)
def test_a_detector_that_cannot_work_fails_the_smoke(factory, must_miss):
    report = pipeline.smoke(devices=8, days=3.0, detector=factory)
    assert must_miss <= missed(report), report["targets"]
    assert emit(report) == 1


def test_the_smoke_needs_whole_days():
    with pytest.raises(ValueError, match="whole days"):
        pipeline.smoke(devices=4, days=2.5)


# ---- real-mode commands, through the fake ----------------------------------------------------


def test_real_commands_through_rest(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = FleetConfig(devices=8, days=5.0, seed=5)
    ing = pipeline.ingest_fleet(fake_dsn, "power", config, workers=2, fresh=True)
    assert ing["ok"], ing["targets"]
    assert ing["metrics"]["method"] == "sql" and ing["metrics"]["kind"] == "rest"
    limit = ing["targets"]["largest_statement_chars"]["threshold"]
    assert limit == pytest.approx(1_048_576, rel=1e-5)  # reports keep 6 significant digits
    assert (tmp_path / "runs" / "power.json").exists()
    qry = pipeline.query_timings(fake_dsn, "power", repeat=1)
    assert qry["ok"] and qry["metrics"]["meters"] == 8
    assert qry["metrics"]["downsample_windows"] == 8 * 5 * 96
    det = pipeline.detect_fleet(fake_dsn, "power")
    assert det["ok"], det["targets"]
    assert det["metrics"]["readings_scored"] == ing["metrics"]["rows"]
    fc = pipeline.forecast_fleet(fake_dsn, "power")
    assert fc["ok"], fc["targets"]
    assert fc["metrics"]["forecast_days_of_history"] == 4


def test_batches_over_tdengines_statement_limit_are_refused(fake_dsn, tmp_path, monkeypatch):
    """TDengine refuses statements over 1,048,576 characters by default, and so does the fake:
    a batch size too large for the server fails loudly instead of losing rows."""
    monkeypatch.chdir(tmp_path)
    config = FleetConfig(devices=8, days=3.0, seed=5)  # about 34,000 rows, 1.4 MB of VALUES
    with pytest.raises(QueryError, match="too long") as info:
        pipeline.ingest_fleet(fake_dsn, "power", config, batch_rows=40_000, fresh=True)
    assert info.value.code == 0x0219


def test_ping_reports_the_server_version(fake_dsn):
    report = pipeline.ping(fake_dsn)
    assert report["ok"] and report["metrics"]["server_version"].startswith("3.")


def test_detect_without_a_recorded_run_says_what_to_do(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueryError, match="ingest"):
        pipeline.detect_fleet(fake_dsn, "power")


def test_query_on_an_empty_table_says_what_to_do(fake_dsn, fake):
    fake.execute("CREATE DATABASE power")
    fake.execute(
        "CREATE STABLE power.meters (ts TIMESTAMP, current DOUBLE, voltage DOUBLE, phase DOUBLE) "
        "TAGS (device NCHAR(16), location NCHAR(64), groupid INT)"
    )
    with pytest.raises(QueryError, match="ingest"):
        pipeline.query_timings(fake_dsn, "power", repeat=1)


def test_bench_reports_every_path(fake_dsn, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = pipeline.bench([fake_dsn], FleetConfig(devices=3, days=0.25), workers=2, repeat=1)
    assert [(r["kind"], r["method"], r["db"]) for r in out["metrics"]["runs"]] == [
        ("rest", "sql", "bench_rest_sql")
    ]
    assert out["metrics"]["best"] == "rest/sql"
    assert out["ok"] and "rest_sql_rows_stored" in out["targets"]
