"""Every released version of every bundled template, rebuildable offline from the installed wheel.

`mlstarter update` needs the *base* of a three-way merge: what the template version a repo was
made from generated with the repo's answers. So every released template version stays
rebuildable, compactly:

- `template_history/manifest.json` records, for each template and each released version, the
  sha256 of every file of the template folder (its shared includes under `templates/` too, as
  the wheel ships them);
- `template_history/<key>.tar.gz` holds, named by their sha256, the files of past versions that
  the current template tree no longer has (a version's file that the current tree still has, at
  any path, is taken from the current tree). A release that changes nothing past needs no blob.

Rebuilding version V lays the template folder of V out in a temporary folder (`materialize`),
which is then rendered like any template. `tools/template_versions.py release` keeps the
manifest and the archives up to date from git history in one command; the test suite fails when a
template's files changed and its `_template_version` did not.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

MANIFEST = "manifest.json"
INCLUDE_DIR = "templates"  # a template's include folder (a symlink to _shared in the source tree)
SKIPPED = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache")
RELEASE_COMMAND = "python tools/template_versions.py release"

Manifest = dict[str, dict[str, dict[str, str]]]


def history_root() -> Path:
    """The folder of the manifest and the archives (package data; tests point it elsewhere)."""
    return Path(__file__).resolve().parent / "template_history"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def template_files(template_dir: Path) -> dict[str, bytes]:
    """Every file of a template folder by relative path, through its include-folder symlink.

    Tool caches a checkout or an installed copy picked up are not part of a template.
    """
    files: dict[str, bytes] = {}
    for current, dirs, names in os.walk(template_dir, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(current) / name
            files[path.relative_to(template_dir).as_posix()] = path.read_bytes()
    return files


def tree_hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    return {path: sha256(data) for path, data in sorted(files.items())}


def load_manifest(root: Path | None = None) -> Manifest:
    path = (root or history_root()) / MANIFEST
    if not path.is_file():
        return {}
    data: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return data


def dump_manifest(manifest: Manifest) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"


def read_archive(key: str, root: Path | None = None) -> dict[str, bytes]:
    """The blobs of `key`'s past versions, by sha256."""
    path = (root or history_root()) / f"{key}.tar.gz"
    if not path.is_file():
        return {}
    blobs: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                blobs[member.name] = extracted.read()
    return blobs


def write_archive(path: Path, blobs: Mapping[str, bytes]) -> None:
    """A reproducible tar.gz of `blobs` (the same blobs give the same bytes); none: no file."""
    if not blobs:
        path.unlink(missing_ok=True)
        return
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name in sorted(blobs):
                info = tarfile.TarInfo(name)
                info.size = len(blobs[name])
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(blobs[name]))
    path.write_bytes(buffer.getvalue())


def needed_blobs(key: str, manifest: Manifest, current: Mapping[str, bytes]) -> set[str]:
    """The sha256 of every file of `key`'s recorded versions that the current tree lacks."""
    have = {sha256(data) for data in current.values()}
    return {
        digest
        for files in manifest.get(key, {}).values()
        for digest in files.values()
        if digest not in have
    }


def materialize(
    key: str,
    version: str,
    current_dir: Path,
    into: Path,
    root: Path | None = None,
) -> Path | None:
    """Lay out template `key` at `version` in the empty folder `into`; return its folder.

    None when the version was never recorded, or a file of it can be found nowhere (the
    caller falls back to another base).
    """
    recorded = load_manifest(root).get(key, {}).get(version)
    if recorded is None:
        return None
    current = template_files(current_dir)
    by_hash = {sha256(data): data for data in current.values()}
    if any(digest not in by_hash for digest in recorded.values()):
        by_hash.update(read_archive(key, root))
    folder = into / current_dir.name
    for relative, digest in recorded.items():
        data = by_hash.get(digest)
        if data is None:
            return None
        path = folder / relative
        if not path.resolve().is_relative_to(folder.resolve()):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def template_version(template_dir: Path) -> str:
    raw = json.loads((template_dir / "cookiecutter.json").read_text(encoding="utf-8"))
    return str(raw.get("_template_version", "0"))


def stale_templates(templates_dir: Path, keys: list[str], root: Path | None = None) -> list[str]:
    """One line for each template whose files differ from what its version recorded."""
    manifest = load_manifest(root)
    stale = []
    for key in keys:
        folder = templates_dir / key
        version = template_version(folder)
        recorded = manifest.get(key, {}).get(version)
        if recorded is None:
            stale.append(f"{key} {version}: not recorded in the manifest")
            continue
        hashes = tree_hashes(template_files(folder))
        changed = sorted(p for p in hashes.keys() | recorded.keys()
                         if hashes.get(p) != recorded.get(p))  # fmt: skip
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            stale.append(
                f"{key} {version}: its files changed ({', '.join(changed[:3])}{more}) but its "
                "_template_version did not"
            )
    return stale
