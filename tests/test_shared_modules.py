"""The modules every starter shares (templates/_shared/*.py: the report shape, run folders, the
showcase helpers) pass the shared tests every generated repo also carries; run here on the
shared sources, without baking a starter."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from jinja2 import Environment, FileSystemLoader

from .conftest import TEMPLATES

SHARED = TEMPLATES / "_shared"
MODULES = sorted(p.name for p in SHARED.glob("*.py"))
TESTS = sorted(p.name for p in SHARED.glob("test_*.py.j2"))


def test_every_shared_module_has_its_shared_tests():
    assert {f"test_{name[:-3]}.py.j2" for name in MODULES} == set(TESTS)


@pytest.mark.parametrize("test_file", TESTS)
def test_the_shared_modules_pass_their_shared_tests(test_file, tmp_path):
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in MODULES:
        shutil.copy(SHARED / name, package / name)
    env = Environment(loader=FileSystemLoader(SHARED), keep_trailing_newline=True)
    rendered = env.get_template(test_file).render(cookiecutter={"package_name": "pkg"})
    (tmp_path / test_file[:-3]).write_text(rendered)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", test_file[:-3]],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "src")}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout
    # Only what needs the demo group (Gradio, not in mlstarter's own environment) may skip here;
    # every generated repo runs it once `make setup-demo` installed the group.
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("make setup-demo" in line for line in skips), skips
