"""`mlstarter grade` on a class: how long a student takes, beyond their own tests.

    python bench/grade.py [--students 10] [--jobs 2] [--key KEY]

Without --key: a tiny private template (one marked function, three visible tests, one hidden,
a smoke), graded in this interpreter's environment (`--venv`): the time is mlstarter's own cost a
student (render, snapshot, sandbox, pytest start-up, smoke). With --key: that starter, in the
environment grade makes for it (cached after the first run; the first run's time includes the
build). Half the class gets the solution. The result goes to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, write_section

BIN = Path(sys.executable).parent
COOKIECUTTER = {
    "project_name": "Circle", "project_slug": "{{ cookiecutter.project_name|slugify }}",
    "package_name": "circle", "description": "d", "author_name": "A", "author_email": "a@b.org",
    "github_username": "a", "license": ["MIT", "none"], "copyright_year": "2026", "seed": "0",
    "_template_version": "1.0.0",
}  # fmt: skip
FILES = {
    "pyproject.toml": '[project]\nname = "{{ cookiecutter.project_slug }}"\nversion = "0.1.0"\n'
    '\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "src/circle/__init__.py": "",
    "src/circle/core.py": "import math\n\n\ndef area(r):\n"
    "    # >>> assignment: pi r squared\n    return math.pi * r * r\n    # <<< assignment\n",
    "src/circle/__main__.py": "import argparse\nimport json\nimport random\n\n"
    "from circle.core import area\n\np = argparse.ArgumentParser()\n"
    "s = p.add_subparsers(dest='c')\n"
    "s.add_parser('smoke').add_argument('--seed', type=int, default=0)\na = p.parse_args()\n"
    "r = random.Random(a.seed).uniform(1, 2)\nv = area(r) / r / r\n"
    "t = {'value': v, 'op': '>', 'threshold': 3, 'met': v > 3, 'source': 'published: pi'}\n"
    "print(json.dumps({'ok': v > 3, 'seconds': 0, 'metrics': {'ratio': v}, "
    "'targets': {'ratio': t}}))\n",
    "tests/test_core.py": "import pytest\n\nfrom circle.core import area\n\n\n"
    "@pytest.mark.parametrize('r', [1, 2, 3])\ndef test_area(r):\n    assert area(r) > 3 * r * r\n",
    "tests/hidden/test_hidden.py": "from circle.core import area\n\n\ndef test_scaling():\n"
    "    assert abs(area(2) - 4 * area(1)) < 1e-9\n",
}
GIT = {"GIT_AUTHOR_NAME": "S", "GIT_AUTHOR_EMAIL": "s@b.org", "GIT_COMMITTER_NAME": "S",
       "GIT_COMMITTER_EMAIL": "s@b.org", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip


def tiny_template(root: Path) -> Path:
    template = root / "circle-area"
    project = template / "{{cookiecutter.project_slug}}"
    for name, text in FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    (template / "cookiecutter.json").write_text(json.dumps(COOKIECUTTER))
    return template


def solve(repo: Path) -> None:
    for core in (repo / "src").rglob("*.py"):
        text = core.read_text()
        if "raise NotImplementedError" in text and "circle" in str(core):
            todo = '    raise NotImplementedError("TODO: pi r squared")'
            core.write_text(text.replace(todo, "    return math.pi * r * r"))
    env = {**os.environ, **GIT}
    subprocess.run(["git", "commit", "-qam", "solved"], cwd=repo, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--key", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        roster = root / "roster.csv"
        rows = (f"s{i:03d},S {i},s{i}@uni.example,student{i}\n" for i in range(args.students))
        roster.write_text("student_id,name,email,github_username\n" + "".join(rows))
        which = ["--project", args.key] if args.key else ["--template", str(tiny_template(root))]
        subprocess.run(
            [str(BIN / "mlstarter"), "batch", str(roster), *which, "--flavor", "assignment",
             "--git", "-o", str(root / "class")], check=True, capture_output=True,
        )  # fmt: skip
        if not args.key:
            for repo in sorted((root / "class").glob("circle-area-s*"))[::2]:
                solve(repo)
        venv = [] if args.key else ["--venv", sys.prefix]
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "mlstarter"), "grade", str(root / "class"), "--jobs", str(args.jobs),
             "--json", *venv], capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        report = json.loads(done.stdout)
    graded = sum(s["status"] == "graded" for s in report["students"])
    what = args.key or "a tiny private template (one function, 4 tests, a smoke)"
    body = (
        f"Machine: {machine()}. `bench/grade.py --students {args.students} --jobs {args.jobs}"
        f"{' --key ' + args.key if args.key else ''}`: {what}.\n\n"
        "| what | seconds |\n|---|---:|\n"
        f"| `mlstarter grade`, {args.students} students + 2 calibration runs, --jobs {args.jobs} "
        f"| {seconds:.1f} |\n"
        f"| a student (wall time / {args.students}) | {seconds / args.students:.2f} |\n\n"
        f"{graded} of {args.students} graded; network: {report['network']}. Load average "
        f"at the end: {os.getloadavg()[0]:.1f} (other jobs shared the machine)."
    )
    write_section(f"grade-{args.key or 'tiny'}", body)
    print(body)


if __name__ == "__main__":
    main()
