"""Shared fixtures. Everything runs offline; tests marked `server` need TDENGINE_URL."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest  # noqa: E402

from {{ cookiecutter.package_name }}.data import FleetConfig, Readings, generate  # noqa: E402
from {{ cookiecutter.package_name }}.fake_server import FakeTDengine  # noqa: E402

SERVER_HINT = (
    "needs a running TDengine: `docker compose up -d`, then "
    "TDENGINE_URL=http://root:taosdata@localhost:6041 pytest -m server"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TDENGINE_URL"):
        return
    skip = pytest.mark.skip(reason=SERVER_HINT)
    for item in items:
        if "server" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fleet() -> Readings:
    """20 meters, one day at one reading a minute: every anomaly kind occurs."""
    return generate(FleetConfig(devices=20, days=1.0, seed=0))


@pytest.fixture(scope="session")
def small_fleet() -> Readings:
    """3 meters, 6 hours, with extra gaps so that 5-minute windows come out empty."""
    return generate(FleetConfig(devices=3, days=0.25, seed=7, gaps_per_day=12.0))


@pytest.fixture
def fake():
    """A loopback fake of taosAdapter's REST endpoint, started and stopped per test."""
    with FakeTDengine() as server:
        yield server


@pytest.fixture
def fake_dsn(fake: FakeTDengine) -> str:
    return fake.url.replace("http://", "http://root:taosdata@")
