"""Shared fixtures. The tests run offline: the Hugging Face libraries must not reach the network."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import struct  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from {{ cookiecutter.package_name }}.synthetic import SyntheticClip, make_clip  # noqa: E402
from {{ cookiecutter.package_name }}.video import _voc_colormap  # noqa: E402


@pytest.fixture(scope="session")
def clip() -> SyntheticClip:
    """The smoke run's first scene: 40 frames of 192x144, drawn from the project's seed."""
    return make_clip()


@pytest.fixture(scope="session")
def short_clip() -> SyntheticClip:
    """A cheaper clip for I/O and command-line tests: 24 frames of 160x120."""
    return make_clip(3, 0, n_frames=24, height=120, width=160)


def write_palette_png(path: Path, labels: np.ndarray) -> None:
    """Write a label map as an 8-bit palette PNG with the DAVIS (VOC) palette, as DAVIS ships
    its annotations (OpenCV cannot write palette PNGs, so the chunks are written by hand)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    height, width = labels.shape
    rows = b"".join(b"\x00" + labels[y].astype(np.uint8).tobytes() for y in range(height))
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
    png += chunk(b"PLTE", _voc_colormap().tobytes())
    png += chunk(b"IDAT", zlib.compress(rows))
    png += chunk(b"IEND", b"")
    path.write_bytes(png)


@pytest.fixture
def palette_png() -> Callable[[Path, np.ndarray], None]:
    """``write_palette_png`` for a test (a fixture: the tests import no helper from here)."""
    return write_palette_png


def write_davis(root: Path, name: str, clip: SyntheticClip) -> None:
    """Lay a clip out as a DAVIS-2017 sequence: JPEG frames and palette-PNG annotations."""
    image_dir = root / "JPEGImages" / "480p" / name
    ann_dir = root / "Annotations" / "480p" / name
    image_dir.mkdir(parents=True)
    ann_dir.mkdir(parents=True)
    for t, (frame, mask) in enumerate(zip(clip.frames, clip.masks, strict=True)):
        cv2.imwrite(str(image_dir / f"{t:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
        write_palette_png(ann_dir / f"{t:05d}.png", mask.astype(np.uint8))


@pytest.fixture(scope="session")
def davis_root(tmp_path_factory: pytest.TempPathFactory, short_clip: SyntheticClip) -> Path:
    """A tiny DAVIS-shaped folder with two sequences and a val list."""
    root = tmp_path_factory.mktemp("DAVIS")
    write_davis(root, "synth-a", short_clip)
    write_davis(
        root,
        "synth-b",
        make_clip(5, 1, n_frames=24, height=120, width=160),
    )
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("synth-a\nsynth-b\n")
    return root


def zip_davis(root: Path, archive: Path) -> str:
    """Zip a DAVIS folder as the official archive is laid out (every member under ``DAVIS/``)
    and return the archive's ``file://`` URL, which ``fetch-davis --url`` takes offline."""
    import zipfile

    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, (Path("DAVIS") / path.relative_to(root)).as_posix())
    return archive.resolve().as_uri()


@pytest.fixture
def davis_zip() -> Callable[[Path, Path], str]:
    """``zip_davis`` for a test: ``davis_zip(davis_folder, archive_path) -> file:// URL``."""
    return zip_davis
