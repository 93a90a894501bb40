# points: 2
"""docker-compose.yml and the Makefile start the server the README describes."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_starts_tdengine_with_its_ports():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["tdengine"]
    assert service["image"] == "tdengine/tsdb:{{ cookiecutter.tdengine_version }}"
    ports = {str(p) for p in service["ports"]}
    assert {"6030:6030", "6041:6041", "6060:6060"} <= ports
    assert "healthcheck" in service
    assert set(compose["volumes"]) >= {"taos-data"}
    for volume in service["volumes"]:
        assert volume.split(":", 1)[0] in compose["volumes"]


def test_make_and_readme_say_how_to_start_it():
    assert "docker compose up -d" in (ROOT / "Makefile").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docker compose up -d" in readme
    assert "TDENGINE_URL" in readme
