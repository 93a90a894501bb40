"""fetch-davis: the archive and the unpacked folder appear whole or not at all, offline.

Every download here is a ``file://`` URL or a stand-in opener: no test reaches the network.
"""

# points: 1

import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }} import download as dl
from {{ cookiecutter.package_name }}.__main__ import main

ZipDavis = Callable[[Path, Path], str]


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)  # no pause between tries


def fake_davis(root: Path, sequences: tuple[str, ...] = ("bear", "car")) -> Path:
    """The DAVIS layout with placeholder files (the unpacking checks the layout, not pixels)."""
    for name in sequences:
        for part in ("JPEGImages/480p", "Annotations/480p"):
            (root / part / name).mkdir(parents=True)
            (root / part / name / "00000.bin").write_bytes(b"x" * 100)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("\n".join(sequences) + "\n")
    (root / "ImageSets" / "2017" / "train.txt").write_text(sequences[0] + "\n")
    return root


@pytest.fixture
def good_url(tmp_path: Path, davis_zip: ZipDavis) -> str:
    (tmp_path / "server").mkdir()
    return davis_zip(fake_davis(tmp_path / "src"), tmp_path / "server" / "davis.zip")


def leftovers(folder: Path) -> list[str]:
    """Hidden partial files or folders, and archives, that a failed try could leave behind."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".zip")


def flaky_opener(failures: list[Exception]) -> Callable[..., Any]:
    """``urlopen`` that raises each of ``failures`` in turn, then opens the URL for real."""
    real = urllib.request.urlopen

    def opener(url: str, timeout: float = 0) -> Any:
        if failures:
            raise failures.pop(0)
        return real(url, timeout=timeout)

    return opener


def test_fetch_from_a_file_url_unpacks_the_whole_layout(tmp_path, good_url):
    dest = tmp_path / "data" / "DAVIS"
    summary = dl.fetch_davis(dest, good_url)
    assert dl.missing_layout(dest) == []
    assert (dest / "JPEGImages" / "480p" / "bear" / "00000.bin").is_file()
    assert summary == {
        "davis_root": str(dest),
        "sequences": {"train": 1, "val": 2},
        "downloaded": True,
    }
    assert leftovers(dest.parent) == []  # the archive is removed once the folder is in place
    # A complete folder is kept: nothing is downloaded again.
    assert dl.fetch_davis(dest, good_url)["downloaded"] is False


def test_a_failed_first_try_is_retried_without_cleanup(tmp_path, good_url, monkeypatch):
    monkeypatch.setattr(
        urllib.request, "urlopen", flaky_opener([urllib.error.URLError("connection reset")])
    )
    dest = tmp_path / "data" / "DAVIS"
    assert dl.fetch_davis(dest, good_url)["downloaded"] is True
    assert dl.missing_layout(dest) == [] and leftovers(dest.parent) == []


def test_when_both_tries_fail_both_errors_are_shown_and_nothing_is_left(
    tmp_path, good_url, monkeypatch, capsys
):
    failures: list[Exception] = [
        urllib.error.URLError("name resolution failed"),
        TimeoutError("timed out after 60 s"),
    ]
    monkeypatch.setattr(urllib.request, "urlopen", flaky_opener(failures))
    dest = tmp_path / "data" / "DAVIS"
    assert main(["fetch-davis", "--dest", str(dest), "--url", good_url]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: could not download")
    assert "try 1: URLError" in err and "name resolution failed" in err
    assert "try 2: TimeoutError" in err and "timed out after 60 s" in err
    assert not dest.exists() and leftovers(dest.parent) == []
    # The next try needs no manual cleanup.
    assert main(["fetch-davis", "--dest", str(dest), "--url", good_url]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["sequences"]["val"] == 2


class CutResponse:
    """A response whose connection drops: fewer bytes than its Content-Length."""

    headers = {"Content-Length": "1000"}

    def __init__(self) -> None:
        self.chunks: Iterator[bytes] = iter([b"PK\x03\x04" + b"\0" * 96])

    def read(self, _size: int) -> bytes:
        return next(self.chunks, b"")

    def __enter__(self) -> "CutResponse":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_cut_connection_leaves_no_short_file(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=0: CutResponse())
    target = tmp_path / "data" / "davis.zip"
    with pytest.raises(dl.DownloadError, match="try 1: .*100 bytes of 1000.*try 2: "):
        dl.download("https://example.invalid/davis.zip", target)
    assert leftovers(target.parent) == []


def test_a_corrupt_archive_is_an_error_then_a_retry_works(tmp_path, good_url, capsys):
    bad = tmp_path / "server" / "bad.zip"
    bad.write_bytes(b"<html>502 Bad Gateway</html>")
    dest = tmp_path / "data" / "DAVIS"
    assert main(["fetch-davis", "--dest", str(dest), "--url", bad.as_uri()]) == 2
    assert "not a readable zip archive" in capsys.readouterr().err
    assert not dest.exists() and leftovers(dest.parent) == []
    assert main(["fetch-davis", "--dest", str(dest), "--url", good_url]) == 0
    assert dl.missing_layout(dest) == []


def test_an_archive_without_the_layout_or_with_an_escaping_member_unpacks_nothing(tmp_path):
    dest = tmp_path / "data" / "DAVIS"
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr("DAVIS/JPEGImages/480p/bear/00000.jpg", b"x")
    with pytest.raises(ValueError, match=r"no Annotations/480p, ImageSets/2017"):
        dl.unpack_davis(flat, dest)
    escaping = tmp_path / "escaping.zip"
    with zipfile.ZipFile(escaping, "w") as zf:
        zf.writestr("DAVIS/../../evil.txt", b"x")
    with pytest.raises(ValueError, match="outside its folder"):
        dl.unpack_davis(escaping, dest)
    assert not dest.exists() and leftovers(dest.parent) == []
    assert not (tmp_path / "evil.txt").exists()


def test_a_bad_archive_left_by_an_earlier_try_is_downloaded_again(tmp_path, good_url):
    dest = tmp_path / "data" / "DAVIS"
    dest.parent.mkdir()
    with zipfile.ZipFile(dest.parent / "davis.zip", "w") as zf:  # a readable zip, wrong inside
        zf.writestr("DAVIS/readme.txt", b"not DAVIS")
    assert dl.fetch_davis(dest, good_url)["downloaded"] is True
    assert dl.missing_layout(dest) == [] and leftovers(dest.parent) == []


def test_an_incomplete_folder_says_what_to_do_and_force_replaces_it(tmp_path, good_url):
    dest = tmp_path / "data" / "DAVIS"
    (dest / "JPEGImages" / "480p").mkdir(parents=True)
    with pytest.raises(ValueError, match="delete it, or run fetch-davis --force"):
        dl.fetch_davis(dest, good_url)
    dl.fetch_davis(dest, good_url, force=True)
    assert dl.missing_layout(dest) == [] and leftovers(dest.parent) == []


def test_a_failed_forced_fetch_keeps_the_previous_folder(tmp_path, good_url):
    dest = tmp_path / "data" / "DAVIS"
    dl.fetch_davis(dest, good_url)
    bad = tmp_path / "server" / "bad.zip"
    bad.write_bytes(b"truncated")
    with pytest.raises(ValueError, match="not a readable zip"):
        dl.fetch_davis(dest, bad.as_uri(), force=True)
    assert dl.missing_layout(dest) == [] and leftovers(dest.parent) == []


def test_the_users_own_copy_named_by_file_url_is_kept(tmp_path, davis_zip):
    data = tmp_path / "data"
    data.mkdir()
    url = davis_zip(fake_davis(tmp_path / "src"), data / "DAVIS-2017-trainval-480p.zip")
    dl.fetch_davis(data / "DAVIS", url)
    assert dl.missing_layout(data / "DAVIS") == []
    assert (data / "DAVIS-2017-trainval-480p.zip").is_file()
