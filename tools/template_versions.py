"""Release the bundled templates: `python tools/template_versions.py release` (or `check`).

`release`, run after changing templates (before committing them, or with `--from REV` naming the
commit that still has the previous versions):
1. finds every template whose files (its shared includes too) differ from what its current
   `_template_version` recorded in `src/mlstarter/template_history/manifest.json`;
2. bumps that `_template_version` (minor by default; `--part major|patch`) in its
   `cookiecutter.json`, and records the new version's file hashes; a version HEAD does not have
   yet (released here, then edited again before the commit) is recorded anew, not bumped twice:
   nobody can have a repo made from it;
3. rewrites `src/mlstarter/template_history/<key>.tar.gz`: every file of a recorded past version
   that the current tree no longer has, taken from git (`REV`, default HEAD) or the archive.

`check` exits 1 with one line a template when a template changed and its version did not.
Both are idempotent: a second `release` changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from mlstarter import template_versions as tv  # noqa: E402
from mlstarter.catalog import load_catalog  # noqa: E402

VERSION_LINE = re.compile(r'("_template_version"\s*:\s*")([^"]*)(")')


def bump(version: str, part: str) -> str:
    """The next semantic version: `part` is major, minor or patch."""
    numbers = [int(n) for n in (version.split(".") + ["0", "0"])[:3]]
    index = ("major", "minor", "patch").index(part)
    numbers[index] += 1
    numbers[index + 1 :] = [0] * (2 - index)
    return ".".join(map(str, numbers))


def git_blobs(repo: Path, rev: str) -> dict[str, bytes]:
    """Every file under `templates/` at `rev`, by sha256 (none when `rev` has no templates)."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "-z", rev, "--", "templates"],
        cwd=repo, capture_output=True, check=False,
    )  # fmt: skip
    if listing.returncode != 0:
        raise SystemExit(f"git ls-tree {rev}: {listing.stderr.decode(errors='replace').strip()}")
    objects = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, _path = entry.partition(b"\t")
        mode, kind, oid = meta.split()
        if kind == b"blob" and mode != b"120000":  # a symlink's blob is its target's name
            objects.append(oid)
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=b"\n".join(objects) + b"\n",
        capture_output=True, check=True,
    )  # fmt: skip
    blobs: dict[str, bytes] = {}
    out, at = batch.stdout, 0
    for _ in objects:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        data = out[header_end + 1 : header_end + 1 + size]
        blobs[tv.sha256(data)] = data
        at = header_end + 2 + size
    return blobs


def released_at(repo: Path, rev: str = "HEAD") -> dict[str, dict[str, object]]:
    """The manifest as committed at `rev` (empty when `rev` has none)."""
    shown = subprocess.run(
        ["git", "show", f"{rev}:src/mlstarter/template_history/{tv.MANIFEST}"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return json.loads(shown.stdout) if shown.returncode == 0 else {}


def release(repo: Path, rev: str, part: str, dry_run: bool = False) -> list[str]:
    """Record and archive every changed template; return what was done, one line each."""
    templates_dir = repo / "templates"
    history = repo / "src" / "mlstarter" / "template_history"
    keys = load_catalog(templates_dir).keys
    manifest = tv.load_manifest(history)
    committed = released_at(repo)  # published: in HEAD, whatever --from names
    said: list[str] = []
    from_git: dict[str, bytes] | None = None
    for key in keys:
        folder = templates_dir / key
        files = tv.template_files(folder)
        version = tv.template_version(folder)
        recorded = manifest.setdefault(key, {})
        if recorded.get(version) == tv.tree_hashes(files):
            pass
        elif version in recorded and version not in committed.get(key, {}):
            said.append(f"{key}: {version} recorded again (not in HEAD yet, so never published)")
        elif version in recorded:
            new = bump(version, part)
            config = folder / "cookiecutter.json"
            text = config.read_text(encoding="utf-8")
            if not dry_run:
                config.write_text(VERSION_LINE.sub(rf"\g<1>{new}\g<3>", text, 1), "utf-8")
                files = tv.template_files(folder)
            said.append(f"{key}: {version} -> {new} (its files changed)")
            version = new
        else:
            said.append(f"{key}: recorded {version}")
        recorded[version] = tv.tree_hashes(files)
        blobs = tv.read_archive(key, history)
        need = tv.needed_blobs(key, manifest, files)
        if need - blobs.keys():
            from_git = git_blobs(repo, rev) if from_git is None else from_git
            blobs.update(from_git)
        missing = need - blobs.keys()
        if missing:
            raise SystemExit(
                f"{key}: {len(missing)} file(s) of a past version are neither in {rev} nor in "
                "the archive; run release with --from REV, a commit that has them"
            )
        path = history / f"{key}.tar.gz"
        kept = {digest: blobs[digest] for digest in need}
        if kept != tv.read_archive(key, history):
            said.append(f"{key}: archived {len(kept)} file(s) of past versions")
            if not dry_run:
                tv.write_archive(path, kept)
    if not dry_run:
        history.mkdir(parents=True, exist_ok=True)
        (history / tv.MANIFEST).write_text(tv.dump_manifest(manifest), encoding="utf-8")
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="bump, record and archive every changed template")
    rel.add_argument("--part", choices=("major", "minor", "patch"), default="minor")
    rel.add_argument("--from", dest="rev", default="HEAD", help="the commit with past versions")
    rel.add_argument("--dry-run", action="store_true", help="say what would change; write none")
    rel.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    chk = sub.add_parser("check", help="exit 1 when a template changed and its version did not")
    chk.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "release":
        for line in release(args.repo, args.rev, args.part, args.dry_run) or ["nothing to do"]:
            print(line)
        return 0
    templates_dir = args.repo / "templates"
    history = args.repo / "src" / "mlstarter" / "template_history"
    stale = tv.stale_templates(templates_dir, load_catalog(templates_dir).keys, history)
    for line in stale:
        print(f"{line}; run {tv.RELEASE_COMMAND}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
