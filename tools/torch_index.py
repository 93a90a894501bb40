"""Where uv finds torch's CPU build: `python tools/torch_index.py DIR`.

Prints nothing when PyTorch's CPU index answers. Where it is out of reach (the build machines of
this project reach only the Python package index), it writes a one-package simple index in DIR
over the torch CPU wheels that pip's configuration (find-links) already holds, and prints the
value for `UV_INDEX`: `pytorch-cpu=file:///.../DIR`, which replaces the starters' `pytorch-cpu`
index for that run only. Nothing of it reaches a template or a lock.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def find_links() -> list[str]:
    """The folders of pip's find-links setting (environment and pip config)."""
    folders = os.environ.get("PIP_FIND_LINKS", "").split()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    )
    for line in done.stdout.splitlines():
        name, _, value = line.partition("=")
        if name.endswith(".find-links"):
            folders += value.strip().strip("'\"").split()
    return [folder for folder in dict.fromkeys(folders) if Path(folder).is_dir()]


def local_torch_index(root: Path) -> str:
    """A one-package simple index over the torch CPU wheels in pip's find-links folders."""
    wheels = [w for folder in find_links() for w in sorted(Path(folder).glob("torch-*+cpu-*.whl"))]
    if not wheels:
        raise SystemExit(f"{TORCH_INDEX} is out of reach and pip's find-links hold no torch wheel")
    links = []
    for wheel in wheels:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        links.append(f'<a href="{wheel.as_uri()}#sha256={digest}">{wheel.name}</a>')
    (root / "torch").mkdir(parents=True, exist_ok=True)
    (root / "torch" / "index.html").write_text(
        "<html><body>" + "".join(links) + "</body></html>", encoding="utf-8"
    )
    return root.resolve().as_uri()


def uv_index_override(root: Path) -> str:
    """The `UV_INDEX` value for this machine, or "" when the official index answers."""
    if reachable(TORCH_INDEX + "/torch/"):
        return ""
    return f"pytorch-cpu={local_torch_index(root)}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tools/torch_index.py DIR")
    print(uv_index_override(Path(sys.argv[1])))
