"""Lock every starter's installed set: `python tools/lock_starters.py [KEY ...] [--check]`.

For each template it bakes the default answers into a temporary folder, resolves the project with
uv (every platform and Python the project supports, as the package index stood on the date in
`[tool.uv] exclude-newer`), and writes `requirements-lock.txt` into the template: every package
`make setup` installs, pinned with its hashes, except torch.

torch is the one package not hash-locked here: Linux takes its CPU build from the official PyTorch
index, which these build machines cannot reach. When that index is out of reach, torch is resolved
from the CPU wheel pip's configuration already holds (a local index made for this run only); it is
left out of the exported file either way, so no path of this machine reaches a template. A starter's
first `make setup` with uv writes its uv.lock (torch included) on the user's machine, resolving as
of the same date, hence the same versions.

`--check` regenerates into a temporary file and fails (exit 1) when a template's lock differs:
CI runs it, so a pyproject change without a new lock cannot land.
`--python-support` prints, per starter, the newest CPython (3.12-3.14) for which every locked
package has a wheel: the `python_newest` of its CI matrix.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from torch_index import TORCH_INDEX, uv_index_override

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
LOCK_NAME = "requirements-lock.txt"
HEADER = """\
# Every package `make setup` installs with pip, pinned with hashes: the {key} starter,
# locked with uv by mlstarter's tools/lock_starters.py as the index stood on {date}.
# Not here: this project, and torch (pinned in pyproject.toml and the Makefile; on Linux its
# CPU build comes from {torch_index}).
# With uv, `make setup` writes uv.lock instead: the same versions, torch included.
"""
GROUP_HEADER = """\
# What the dependency group "{group}" adds to requirements-lock.txt (make setup WITH={group}),
# pinned with hashes: the {key} starter, locked with uv by mlstarter's tools/lock_starters.py
# as the index stood on {date}. Packages Linux takes from PyTorch's CPU index are not here.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("keys", nargs="*", help="template keys (default: every template)")
    parser.add_argument("--check", action="store_true", help="fail when a lock is out of date")
    parser.add_argument("--python-support", action="store_true", help="newest CPython per key")
    args = parser.parse_args(argv)
    keys = args.keys or catalog_keys()
    stale = []
    with tempfile.TemporaryDirectory(prefix="mlstarter-lock-") as tmp:
        workdir = Path(tmp)
        env = uv_env(workdir)
        for key in keys:
            project = bake(key, workdir / key)
            if args.python_support:
                print(f"{key}: {newest_python(project, env)}")
                continue
            folder = template_project(key)
            made = lock_project(project, key, env)
            present = {path.name for path in folder.glob("requirements*-lock.txt")}
            if args.check:
                differs = present != set(made) or any(
                    (folder / name).read_text(encoding="utf-8") != text
                    for name, text in made.items()
                )
                if differs:
                    stale.append(key)
                print(f"{key}: {'out of date' if differs else 'up to date'}", file=sys.stderr)
                continue
            for name in present - set(made):
                (folder / name).unlink()
            for name, text in made.items():
                (folder / name).write_text(text, encoding="utf-8")
            print(f"{key}: wrote {', '.join(sorted(made))}", file=sys.stderr)
    if stale:
        print(f"run: python tools/lock_starters.py {' '.join(stale)}", file=sys.stderr)
        return 1
    return 0


def catalog_keys() -> list[str]:
    import yaml

    data = yaml.safe_load((TEMPLATES / "catalog.yaml").read_text(encoding="utf-8"))
    return [entry["key"] for entry in data["projects"]]


def template_project(key: str) -> Path:
    return TEMPLATES / key / "{{cookiecutter.project_slug}}"


def bake(key: str, into: Path) -> Path:
    """The template with its default answers, made by mlstarter itself."""
    done = subprocess.run(
        [sys.executable, "-m", "mlstarter", "new", key, "--no-input", "-o", str(into), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{key}: mlstarter new failed: {done.stderr.strip()[-500:]}")
    return Path(json.loads(done.stdout)["path"])


def uv_env(workdir: Path) -> dict[str, str]:
    """uv's environment: the official PyTorch CPU index, or a local stand-in when unreachable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    override = uv_index_override(workdir / "torch-index")
    if override:
        env["UV_INDEX"] = override
    return env


def uv(project: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["uv", *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"uv {args[0]} failed in {project.name}:\n{done.stderr.strip()[-2000:]}")
    return done.stdout


def lock_project(project: Path, key: str, env: dict[str, str]) -> dict[str, str]:
    """The exported lock files of the baked project: `requirements-lock.txt` (the project's
    dependencies and its dev group) and `requirements-<group>-lock.txt` for each other dependency
    group (only what that group adds), each with mlstarter's header."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    uv_settings = pyproject.get("tool", {}).get("uv", {})
    # Packages Linux takes from the PyTorch CPU index: never exported (no hashes of that index
    # here); all but torch resolve from PyPI for this lock (the user's own uv lock uses the index).
    cpu_index = sorted(uv_settings.get("sources", {}))
    resolve_from_pypi = [f"--no-sources-package={name}" for name in cpu_index if name != "torch"]
    uv(project, env, "lock", "--quiet", *resolve_from_pypi)
    omit = [f"--no-emit-package={name}" for name in ["torch", *cpu_index]]

    def export(*args: str) -> dict[str, str]:
        text = uv(
            project, env, "export", "--frozen", "--format", "requirements-txt", "--no-header",
            "--no-emit-project", "--quiet", *omit, *args,
        )  # fmt: skip
        return entries(text)

    date = uv_settings["exclude-newer"][:10]
    base = export()
    files = {LOCK_NAME: render(key, date, "", base)}
    for group in sorted(pyproject.get("dependency-groups", {})):
        if group == "dev":
            continue
        grown = export("--group", group)
        added = {name: entry for name, entry in grown.items() if name not in base}
        files[f"requirements-{group}-lock.txt"] = render(key, date, group, added)
    for name, text in files.items():
        for local in ("file:", str(Path.home()), "/tmp/", "/opt/", "/work/"):
            if local in text:
                raise SystemExit(f"{key}: {name} names a local path ({local}): refused")
    return files


def entries(exported: str) -> dict[str, str]:
    """uv's requirements export split into entries, keyed by their first line (name, version,
    marker), each with its hash and "via" lines."""
    found: dict[str, str] = {}
    current = ""
    for line in exported.splitlines(keepends=True):
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            current = line.rstrip(" \\\n")
            found[current] = line
        elif current:
            found[current] += line
    return found


def render(key: str, date: str, group: str, found: dict[str, str]) -> str:
    header = HEADER.format(key=key, date=date, torch_index=TORCH_INDEX)
    if group:
        header = GROUP_HEADER.format(key=key, date=date, group=group)
    return header + "".join(found[name] for name in sorted(found))


def newest_python(project: Path, env: dict[str, str]) -> str:
    """The newest CPython (3.12-3.14) with a wheel of every locked package, for Linux x86_64."""
    env = {k: v for k, v in env.items() if k != "UV_INDEX"}  # PyPI's torch has every Python
    best = "3.11"
    for version in ("3.12", "3.13", "3.14"):
        done = subprocess.run(
            ["uv", "pip", "compile", "pyproject.toml", "--group", "dev", "--no-sources",
             "--python-version", version, "--python-platform", "x86_64-manylinux_2_28",
             "--only-binary", ":all:", "--quiet", "-o", os.devnull],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            break
        best = version
    return best


if __name__ == "__main__":
    sys.exit(main())
