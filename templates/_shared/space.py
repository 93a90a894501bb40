"""A Hugging Face Space of the demo, made from a run: `python -m <package> space [--run RUN]`.

The folder (dist/space by default) is everything a Gradio Space needs and nothing more:

    README.md         the Space's front matter (sdk: gradio, its version, app_file) and a summary
    app.py            builds the starter's demo over the bundled run and launches it
    requirements.txt  the project's runtime dependencies, pinned (torch: the CPU build)
    <package>/        this project's source
    run/              the files of the run the demo loads (a checkpoint, its report)

Create a Space (SDK: Gradio) on huggingface.co, then push this folder to it with git, or upload it
with `hf upload <user>/<space> dist/space . --repo-type space`. The folder is written beside its
target and renamed into place, so a failed build leaves the previous one as it was. This file is
the same in every mlstarter starter.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path

from .runs import atomic_directory

GRADIO_VERSION = "6.31.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
APP = '''\
"""The Space's entry point: the {package} demo over the run bundled in ./run."""

import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).parent))

from {package}.demo import build_app  # noqa: E402
from {package}.demo_server import theme  # noqa: E402

demo = build_app(Path(__file__).parent / "run")

if __name__ == "__main__":
    demo.launch(theme=theme())
'''
FRONT_MATTER = """\
---
title: {title}
emoji: 🧪
colorFrom: blue
colorTo: gray
sdk: gradio
sdk_version: {gradio}
app_file: app.py
pinned: false
license: {license}
---

# {title}

{description}

This Space serves the demo of run `{run}`, made with `make space` from the project's own
repository: the model and numbers are that run's (see run/report.json).
"""


class SpaceError(RuntimeError):
    """The Space cannot be made: a run file or the project's metadata is missing."""


def project_folder() -> Path:
    """The project's root: the folder above src/ when this package runs from its checkout (an
    editable install), else the current folder (a copy installed into site-packages)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def build_space(
    *,
    run: Path,
    run_files: Sequence[str],
    out: Path,
    title: str,
    description: str,
    project_root: Path | None = None,
    package: str | None = None,
) -> Path:
    """Write the Space folder `out` from `run` (only `run_files` of it); return `out`. The project
    and its package are this file's own unless given (tests give a made-up one)."""
    run = Path(run)
    project_root = project_root if project_root is not None else project_folder()
    package = package if package is not None else Path(__file__).resolve().parent.name
    missing = [name for name in run_files if not (run / name).exists()]
    if missing:
        raise SpaceError(
            f"{run} lacks {', '.join(missing)}: run the command that writes them first "
            "(make smoke, or the real run)"
        )
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    license_id = str(project.get("license", "other")).lower()
    with atomic_directory(Path(out)) as folder:
        shutil.copytree(
            project_root / "src" / package,
            folder / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        for name in run_files:
            source, target = run / name, folder / "run" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        (folder / "app.py").write_text(APP.format(package=package), encoding="utf-8")
        (folder / "requirements.txt").write_text(
            requirements(project.get("dependencies", [])), encoding="utf-8"
        )
        (folder / "README.md").write_text(
            FRONT_MATTER.format(
                title=title.replace(":", " -"),
                gradio=GRADIO_VERSION,
                license=license_id
                if license_id in {"mit", "apache-2.0", "bsd-3-clause"}
                else "other",
                description=description,
                run=run.name,
            ),
            encoding="utf-8",
        )
    return Path(out)


def requirements(dependencies: Sequence[str]) -> str:
    """The Space's requirements.txt: the runtime pins, torch's CPU build when torch is one."""
    lines = ["# The project's runtime dependencies, pinned as in its pyproject.toml."]
    if any(dep.replace(" ", "").startswith("torch==") for dep in dependencies):
        lines.append(f"--extra-index-url {TORCH_CPU_INDEX}")
    lines += [str(dep) for dep in dependencies]
    return "\n".join(lines) + "\n"
