"""The Python environments `mlstarter grade` runs students' code in: one per template version.

Installing each student's dependencies would cost minutes a student and let a student choose
what runs. Instead each project gets one environment, made once from the pristine starter (the
showcase bake at the class's answers) exactly as `make setup` installs it (its lock, its pins,
with uv when present), after which the starter's own package is uninstalled, and it is checked
that `import <package>` then fails. A student's package is never installed: it is put on the
path of each run (PYTHONPATH), so nothing a student wrote is ever executed while installing.

Environments are cached in `$XDG_CACHE_HOME/mlstarter/grade-envs/` (else `~/.cache/...`), keyed by
project, template version and a digest of what decides the install (pyproject.toml,
requirements-lock.txt, Makefile, the Python version). Only a complete one (its `.complete` mark)
is reused; a build killed half-way is removed and made again. `--venv DIR` uses one given
environment for every project instead (the instructor's own, kept as is).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlstarter import __version__
from mlstarter.errors import UsageError, VerificationError

COMPLETE = ".complete"
DECIDES_INSTALL = ("pyproject.toml", "requirements-lock.txt", "Makefile")
STEP_TIMEOUT = 3600.0

Notify = Callable[[str], None]


@dataclass(frozen=True)
class GradeEnv:
    """One environment: its interpreter and where it came from (given, cached, built)."""

    python: Path
    origin: str

    @property
    def bin(self) -> Path:
        return self.python.parent


def given(venv: Path) -> GradeEnv:
    """The environment of `--venv DIR`."""
    python = venv.expanduser() / "bin" / "python"
    if not python.exists():
        raise UsageError(f"--venv {venv}: no bin/python in it")
    return GradeEnv(python.absolute(), "given")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlstarter" / "grade-envs"


def env_key(project: str, version: str, pristine: Path) -> str:
    """The folder name of a project's environment: project, version, and a digest of what
    decides the install."""
    digest = hashlib.sha256(f"{sys.version}\0{__version__}".encode())
    for name in DECIDES_INSTALL:
        path = pristine / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-"))
    return f"{project}-{version}-{digest.hexdigest()[:12]}"


def environment_for(
    project: str,
    version: str,
    pristine: Path,
    package: str,
    notify: Notify,
    installer: str = "auto",
) -> GradeEnv:
    """The cached environment of a project (made now when there is none); `pristine` is its
    showcase bake, which is installed and then its package uninstalled."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / env_key(project, version, pristine)
    python = folder / "bin" / "python"
    with open(root / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two grade runs never build one environment together
        if (folder / COMPLETE).is_file() and python.exists():
            return GradeEnv(python, "cached")
        if folder.exists():
            shutil.rmtree(folder)  # a build that was killed half-way
        notify(f"making the grading environment for {project} (once): {folder}")
        try:
            _build(folder, pristine, package, notify, installer)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        (folder / COMPLETE).write_text(f"{project} {version}\n", encoding="utf-8")
    return GradeEnv(python, "built")


def _build(folder: Path, pristine: Path, package: str, notify: Notify, installer: str) -> None:
    from mlstarter import verify

    python = folder / "bin" / "python"
    env = verify._child_env(folder)
    env.pop("PYTHONPATH", None)
    chosen = verify.choose_installer(installer, env["PATH"])
    make_venv = [sys.executable, "-m", "venv", str(folder)]
    if chosen == "uv":
        make_venv = ["uv", "venv", "--seed", "--quiet", "--python", sys.executable, str(folder)]
    steps = [("venv", make_venv)] + verify.plan(pristine, python, chosen)[:1]  # venv, setup
    name = _distribution(pristine)
    if chosen == "uv":
        uninstall = ["uv", "pip", "uninstall", "--python", str(python), name]
    else:
        uninstall = [str(python), "-m", "pip", "uninstall", "-y", name]
    steps.append(("uninstall the starter's own package", uninstall))
    for step_name, command in steps:

        def listen(kind: str, name: str, text: str) -> None:
            if kind == "line" and text.strip():
                notify(f"  {name}: {text.strip()[:120]}")

        result, _ = verify._run_step(step_name, command, pristine, env, listen, STEP_TIMEOUT)
        if not result.ok:
            tail = " | ".join(result.tail[-3:])
            raise VerificationError(
                f"cannot make the grading environment ({step_name}: {result.reason}): {tail}"
            )
    probe = [str(python), "-c", f"import {package}"]
    result, _ = verify._run_step("check", probe, folder, env, lambda *a: None, 300)
    if result.ok:
        raise VerificationError(
            f"the grading environment still imports '{package}' after uninstalling the starter: "
            "a student's package would be shadowed"
        )


def _distribution(pristine: Path) -> str:
    try:
        data = tomllib.loads((pristine / "pyproject.toml").read_text(encoding="utf-8"))
        return str(data["project"]["name"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise VerificationError(f"the starter's pyproject.toml names no project ({exc})") from None


def console_scripts(pristine: Path) -> dict[str, tuple[str, str]]:
    """The starter's `[project.scripts]`: name -> (module, function)."""
    try:
        data = tomllib.loads((pristine / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    scripts = data.get("project", {}).get("scripts", {})
    found: dict[str, tuple[str, str]] = {}
    for name, target in scripts.items():
        module, _, function = str(target).partition(":")
        if name.replace("-", "").replace("_", "").isalnum() and module and function:
            found[str(name)] = (module.strip(), function.strip())
    return found
