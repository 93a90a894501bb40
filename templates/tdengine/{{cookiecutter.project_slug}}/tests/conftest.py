"""Shared fixtures. Everything runs offline, except the `tdengine` backend of the `server` tests,
which needs TDENGINE_URL (see `connect.server_gate`)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from {{ cookiecutter.package_name }}.connect import server_gate  # noqa: E402
from {{ cookiecutter.package_name }}.data import FleetConfig, Readings, generate  # noqa: E402
from {{ cookiecutter.package_name }}.fake_server import FakeTDengine  # noqa: E402


@pytest.fixture(scope="session")
def fleet() -> Readings:
    """8 meters on two feeders, three days at one reading a minute: every fault kind occurs."""
    return generate(FleetConfig(devices=8, days=3.0, seed=0))


@pytest.fixture(scope="session")
def small_fleet() -> Readings:
    """3 meters, 6 hours, with extra gaps so that 5-minute windows come out empty."""
    return generate(FleetConfig(devices=3, days=0.25, seed=7, gaps_per_day=12.0))


@pytest.fixture
def fake() -> Iterator[FakeTDengine]:
    """A loopback fake of taosAdapter's REST endpoint, started and stopped per test."""
    with FakeTDengine() as server:
        yield server


@pytest.fixture
def fake_dsn(fake: FakeTDengine) -> str:
    return fake.url.replace("http://", "http://root:taosdata@")


@pytest.fixture(scope="session")
def tdengine_url() -> str:
    """TDENGINE_URL of a server that answers; skips (or fails, with TDENGINE_REQUIRED=1)."""
    gate = server_gate()
    if gate.action == "fail":
        pytest.fail(gate.reason)
    if gate.action == "skip":
        pytest.skip(gate.reason)
    assert gate.dsn is not None
    return gate.dsn
