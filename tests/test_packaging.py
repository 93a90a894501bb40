"""The wheel: templates ship inside it, and an installed mlstarter finds and bakes every one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile

import pytest

from .conftest import REPO


def test_every_catalog_template_maps_its_include_folder_into_the_wheel(catalog):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    mapped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for project in catalog.projects:
        source = f"templates/{project.template}/templates"
        assert mapped.get(source) == f"mlstarter/templates/{project.template}/templates", source
        assert (REPO / source).resolve() == (REPO / "templates" / "_shared").resolve()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """mlstarter built as a wheel and installed (not editable) into a folder of its own."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp / "dist").glob("mlstarter-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp / "site"),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return wheel, tmp / "site"


def run_installed(site, cwd, *args):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "mlstarter", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_wheel_holds_every_template_with_its_includes(installed, catalog):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mlstarter/templates/catalog.yaml" in names
    for project in catalog.projects:
        base = f"mlstarter/templates/{project.template}"
        assert f"{base}/cookiecutter.json" in names
        assert f"{base}/templates/LICENSE.j2" in names


def test_installed_mlstarter_finds_and_bakes_every_template_from_another_folder(
    installed, catalog, tmp_path
):
    _, site = installed
    where = subprocess.run(
        [sys.executable, "-c", "import mlstarter; print(mlstarter.__file__)"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site))
    listed = json.loads(run_installed(site, tmp_path, "list", "--json").stdout)
    assert [p["key"] for p in listed["projects"]] == catalog.keys
    for key in catalog.keys:
        done = run_installed(site, tmp_path, "new", key, "--no-input", "-o", "out", "--json")
        assert done.returncode == 0, done.stderr
        path = json.loads(done.stdout)["path"]
        assert path.startswith(str(tmp_path / "out"))
        assert os.path.isfile(os.path.join(path, "README.md"))
        caches = [f for _, dirs, files in os.walk(path) for f in dirs + files
                  if f == "__pycache__" or f.endswith(".pyc")]  # fmt: skip
        assert caches == [], f"{key}: pip's byte-compiled template files leaked: {caches[:3]}"


def test_the_installed_package_rebuilds_every_released_version_and_updates_a_repo(
    installed, tmp_path
):
    """`update`'s base comes from the wheel alone: its template history matches its templates."""
    wheel, site = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mlstarter/template_history/manifest.json" in names
    assert "mlstarter/templates/_shared/classroom.yml" in names
    check = (
        "from mlstarter import template_versions as tv; from mlstarter.catalog import "
        "load_catalog, templates_root; root = templates_root(); "
        "print(tv.stale_templates(root, load_catalog().keys)); "
        "m = tv.load_manifest(); "
        "print(all(tv.materialize(k, v, root / k, __import__('pathlib').Path(__import__('tempfile')"
        ".mkdtemp())) for k in m for v in m[k]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.splitlines() == ["[]", "True"], done.stderr
    made = run_installed(site, tmp_path, "new", "tfpyth", "--no-input", "-o", "out", "--json")
    assert made.returncode == 0, made.stderr
    repo = json.loads(made.stdout)["path"]
    updated = run_installed(site, tmp_path, "update", repo, "--no-input", "--json")
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["status"] == "up to date"
