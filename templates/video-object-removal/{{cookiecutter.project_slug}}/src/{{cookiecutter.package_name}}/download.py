"""Fetching DAVIS 2017: the download and the unpacked folder appear whole or not at all.

``fetch-davis`` downloads ``DAVIS-2017-trainval-480p.zip`` beside its target (a hidden partial
file in the same folder, renamed into place when complete), unpacks it into a hidden folder
beside ``data/DAVIS``, checks that the folder has the layout the benchmarks read
(``JPEGImages/480p``, ``Annotations/480p``, ``ImageSets/2017``) and only then renames it into
place. An interrupted or failed try leaves nothing that blocks the next one: no partial file, no
half-unpacked folder, and an existing ``data/DAVIS`` stays as it was. A corrupt archive is
deleted; an archive left by an earlier try that turns out corrupt is downloaded once more. A
download is tried twice; when both tries fail, the error shows both reasons.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .runs import atomic_directory, atomic_file

log = logging.getLogger(__name__)

DAVIS_URL = "https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip"
DAVIS_DEST = Path("data/DAVIS")
# What the benchmarks read: a folder without these is not a usable DAVIS 2017.
DAVIS_LAYOUT = ("JPEGImages/480p", "Annotations/480p", "ImageSets/2017")
TIMEOUT_S = 60.0
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """Every try of a download failed; the message holds each try's reason."""


def download(
    url: str,
    target: Path,
    attempts: int = 2,
    timeout: float = TIMEOUT_S,
    pause: float = 2.0,
) -> Path:
    """Download ``url`` to ``target`` (written beside it, renamed into place when complete).

    Tries ``attempts`` times; raises ``DownloadError`` listing every try's error when none
    succeeds. A failed try leaves no file behind.
    """
    errors: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            with atomic_file(target) as partial:
                size = _copy_url(url, partial, timeout)
            log.info("downloaded %s (%.1f MB) to %s", url, size / 1e6, target)
            return target
        # URLError, HTTPError and timeouts are OSErrors; a cut connection can also surface as
        # http.client.IncompleteRead (an HTTPException) or as a short read (ValueError below).
        except (OSError, ValueError, http.client.HTTPException) as exc:
            errors.append(f"try {attempt}: {type(exc).__name__}: {exc}")
            log.warning("download of %s failed (%s)", url, errors[-1])
            if attempt < attempts:
                time.sleep(min(pause * attempt, 5.0))
    raise DownloadError(f"could not download {url}; " + "; ".join(errors))


def _copy_url(url: str, path: Path, timeout: float) -> int:
    """Stream ``url`` into ``path``; returns the bytes written. A short read is an error."""
    with urllib.request.urlopen(url, timeout=timeout) as response, path.open("wb") as out:
        expected = response.headers.get("Content-Length")
        size = 0
        while chunk := response.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
    if expected is not None and size != int(expected):
        raise ValueError(f"got {size} bytes of {expected}: the connection was cut")
    return size


def missing_layout(root: Path) -> list[str]:
    """The parts of ``DAVIS_LAYOUT`` that ``root`` lacks (empty: a usable DAVIS folder)."""
    return [part for part in DAVIS_LAYOUT if not (Path(root) / part).is_dir()]


def unpack_davis(archive: Path, dest: Path) -> Path:
    """Unpack a DAVIS zip (its members under ``DAVIS/``) into ``dest``, whole or not at all.

    Raises ``ValueError`` for a corrupt archive, a member that would land outside ``dest``, or
    an archive without the DAVIS layout; ``dest`` is then as it was before.
    """
    try:
        with zipfile.ZipFile(archive) as zf, atomic_directory(dest) as staging:
            members = [m for m in zf.infolist() if not m.is_dir()]
            top = _common_top([m.filename for m in members])
            for member in members:
                parts = PurePosixPath(member.filename).parts[1 if top else 0 :]
                if not parts or any(p in ("..", "") for p in parts) or member.filename[:1] == "/":
                    raise ValueError(
                        f"{archive} has a member outside its folder: {member.filename}"
                    )
                path = staging.joinpath(*parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, path.open("wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
            missing = missing_layout(staging)
            if missing:
                raise ValueError(
                    f"{archive} is not DAVIS 2017 at 480p: no {', '.join(missing)} inside"
                )
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{archive} is not a readable zip archive ({exc})") from None
    return dest


def _common_top(names: Sequence[str]) -> str | None:
    """The one folder every member sits in (``DAVIS`` in the official zip), else None."""
    tops = {PurePosixPath(name).parts[0] for name in names if PurePosixPath(name).parts}
    layout_tops = {part.split("/")[0] for part in DAVIS_LAYOUT}
    if len(tops) == 1 and not tops & layout_tops:
        return tops.pop()
    return None


def fetch_davis(
    dest: Path = DAVIS_DEST,
    url: str = DAVIS_URL,
    force: bool = False,
    keep_archive: bool = False,
) -> dict[str, object]:
    """Make ``dest`` a complete DAVIS 2017 480p folder, downloading and unpacking ``url``.

    An existing complete folder is kept unless ``force``; an incomplete one is an error that
    says what to do. The archive is kept beside ``dest`` until the folder is in place (a retry
    after a failed unpack does not download again) and removed then, unless ``keep_archive``.
    Returns what was done: the folder, the sequences of each split, whether it downloaded.
    """
    dest = Path(dest)
    if dest.exists() and not force:
        missing = missing_layout(dest)
        if missing:
            raise ValueError(
                f"{dest} exists but is not a complete DAVIS folder (no {', '.join(missing)}): "
                "delete it, or run fetch-davis --force to replace it"
            )
        log.info("%s is already a DAVIS folder: nothing to fetch (--force to fetch again)", dest)
        return _summary(dest, downloaded=False)
    archive = dest.parent / Path(url.split("?")[0]).name
    if archive.suffix != ".zip":
        archive = dest.parent / "DAVIS-2017-trainval-480p.zip"
    downloaded = False
    if not (archive.is_file() and zipfile.is_zipfile(archive)):
        archive.unlink(missing_ok=True)
        log.info("downloading %s (about 800 MB for the official archive)", url)
        download(url, archive)
        downloaded = True
    else:
        log.info("using the archive already downloaded: %s", archive)
    try:
        unpack_davis(archive, dest)
    except ValueError as first:
        archive.unlink(missing_ok=True)  # corrupt or wrong: never reused
        if downloaded:
            raise
        # The archive came from an earlier try: download it afresh once.
        log.warning("%s; downloading it again", first)
        download(url, archive)
        downloaded = True
        try:
            unpack_davis(archive, dest)
        except ValueError as second:
            archive.unlink(missing_ok=True)
            raise ValueError(
                f"the archive left by an earlier try: {first}; again: {second}"
            ) from None
    if not keep_archive and not _is_source(url, archive):
        archive.unlink(missing_ok=True)
    log.info("unpacked DAVIS into %s", dest)
    return _summary(dest, downloaded)


def _is_source(url: str, archive: Path) -> bool:
    """Whether ``url`` is a ``file://`` URL of ``archive`` itself (the user's copy: kept)."""
    if not url.startswith("file:"):
        return False
    path = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    return path.resolve() == archive.resolve()


def _summary(dest: Path, downloaded: bool) -> dict[str, object]:
    sets = dest / "ImageSets" / "2017"
    splits = {
        p.stem: sum(1 for line in p.read_text().splitlines() if line.strip())
        for p in sorted(sets.glob("*.txt"))
    }
    return {"davis_root": str(dest), "sequences": splits, "downloaded": downloaded}
