# points: 2
"""The three places a TDengine server comes from agree with the code that talks to it: the
compose file (your machine), the CI service container (tdengine.yml), and the default DSN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from {{ cookiecutter.package_name }}.connect import DEFAULT_DSN, Dsn, server_gate

ROOT = Path(__file__).resolve().parents[1]


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))
    return data


def published_ports(ports: list[Any]) -> set[int]:
    """Host ports a compose or service `ports` list publishes."""
    return {int(str(p).split(":")[0]) for p in ports}


def test_the_compose_server_is_where_the_default_dsn_looks():
    service = load("docker-compose.yml")["services"]["tdengine"]
    dsn = Dsn.parse(DEFAULT_DSN)
    assert dsn.host == "localhost"
    assert dsn.port in published_ports(service["ports"])
    # the healthcheck probes the port the pipeline uses, and every volume is declared
    assert str(dsn.port) in " ".join(service["healthcheck"]["test"])
    volumes = load("docker-compose.yml")["volumes"]
    assert all(v.split(":", 1)[0] in volumes for v in service["volumes"])


def test_ci_runs_the_server_tests_against_a_pinned_tdengine_container():
    workflow = load(".github/workflows/tdengine.yml")
    job = workflow["jobs"]["server-tests"]
    image = job["services"]["tdengine"]["image"]
    repository, _, tag = image.partition(":")
    compose_image = load("docker-compose.yml")["services"]["tdengine"]["image"]
    assert repository == compose_image.partition(":")[0] == "tdengine/tsdb"
    assert tag and tag != "latest" and tag[0].isdigit(), "CI needs a pinned version"
    # the DSN the tests get is the service's published port, and a missing server is a failure
    env = job["env"]
    assert Dsn.parse(env["TDENGINE_URL"]).port in published_ports(
        job["services"]["tdengine"]["ports"]
    )
    assert server_gate({"TDENGINE_REQUIRED": env["TDENGINE_REQUIRED"]}).action == "fail"
    runs = [step.get("run", "") for step in job["steps"]]
    wait = next(k for k, r in enumerate(runs) if "ping --wait" in r)
    tests = next(k for k, r in enumerate(runs) if "pytest -m server" in r)
    assert wait < tests, "wait until TDengine answers SQL before testing against it"
    assert "--health-cmd" in job["services"]["tdengine"]["options"]


def test_make_db_up_waits_for_the_server_it_starts():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = makefile.split("\ndb-up:", 1)[1].split("\n\n", 1)[0]
    assert "docker compose up -d" in block
    assert block.index("docker compose up -d") < block.index("ping --wait")
