"""Shared fixtures: the CLI runner, the catalog, and small throwaway templates for failure cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlstarter import catalog as catalog_mod
from mlstarter.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(TEMPLATES)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path, with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


COMMON_JSON = {
    "project_name": "Tiny",
    "project_slug": "{{ cookiecutter.project_name|slugify }}",
    "package_name": "{{ cookiecutter.project_slug|replace('-', '_') }}",
    "description": "A tiny template for tests.",
    "author_name": "Ada",
    "author_email": "ada@example.com",
    "github_username": "ada",
    "license": ["MIT", "Apache-2.0", "BSD-3-Clause", "none"],
    "copyright_year": "2026",
    "_template_version": "0.0.1",
}


@pytest.fixture
def tiny_templates(tmp_path, monkeypatch):
    """A catalog root of one small template `tiny`; returns a function to add files to it.

    mlstarter is pointed at it, so failure cases (broken Jinja, leftovers, hooks) can be baked.
    """
    root = tmp_path / "tiny-root"
    template = root / "tiny"
    project = template / "{{cookiecutter.project_slug}}"
    project.mkdir(parents=True)
    (template / "cookiecutter.json").write_text(json.dumps(COMMON_JSON), encoding="utf-8")
    (project / "README.md").write_text(
        "# {{ cookiecutter.project_name }}\nby {{ cookiecutter.author_name }}\n", encoding="utf-8"
    )
    (root / "catalog.yaml").write_text(
        "projects:\n"
        "  - key: tiny\n"
        "    title: Tiny\n"
        "    tagline: a tiny template\n"
        "    upstream: https://example.com/tiny\n"
        "    domain: code\n"
        "    summary: s\n"
        "    problem: p\n"
        "    success_metric: m\n"
        "    frameworks: [none]\n"
        "    hardware: cpu\n"
        "    install_size: 1 MB\n"
        "    template: tiny\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(catalog_mod, "templates_root", lambda: root)

    def add(relative: str, text: str) -> Path:
        path = template / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    add.root = root  # type: ignore[attr-defined]
    add.template = template  # type: ignore[attr-defined]
    return add
