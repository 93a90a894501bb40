"""The report shape every starter prints (templates/_shared/targets.py) passes its own tests, which
every generated repo also carries; run here on the shared source, without baking a starter."""

from __future__ import annotations

import shutil
import subprocess
import sys

from jinja2 import Environment, FileSystemLoader

from .conftest import TEMPLATES

SHARED = TEMPLATES / "_shared"


def test_the_shared_report_module_passes_the_shared_report_tests(tmp_path):
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(SHARED / "targets.py", package / "targets.py")
    env = Environment(loader=FileSystemLoader(SHARED), keep_trailing_newline=True)
    tests = env.get_template("test_targets.py.j2").render(cookiecutter={"package_name": "pkg"})
    (tmp_path / "test_targets.py").write_text(tests)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_targets.py"],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "src")}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout
